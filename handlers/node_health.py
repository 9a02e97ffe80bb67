"""``get nodes --problems``: the rules that say a node needs a look, and the reads they need.

A node is listed when it is NotReady or Unknown, under pressure (memory, disk, PIDs, or its
network unavailable), late on its heartbeat (its Lease in ``kube-node-lease`` not renewed
within the node-monitor grace period), cordoned for longer than a threshold, or has no room
for another pod (non-terminated pods ≥ allocatable ``pods``).

Since when a node is cordoned: the node lifecycle controller adds the
``node.kubernetes.io/unschedulable:NoSchedule`` taint when ``spec.unschedulable`` turns on and
stamps it with ``timeAdded``; that covers cordons made by anyone (kubectl, the bot, an
autoscaler), where the bot's own job records would only know its own. A cordoned node whose
taint has no ``timeAdded`` (the controller has not caught up yet) is listed with "since
unknown" rather than hidden.

The reads are paged: one list of the nodes (with the label selector); then, for a few nodes, each
one's Lease and its pods (``spec.nodeName`` field selector), and for many, one paged list of the
Leases and one of the cluster's non-terminated pods, never both.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from handlers.kube import JSON, KubeClient, KubeNotFound, resource_for
from handlers.models import NodeProblem
from handlers.quantity import parse_quantity

#: kube-controller-manager's ``--node-monitor-grace-period`` default at Kubernetes v1.37 (older
#: releases had 40 s); for a cluster that sets its own, ``--lease-grace`` says so.
DEFAULT_LEASE_GRACE_SECONDS = 50.0
#: ``--cordoned-for``'s default.
DEFAULT_CORDONED_FOR_SECONDS = 3600.0
#: The conditions whose ``True`` is a problem (the kubelet's and the network plugin's).
PRESSURE_CONDITIONS = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
LEASE_NAMESPACE = "kube-node-lease"
#: Up to this many nodes, Leases are read and pods counted node by node; beyond, one list each.
PER_NODE_LIMIT = 20
#: Pods that take a slot on their node (what ``kubectl describe node`` calls non-terminated).
NON_TERMINATED = "status.phase!=Succeeded,status.phase!=Failed"


def timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _seconds_since(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max(0.0, (now - then).total_seconds())


def ready_problem(node: JSON, now: datetime) -> NodeProblem | None:
    """NotReady (``Ready=False``) or Unknown (``Ready=Unknown``, or no Ready condition)."""
    for condition in node.get("status", {}).get("conditions") or []:
        if condition.get("type") != "Ready":
            continue
        status = condition.get("status")
        if status == "True":
            return None
        return NodeProblem(
            kind="not_ready" if status == "False" else "unknown",
            detail=str(condition.get("reason") or "")[:80],
            seconds=_seconds_since(now, timestamp(condition.get("lastTransitionTime"))),
        )
    return NodeProblem(kind="unknown", detail="", seconds=None)


def pressure_problems(node: JSON, now: datetime) -> list[NodeProblem]:
    found = []
    for condition in node.get("status", {}).get("conditions") or []:
        if condition.get("type") in PRESSURE_CONDITIONS and condition.get("status") == "True":
            found.append(
                NodeProblem(
                    kind="pressure",
                    detail=str(condition["type"]),
                    seconds=_seconds_since(now, timestamp(condition.get("lastTransitionTime"))),
                )
            )
    return found


def lease_problem(lease: JSON | None, now: datetime, grace: float) -> NodeProblem | None:
    """No Lease, or one last renewed longer ago than the grace period."""
    if lease is None:
        return NodeProblem(kind="no_lease")
    renewed = timestamp(lease.get("spec", {}).get("renewTime"))
    age = _seconds_since(now, renewed)
    if age is None:
        return NodeProblem(kind="no_lease")
    if age > grace:
        return NodeProblem(kind="heartbeat_late", seconds=age, limit=int(grace))
    return None


def cordon_problem(node: JSON, now: datetime, threshold: float) -> NodeProblem | None:
    """Cordoned for longer than ``threshold`` seconds, by the unschedulable taint's time."""
    if not node.get("spec", {}).get("unschedulable"):
        return None
    added = None
    for taint in node.get("spec", {}).get("taints") or []:
        if taint.get("key") == UNSCHEDULABLE_TAINT:
            added = timestamp(taint.get("timeAdded"))
    age = _seconds_since(now, added)
    if age is None:
        return NodeProblem(kind="cordoned")
    if age < threshold:
        return None
    return NodeProblem(kind="cordoned", seconds=age)


def allocatable_pods(node: JSON) -> int | None:
    text = (node.get("status", {}).get("allocatable") or {}).get("pods")
    if text is None:
        return None
    try:
        return int(parse_quantity(str(text)))
    except ValueError:
        return None


def room_problem(node: JSON, pod_count: int) -> NodeProblem | None:
    limit = allocatable_pods(node)
    if limit is None or pod_count < limit:
        return None
    return NodeProblem(kind="full", count=pod_count, limit=limit)


def node_problems(
    node: JSON,
    *,
    lease: JSON | None,
    pod_count: int,
    now: datetime,
    lease_grace: float = DEFAULT_LEASE_GRACE_SECONDS,
    cordoned_for: float = DEFAULT_CORDONED_FOR_SECONDS,
) -> list[NodeProblem]:
    """Every rule a node breaks, in a fixed order (readiness first)."""
    found: list[NodeProblem] = []
    ready = ready_problem(node, now)
    if ready is not None:
        found.append(ready)
    found.extend(pressure_problems(node, now))
    for problem in (
        lease_problem(lease, now, lease_grace),
        cordon_problem(node, now, cordoned_for),
        room_problem(node, pod_count),
    ):
        if problem is not None:
            found.append(problem)
    return found


def node_leases(kube: KubeClient, names: list[str]) -> dict[str, JSON]:
    """The nodes' Leases by node name (a Lease is named after its node): read one by one for
    a few nodes, else one paged list of ``kube-node-lease``."""
    leases = resource_for("Lease")
    if len(names) <= PER_NODE_LIMIT:
        found = {}
        for name in names:
            with contextlib.suppress(KubeNotFound):
                found[name] = kube.get(leases.path(LEASE_NAMESPACE, name))
        return found
    wanted = set(names)
    return {
        lease["metadata"]["name"]: lease
        for lease in kube.list_pages(leases.path(LEASE_NAMESPACE))
        if lease["metadata"]["name"] in wanted
    }


def pod_counts(kube: KubeClient, names: list[str]) -> Mapping[str, int]:
    """Non-terminated pods per node: per node for a few, else one paged cluster list."""
    pods = resource_for("Pod").path()
    counts: Counter[str] = Counter()
    if len(names) <= PER_NODE_LIMIT:
        for name in names:
            selector = f"spec.nodeName={name},{NON_TERMINATED}"
            counts[name] = sum(1 for _ in kube.list_pages(pods, field_selector=selector))
        return counts
    wanted = set(names)
    for pod in kube.list_pages(pods, field_selector=NON_TERMINATED):
        node = pod.get("spec", {}).get("nodeName")
        if node in wanted:
            counts[node] += 1
    return counts
