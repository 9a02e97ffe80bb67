"""The plan of a drain: what happens to each pod, and what could go wrong, before anything does.

Beyond kubectl's own filters (:mod:`handlers.drain_filters`) the plan answers the questions the
maintenance guide tells people to ask first: will a PodDisruptionBudget refuse an eviction right
now; do the other schedulable nodes have room for what the controllers will re-create; will a
workload land straight back on the node (it tolerates ``unschedulable``, or its template pins
``spec.nodeName``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from core import messages
from core.selectors import matches, parse_selector
from handlers import drain_filters as filters
from handlers.control import Control
from handlers.drain_models import (
    Capacity,
    DrainNode,
    DrainPlan,
    PodFate,
    capacity_name,
    fate_name,
)
from handlers.kube import JSON, KubeClient, KubeNotFound, resource_for
from handlers.quantity import cpu_millis, format_cpu, format_memory, memory_bytes

UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
TIGHT_RATIO = 0.85


def workload_of(pod: JSON) -> str:
    """``Kind ns/name`` of the workload behind a pod (a ReplicaSet's Deployment by name)."""
    owner = filters.controller_of(pod)
    meta = pod["metadata"]
    if not owner:
        return f"Pod {meta['namespace']}/{meta['name']}"
    kind, name = owner["kind"], owner["name"]
    if kind == "ReplicaSet" and "-" in name:
        kind, name = "Deployment", name.rsplit("-", 1)[0]
    return f"{kind} {meta['namespace']}/{name}"


def pod_requests(pod: JSON) -> tuple[int, int]:
    """Summed container requests (millicores, bytes); init containers take the larger of the two."""

    def total(containers: Iterable[JSON]) -> tuple[int, int]:
        cpu = memory = 0
        for container in containers:
            requests = (container.get("resources") or {}).get("requests") or {}
            cpu += cpu_millis(requests.get("cpu", 0))
            memory += memory_bytes(requests.get("memory", 0))
        return cpu, memory

    main = total(pod["spec"].get("containers") or [])
    init = max((total([c]) for c in pod["spec"].get("initContainers") or []), default=(0, 0))
    return max(main[0], init[0]), max(main[1], init[1])


def _tolerates(pod_spec: JSON, taint: JSON) -> bool:
    for toleration in pod_spec.get("tolerations") or []:
        key, operator = toleration.get("key", ""), toleration.get("operator", "Equal")
        effect = toleration.get("effect", "")
        if effect and effect != taint.get("effect"):
            continue
        if not key and operator == "Exists":
            return True
        if key == taint.get("key") and (
            operator == "Exists" or toleration.get("value", "") == taint.get("value", "")
        ):
            return True
    return False


def _ready(node: JSON) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in node.get("status", {}).get("conditions") or []
    )


@dataclass
class _Room:
    name: str
    cpu: int
    memory: int
    pods: int
    cpu_total: int
    memory_total: int
    labels: dict[str, str]
    taints: list[JSON]

    def admits(self, spec: JSON, cpu: int, memory: int) -> bool:
        selector = spec.get("nodeSelector") or {}
        if any(self.labels.get(k) != v for k, v in selector.items()):
            return False
        if any(
            t.get("effect") in ("NoSchedule", "NoExecute") and not _tolerates(spec, t)
            for t in self.taints
        ):
            return False
        return self.pods >= 1 and self.cpu >= cpu and self.memory >= memory


def _rooms(kube: KubeClient, draining: str) -> list[_Room]:
    rooms: dict[str, _Room] = {}
    for node in kube.list_pages(resource_for("Node").path()):
        name = node["metadata"]["name"]
        if name == draining or node["spec"].get("unschedulable") or not _ready(node):
            continue
        allocatable = node.get("status", {}).get("allocatable") or {}
        cpu, memory = (
            cpu_millis(allocatable.get("cpu", 0)),
            memory_bytes(allocatable.get("memory", 0)),
        )
        rooms[name] = _Room(
            name,
            cpu,
            memory,
            int(allocatable.get("pods", 110)),
            cpu,
            memory,
            dict(node["metadata"].get("labels") or {}),
            list(node["spec"].get("taints") or []),
        )
    running = "status.phase!=Succeeded,status.phase!=Failed"
    for pod in kube.list_pages(resource_for("Pod").path(), field_selector=running):
        room = rooms.get(pod["spec"].get("nodeName", ""))
        if room:
            cpu, memory = pod_requests(pod)
            room.cpu, room.memory, room.pods = room.cpu - cpu, room.memory - memory, room.pods - 1
    return list(rooms.values())


def _capacity(
    recreated: list[tuple[PodFate, JSON]], rooms: list[_Room]
) -> tuple[Capacity, str, list[str]]:
    if not recreated:
        return Capacity.FITS, messages.PLAN_CAPACITY_NOTHING_TO_PLACE.format(), []
    if not rooms:
        names = sorted({fate.workload for fate, _ in recreated})
        return Capacity.DOES_NOT_FIT, messages.PLAN_CAPACITY_NO_NODE.format(), names
    unplaceable: list[str] = []
    used: set[str] = set()
    ordered = sorted(
        recreated, key=lambda item: (item[0].cpu_millis, item[0].memory_bytes), reverse=True
    )
    for fate, spec in ordered:
        room = next((r for r in rooms if r.admits(spec, fate.cpu_millis, fate.memory_bytes)), None)
        if room is None:
            unplaceable.append(fate.workload)
            continue
        room.cpu, room.memory, room.pods = (
            room.cpu - fate.cpu_millis,
            room.memory - fate.memory_bytes,
            room.pods - 1,
        )
        used.add(room.name)
    cpu = sum(f.cpu_millis for f, _ in recreated)
    memory = sum(f.memory_bytes for f, _ in recreated)
    detail: str = messages.PLAN_CAPACITY_NEED.format(
        count=len(recreated), cpu=format_cpu(cpu), memory=format_memory(memory)
    )
    if unplaceable:
        return Capacity.DOES_NOT_FIT, detail, sorted(set(unplaceable))
    loads = [
        (
            r.name,
            1 - r.cpu / r.cpu_total if r.cpu_total else 0.0,
            1 - r.memory / r.memory_total if r.memory_total else 0.0,
        )
        for r in rooms
        if r.name in used
    ]
    busiest = max(loads, key=lambda load: max(load[1], load[2]), default=None)
    if busiest is None:
        return Capacity.FITS, detail, []
    detail = messages.PLAN_CAPACITY_BUSIEST.format(
        need=detail, node=busiest[0], cpu=busiest[1], memory=busiest[2]
    )
    if max(busiest[1], busiest[2]) > TIGHT_RATIO:
        return Capacity.TIGHT, detail, []
    return Capacity.FITS, detail, []


def _pdb_findings(
    kube: KubeClient, removed: list[tuple[PodFate, JSON]]
) -> tuple[list[str], list[str]]:
    blocked: list[str] = []
    risks: list[str] = []
    budgets = list(kube.list_pages(resource_for("PodDisruptionBudget").path()))
    covering: dict[str, list[str]] = {}
    for pdb in budgets:
        meta = pdb["metadata"]
        label = f"PodDisruptionBudget {meta['namespace']}/{meta['name']}"
        hit = [
            fate
            for fate, pod in removed
            if fate.namespace == meta["namespace"]
            and matches(pdb["spec"].get("selector"), pod["metadata"].get("labels") or {})
        ]
        for fate in hit:
            covering.setdefault(fate.key, []).append(label)
        allowed = int(pdb.get("status", {}).get("disruptionsAllowed", 0))
        if hit and allowed < len(hit):
            waiting = ", ".join(f.key for f in hit)
            blocked.append(
                messages.PLAN_PDB_BLOCKS.format(
                    pdb=label,
                    disruptions=messages.DISRUPTIONS.format(count=allowed),
                    evictions=messages.EVICTIONS.format(count=len(hit)),
                    pods=waiting,
                )
            )
    for key, labels in covering.items():
        if len(labels) > 1:
            risks.append(messages.PLAN_MANY_PDBS.format(pod=key, pdbs=", ".join(labels)))
    return blocked, risks


def _pinned_templates(kube: KubeClient, node: str) -> list[str]:
    pinned = []
    for kind in ("Deployment", "StatefulSet"):
        for obj in kube.list_pages(resource_for(kind).path()):
            if obj["spec"]["template"]["spec"].get("nodeName") == node:
                meta = obj["metadata"]
                pinned.append(
                    messages.PLAN_PINNED.format(
                        workload=f"{kind} {meta['namespace']}/{meta['name']}", node=node
                    )
                )
    return pinned


def _tolerating(removed: list[tuple[PodFate, JSON]], node: str) -> list[str]:
    taint = {"key": UNSCHEDULABLE_TAINT, "effect": "NoSchedule"}
    workloads = sorted(
        {
            fate.workload
            for fate, pod in removed
            if filters.controller_of(pod) and _tolerates(pod["spec"], taint)
        }
    )
    return [messages.PLAN_TOLERATES.format(workload=w, node=node) for w in workloads]


def node_pods(kube: KubeClient, request: DrainNode) -> list[JSON]:
    """The node's pods across namespaces, paged by ``--chunk-size`` like kubectl."""
    selector = request.pod_selector
    if selector:
        parse_selector(selector)  # validated again here for requests built elsewhere
    return list(
        kube.list_pages(
            resource_for("Pod").path(),
            field_selector=f"spec.nodeName={request.node}",
            label_selector=selector,
            page_size=request.chunk_size or 100_000,
        )
    )


def judge_pods(
    kube: KubeClient, request: DrainNode, pods: list[JSON]
) -> list[tuple[JSON, filters.Status]]:
    @functools.cache
    def daemonset_missing(namespace: str, name: str) -> str:
        try:
            kube.get(resource_for("DaemonSet").path(namespace, name))
        except KubeNotFound:
            return f'daemonsets.apps "{name}" not found'
        return ""

    now = datetime.now(UTC)
    return [
        (pod, filters.judge(pod, request, daemonset_missing=daemonset_missing, now=now))
        for pod in pods
    ]


def _fate(pod: JSON, status: filters.Status, request: DrainNode) -> PodFate:
    meta = pod["metadata"]
    fate = filters.fate_of(status, request)
    cpu, memory = pod_requests(pod)
    loss = ""
    if fate.value in ("evict", "delete") and not filters.finished(pod):
        if filters.has_local_storage(pod):
            loss = messages.PLAN_LOSS_EMPTYDIR.format()
        elif not filters.controller_of(pod):
            loss = messages.PLAN_LOSS_BARE_POD.format()
    return PodFate(
        namespace=meta["namespace"],
        name=meta["name"],
        uid=meta.get("uid", ""),
        fate=fate,
        message=status.message,
        workload=workload_of(pod),
        data_loss=loss,
        cpu_millis=cpu,
        memory_bytes=memory,
    )


def _recreated_elsewhere(pod: JSON) -> bool:
    """A controller other than a DaemonSet will make a replacement pod on another node."""
    owner = filters.controller_of(pod)
    return owner is not None and owner.get("kind") != "DaemonSet" and not filters.finished(pod)


def make_plan(kube: KubeClient, request: DrainNode, control: Control | None = None) -> DrainPlan:
    """Read the cluster and say what ``request`` would do; changes nothing. (``control`` is
    the planner's; a drain's plan needs nothing from it.)"""
    try:
        node = kube.get(resource_for("Node").path(name=request.node))
    except KubeNotFound:
        raise KubeNotFound(messages.NODE_NOT_FOUND.format(name=request.node), status=404) from None
    judged = judge_pods(kube, request, node_pods(kube, request))
    fates = [_fate(pod, status, request) for pod, status in judged]
    keyed = [(f"{p['metadata']['namespace']}/{p['metadata']['name']}", s) for p, s in judged]
    removed = [(fate, pod) for fate, (pod, _) in zip(fates, judged, strict=True) if fate.removed]
    recreated = [(fate, pod["spec"]) for fate, pod in removed if _recreated_elsewhere(pod)]
    capacity, detail, unplaceable = _capacity(recreated, _rooms(kube, request.node))
    pdb_blocked, pdb_risks = _pdb_findings(kube, removed)
    return DrainPlan(
        node=request.node,
        cordoned=bool(node["spec"].get("unschedulable")),
        pods=fates,
        errors=filters.error_lines(keyed),
        warnings=[w for w in [filters.warning_line(keyed)] if w],
        pdb_blocked=pdb_blocked,
        capacity=capacity,
        capacity_detail=detail,
        unplaceable=unplaceable,
        risks=pdb_risks
        + _tolerating(removed, request.node)
        + _pinned_templates(kube, request.node),
    )


def changes(before: DrainPlan, after: DrainPlan) -> list[str]:
    """What differs between a plan shown earlier and the cluster now, in plain sentences."""
    found: list[str] = []
    old = {p.key: p for p in before.pods}
    new = {p.key: p for p in after.pods}
    found += [messages.PLAN_POD_NEW.format(pod=k) for k in new if k not in old]
    found += [messages.PLAN_POD_GONE.format(pod=k) for k in old if k not in new]
    found += [
        messages.PLAN_POD_FATE.format(
            pod=k, before=fate_name(old[k].fate), after=fate_name(new[k].fate)
        )
        for k in new
        if k in old and old[k].fate is not new[k].fate
    ]
    if before.pdb_blocked != after.pdb_blocked:
        found.append(messages.PLAN_PDB_CHANGED.format())
    if before.capacity is not after.capacity:
        found.append(
            messages.PLAN_CAPACITY_CHANGED.format(
                before=capacity_name(before.capacity), after=capacity_name(after.capacity)
            )
        )
    return found
