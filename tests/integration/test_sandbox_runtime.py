"""The sandbox's node runtime is real: one containerd per seed node, checked with crictl, the
reference tool. What the manifest says is what crictl lists; the in-use container runs and
talks; the sandbox image is pinned; the two runtimes are independent; reset restores the seed;
down leaves no containerd, shim, runc or container process behind, even after a crash."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import wait_for

from handlers.kube import KubeClient, resource_for
from sandbox import build, runtime, seed

pytestmark = pytest.mark.integration


def crictl_images(node: str) -> dict[str, tuple[frozenset[str], int, bool]]:
    """id -> (tags, size, pinned), as crictl lists them."""
    return {
        image["id"]: (frozenset(image["repoTags"]), int(image["size"]), bool(image["pinned"]))
        for image in runtime.images(node)
    }


def manifest_images(document: dict, node: str) -> dict[str, tuple[frozenset[str], int, bool]]:
    return {
        image["id"]: (frozenset(image["refs"]), image["size"], image["pinned"])
        for image in document["nodes"][node]["images"]
    }


def test_crictl_lists_exactly_the_manifest_images(runtime_pristine: dict) -> None:
    assert runtime_pristine["sandbox_image"] == runtime.SANDBOX_IMAGE
    for node in seed.SEED_NODES:
        assert crictl_images(node) == manifest_images(runtime_pristine, node)
        seeded = runtime_pristine["nodes"][node]["images"]
        roles = [image["role"] for image in seeded]
        for role in ("pause", "pinned", "keep-me", "in-use", "exited"):
            assert roles.count(role) == 1, role
        unused = [image for image in seeded if image["role"] == "unused"]
        assert len(unused) >= 3
        assert len({image["size"] for image in unused}) >= 3  # chosen sizes, not one size
        created = sorted(image["created"] for image in unused)
        assert created[0] < "2024-02-01" and created[-1] > "2026-01-01"  # old and new


def test_in_use_container_runs_in_a_seed_pods_sandbox_and_talks(
    runtime_pristine: dict, pristine: KubeClient
) -> None:
    """(``pristine``: an earlier module in the session may have drained the seed pod away.)"""
    kube = pristine
    for node in seed.SEED_NODES:
        entry = runtime_pristine["nodes"][node]
        listed = {c["id"]: c for c in runtime.containers(node)}
        running = listed[entry["running"]["id"]]
        assert running["state"] == "CONTAINER_RUNNING"
        assert running["metadata"]["name"] == entry["running"]["name"]
        in_use = next(i for i in entry["images"] if i["role"] == "in-use")
        assert running["imageRef"] == in_use["id"]
        exited = listed[entry["exited"]["id"]]
        assert exited["state"] == "CONTAINER_EXITED"
        exited_image = next(i for i in entry["images"] if i["role"] == "exited")
        assert exited["imageRef"] == exited_image["id"]
        # The pod sandbox is named after a seed pod that the API server places on this node.
        pod = kube.get(resource_for("Pod").path(entry["pod"]["namespace"], entry["pod"]["name"]))
        assert pod["spec"]["nodeName"] == node
        assert in_use["refs"] == [pod["spec"]["containers"][0]["image"]]
        logs = runtime.crictl(node, "logs", entry["running"]["id"])
        assert logs.stdout.splitlines() == runtime_pristine["talk_lines"]
        assert "password=hunter2" in logs.stdout and "Authorization: Bearer " in logs.stdout
        # The CRI log file under the node's pod log directory, as an agent reads it.
        log_file = Path(entry["running"]["log_path"])
        assert log_file.is_relative_to(entry["log_dir"])
        assert [line.split(" ", 3)[3] for line in log_file.read_text().splitlines()] == (
            runtime_pristine["talk_lines"]
        )


def test_sandbox_image_is_pinned_and_prune_keeps_what_is_used(runtime_pristine: dict) -> None:
    node = "k8s-master"
    config = json.loads(runtime.crictl(node, "info", "-o", "json").stdout)["config"]
    # Our config is the one in force: our socket (not the host's default), our root.
    assert config["containerdEndpoint"] == str(runtime.node(node).socket)
    assert config["containerdRootDir"] == runtime_pristine["nodes"][node]["root"]
    assert config["restrictOOMScoreAdj"] is True
    seeded = runtime_pristine["nodes"][node]["images"]
    pinned = {image["role"] for image in seeded if image["pinned"]}
    assert pinned == {"pause", "pinned"}
    # crictl rmi --prune: what a prune reference removes here (reset brings it all back).
    runtime.crictl(node, "rmi", "--prune")
    left = {image["role"] for image in seeded if image["id"] in crictl_images(node)}
    assert left == {"pause", "pinned", "in-use", "exited"}


def test_two_containerds_are_independent(runtime_pristine: dict) -> None:
    master, node1 = runtime_pristine["nodes"]["k8s-master"], runtime_pristine["nodes"]["k8s-node1"]
    assert master["endpoint"] != node1["endpoint"] and master["root"] != node1["root"]
    pids = runtime.running()
    assert set(pids) == set(seed.SEED_NODES) and len(set(pids.values())) == 2
    own = next(i for i in node1["images"] if i["role"] == "unused" and "k8s-node1" in i["refs"][0])
    runtime.crictl("k8s-node1", "rmi", own["id"])
    assert own["id"] not in crictl_images("k8s-node1")
    assert crictl_images("k8s-master") == manifest_images(runtime_pristine, "k8s-master")
    # Each pod sandbox lives in one runtime only.
    assert [p["id"] for p in runtime.pods("k8s-master")] == [master["pod"]["id"]]
    assert [p["id"] for p in runtime.pods("k8s-node1")] == [node1["pod"]["id"]]


def test_reset_restores_removed_images_and_drops_what_tests_added(runtime_pristine: dict) -> None:
    node = "k8s-node1"
    entry = runtime_pristine["nodes"][node]
    keep = next(i for i in entry["images"] if i["role"] == "keep-me")
    runtime.crictl(node, "rmi", keep["id"])
    added = runtime.add_images(node, 3, 64 * 1024)
    assert set(added) <= {t for tags, _s, _p in crictl_images(node).values() for t in tags}
    extra = runtime.use_image(node, added[0])
    assert {c["id"]: c["state"] for c in runtime.containers(node)}[extra] == "CONTAINER_RUNNING"

    started = time.monotonic()
    after = runtime.reset()
    assert time.monotonic() - started < 10
    assert crictl_images(node) == manifest_images(runtime_pristine, node)
    ids = {c["id"] for c in runtime.containers(node)}
    assert ids == {entry["running"]["id"], entry["exited"]["id"]}
    assert after["nodes"][node]["running"] == entry["running"]


@pytest.fixture
def scratch_runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A second, private pair of runtimes in a short run dir (unix socket paths are short)."""
    run_dir = Path(tempfile.mkdtemp(prefix="rt-", dir="/tmp"))
    monkeypatch.setenv("K8S_CHATOPS_SANDBOX_RUN_DIR", str(run_dir))
    try:
        yield run_dir
    finally:
        runtime.down()
        shutil.rmtree(run_dir, ignore_errors=True)


def process_names(pids: list[int]) -> list[str]:
    names = []
    for pid in pids:
        try:
            names.append(Path(f"/proc/{pid}/comm").read_text().strip())
        except OSError:
            continue
    return names


def test_down_leaves_no_process_even_after_containerd_crashed(scratch_runtime: Path) -> None:
    runtime.up()
    directory = runtime.runtime_dir()
    names = process_names(runtime.leftover_processes(directory))
    assert names.count("containerd") == 2
    assert names.count("containerd-shim") == 2  # one shim per pod sandbox
    assert names.count("sandboxproc") == 4  # per node: the pause and the talking container
    # A crash: containerd gone, its shims and containers orphaned (shims outlive it by design).
    os.kill(runtime.running()["k8s-master"], signal.SIGKILL)
    wait_for(lambda: "k8s-master" not in runtime.running())
    stopped = runtime.down()
    assert stopped == ["containerd (k8s-node1)"]
    assert runtime.leftover_processes(directory) == []
    mounts = Path("/proc/self/mountinfo").read_text()
    assert str(scratch_runtime) not in mounts
    assert not runtime.running()


def test_imagegen_rootfs_makes_an_image_the_runtime_imports_with_its_config(
    runtime_pristine: dict, tmp_path: Path
) -> None:
    """`imagegen rootfs` (the product image's last step): one filesystem tar and the config
    flags, in docker-archive and OCI-layout form, both imported by containerd as named."""
    rootfs = tmp_path / "rootfs"
    (rootfs / "app").mkdir(parents=True)
    (rootfs / "app" / "hello.txt").write_text("hello\n")
    layer = tmp_path / "rootfs.tar"
    subprocess.run(["tar", "--numeric-owner", "-C", rootfs, "-cf", layer, "."], check=True)
    imagegen = str(build.runtime_tools_dir() / "imagegen")
    flags = [
        "-entrypoint",
        '["/usr/bin/python3", "-m", "bot"]',
        "-cmd",
        '["worker"]',
        "-user",
        "10001:10001",
        "-env",
        "PYTHONUNBUFFERED=1",
        "-workdir",
        "/app",
    ]
    for form in ("docker", "oci"):
        ref = f"docker.io/k8schatops/rootfs-{form}:test"
        archive = tmp_path / f"{form}.tar"
        made = subprocess.run(
            [
                imagegen,
                "rootfs",
                "-layer",
                layer,
                "-o",
                archive,
                "-ref",
                ref,
                "-format",
                form,
                *flags,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert made.returncode == 0, made.stderr
        runtime.ctr("k8s-node1", "images", "import", "--local", str(archive))
        info = json.loads(runtime.crictl("k8s-node1", "inspecti", "-o", "json", ref).stdout)
        config = info["info"]["imageSpec"]["config"]
        assert config["Entrypoint"] == ["/usr/bin/python3", "-m", "bot"]
        assert config["Cmd"] == ["worker"]
        assert config["User"] == "10001:10001"
        assert config["Env"] == ["PYTHONUNBUFFERED=1"]
        assert config["WorkingDir"] == "/app"
    bad = subprocess.run(
        [
            imagegen,
            "rootfs",
            "-layer",
            layer,
            "-o",
            tmp_path / "x.tar",
            "-ref",
            "a/b:c",
            "-entrypoint",
            "python3",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1 and "JSON array" in bad.stderr
