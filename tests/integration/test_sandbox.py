"""The sandbox is a real cluster: the guide's drain walkthrough with the real kubectl, a
PodDisruptionBudget enforced by the real disruption controller, kubectl logs through kwok,
node Leases renewed, and the CLI around it."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from conftest import Kubectl
from helpers import wait_for

from handlers.kube import KubeClient, KubeNotFound, KubeTooManyRequests, resource_for
from sandbox import cluster

pytestmark = pytest.mark.integration

PODS = resource_for("Pod")
PDBS = resource_for("PodDisruptionBudget")


def pods_by_node(kube: KubeClient, namespace: str) -> dict[str, list[str]]:
    placement: dict[str, list[str]] = {}
    for pod in kube.list_pages(PODS.path(namespace)):
        if pod["status"].get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp"):
            placement.setdefault(pod["spec"].get("nodeName", ""), []).append(
                pod["metadata"]["name"]
            )
    return placement


def test_seed_scenario_matches_the_guide(pristine: KubeClient) -> None:
    nodes = {n["metadata"]["name"]: n for n in pristine.list_pages(resource_for("Node").path())}
    assert set(nodes) == {"k8s-master", "k8s-node1"}
    master = nodes["k8s-master"]
    assert "node-role.kubernetes.io/control-plane" in master["metadata"]["labels"]
    assert not master["spec"].get("taints")
    for node in nodes.values():
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True"
        assert node["status"]["nodeInfo"]["kubeletVersion"].startswith("v1.")
    system = pods_by_node(pristine, "kube-system")
    for component in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        pod = pristine.get(PODS.path("kube-system", f"{component}-k8s-master"))
        assert "kubernetes.io/config.mirror" in pod["metadata"]["annotations"]
    on_node1 = " ".join(system["k8s-node1"] + pods_by_node(pristine, "default")["k8s-node1"])
    for prefix in (
        "calico-node-",
        "kube-proxy-",
        "coredns-",
        "deployment-hellok8s-go-http-",
        "go-http",
        "stateful-nginx-",
    ):
        assert prefix in on_node1
    running = [p for p in pristine.list_pages(PODS.path()) if p["status"].get("podIP")]
    assert len(running) == 15


def test_drain_walkthrough_with_real_kubectl(pristine: KubeClient, kubectl: Kubectl) -> None:
    refused = kubectl("drain", "--ignore-daemonsets", "k8s-node1")
    assert refused.returncode == 1
    assert "node/k8s-node1 cordoned" in refused.stdout
    assert (
        "cannot delete Pods that declare no controller (use --force to override): "
        "default/go-http" in refused.stderr
    )
    nodes = kubectl("get", "nodes")
    assert "Ready,SchedulingDisabled" in next(
        line for line in nodes.stdout.splitlines() if line.startswith("k8s-node1")
    )

    forced = kubectl("drain", "--ignore-daemonsets", "k8s-node1", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "node/k8s-node1 drained" in forced.stdout
    assert "ignoring DaemonSet-managed Pods" in forced.stderr
    assert "pod/go-http evicted" in forced.stdout

    def moved() -> bool:
        default = pods_by_node(pristine, "default")
        system = pods_by_node(pristine, "kube-system")
        node1 = default.get("k8s-node1", []) + system.get("k8s-node1", [])
        master = " ".join(default.get("k8s-master", []) + system.get("k8s-master", []))
        return (
            all(name.startswith(("calico-node-", "kube-proxy-")) for name in node1)
            and master.count("deployment-hellok8s-go-http-") == 2
            and master.count("stateful-nginx-") == 2
            and master.count("coredns-") == 2
        )

    wait_for(moved)
    assert "go-http" not in pods_by_node(pristine, "default").get("k8s-master", [])

    restored = kubectl("uncordon", "k8s-node1")
    assert restored.stdout.strip() == "node/k8s-node1 uncordoned"
    node = pristine.get(resource_for("Node").path(name="k8s-node1"))
    assert not node["spec"].get("unschedulable")


def _evict(kube: KubeClient, name: str) -> dict:
    return kube.request(
        "POST",
        PODS.path("default", name) + "/eviction",
        body={
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": name, "namespace": "default"},
        },
    )


def test_pod_disruption_budget_blocks_eviction(pristine: KubeClient) -> None:
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "hellok8s", "namespace": "default"},
        "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "hellok8s"}}},
    }
    pristine.create(pdb)

    def computed() -> dict | None:
        status = pristine.get(PDBS.path("default", "hellok8s")).get("status", {})
        return status if status.get("currentHealthy") == 2 else None

    # Only the disruption controller in kube-controller-manager fills this in.
    status = wait_for(computed)
    assert status["disruptionsAllowed"] == 0
    assert status["expectedPods"] == 2
    victim = next(
        p["metadata"]["name"]
        for p in pristine.list_pages(PODS.path("default"), label_selector="app=hellok8s")
    )
    with pytest.raises(KubeTooManyRequests) as refused:
        _evict(pristine, victim)
    assert refused.value.status == 429
    assert "disruption budget" in refused.value.user_message

    pristine.patch_merge(PDBS.path("default", "hellok8s"), {"spec": {"minAvailable": 1}})
    wait_for(
        lambda: pristine.get(PDBS.path("default", "hellok8s"))["status"]["disruptionsAllowed"] == 1
    )
    assert _evict(pristine, victim)["status"] == "Success"


def test_kubectl_logs_reads_the_file_a_pod_points_at(
    pristine: KubeClient, kubectl: Kubectl, tmp_path: Path
) -> None:
    log_file = tmp_path / "go-http.log"
    log_file.write_text(
        "2026-11-25T10:00:00.000000000Z stdout F listening on :3000\n"
        "2026-11-25T10:00:01.000000000Z stderr F ERROR upstream timed out\n"
    )
    pristine.create(
        {
            "apiVersion": "kwok.x-k8s.io/v1alpha1",
            "kind": "Logs",
            "metadata": {"name": "go-http", "namespace": "default"},
            "spec": {"logs": [{"containers": ["go-http"], "logsFile": str(log_file)}]},
        }
    )

    def logs() -> str:
        result = kubectl("logs", "go-http")
        return result.stdout if result.returncode == 0 else ""

    assert wait_for(logs).splitlines() == ["listening on :3000", "ERROR upstream timed out"]
    tail = kubectl("logs", "go-http", "--tail=1", "--timestamps")
    assert tail.stdout.strip() == "2026-11-25T10:00:01.000000000Z ERROR upstream timed out"


def test_node_leases_are_renewed(kube: KubeClient) -> None:
    lease_path = resource_for("Lease").path("kube-node-lease", "k8s-node1")
    first = wait_for(lambda: kube.get(lease_path))
    # kwok holds every node's Lease under its own identity, with the kubelet's 40s duration.
    assert first["spec"]["holderIdentity"]
    assert first["spec"]["leaseDurationSeconds"] == 40

    def renewed() -> bool:
        renew = kube.get(lease_path)["spec"]["renewTime"]
        return renew != first["spec"]["renewTime"]

    wait_for(renewed, timeout=30, interval=1)
    renew_time = datetime.fromisoformat(kube.get(lease_path)["spec"]["renewTime"])
    assert renew_time.tzinfo is not None


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox.commands", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cli_up_is_idempotent_and_status_reports(sandbox: Path) -> None:
    before = cluster.load_state()
    again = _cli("up")
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stdout
    after = cluster.load_state()
    assert before is not None and after is not None
    assert before.pids == after.pids

    path = _cli("kubeconfig")
    assert path.stdout.strip() == str(sandbox)
    assert len(path.stdout.splitlines()) == 1

    status = _cli("status")
    assert status.returncode == 0
    for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"):
        assert f"{name}" in status.stdout
    assert "running" in status.stdout and "STOPPED" not in status.stdout
    assert "kubernetes v1.37.2" in status.stdout
    assert "nodes 2" in status.stdout
    for port in after.ports.values():
        assert port > 1024
    assert after.server.startswith("https://127.0.0.1:")


def test_cli_reset_restores_the_seed_in_seconds(kube: KubeClient) -> None:
    kube.patch_strategic(
        resource_for("Node").path(name="k8s-node1"), {"spec": {"unschedulable": True}}
    )
    kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "scratch"}})
    kube.delete(PODS.path("default", "go-http"), grace_period_seconds=0)
    started = time.monotonic()
    result = _cli("reset")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert elapsed < 30
    assert not kube.get(resource_for("Node").path(name="k8s-node1"))["spec"].get("unschedulable")
    assert kube.get(PODS.path("default", "go-http"))["spec"]["nodeName"] == "k8s-node1"
    try:
        namespace = kube.get(resource_for("Namespace").path(name="scratch"))
    except KubeNotFound:
        return
    assert namespace["metadata"].get("deletionTimestamp")
