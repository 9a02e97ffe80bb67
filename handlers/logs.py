"""``logs``: stern's pod and container selection, fetched once, merged in time order, masked.

Selection follows stern (``github.com/stern/stern``): the query is a regex searched in pod
names, or ``kind/name`` for the pods of a workload; containers come from the pod's statuses
(init containers first, then the app's, then ephemeral ones), must have been started (a
container ID), and must match ``-c`` and no ``-E``. Two things differ on purpose, both for
chat: a workload selects its pods by its ``spec.selector`` (stern uses its template labels)
and ANDs ``-l``; and ``-i``/``-e`` see the masked text, so a regex cannot probe a secret.

Each container's log is streamed with timestamps, masked line by line (a private key block
can span lines), filtered, and kept in a bounded buffer of its newest lines. The buffers are
merged by timestamp and cut to the caps, newest lines kept. Nothing unmasked leaves here.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from core import messages
from core.errors import ChatOpsError
from core.regex import Searcher, compile_user_regex, literal_regex
from core.selectors import selector_string
from handlers.control import Control, OutputCaps
from handlers.kube import JSON, KubeClient, KubeError, KubeNotFound, resource_for
from handlers.logs_models import LogLine, LogsResult, NodeLogs, PodLogs
from handlers.retry import retrying

_PODS = resource_for("Pod")
_WORKLOAD_PATHS = {
    "Deployment": ("apps/v1", "deployments"),
    "StatefulSet": ("apps/v1", "statefulsets"),
    "DaemonSet": ("apps/v1", "daemonsets"),
    "ReplicaSet": ("apps/v1", "replicasets"),
    "Job": ("batch/v1", "jobs"),
    "Service": ("v1", "services"),
    "ReplicationController": ("v1", "replicationcontrollers"),
}
#: Per-container streams get longer than the API's usual 30 s to deliver a big tail.
_STREAM_TIMEOUT = (3.05, 120.0)
_CANCEL_CHECK_EVERY = 2000
_TIMESTAMP = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$", re.ASCII
)


@dataclass(frozen=True)
class Target:
    namespace: str
    pod: str
    container: str
    node: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.pod}/{self.container}"


@dataclass
class _Fetched:
    """One container's newest matching lines (bounded) and its counts."""

    lines: deque[tuple[int, LogLine, int]]
    fetched: int = 0
    matched: int = 0
    kept_bytes: int = 0


@dataclass
class _Filters:
    pod: Searcher
    exclude_pod: list[Searcher]
    container: Searcher
    exclude_container: list[Searcher]
    include: list[Searcher]
    exclude: list[Searcher]
    states: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, request: PodLogs) -> _Filters:
        pod = (
            compile_user_regex(f"^{literal_regex(request.resource_name or '')}$")
            if request.resource_kind == "Pod"
            else compile_user_regex(request.query)
        )
        return cls(
            pod=pod,
            exclude_pod=[compile_user_regex(p) for p in request.exclude_pod],
            container=compile_user_regex(request.container),
            exclude_container=[compile_user_regex(p) for p in request.exclude_container],
            include=[compile_user_regex(p) for p in request.include],
            exclude=[compile_user_regex(p) for p in request.exclude],
            states=frozenset(request.container_states),
        )

    def keeps_line(self, text: str) -> bool:
        if any(p.search(text) for p in self.exclude):
            return False
        return not self.include or any(p.search(text) for p in self.include)


def sort_key(timestamp: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 timestamp; -1 when there is none."""
    found = _TIMESTAMP.match(timestamp)
    if not found:
        return -1
    zone = "+00:00" if found[3] == "Z" else found[3]
    seconds = int(datetime.fromisoformat(found[1] + zone).timestamp())
    return seconds * 1_000_000_000 + int((found[2] or "0").ljust(9, "0"))


# --- Selection -------------------------------------------------------------------------------


def _workload_path(kind: str, namespace: str | None, name: str | None = None) -> str:
    group_version, plural = _WORKLOAD_PATHS[kind]
    prefix = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
    parts = [prefix] + ([f"namespaces/{namespace}"] if namespace else []) + [plural]
    return "/".join(parts + ([name] if name else []))


def _workload_selector(workload: JSON, kind: str) -> str:
    spec = workload.get("spec") or {}
    selector: Any = spec.get("selector")
    if kind in ("Service", "ReplicationController"):
        text = ",".join(f"{k}={v}" for k, v in sorted((selector or {}).items()))
    else:
        text = selector_string(selector or {})
    if not text:
        name = workload["metadata"]["name"]
        raise ChatOpsError(messages.LOGS_NO_SELECTOR.format(kind=kind.lower(), name=name))
    return text


def _and(*selectors: str | None) -> str | None:
    joined = ",".join(s for s in selectors if s)
    return joined or None


def _scopes(kube: KubeClient, request: PodLogs) -> list[tuple[str | None, str | None]]:
    """(namespace, label selector) pairs to list pods in; ``None`` namespace means all."""
    kind, name = request.resource_kind, request.resource_name
    namespaces: list[str | None] = (
        [None] if request.all_namespaces else list(dict.fromkeys(request.namespaces))
    )
    if kind is None or kind == "Pod":
        return [(ns, request.selector) for ns in namespaces]
    scopes: list[tuple[str | None, str | None]] = []
    for namespace in namespaces:
        if namespace is None:
            found = kube.list_pages(
                _workload_path(kind, None), field_selector=f"metadata.name={name}"
            )
            for workload in found:
                scopes.append(
                    (
                        workload["metadata"]["namespace"],
                        _and(_workload_selector(workload, kind), request.selector),
                    )
                )
            continue
        try:
            workload = kube.get(_workload_path(kind, namespace, name))
        except KubeNotFound:
            continue
        scopes.append((namespace, _and(_workload_selector(workload, kind), request.selector)))
    if not scopes:
        where = (
            messages.LOGS_ANY_NAMESPACE.format()
            if request.all_namespaces
            else ", ".join(request.namespaces)
        )
        raise ChatOpsError(
            messages.LOGS_RESOURCE_NOT_FOUND.format(kind=kind.lower(), name=name, where=where)
        )
    return scopes


def _state_of(status: JSON) -> str:
    state = status.get("state") or {}
    return next((s for s in ("running", "waiting", "terminated") if state.get(s)), "")


def pod_targets(pod: JSON, request: PodLogs, filters: _Filters) -> list[Target]:
    """The containers of ``pod`` a fetch reads, in stern's order and by stern's rules."""
    meta, status = pod["metadata"], pod.get("status") or {}
    name = meta["name"]
    if not filters.pod.search(name) or any(p.search(name) for p in filters.exclude_pod):
        return []
    statuses = list(status.get("initContainerStatuses") or []) if request.init_containers else []
    statuses += status.get("containerStatuses") or []
    if request.ephemeral_containers:
        statuses += status.get("ephemeralContainerStatuses") or []
    targets = []
    for container in statuses:
        container_name = container.get("name", "")
        if not filters.container.search(container_name):
            continue
        if any(p.search(container_name) for p in filters.exclude_container):
            continue
        if not container.get("containerID"):
            continue  # never started: there is no log to read
        if "all" not in filters.states and _state_of(container) not in filters.states:
            continue
        node = (pod.get("spec") or {}).get("nodeName", "")
        targets.append(Target(meta["namespace"], name, container_name, node))
    return targets


def select_targets(kube: KubeClient, request: PodLogs) -> list[Target]:
    filters = _Filters.of(request)
    field_selector = _and(
        request.field_selector, f"spec.nodeName={request.node}" if request.node else None
    )
    targets: list[Target] = []
    excluded = set(request.excluded_namespaces)
    for namespace, label_selector in _scopes(kube, request):
        pods = kube.list_pages(
            _PODS.path(namespace), label_selector=label_selector, field_selector=field_selector
        )
        for pod in pods:
            if pod["metadata"]["namespace"] not in excluded:
                targets += pod_targets(pod, request, filters)
    return targets


# --- Fetching --------------------------------------------------------------------------------


def _log_query(request: PodLogs, container: str) -> dict[str, str | int | bool]:
    query: dict[str, str | int | bool] = {"container": container, "timestamps": True}
    if request.since_seconds:
        query["sinceSeconds"] = request.since_seconds
    if request.tail >= 0:
        query["tailLines"] = request.tail
    if request.previous:
        query["previous"] = True
    return query


def _size(line: LogLine) -> int:
    """Bytes the line takes in a reply: its UTF-8 text and a newline (prefixes not counted)."""
    return len(line.text.encode()) + 1


def _keep(fetched: _Fetched, key: int, line: LogLine, redactions: int, caps: OutputCaps) -> None:
    """Keep the newest lines within the caps; older ones fall off the front."""
    size = _size(line)
    fetched.lines.append((key, line, redactions))
    fetched.kept_bytes += size
    while len(fetched.lines) > caps.max_lines or (
        fetched.kept_bytes > caps.max_bytes and len(fetched.lines) > 1
    ):
        _, dropped, _ = fetched.lines.popleft()
        fetched.kept_bytes -= _size(dropped)


def _texts(raw_lines: Iterator[bytes], stamps: list[str]) -> Iterator[str]:
    """Split each raw line into its timestamp (appended to ``stamps``) and its text."""
    for raw in raw_lines:
        line = raw.decode("utf-8", "replace").removesuffix("\r")
        stamp, space, text = line.partition(" ")
        if not space or not _TIMESTAMP.match(stamp):
            stamp, text = "", line
        stamps.append(stamp)
        yield text


def fetch_target(
    kube: KubeClient,
    target: Target,
    query: dict[str, str | int | bool],
    filters: _Filters,
    control: Control,
) -> _Fetched:
    """Stream one container's log: mask, filter, and keep its newest lines."""
    fetched = _Fetched(lines=deque())
    path = _PODS.path(target.namespace, target.pod) + "/log"
    stamps: list[str] = []
    raw = kube.stream_lines(
        path, query=query, timeout=_STREAM_TIMEOUT, max_line_bytes=control.caps.max_line_bytes
    )
    last_key = -1
    for text, redactions in control.redactor.redact_lines(_texts(raw, stamps)):
        stamp = stamps.pop()
        fetched.fetched += 1
        if fetched.fetched % _CANCEL_CHECK_EVERY == 0 and control.cancelled():
            break
        if not filters.keeps_line(text):
            continue
        fetched.matched += 1
        key = sort_key(stamp) if stamp else last_key
        last_key = key
        line = LogLine(
            time=stamp,
            namespace=target.namespace,
            pod=target.pod,
            container=target.container,
            node=target.node,
            text=text,
        )
        _keep(fetched, key, line, redactions, control.caps)
    return fetched


def pod_logs(request: PodLogs, kube: KubeClient, control: Control) -> LogsResult:
    kube = retrying(kube, control, verb=request.verb)
    targets = select_targets(kube, request)
    filters = _Filters.of(request)
    result = _empty_result(
        request,
        control.caps,
        show_namespace=request.all_namespaces or len(set(request.namespaces)) > 1,
        excluded_namespaces=request.excluded_namespaces,
    )
    if not targets:
        return result
    buffers: list[_Fetched] = []
    failures: list[str] = []
    with ThreadPoolExecutor(
        max_workers=min(request.max_log_requests, len(targets)), thread_name_prefix="logs"
    ) as pool:
        futures = {
            pool.submit(
                fetch_target, kube, target, _log_query(request, target.container), filters, control
            ): target
            for target in targets
        }
        for done, future in enumerate(as_completed(futures), start=1):
            try:
                buffers.append(future.result())
            except KubeError as error:
                failures.append(f"{futures[future]}: {error.detail}")
            control.progress(messages.LOGS_PROGRESS.format(done=done, total=len(targets)))
    return _merge(result, targets, buffers, sorted(failures), control.caps)


def _empty_result(request: PodLogs | NodeLogs, caps: OutputCaps, **extra: Any) -> LogsResult:
    """The result's description of the request, before any line is added."""
    return LogsResult(
        source=request.command_text(),
        lines=[],
        since=request.since_text,
        include=request.include,
        exclude=request.exclude,
        output=request.output,
        timestamps=request.timestamps,
        max_lines=caps.max_lines,
        max_bytes=caps.max_bytes,
        **extra,
    )


def _merge(
    result: LogsResult,
    targets: list[Target],
    buffers: list[_Fetched],
    failures: list[str],
    caps: OutputCaps,
) -> LogsResult:
    """All containers' lines in time order (stable), cut to the caps from the oldest end."""
    merged = sorted(
        (entry for buffer in buffers for entry in buffer.lines), key=lambda entry: entry[0]
    )
    matched = sum(b.matched for b in buffers)
    truncated = None
    if len(merged) > caps.max_lines:
        merged, truncated = merged[-caps.max_lines :], "lines"
    total = 0
    start = len(merged)
    while start > 0 and total + _size(merged[start - 1][1]) <= caps.max_bytes:
        start -= 1
        total += _size(merged[start][1])
    if start > 0:
        merged, truncated = merged[start:], "bytes"
    if truncated is None and len(merged) < matched:
        truncated = "lines" if any(len(b.lines) >= caps.max_lines for b in buffers) else "bytes"
    return result.model_copy(
        update={
            "lines": [line for _, line, _ in merged],
            "pods": len({(t.namespace, t.pod) for t in targets}),
            "containers": len(targets),
            "fetched": sum(b.fetched for b in buffers),
            "matched": matched,
            "redactions": sum(count for _, _, count in merged),
            "truncated": truncated,
            "failures": failures,
        }
    )


# --- Node logs -------------------------------------------------------------------------------


def node_logs(request: NodeLogs, kube: KubeClient, control: Control) -> LogsResult:
    """The kubelet's node log query (``/api/v1/nodes/NODE/proxy/logs/?query=``)."""
    kube = retrying(kube, control, verb=request.verb)
    path = resource_for("Node").path(name=request.node) + "/proxy/logs/"
    query: list[tuple[str, str | int | bool]] = [("query", s) for s in request.services]
    if request.since_seconds:
        since = datetime.now(UTC) - timedelta(seconds=request.since_seconds)
        query.append(("sinceTime", since.strftime("%Y-%m-%dT%H:%M:%SZ")))
    if request.tail >= 0:
        query.append(("tailLines", request.tail))
    filters = _Filters(
        pod=compile_user_regex(""),
        exclude_pod=[],
        container=compile_user_regex(""),
        exclude_container=[],
        include=[compile_user_regex(p) for p in request.include],
        exclude=[compile_user_regex(p) for p in request.exclude],
    )
    try:
        kube.get(resource_for("Node").path(name=request.node))
    except KubeNotFound:
        raise ChatOpsError(messages.NODE_NOT_FOUND.format(name=request.node)) from None
    try:
        target = Target("", request.node, ",".join(request.services), request.node)
        buffer = _fetch_node(
            kube, path, query=query, target=target, filters=filters, control=control
        )
    except KubeError as error:
        if error.status in (400, 404, 405, 501, 502, 503):
            said = (
                messages.KUBE_ANSWER_LOGGED.format(status=error.status, incident=error.incident)
                if error.incident  # a 5xx: what the kubelet said may name its address
                else error.detail
            )
            raise ChatOpsError(
                messages.NODE_LOGS_UNAVAILABLE.format(node=request.node, detail=said)
            ) from None
        raise
    result = _empty_result(request, control.caps)
    return _merge(result, [], [buffer], [], control.caps).model_copy(
        update={"pods": 0, "containers": 0}
    )


def _fetch_node(
    kube: KubeClient,
    path: str,
    *,
    query: list[tuple[str, str | int | bool]],
    target: Target,
    filters: _Filters,
    control: Control,
) -> _Fetched:
    fetched = _Fetched(lines=deque())
    raw = kube.stream_lines(
        path, query=query, timeout=_STREAM_TIMEOUT, max_line_bytes=control.caps.max_line_bytes
    )
    texts = (line.decode("utf-8", "replace").removesuffix("\r") for line in raw)
    for position, (text, redactions) in enumerate(control.redactor.redact_lines(texts)):
        fetched.fetched += 1
        if not filters.keeps_line(text):
            continue
        fetched.matched += 1
        line = LogLine(time="", namespace="", pod=target.pod, container=target.container, text=text)
        _keep(fetched, position, line, redactions, control.caps)
    return fetched
