"""A second sandbox from nothing to nothing: up starts every component, down leaves nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import runtime, versions

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def sandbox_processes(run_dir: Path) -> list[int]:
    """Pids of sandbox binaries whose arguments mention ``run_dir``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            argv
            and argv[0].startswith(str(versions.bin_dir()).encode())
            and any(str(run_dir).encode() in arg for arg in argv)
        ):
            found.append(int(entry.name))
    return found


def cli(run_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, K8S_CHATOPS_SANDBOX_RUN_DIR=str(run_dir))
    return subprocess.run(
        [sys.executable, "-m", "sandbox.commands", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A run dir's parent short enough for the node runtime's unix sockets (``tmp_path`` is
    too deep under xdist: ``…/popen-gw1/test_up_then_down_leaves_nothi0/``)."""
    parent = Path(tempfile.mkdtemp(prefix="lc-", dir="/tmp"))
    yield parent
    shutil.rmtree(parent, ignore_errors=True)


def test_up_then_down_leaves_nothing_running(short_dir: Path, sandbox: Path) -> None:
    run_dir = short_dir / "second"
    try:
        started = time.monotonic()
        up = cli(run_dir, "up")
        elapsed = time.monotonic() - started
        assert up.returncode == 0, up.stderr
        assert elapsed < 90
        assert len(sandbox_processes(run_dir)) == 5
        assert "Node runtimes: k8s-master unix://" in up.stdout
        assert len(runtime.leftover_processes(run_dir / "runtime")) >= 4  # 2 containerd, 2 shims
        status = cli(run_dir, "status")
        assert "nodes 2, pods 15" in status.stdout
        assert cli(run_dir, "kubeconfig").stdout.strip() == str(run_dir / "admin.kubeconfig")
    finally:
        down = cli(run_dir, "down")
    assert down.returncode == 0
    assert (
        "containerd (k8s-master), containerd (k8s-node1), "
        "kwok, kube-scheduler, kube-controller-manager, kube-apiserver, etcd" in down.stdout
    )
    assert sandbox_processes(run_dir) == []
    assert runtime.leftover_processes(run_dir / "runtime") == []
    assert cli(run_dir, "status").returncode == 1
    assert "not running" in cli(run_dir, "status").stderr


def test_reset_seeds_a_cluster_that_was_never_seeded(short_dir: Path, sandbox: Path) -> None:
    """Regression: reset assumed the seed nodes existed (the test fixtures' first reset)."""
    run_dir = short_dir / "bare"
    env = dict(os.environ, K8S_CHATOPS_SANDBOX_RUN_DIR=str(run_dir))
    start = "from sandbox import cluster; cluster.up()"
    try:
        subprocess.run([sys.executable, "-c", start], env=env, check=True, timeout=120)
        assert "nodes 0, pods 0" in cli(run_dir, "status").stdout
        reset = cli(run_dir, "reset")
        assert reset.returncode == 0, reset.stderr
        assert "nodes 2, pods 15" in cli(run_dir, "status").stdout
    finally:
        cli(run_dir, "down")
    assert sandbox_processes(run_dir) == []
