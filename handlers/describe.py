"""``describe node``, and what ``describe pod`` shares with it: the facts ``kubectl describe``
prints, read with as few calls as it makes (the object, its node Lease, its pods by field
selector, its events by field selector), each list paged.

What kubectl leaves to the reader is worked out here: whether the Lease is late against the
node-monitor grace period, and, for a node whose Ready condition is not True, when the taint
manager will evict each of its pods (the NoExecute not-ready/unreachable taint's ``timeAdded``
plus the pod's toleration seconds).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core import messages
from handlers import pod_resources
from handlers.control import Control
from handlers.describe_models import (
    Allocation,
    Condition,
    DescribeNode,
    EventRow,
    Eviction,
    NodeDescription,
    PodEviction,
    PodUsage,
    Taint,
    Toleration,
)
from handlers.kube import JSON, KubeClient, KubeForbidden, KubeNotFound, Resource, resource_for
from handlers.node_health import DEFAULT_LEASE_GRACE_SECONDS
from handlers.nodes import node_roles
from handlers.retry import retrying

#: kube-controller-manager's ``--node-monitor-grace-period`` assumed when judging a Lease: one
#: value for ``describe node`` and ``get nodes --problems`` (see :mod:`handlers.node_health`).
NODE_MONITOR_GRACE_SECONDS = int(DEFAULT_LEASE_GRACE_SECONDS)

#: The DefaultTolerationSeconds admission plugin's default for not-ready/unreachable taints.
DEFAULT_TOLERATION_SECONDS = 300

#: Events kept per description, the newest (kubectl shows them all; a thread need not).
MAX_EVENTS = 50

NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"

_NODES = resource_for("Node")
_PODS = resource_for("Pod")
_LEASES = resource_for("Lease")
_EVENTS = Resource("v1", "events", namespaced=True)


def moment(text: Any) -> datetime | None:
    """An API timestamp (RFC 3339, ``Z`` or offset, with or without micros), or None."""
    if not text or not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def conditions(status: Mapping[str, Any]) -> tuple[Condition, ...]:
    return tuple(
        Condition(
            type=str(c.get("type", "")),
            status=str(c.get("status", "")),
            reason=str(c.get("reason") or ""),
            message=str(c.get("message") or ""),
            last_transition=moment(c.get("lastTransitionTime")),
            last_heartbeat=moment(c.get("lastHeartbeatTime")),
        )
        for c in status.get("conditions") or []
    )


def taints(spec: Mapping[str, Any]) -> tuple[Taint, ...]:
    """The node's taints in kubectl's order (by effect, then key)."""
    found = [
        Taint(
            key=str(t.get("key", "")),
            value=str(t.get("value") or ""),
            effect=str(t.get("effect", "")),
            time_added=moment(t.get("timeAdded")),
        )
        for t in spec.get("taints") or []
    ]
    return tuple(sorted(found, key=lambda t: f"{t.effect},{t.key}"))


def tolerations(spec: Mapping[str, Any]) -> tuple[Toleration, ...]:
    found = [
        Toleration(
            key=str(t.get("key") or ""),
            operator=str(t.get("operator") or ""),
            value=str(t.get("value") or ""),
            effect=str(t.get("effect") or ""),
            seconds=t.get("tolerationSeconds"),
        )
        for t in spec.get("tolerations") or []
    ]
    return tuple(sorted(found, key=lambda t: t.key))


def tolerates(toleration: Toleration, taint_key: str, effect: str = "NoExecute") -> bool:
    """The scheduler's ``ToleratesTaint`` for a value-less taint."""
    if toleration.effect and toleration.effect != effect:
        return False
    if toleration.key and toleration.key != taint_key:
        return False
    if toleration.operator == "Exists":
        return True
    # Equal (the default) with an empty key tolerates nothing: a key is required then.
    return bool(toleration.key) and not toleration.value


def eviction_after(pod_tolerations: Iterable[Toleration], taint_key: str) -> int | None:
    """Seconds a pod stays on a node with this NoExecute taint: None for ever, 0 at once; the
    shortest of the matching tolerations' seconds, as the taint manager takes it."""
    matching = [t for t in pod_tolerations if tolerates(t, taint_key)]
    if not matching:
        return 0
    if any(t.seconds is None for t in matching):
        bounded = [t.seconds for t in matching if t.seconds is not None]
        if not bounded:
            return None
        return max(0, min(bounded))
    return max(0, min(t.seconds or 0 for t in matching))


def event_rows(items: Iterable[JSON]) -> tuple[EventRow, ...]:
    rows = []
    for e in items:
        series = e.get("series") or {}
        first = moment(e.get("eventTime")) or moment(e.get("firstTimestamp"))
        last = moment(series.get("lastObservedTime")) or moment(e.get("lastTimestamp")) or first
        count = int(series.get("count") or e.get("count") or 1)
        message = str(e.get("message") or "").strip()
        field_path = (e.get("involvedObject") or {}).get("fieldPath")
        if field_path:
            message = f"{field_path}: {message}"
        rows.append(
            EventRow(
                type=str(e.get("type") or ""),
                reason=str(e.get("reason") or ""),
                first=first,
                last=last,
                count=count,
                source=str((e.get("source") or {}).get("component") or "")
                or str(e.get("reportingComponent") or e.get("reportingController") or ""),
                message=message,
            )
        )
    epoch = datetime.min.replace(tzinfo=UTC)
    rows.sort(key=lambda r: r.last or epoch)  # kubectl: oldest first, by last seen
    return tuple(rows[-MAX_EVENTS:])


def events(kube: KubeClient, namespace: str | None, selectors: Iterable[str]) -> list[JSON]:
    items: list[JSON] = []
    seen: set[str] = set()
    for selector in selectors:
        for event in kube.list_pages(_EVENTS.path(namespace=namespace), field_selector=selector):
            uid = str((event.get("metadata") or {}).get("uid", ""))
            if uid and uid in seen:
                continue
            seen.add(uid)
            items.append(event)
    return items


def _pod_usage(pod: JSON) -> PodUsage:
    requests = pod_resources.pod_requests(pod)
    limits = pod_resources.pod_limits(pod)
    meta = pod.get("metadata") or {}

    def amount(values: pod_resources.Amounts, name: str) -> int:
        return pod_resources.in_units(name, values.get(name, Decimal(0)))

    return PodUsage(
        namespace=str(meta.get("namespace", "")),
        name=str(meta.get("name", "")),
        cpu_requests=amount(requests, "cpu"),
        cpu_limits=amount(limits, "cpu"),
        memory_requests=amount(requests, "memory"),
        memory_limits=amount(limits, "memory"),
        created=moment(meta.get("creationTimestamp")),
    )


def allocated(node: JSON, pods: list[JSON]) -> tuple[Allocation, ...]:
    """kubectl's "Allocated resources" rows for these non-terminated pods."""
    requests = pod_resources.total(pod_resources.pod_requests(p) for p in pods)
    limits = pod_resources.total(pod_resources.pod_limits(p) for p in pods)
    offered = pod_resources.offered(node)
    zero = Decimal(0)

    def row(name: str, with_percent: bool) -> Allocation:
        used_requests = pod_resources.in_units(name, requests.get(name, zero))
        used_limits = pod_resources.in_units(name, limits.get(name, zero))
        if not with_percent:
            return Allocation(resource=name, requests=used_requests, limits=used_limits)
        available = pod_resources.in_units(name, offered.get(name, zero))
        return Allocation(
            resource=name,
            requests=used_requests,
            limits=used_limits,
            requests_percent=pod_resources.percent(used_requests, available),
            limits_percent=pod_resources.percent(used_limits, available),
        )

    status = node.get("status") or {}
    huge, extended = pod_resources.extended_rows(
        status.get("allocatable") or status.get("capacity") or {}
    )
    return (
        *(row(name, True) for name in pod_resources.STANDARD_ROWS),
        *(row(name, True) for name in huge),
        *(row(name, False) for name in extended),
    )


def _eviction(
    node_taints: tuple[Taint, ...], ready: Condition | None, pods: list[JSON]
) -> Eviction | None:
    if ready is not None and ready.status == "True":
        return None
    taint_key = UNREACHABLE_TAINT if ready is None or ready.status == "Unknown" else NOT_READY_TAINT
    placed = next(
        (
            t
            for t in node_taints
            if t.effect == "NoExecute" and t.key in (NOT_READY_TAINT, UNREACHABLE_TAINT)
        ),
        None,
    )
    if placed is not None:
        taint_key = placed.key
    added = placed.time_added if placed is not None else None
    evictions = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        seconds = eviction_after(tolerations(pod.get("spec") or {}), taint_key)
        evictions.append(
            PodEviction(
                namespace=str(meta.get("namespace", "")),
                name=str(meta.get("name", "")),
                seconds=seconds,
            )
        )
    return Eviction(
        taint=f"{taint_key}:NoExecute",
        added=added,
        default_seconds=DEFAULT_TOLERATION_SECONDS,
        pods=tuple(evictions),
    )


def describe_node(request: DescribeNode, kube: KubeClient, control: Control) -> NodeDescription:
    kube = retrying(kube, control, verb=request.verb)
    try:
        node = kube.get(_NODES.path(name=request.node))
    except KubeNotFound:
        raise KubeNotFound(messages.NODE_NOT_FOUND.format(name=request.node), status=404) from None
    read_at = datetime.now(UTC)
    meta, spec, status = node["metadata"], node.get("spec") or {}, node.get("status") or {}
    info = status.get("nodeInfo") or {}
    try:
        lease = kube.get(_LEASES.path(namespace="kube-node-lease", name=request.node))
    except KubeNotFound:
        lease = None
    pods_visible = True
    try:
        pods = list(
            kube.list_pages(
                _PODS.path(),
                field_selector=f"spec.nodeName={request.node},"
                "status.phase!=Succeeded,status.phase!=Failed",
            )
        )
    except KubeForbidden:
        pods, pods_visible = [], False
    reference = (
        f"involvedObject.kind=Node,involvedObject.name={request.node},involvedObject.namespace="
    )
    found = events(
        kube,
        None,
        [
            f"{reference},involvedObject.uid={meta.get('uid', '')}",
            f"{reference},involvedObject.uid={request.node}",
        ],
    )
    node_conditions = conditions(status)
    node_taints = taints(spec)
    ready = next((c for c in node_conditions if c.type == "Ready"), None)
    max_pods = pod_resources.amounts(status.get("allocatable") or status.get("capacity")).get(
        "pods"
    )
    lease_spec = (lease or {}).get("spec") or {}
    offered = pod_resources.offered(node)
    return NodeDescription(
        name=request.node,
        roles=node_roles(node),
        created=moment(meta.get("creationTimestamp")),
        addresses=tuple(
            (str(a.get("type", "")), str(a.get("address", "")))
            for a in status.get("addresses") or []
        ),
        os_image=str(info.get("osImage", "")),
        operating_system=str(info.get("operatingSystem", "")),
        architecture=str(info.get("architecture", "")),
        kernel_version=str(info.get("kernelVersion", "")),
        container_runtime=str(info.get("containerRuntimeVersion", "")),
        kubelet_version=str(info.get("kubeletVersion", "")),
        conditions=node_conditions,
        taints=node_taints,
        unschedulable=bool(spec.get("unschedulable")),
        lease_holder=lease_spec.get("holderIdentity"),
        lease_renewed=moment(lease_spec.get("renewTime")),
        lease_missing=lease is None,
        grace_seconds=NODE_MONITOR_GRACE_SECONDS,
        capacity={str(k): str(v) for k, v in (status.get("capacity") or {}).items()},
        allocatable={str(k): str(v) for k, v in (status.get("allocatable") or {}).items()},
        pods=tuple(_pod_usage(p) for p in pods),
        pods_visible=pods_visible,
        allocated=allocated(node, pods) if pods_visible else (),
        offered_cpu=pod_resources.in_units("cpu", offered.get("cpu", Decimal(0))),
        offered_memory=pod_resources.in_units("memory", offered.get("memory", Decimal(0))),
        max_pods=int(max_pods) if max_pods is not None else None,
        events=event_rows(found),
        eviction=_eviction(node_taints, ready, pods),
        read_at=read_at,
    )
