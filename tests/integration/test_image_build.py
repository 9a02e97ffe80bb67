"""The image we ship, built here without Docker (debootstrap + the project's wheel + imagegen
rootfs), imported into a sandbox node's real containerd and started there by the CRI as the
image says: its own user (uid 10001), its console script, a read-only root filesystem. First
``k8s-chatops --help``, then a worker that serves a ``get nodes`` from the terminal chat
against the sandbox's API server.

The only test that proves the image starts; slow (about 25 s with the Debian root filesystem
cached, plus about a minute the first time on a machine). ``make test`` runs it like any other.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import wait_for

from sandbox import cluster, image, runtime

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NODE = "k8s-node1"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> image.Image:
    started = time.monotonic()
    result = image.build_image(tmp_path_factory.mktemp("image") / "k8s-chatops.tar")
    print(f"image built in {time.monotonic() - started:.1f}s")
    return result


@pytest.fixture(scope="module")
def node_runtime(sandbox: Path) -> Iterator[str]:
    """The node's containerd (started here if ``sandbox up`` did not), with the image in it."""
    started_here = not runtime.is_running()
    if started_here:
        runtime.up()
    yield NODE
    if started_here:
        runtime.down()


def _layer_members(layer: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(layer) as archive:
        return {m.name.removeprefix("./"): m for m in archive.getmembers()}


def _certificates(pem: bytes) -> set[bytes]:
    blocks = pem.split(b"-----BEGIN CERTIFICATE-----")[1:]
    return {b.split(b"-----END CERTIFICATE-----")[0].strip() for b in blocks}


def test_the_layer_holds_the_app_and_not_the_build(built: image.Image) -> None:
    members = _layer_members(built.layer)
    assert members[image.ENTRYPOINT.lstrip("/")].isfile()
    with tarfile.open(built.layer) as archive:

        def read(name: str) -> bytes:
            extracted = archive.extractfile("./" + name)
            assert extracted is not None, name
            return extracted.read()

        passwd = read("etc/passwd").decode()
        assert f"k8s-chatops:x:{image.UID}:{image.UID}:" in passwd
        assert read("etc/resolv.conf") == b""
        # The host's CA bundle trusted pip for the build only: no certificate that is only in
        # the host's bundle (a TLS-inspecting proxy's, here) is anywhere in the image.
        host_only = _certificates(image._host_ca_bundle().read_bytes()) - _certificates(
            read("etc/ssl/certs/ca-certificates.crt")
        )
        for member in archive.getmembers():
            if not member.isfile() or member.size > 4_000_000:
                continue
            body = read(member.name.removeprefix("./"))
            assert not [c for c in host_only if c in body], member.name
    assert not [n for n in members if n.startswith(("tmp/", "var/lib/apt/lists/", "proc/", "dev/"))]
    # No build tools in what ships.
    for tool in ("usr/bin/gcc", "usr/bin/cc", "usr/bin/make", "usr/bin/x86_64-linux-gnu-gcc-12"):
        assert tool not in members
    # Owners are numeric and root's, except nothing: the app runs as 10001 and writes nothing.
    assert {m.uid for m in members.values()} == {0}


def _pod(node: str, tmp: Path, name: str) -> tuple[str, Path]:
    uid = str(uuid.uuid4())
    config = {
        "metadata": {"name": name, "namespace": "k8s-chatops-image-test", "uid": uid},
        "log_directory": str(tmp / f"logs-{name}"),
        # Host network, as a kubelet would for hostNetwork: no CNI needed, the sandbox's API
        # server and Redis on loopback are reachable.
        "linux": {"security_context": {"namespace_options": {"network": 2}}},
    }
    path = tmp / f"pod-{name}.json"
    path.write_text(json.dumps(config))
    pod_id = runtime.crictl(node, "runp", str(path)).stdout.strip()
    return pod_id, path


def _container(
    node: str,
    pod: tuple[str, Path],
    tmp: Path,
    name: str,
    ref: str,
    *,
    args: list[str] | None = None,
    envs: dict[str, str] | None = None,
    mounts: list[dict[str, Any]] | None = None,
) -> str:
    config: dict[str, Any] = {
        "metadata": {"name": name},
        "image": {"image": ref},
        "log_path": f"{name}.log",
        "envs": [{"key": k, "value": v} for k, v in (envs or {}).items()],
        "mounts": mounts or [],
        # As the chart runs it: nothing written to the image's own filesystem.
        "linux": {"security_context": {"readonly_rootfs": True}},
    }
    if args is not None:
        config["args"] = args
    path = tmp / f"container-{name}.json"
    path.write_text(json.dumps(config))
    container = runtime.crictl(node, "create", pod[0], str(path), str(pod[1])).stdout.strip()
    runtime.crictl(node, "start", container)
    return container


def _status(node: str, container: str) -> dict[str, Any]:
    status: dict[str, Any] = json.loads(
        runtime.crictl(node, "inspect", "-o", "json", container).stdout
    )
    return status


def _remove_pod(node: str, pod_id: str) -> None:
    runtime.crictl(node, "stopp", pod_id, check=False)
    runtime.crictl(node, "rmp", "--force", pod_id, check=False)


@pytest.fixture(scope="module")
def imported(built: image.Image, node_runtime: str) -> Iterator[str]:
    started = time.monotonic()
    runtime.ctr(node_runtime, "images", "import", "--local", str(built.path))
    print(f"ctr images import: {time.monotonic() - started:.1f}s")
    yield built.ref
    runtime.crictl(node_runtime, "rmi", built.ref, check=False)


def test_the_entrypoint_runs_as_the_image_user(
    imported: str, node_runtime: str, tmp_path: Path
) -> None:
    pod = _pod(node_runtime, tmp_path, "help")
    try:
        container = _container(node_runtime, pod, tmp_path, "help", imported)
        state = wait_for(
            lambda: (
                (s := _status(node_runtime, container))["status"]["state"] == "CONTAINER_EXITED"
                and s
            ),
            timeout=60,
        )
        logs = runtime.crictl(node_runtime, "logs", container)
        assert state["status"]["exitCode"] == 0, logs.stdout + logs.stderr
        assert "usage: k8s-chatops" in logs.stdout + logs.stderr
        process = state["info"]["runtimeSpec"]["process"]
        assert process["user"]["uid"] == image.UID and process["user"]["gid"] == image.UID
        assert process["args"] == [image.ENTRYPOINT, "--help"]
        assert state["info"]["runtimeSpec"]["root"]["readonly"] is True
    finally:
        _remove_pod(node_runtime, pod[0])


def _inline_admin_kubeconfig(target: Path) -> Path:
    """The sandbox's admin kubeconfig with its files inlined, for a container that has none
    of them (the kubernetes client writes the certificates to /tmp, as in the chart's pods)."""
    source = yaml.safe_load(cluster.paths().admin_kubeconfig.read_text())
    cluster_entry = source["clusters"][0]["cluster"]
    user = source["users"][0]["user"]

    def inline(path: str) -> str:
        return base64.b64encode(Path(path).read_bytes()).decode()

    cluster_entry["certificate-authority-data"] = inline(cluster_entry.pop("certificate-authority"))
    user["client-certificate-data"] = inline(user.pop("client-certificate"))
    user["client-key-data"] = inline(user.pop("client-key"))
    target.touch(mode=0o644)
    target.write_text(yaml.safe_dump(source))
    return target


def test_a_worker_from_the_image_serves_the_sandbox(
    imported: str, node_runtime: str, tmp_path: Path, worker_env: dict[str, str]
) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    _inline_admin_kubeconfig(config_dir / "kubeconfig")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    os.chmod(scratch, 0o1777)  # the container's /tmp, as an emptyDir is
    pod = _pod(node_runtime, tmp_path, "worker")
    try:
        container = _container(
            node_runtime,
            pod,
            tmp_path,
            "worker",
            imported,
            args=["worker"],
            envs={
                "K8S_CHATOPS_REDIS_URL": worker_env["K8S_CHATOPS_REDIS_URL"],
                "K8S_CHATOPS_CLUSTER": "sandbox",
                "KUBECONFIG": "/etc/k8s-chatops/kubeconfig",
            },
            mounts=[
                {
                    "container_path": "/etc/k8s-chatops",
                    "host_path": str(config_dir),
                    "readonly": True,
                },
                {"container_path": "/tmp", "host_path": str(scratch)},
            ],
        )
        shell = subprocess.run(
            [sys.executable, "-m", "bot.cli", "shell", "--user", "U_ADMIN", "--timeout", "60"],
            input="/k8s get nodes\n/k8s clusters\n",
            env=worker_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        state = _status(node_runtime, container)
        logs = runtime.crictl(node_runtime, "logs", container)
        assert shell.returncode == 0, shell.stderr
        assert state["status"]["state"] == "CONTAINER_RUNNING", logs.stderr[-2000:]
        assert "k8s-node1" in shell.stdout and "Ready" in shell.stdout, shell.stdout
        # `clusters`: the worker's heartbeat, with its API server's version.
        assert re.search(r"^sandbox\s+1\s+v1\.37\.2\s", shell.stdout, re.MULTILINE), shell.stdout
        assert "serving cluster sandbox" in logs.stdout + logs.stderr
        assert "Traceback" not in logs.stdout + logs.stderr
        runtime.crictl(node_runtime, "stop", "--timeout", "10", container)
        assert _status(node_runtime, container)["status"]["exitCode"] == 0
    finally:
        _remove_pod(node_runtime, pod[0])
