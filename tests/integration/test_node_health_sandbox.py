"""``k8s-chatops-sandbox node NODE --…``: each state shows as a kubelet would show it, and
``--healthy`` and ``reset`` undo it."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from handlers.kube import JSON, KubeClient, resource_for
from sandbox import seed

pytestmark = pytest.mark.integration

_NODES = resource_for("Node")


def sandbox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox.commands", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def conditions(kube: KubeClient, name: str) -> dict[str, str]:
    node = kube.get(_NODES.path(name=name))
    return {c["type"]: c["status"] for c in node["status"].get("conditions") or []}


def lease(kube: KubeClient, name: str) -> JSON:
    return kube.get(resource_for("Lease").path("kube-node-lease", name))["spec"]


HEALTHY = {
    "Ready": "True",
    "MemoryPressure": "False",
    "DiskPressure": "False",
    "PIDPressure": "False",
    "NetworkUnavailable": "False",
}


def test_pressure_and_not_ready_then_healthy_and_reset(pristine: KubeClient) -> None:
    kube = pristine
    try:
        done = sandbox("node", "k8s-node1", "--memory-pressure")
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "Node k8s-node1: memory-pressure."
        assert conditions(kube, "k8s-node1") == {**HEALTHY, "MemoryPressure": "True"}
        assert sandbox("node", "k8s-node1", "--disk-pressure").returncode == 0
        assert conditions(kube, "k8s-node1")["DiskPressure"] == "True"
        assert sandbox("node", "k8s-node1", "--healthy").returncode == 0
        assert conditions(kube, "k8s-node1") == HEALTHY
        assert sandbox("node", "k8s-master", "--not-ready").returncode == 0
        assert conditions(kube, "k8s-master")["Ready"] == "False"
        # Still not-ready a few seconds on: no stage makes it Ready behind our back.
        time.sleep(3)
        assert conditions(kube, "k8s-master")["Ready"] == "False"
    finally:
        seed.reset(kube)
    assert conditions(kube, "k8s-master") == HEALTHY
    annotations = kube.get(_NODES.path(name="k8s-master"))["metadata"].get("annotations") or {}
    assert "sandbox.k8s-chatops.io/health" not in annotations


def test_unknown_stops_the_heartbeat_and_healthy_resumes_it(pristine: KubeClient) -> None:
    kube = pristine
    try:
        assert sandbox("node", "k8s-node1", "--unknown").returncode == 0
        stopped = lease(kube, "k8s-node1")["renewTime"]
        time.sleep(15)  # kwok renews every ~10 s
        assert lease(kube, "k8s-node1")["renewTime"] == stopped
        assert lease(kube, "k8s-master")["renewTime"] != stopped
        assert sandbox("node", "k8s-node1", "--healthy").returncode == 0
        assert conditions(kube, "k8s-node1") == HEALTHY
        deadline = time.monotonic() + 30
        while lease(kube, "k8s-node1")["renewTime"] == stopped:
            assert time.monotonic() < deadline, "the Lease is not renewed again"
            time.sleep(0.5)
    finally:
        seed.reset(kube)


def test_an_unknown_node_is_a_sentence(kube: KubeClient) -> None:
    done = sandbox("node", "no-such-node", "--not-ready")
    assert done.returncode == 1
    assert done.stderr.strip() == 'Error from server (NotFound): nodes "no-such-node" not found'
    assert "Traceback" not in done.stderr
    refused = sandbox("node", "k8s-node1", "--not-ready", "--healthy")
    assert refused.returncode == 2
    assert "not allowed with argument" in refused.stderr
