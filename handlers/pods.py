"""``get pods`` and ``get events``: kubectl's rows, read in pages from the API.

The STATUS, READY and RESTARTS of a pod follow the rules of kubectl's table printer
(k8s.io/kubernetes ``pkg/printers/internalversion``, ``printPod``), restated here from its
behaviour: the phase, or the pod's reason; an init container that has not finished shows as
``Init:…``; otherwise the last container with a waiting or terminated reason gives it
(``CrashLoopBackOff``, ``Error``, ``Completed``); ``Completed`` turns back to ``Running`` (or
``NotReady``, or the failing container's reason) while a container still runs; a pod being
deleted is ``Terminating`` (``Unknown`` when its node was lost). Events follow ``kubectl
events``: filtered by type, sorted by when they were last seen, newest last.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core import messages
from handlers.control import Control
from handlers.kube import JSON, KubeClient, KubeNotFound, Resource, resource_for
from handlers.pods_models import EventRow, EventTable, GetEvents, GetPods, PodRow, PodTable
from handlers.retry import retrying

_PODS = resource_for("Pod")
_NAMESPACES = resource_for("Namespace")
#: Core events (``v1``), which ``kubectl events`` reads.
EVENTS = Resource("v1", "events", namespaced=True)
#: The reason a pod's status carries when its node stopped answering (the node controller's).
NODE_LOST = "NodeLost"
_TERMINAL_PHASES = ("Succeeded", "Failed")


def parse_time(text: Any) -> datetime | None:
    """An RFC 3339 time from the API (``…Z`` or with microseconds), or None when unset."""
    if not text or not isinstance(text, str):
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _restartable(init_spec: JSON | None) -> bool:
    """A sidecar: an init container with ``restartPolicy: Always``."""
    return bool(init_spec) and (init_spec or {}).get("restartPolicy") == "Always"


def _condition_true(status: JSON, kind: str) -> bool:
    for condition in status.get("conditions") or []:
        if condition.get("type") == kind:
            return bool(condition.get("status") == "True")
    return False


def _finished_at(container: JSON) -> datetime | None:
    last = (container.get("lastState") or {}).get("terminated")
    return parse_time(last.get("finishedAt")) if last else None


def _later(current: datetime | None, other: datetime | None) -> datetime | None:
    if other is None:
        return current
    return other if current is None or other > current else current


def _terminated_reason(terminated: JSON, prefix: str = "") -> str:
    if terminated.get("reason"):
        return prefix + str(terminated["reason"])
    if terminated.get("signal"):
        return f"{prefix}Signal:{terminated['signal']}"
    return f"{prefix}ExitCode:{terminated.get('exitCode', 0)}"


class _Counts:
    def __init__(self) -> None:
        self.restarts = 0
        self.last_restart: datetime | None = None
        self.sidecar_restarts = 0
        self.sidecar_last_restart: datetime | None = None
        self.ready = 0


def _init_reason(pod: JSON, counts: _Counts) -> str | None:
    """The ``Init:…`` status while initialisation has not finished, else None. Counts
    restarts of every init container (and of sidecars on their own) on the way."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    inits = {c.get("name"): c for c in spec.get("initContainers") or []}
    total = len(spec.get("initContainers") or [])
    for index, container in enumerate(status.get("initContainerStatuses") or []):
        counts.restarts += int(container.get("restartCount") or 0)
        counts.last_restart = _later(counts.last_restart, _finished_at(container))
        sidecar = _restartable(inits.get(container.get("name")))
        if sidecar:
            counts.sidecar_restarts += int(container.get("restartCount") or 0)
            counts.sidecar_last_restart = _later(
                counts.sidecar_last_restart, _finished_at(container)
            )
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and int(terminated.get("exitCode") or 0) == 0:
            continue
        if sidecar and container.get("started"):
            if container.get("ready"):
                counts.ready += 1
            continue
        if terminated is not None:
            return _terminated_reason(terminated, "Init:")
        if waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            return f"Init:{waiting['reason']}"
        return f"Init:{index}/{total}"
    return None


def pod_row(pod: JSON) -> PodRow:
    """One pod as ``kubectl get pods -o wide`` prints it (ages left to the renderer)."""
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == (
            "SchedulingGated"
        ):
            reason = "SchedulingGated"
    total = len(spec.get("containers") or []) + sum(
        1 for c in spec.get("initContainers") or [] if _restartable(c)
    )
    counts = _Counts()
    init_reason = _init_reason(pod, counts)
    if init_reason is not None:
        reason = init_reason
    if init_reason is None or _condition_true(status, "Initialized"):
        counts.restarts, counts.last_restart = counts.sidecar_restarts, counts.sidecar_last_restart
        running, error_reason = False, ""
        for container in reversed(status.get("containerStatuses") or []):
            counts.restarts += int(container.get("restartCount") or 0)
            counts.last_restart = _later(counts.last_restart, _finished_at(container))
            state = container.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif terminated is not None:
                reason = _terminated_reason(terminated)
                if int(terminated.get("exitCode") or 0) != 0:
                    error_reason = reason
            elif container.get("ready") and state.get("running") is not None:
                running = True
                counts.ready += 1
        if reason == "Completed":
            if running and _condition_true(status, "Ready"):
                reason = "Running"
            elif error_reason:
                reason = error_reason
            elif running:
                reason = "NotReady"
    if meta.get("deletionTimestamp"):
        if status.get("reason") == NODE_LOST:
            reason = "Unknown"
        elif phase not in _TERMINAL_PHASES:
            reason = "Terminating"
    ips = [entry.get("ip") for entry in status.get("podIPs") or [] if entry.get("ip")]
    gates = spec.get("readinessGates") or []
    readiness = "<none>"
    if gates:
        true = 0
        for gate in gates:
            for condition in status.get("conditions") or []:
                if condition.get("type") == gate.get("conditionType"):
                    true += condition.get("status") == "True"
                    break
        readiness = f"{true}/{len(gates)}"
    return PodRow(
        namespace=meta.get("namespace", ""),
        name=meta["name"],
        ready=f"{counts.ready}/{total}",
        status=reason,
        restarts=counts.restarts,
        last_restart=counts.last_restart if counts.restarts else None,
        created=parse_time(meta.get("creationTimestamp")),
        ip=ips[0] if ips else "<none>",
        node=spec.get("nodeName") or "<none>",
        nominated_node=status.get("nominatedNodeName") or "<none>",
        readiness_gates=readiness,
    )


def check_namespaces(kube: KubeClient, namespaces: tuple[str, ...]) -> None:
    """Each namespace named must exist: a typo gets a sentence, not "no pods"."""
    for namespace in dict.fromkeys(namespaces):
        try:
            kube.get(_NAMESPACES.path(name=namespace))
        except KubeNotFound:
            raise KubeNotFound(
                messages.GET_NAMESPACE_NOT_FOUND.format(namespace=namespace), status=404
            ) from None


def _scopes(request: GetPods | GetEvents) -> list[str | None]:
    if request.all_namespaces:
        return [None]
    return list(dict.fromkeys(request.namespaces))


def _and(*terms: str | None) -> str | None:
    joined = ",".join(term for term in terms if term)
    return joined or None


def get_pods(request: GetPods, kube: KubeClient, control: Control) -> PodTable:
    kube = retrying(kube, control, verb=request.verb)
    if not request.all_namespaces:
        check_namespaces(kube, request.namespaces)
    field_selector = _and(
        request.field_selector, f"spec.nodeName={request.node}" if request.node else None
    )
    excluded = set(request.excluded_namespaces)
    rows = []
    for namespace in _scopes(request):
        for pod in kube.list_pages(
            _PODS.path(namespace),
            label_selector=request.selector,
            field_selector=field_selector,
        ):
            if pod["metadata"].get("namespace") not in excluded:
                rows.append(pod_row(pod))
    return PodTable(
        rows=rows,
        wide=request.wide,
        all_namespaces=request.all_namespaces,
        namespaces=() if request.all_namespaces else request.namespaces,
        excluded_namespaces=request.excluded_namespaces,
    )


def event_row(event: JSON) -> EventRow:
    meta = event.get("metadata") or {}
    involved = event.get("involvedObject") or {}
    series = event.get("series") or None
    return EventRow(
        namespace=meta.get("namespace", ""),
        type=event.get("type") or "",
        reason=event.get("reason") or "",
        object=f"{involved.get('kind', '')}/{involved.get('name', '')}",
        message=(event.get("message") or "").strip(),
        count=int(event.get("count") or 0),
        event_time=parse_time(event.get("eventTime")),
        first_timestamp=parse_time(event.get("firstTimestamp")),
        last_timestamp=parse_time(event.get("lastTimestamp")),
        series_count=int(series.get("count") or 0) if series else None,
        series_last=parse_time(series.get("lastObservedTime")) if series else None,
    )


def seen_at(row: EventRow) -> datetime | None:
    """When an event was last seen, as ``kubectl events`` sorts them."""
    if row.series_count is not None:
        return row.series_last
    return row.last_timestamp or row.event_time


def get_events(request: GetEvents, kube: KubeClient, control: Control) -> EventTable:
    kube = retrying(kube, control, verb=request.verb)
    if not request.all_namespaces:
        check_namespaces(kube, request.namespaces)
    field_selector = None
    if request.for_kind and request.for_name:
        field_selector = (
            f"involvedObject.kind={request.for_kind},"
            f"involvedObject.apiVersion={request.for_api_version},"
            f"involvedObject.name={request.for_name}"
        )
    wanted = {t.lower() for t in request.types}
    excluded = set(request.excluded_namespaces)
    rows = []
    for namespace in _scopes(request):
        for event in kube.list_pages(EVENTS.path(namespace), field_selector=field_selector):
            if wanted and str(event.get("type") or "").lower() not in wanted:
                continue
            if (event.get("metadata") or {}).get("namespace") in excluded:
                continue
            rows.append(event_row(event))
    rows.sort(key=lambda row: t.timestamp() if (t := seen_at(row)) else float("-inf"))
    return EventTable(
        rows=rows,
        all_namespaces=request.all_namespaces,
        namespaces=() if request.all_namespaces else request.namespaces,
        excluded_namespaces=request.excluded_namespaces,
    )
