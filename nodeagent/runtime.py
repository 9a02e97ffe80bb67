"""A typed client for the CRI v1 API of the node's container runtime, over its unix socket.

containerd, CRI-O and cri-dockerd all serve ``runtime.v1.RuntimeService`` and
``runtime.v1.ImageService``; the stubs are compiled from ``k8s.io/cri-api``'s ``api.proto`` by
``scripts/gen-cri.sh``. Every call has a deadline (a runtime that hangs must not hang the
agent), and answers come back as small frozen values rather than protobuf messages, so the rest
of the agent is typed and does not depend on the generated code. A runtime that does not
answer raises :class:`RuntimeUnreachable`; any other refusal :class:`RuntimeError_`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc

from nodeagent.cri.v1 import api_pb2, api_pb2_grpc

_T = TypeVar("_T")
#: Seconds one call may take: listing thousands of images is well under a second.
DEFAULT_TIMEOUT = 10.0
_MAX_MESSAGE = 64 * 1024 * 1024
_UNREACHABLE = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.UNIMPLEMENTED,  # not a CRI v1 socket at all
}

_CONTAINER_STATES = {
    api_pb2.CONTAINER_CREATED: "Created",
    api_pb2.CONTAINER_RUNNING: "Running",
    api_pb2.CONTAINER_EXITED: "Exited",
    api_pb2.CONTAINER_UNKNOWN: "Unknown",
}
_SANDBOX_STATES = {api_pb2.SANDBOX_READY: "Ready", api_pb2.SANDBOX_NOTREADY: "NotReady"}


class RuntimeUnreachable(Exception):
    """The runtime's socket did not answer (missing, refused, or past the deadline)."""


class RuntimeError_(Exception):  # noqa: N801 - RuntimeError is Python's own
    """The runtime answered with an error (``code`` is the gRPC status name)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class RuntimeVersion:
    name: str
    version: str
    api_version: str


@dataclass(frozen=True)
class CriImage:
    id: str
    repo_tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    size: int
    pinned: bool


@dataclass(frozen=True)
class CriFilesystem:
    mountpoint: str
    used_bytes: int
    inodes_used: int | None
    #: When the runtime measured it (Unix ns; 0 when it does not say). containerd measures
    #: every 10 s and answers ImageFsInfo from its last measure.
    timestamp_ns: int = 0


@dataclass(frozen=True)
class CriContainer:
    id: str
    pod_sandbox_id: str
    name: str
    attempt: int
    #: The image as the container was created with it (a name or an id).
    image: str
    #: The runtime's own reference: an image id for containerd, a digest for CRI-O.
    image_ref: str
    image_id: str
    state: str
    created: datetime


@dataclass(frozen=True)
class CriPod:
    id: str
    name: str
    namespace: str
    uid: str
    attempt: int
    state: str
    created: datetime


@dataclass(frozen=True)
class CriContainerStatus:
    id: str
    name: str
    log_path: str
    state: str


@dataclass(frozen=True)
class ImageDetail:
    image: CriImage
    #: From the verbose info's image config (``imageSpec.created``), when the runtime says.
    created: datetime | None


def _time(nanoseconds: int) -> datetime:
    return datetime.fromtimestamp(nanoseconds / 1e9, UTC)


def parse_created(text: object) -> datetime | None:
    """An RFC 3339 time from an image config; None when absent or unreadable."""
    if not isinstance(text, str) or not text:
        return None
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    head, dot, rest = value.partition(".")
    if dot:  # Python takes at most microseconds; Go writes nanoseconds
        digits = len(rest) - len(rest.lstrip("0123456789"))
        value = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if parsed.year <= 1:  # Go's zero time: the image says nothing
        return None
    return parsed


def _image(message: Any) -> CriImage:
    return CriImage(
        id=message.id,
        repo_tags=tuple(message.repo_tags),
        repo_digests=tuple(message.repo_digests),
        size=int(message.size),
        pinned=bool(message.pinned),
    )


@dataclass
class RuntimeClient:
    """One channel to the runtime; thread-safe (gRPC channels are)."""

    endpoint: str
    timeout: float = DEFAULT_TIMEOUT
    _channel: Any = field(init=False, repr=False)
    _runtime: Any = field(init=False, repr=False)
    _images: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._channel = grpc.insecure_channel(
            self.endpoint,
            options=[
                ("grpc.max_receive_message_length", _MAX_MESSAGE),
                ("grpc.enable_http_proxy", 0),
            ],
        )
        self._runtime = api_pb2_grpc.RuntimeServiceStub(self._channel)
        self._images = api_pb2_grpc.ImageServiceStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def _call(self, method: Callable[..., _T], request: object, timeout: float | None = None) -> _T:
        try:
            return method(request, timeout=timeout or self.timeout)
        except grpc.RpcError as error:
            code = error.code()
            detail = str(error.details() or "")
            if code in _UNREACHABLE:
                raise RuntimeUnreachable(f"{code.name}: {detail}"[:300]) from None
            raise RuntimeError_(code.name, detail[:300]) from None

    # --- RuntimeService --------------------------------------------------------------------

    def version(self) -> RuntimeVersion:
        answer = self._call(self._runtime.Version, api_pb2.VersionRequest(version="v1"))
        return RuntimeVersion(
            answer.runtime_name, answer.runtime_version, answer.runtime_api_version
        )

    def status_info(self) -> dict[str, Any]:
        """The runtime's verbose status ``info``, each value parsed as JSON when it is."""
        answer = self._call(self._runtime.Status, api_pb2.StatusRequest(verbose=True))
        info: dict[str, Any] = {}
        for key, text in answer.info.items():
            try:
                info[key] = json.loads(text)
            except ValueError:
                info[key] = text
        return info

    def list_containers(self) -> list[CriContainer]:
        answer = self._call(self._runtime.ListContainers, api_pb2.ListContainersRequest())
        return [
            CriContainer(
                id=c.id,
                pod_sandbox_id=c.pod_sandbox_id,
                name=c.metadata.name,
                attempt=int(c.metadata.attempt),
                image=c.image.image,
                image_ref=c.image_ref,
                image_id=getattr(c, "image_id", ""),
                state=_CONTAINER_STATES.get(c.state, "Unknown"),
                created=_time(c.created_at),
            )
            for c in answer.containers
        ]

    def list_pod_sandboxes(self) -> list[CriPod]:
        answer = self._call(self._runtime.ListPodSandbox, api_pb2.ListPodSandboxRequest())
        return [
            CriPod(
                id=p.id,
                name=p.metadata.name,
                namespace=p.metadata.namespace,
                uid=p.metadata.uid,
                attempt=int(p.metadata.attempt),
                state=_SANDBOX_STATES.get(p.state, "NotReady"),
                created=_time(p.created_at),
            )
            for p in answer.items
        ]

    def pod_sandbox_image(self, pod_id: str) -> str | None:
        """The image a pod sandbox runs, from its verbose info (containerd says; others may
        not)."""
        answer = self._call(
            self._runtime.PodSandboxStatus,
            api_pb2.PodSandboxStatusRequest(pod_sandbox_id=pod_id, verbose=True),
        )
        try:
            info = json.loads(answer.info.get("info", "") or "{}")
        except ValueError:
            return None
        image = info.get("image") if isinstance(info, dict) else None
        return image if isinstance(image, str) and image else None

    def container_status(self, container_id: str) -> CriContainerStatus:
        answer = self._call(
            self._runtime.ContainerStatus,
            api_pb2.ContainerStatusRequest(container_id=container_id),
        )
        status = answer.status
        return CriContainerStatus(
            id=status.id,
            name=status.metadata.name,
            log_path=status.log_path,
            state=_CONTAINER_STATES.get(status.state, "Unknown"),
        )

    # --- ImageService ----------------------------------------------------------------------

    def list_images(self) -> list[CriImage]:
        answer = self._call(self._images.ListImages, api_pb2.ListImagesRequest())
        return [_image(image) for image in answer.images]

    def image_status(self, reference: str, *, verbose: bool = False) -> ImageDetail | None:
        """The image ``reference`` (a name, an id or a digest) resolves to, or None."""
        answer = self._call(
            self._images.ImageStatus,
            api_pb2.ImageStatusRequest(image=api_pb2.ImageSpec(image=reference), verbose=verbose),
        )
        if not answer.HasField("image") or not answer.image.id:
            return None
        created = None
        if verbose:
            try:
                info = json.loads(answer.info.get("info", "") or "{}")
            except ValueError:
                info = {}
            spec = info.get("imageSpec") if isinstance(info, dict) else None
            created = parse_created(spec.get("created") if isinstance(spec, dict) else None)
        return ImageDetail(_image(answer.image), created)

    def image_fs_info(self) -> list[CriFilesystem]:
        answer = self._call(self._images.ImageFsInfo, api_pb2.ImageFsInfoRequest())
        found = []
        for usage in answer.image_filesystems:
            inodes = usage.inodes_used.value if usage.HasField("inodes_used") else None
            found.append(
                CriFilesystem(
                    mountpoint=usage.fs_id.mountpoint,
                    used_bytes=int(usage.used_bytes.value),
                    inodes_used=None if inodes is None else int(inodes),
                    timestamp_ns=int(usage.timestamp),
                )
            )
        return found

    def remove_image(self, image_id: str) -> None:
        self._call(
            self._images.RemoveImage,
            api_pb2.RemoveImageRequest(image=api_pb2.ImageSpec(image=image_id)),
        )
