"""What lets test sessions run side by side (``make test`` runs pytest-xdist workers): each
worker has its own sandbox run dir, a sandbox's cleanup kills only its own processes, and
server ports are picked where no outgoing connection can take them between two starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import cluster, runtime, versions


def test_an_xdist_worker_has_its_own_run_dir() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    name = versions.run_dir().name
    if worker:
        assert name.endswith(f"-{worker}")
        assert name.count(f"-{worker}") == 1  # set once, not again by a nested session
    else:
        assert not name.endswith(("-gw0", "-gw1", "-gw2"))


@pytest.fixture
def sleepers(tmp_path: Path) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """A process whose arguments name a path in ``runtime`` and one that names a path in its
    sibling ``runtime-b`` (whose name starts with the first one's)."""
    started = {
        name: subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(60)", str(tmp_path / name / "x.sock")]
        )
        for name in ("runtime", "runtime-b")
    }
    yield started
    for process in started.values():
        process.kill()
        process.wait()


def test_leftover_processes_are_only_those_naming_the_directory(
    tmp_path: Path, sleepers: dict[str, subprocess.Popen[bytes]]
) -> None:
    found = runtime.leftover_processes(tmp_path / "runtime")
    assert sleepers["runtime"].pid in found
    assert sleepers["runtime-b"].pid not in found
    assert runtime.leftover_processes(tmp_path / "runtime-b") == [sleepers["runtime-b"].pid]


def test_free_ports_are_below_the_ephemeral_range_and_free() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(20):
        port = cluster.free_port()
        assert port < low
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))
