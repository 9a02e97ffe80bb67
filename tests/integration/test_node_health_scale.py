"""``get nodes --problems`` on a 500-node sandbox with a handful of sick nodes lists exactly
those, each with its reason; a node cordoned a minute ago is not one of them.

Runs on the session's sandbox, which is private to whoever runs the tests
(``K8S_CHATOPS_SANDBOX_RUN_DIR``), as ``test_scale.py`` does; the scale nodes are removed after.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handlers.control import Control
from handlers.kube import JSON, KubeClient, resource_for
from handlers.models import GetNodes
from handlers.nodes import get_nodes
from sandbox import seed

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXTRA = 498  # and the two seed nodes: 500
NOT_READY, DISK, LATE, CORDONED, FULL, FRESH_CORDON = (
    f"kwok-node-{i:05d}" for i in (11, 222, 333, 444, 455, 466)
)
_NODES = resource_for("Node")


def sandbox(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sandbox.commands", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def wait_for(check, what: str, timeout: float = 180.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1)


def ready_count(kube: KubeClient) -> int:
    return sum(
        1
        for node in kube.list_pages(_NODES.path())
        for c in node.get("status", {}).get("conditions") or []
        if c["type"] == "Ready" and c["status"] == "True"
    )


def taint_time(kube: KubeClient, name: str) -> str | None:
    for taint in kube.get(_NODES.path(name=name))["spec"].get("taints") or []:
        if taint["key"] == "node.kubernetes.io/unschedulable":
            return str(taint.get("timeAdded") or "") or None
    return None


def lease_age(kube: KubeClient, name: str) -> float:
    lease = kube.get(resource_for("Lease").path("kube-node-lease", name))
    renewed = datetime.fromisoformat(lease["spec"]["renewTime"].replace("Z", "+00:00"))
    return (datetime.now(UTC) - renewed).total_seconds()


def make_sick(kube: KubeClient) -> None:
    sandbox("node", NOT_READY, "--not-ready")
    sandbox("node", DISK, "--disk-pressure")
    sandbox("node", LATE, "--unknown")
    for name in (CORDONED, FRESH_CORDON):
        kube.patch_merge(_NODES.path(name=name), {"spec": {"unschedulable": True}})
    wait_for(lambda: taint_time(kube, CORDONED) is not None, "the unschedulable taint")
    # Cordoned two hours ago: the controller stamped its taint; move the stamp back.
    taints = kube.get(_NODES.path(name=CORDONED))["spec"]["taints"]
    long_ago = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for taint in taints:
        if taint["key"] == "node.kubernetes.io/unschedulable":
            taint["timeAdded"] = long_ago
    kube.patch_merge(_NODES.path(name=CORDONED), {"spec": {"taints": taints}})
    # Full: room for one pod, and one more bound there (besides the DaemonSets' pods).
    kube.request(
        "PATCH",
        _NODES.path(name=FULL) + "/status",
        body={"status": {"allocatable": {"pods": "1"}, "capacity": {"pods": "1"}}},
        content_type="application/merge-patch+json",
    )
    pod: JSON = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "the-only-pod", "namespace": seed.SCALE_NAMESPACE},
        "spec": {
            "nodeName": FULL,
            "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}],
        },
    }
    kube.create(pod)


def pages(items: int, size: int = 500) -> int:
    return max(1, -(-items // size))


class Requests:
    """The API requests made while counting (every list page is one)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []
        original = KubeClient.request

        def request(client: KubeClient, method: str, path: str, **kw: Any) -> JSON:
            self.seen.append((path, dict(kw.get("query") or {})))
            return original(client, method, path, **kw)

        monkeypatch.setattr(KubeClient, "request", request)

    def paths(self) -> Counter[str]:
        return Counter(path for path, _ in self.seen)


def test_problems_on_500_nodes_lists_exactly_the_sick_ones(
    kube: KubeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        sandbox("up", "--nodes", str(EXTRA))
        wait_for(lambda: ready_count(kube) == EXTRA + 2, "500 Ready nodes")
        make_sick(kube)
        # The stopped heartbeat must be older than the grace period (50 s).
        wait_for(lambda: lease_age(kube, LATE) > 52, "a late Lease", timeout=120)
        pods = sum(
            1
            for _ in kube.list_pages(
                resource_for("Pod").path(),
                field_selector="status.phase!=Succeeded,status.phase!=Failed",
            )
        )
        requests = Requests(monkeypatch)
        started = time.monotonic()
        table = get_nodes(GetNodes(problems=True), kube, Control())
        seconds = time.monotonic() - started
        print(f"get nodes --problems on {table.checked} nodes, {pods} pods: {seconds:.2f}s")
        print(f"requests: {dict(requests.paths())}")
        # Paged lists, one pass each: nodes, leases, the pods of the whole cluster once.
        assert requests.paths() == {
            "/api/v1/nodes": pages(EXTRA + 2),
            "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases": pages(EXTRA + 2),
            "/api/v1/pods": pages(pods),
        }
        assert all(query.get("limit") == 500 for _, query in requests.seen)
        assert table.checked == EXTRA + 2
        found = {row.name: [p.kind for p in row.problems] for row in table.rows}
        assert set(found) == {NOT_READY, DISK, LATE, CORDONED, FULL}, found
        assert found[NOT_READY] == ["not_ready"]
        assert found[DISK] == ["pressure"]
        # The node lifecycle controller marks it Unknown once the same grace period passes.
        assert found[LATE] in (["heartbeat_late"], ["unknown", "heartbeat_late"])
        assert found[CORDONED] == ["cordoned"]
        assert found[FULL] == ["full"]
        rows = {row.name: row for row in table.rows}
        assert rows[NOT_READY].problems[0].detail == "KubeletNotReady"
        assert rows[DISK].problems[0].detail == "DiskPressure"
        assert 7100 < (rows[CORDONED].problems[0].seconds or 0) < 7400
        # Its DaemonSet pods and ours, counted as the API server counts them.
        on_full = kube.list_pages(
            resource_for("Pod").path(),
            field_selector=f"spec.nodeName={FULL},status.phase!=Succeeded,status.phase!=Failed",
        )
        assert rows[FULL].problems[0].limit == 1
        assert rows[FULL].problems[0].count == sum(1 for _ in on_full) >= 1
        assert rows[CORDONED].status == "Ready,SchedulingDisabled"
        # A few nodes by selector: each one's Lease read, its pods counted with a field selector.
        requests.seen.clear()
        few = get_nodes(
            GetNodes(problems=True, selector=f"kubernetes.io/hostname in ({FULL}, {DISK}, x)"),
            kube,
            Control(),
        )
        assert {row.name for row in few.rows} == {FULL, DISK}
        assert few.checked == 2
        lease_path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
        assert sorted(p for p, _ in requests.seen if p.startswith(lease_path)) == [
            f"{lease_path}/{name}" for name in sorted((FULL, DISK))
        ]
        assert sorted(q["fieldSelector"] for p, q in requests.seen if p == "/api/v1/pods") == [
            f"spec.nodeName={name},status.phase!=Succeeded,status.phase!=Failed"
            for name in sorted((FULL, DISK))
        ]
        # A shorter threshold lists the fresh cordon too.
        shorter = get_nodes(GetNodes(problems=True, cordoned_for=1.0), kube, Control())
        assert FRESH_CORDON in {row.name for row in shorter.rows}
    finally:
        seed.reset(kube)
    assert sum(1 for _ in kube.list_pages(_NODES.path())) == 2
