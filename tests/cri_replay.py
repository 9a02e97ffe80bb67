"""A CRI v1 server on a unix socket that answers with responses recorded from a real
containerd (tests/data/cri/), with just enough state to remove images and add containers.

Recorded, not invented: the JSON is containerd 2.4.2's own answers (paths rewritten to a real
node's ``/var/log/pods`` and ``/var/lib/containerd``). Tests use it to drive the agent's CRI
client and operations without a runtime; the integration tests use the real one.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format

from nodeagent.cri.v1 import api_pb2 as pb
from nodeagent.cri.v1 import api_pb2_grpc as rpc

RECORDING = Path(__file__).parent / "data" / "cri" / "containerd-2.4.2-node.json"


class ReplayRuntime(rpc.RuntimeServiceServicer, rpc.ImageServiceServicer):  # type: ignore[misc]
    def __init__(self, recording: Path = RECORDING) -> None:
        self.recorded: dict[str, Any] = json.loads(recording.read_text())
        self.images: list[dict[str, Any]] = copy.deepcopy(self.recorded["ListImages"]["images"])
        self.containers: list[dict[str, Any]] = copy.deepcopy(
            self.recorded["ListContainers"]["containers"]
        )
        self.removed: list[tuple[str, float]] = []
        #: Names ImageStatus resolves though no image lists them (a runtime's own aliases).
        self.aliases: dict[str, str] = {}
        self.lock = threading.Lock()
        #: Called inside RemoveImage before it removes (tests make it slow or fail).
        self.on_remove: Any = None
        #: How often the image filesystem is measured (containerd: every 10 s); ImageFsInfo
        #: answers the last measure: its time, and the recorded bytes less the sizes of the
        #: images removed by then. None: never measured again (the recorded answer).
        self.fs_period: float | None = 0.05
        self._freed = 0
        self._measure: tuple[int, int] | None = None

    # --- helpers for tests ---------------------------------------------------------------

    def image(self, tag: str) -> dict[str, Any]:
        return next(i for i in self.images if tag in i.get("repoTags", []))

    def use(self, image_id: str, name: str = "late", *, by: str | None = None) -> None:
        """A new container on ``image_id`` in the recorded pod, as a kubelet would start one;
        ``by``: a name the container reports instead of any id, resolved by ImageStatus only."""
        with self.lock:
            template = copy.deepcopy(self.containers[0])
            template["id"] = f"{len(self.containers):064x}"
            template["metadata"] = {"name": name}
            template["image"] = {"image": by or image_id}
            template["imageRef"] = by or image_id
            template["imageId"] = "" if by else image_id
            if by:
                self.aliases[by] = image_id
            self.containers.append(template)

    # --- RuntimeService --------------------------------------------------------------------

    def Version(self, request: Any, context: Any) -> Any:
        return json_format.ParseDict(self.recorded["Version"], pb.VersionResponse())

    def Status(self, request: Any, context: Any) -> Any:
        return pb.StatusResponse(
            info={"config": json.dumps({"containerdRootDir": "/var/lib/containerd"})}
        )

    def ListContainers(self, request: Any, context: Any) -> Any:
        with self.lock:
            return json_format.ParseDict(
                {"containers": self.containers}, pb.ListContainersResponse()
            )

    def ListPodSandbox(self, request: Any, context: Any) -> Any:
        return json_format.ParseDict(self.recorded["ListPodSandbox"], pb.ListPodSandboxResponse())

    def PodSandboxStatus(self, request: Any, context: Any) -> Any:
        return json_format.ParseDict(
            self.recorded["PodSandboxStatus"], pb.PodSandboxStatusResponse()
        )

    def ContainerStatus(self, request: Any, context: Any) -> Any:
        answer = copy.deepcopy(self.recorded["ContainerStatus"])
        answer["status"]["id"] = request.container_id
        return json_format.ParseDict(answer, pb.ContainerStatusResponse())

    # --- ImageService ----------------------------------------------------------------------

    def ListImages(self, request: Any, context: Any) -> Any:
        with self.lock:
            return json_format.ParseDict({"images": self.images}, pb.ListImagesResponse())

    def ImageStatus(self, request: Any, context: Any) -> Any:
        wanted = request.image.image
        with self.lock:
            wanted = self.aliases.get(wanted, wanted)
            found = next(
                (i for i in self.images if wanted == i["id"] or wanted in i.get("repoTags", [])),
                None,
            )
        if found is None:
            return pb.ImageStatusResponse()
        answer = {"image": found}
        if request.verbose:
            answer["info"] = self.recorded["ImageStatus"][found["id"]]["info"]
        return json_format.ParseDict(answer, pb.ImageStatusResponse())

    def ImageFsInfo(self, request: Any, context: Any) -> Any:
        answer = copy.deepcopy(self.recorded["ImageFsInfo"])
        if self.fs_period is not None:
            now, period = time.time_ns(), int(self.fs_period * 1e9)
            tick = now - now % period
            with self.lock:
                if self._measure is None or self._measure[0] < tick:
                    self._measure = (tick, self._freed)
                measured, freed = self._measure
            for fs in answer["imageFilesystems"]:
                fs["timestamp"] = str(measured)
                fs["usedBytes"]["value"] = str(int(fs["usedBytes"]["value"]) - freed)
        return json_format.ParseDict(answer, pb.ImageFsInfoResponse())

    def RemoveImage(self, request: Any, context: Any) -> Any:
        if self.on_remove is not None:
            self.on_remove(request.image.image)
        with self.lock:
            gone = [i for i in self.images if i["id"] == request.image.image]
            self.images = [i for i in self.images if i["id"] != request.image.image]
            self.removed.append((request.image.image, time.monotonic()))
            self._freed += sum(int(i["size"]) for i in gone)
        return pb.RemoveImageResponse()


class ReplayServer:
    def __init__(self, socket: Path, runtime: ReplayRuntime | None = None) -> None:
        self.socket = socket
        self.runtime = runtime or ReplayRuntime()
        self.server: Any = None

    @property
    def endpoint(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> ReplayServer:
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        rpc.add_RuntimeServiceServicer_to_server(self.runtime, self.server)
        rpc.add_ImageServiceServicer_to_server(self.runtime, self.server)
        self.server.add_insecure_port(self.endpoint)
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop(grace=None).wait()
            self.server = None
