"""``describe node`` / ``describe pod`` shown: a few sentences that answer "is this OK?" for
the channel, and kubectl's sections (its field names, in its order) for the thread.

Ages are computed when shown, like kubectl; quantities are shown in kubectl's units (``550m``,
``198Mi``) and percentages are kubectl's, truncated.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from bot.commands.registry import ThreadParts
from bot.commands.render import human_duration, table
from core import formats, messages
from core.text import code
from handlers.describe_models import (
    Allocation,
    Condition,
    ContainerState,
    EventRow,
    Eviction,
    NodeDescription,
    PodDescription,
)
from handlers.pod_resources import percent
from handlers.quantity import format_cpu, format_memory

#: A node condition is a problem when its status is not this (Ready True, pressure False).
_HEALTHY = {"Ready": "True"}


def _age(since: datetime | None, now: datetime) -> str:
    return human_duration((now - since).total_seconds()) if since else "<unknown>"


def _stamp(moment: datetime | None) -> str:
    """kubectl's RFC 1123 times (``Sat, 28 Nov 2026 13:24:24 +0000``)."""
    return moment.strftime("%a, %d %b %Y %H:%M:%S %z") if moment else "<unset>"


def amount(resource: str, value: int) -> str:
    """A quantity in kubectl's usual units: cpu from millicores, memory and storage in bytes."""
    if resource == "cpu":
        return format_cpu(value) if value else "0"
    if resource in ("memory", "ephemeral-storage") or resource.startswith("hugepages-"):
        return format_memory(value) if value else "0"
    return str(value)


def _with_percent(resource: str, value: int, share: int | None) -> str:
    shown = amount(resource, value)
    return shown if share is None else f"{shown} ({share}%)"


def _share(resource: str, value: int, offered: int) -> str:
    return _with_percent(resource, value, percent(value, offered))


def _reason(text: str) -> str:
    return f" ({text})" if text else ""


def _allocation(rows: Iterable[Allocation], resource: str) -> Allocation | None:
    return next((row for row in rows if row.resource == resource), None)


def _lease_line(result: NodeDescription, now: datetime) -> str:
    if result.lease_missing or result.lease_renewed is None:
        return messages.DESCRIBE_LEASE_NONE.format()
    late = (now - result.lease_renewed).total_seconds() > result.grace_seconds
    age, grace = _age(result.lease_renewed, now), result.grace_seconds
    if late:
        return messages.DESCRIBE_LEASE_LATE.format(age=age, grace=grace)
    return messages.DESCRIBE_LEASE_FRESH.format(age=age, grace=grace)


def _eviction_lines(eviction: Eviction, now: datetime) -> list[str]:
    lines: list[str] = []
    by_seconds: dict[int | None, int] = {}
    for pod in eviction.pods:
        by_seconds[pod.seconds] = by_seconds.get(pod.seconds, 0) + 1
    for seconds in sorted(s for s in by_seconds if s is not None):
        count = by_seconds[seconds]
        if eviction.added is None:
            lines.append(
                messages.DESCRIBE_EVICTION_PENDING.format(
                    count=count, taint=code(eviction.taint), seconds=seconds
                )
            )
            continue
        at = next(p.at(eviction.added) for p in eviction.pods if p.seconds == seconds)
        when = (
            messages.DESCRIBE_EVICTION_NOW.format()
            if at is None or at <= now
            else messages.DESCRIBE_EVICTION_AT.format(time=formats.clock(at))
        )
        lines.append(
            messages.DESCRIBE_EVICTION_TAINTED.format(
                count=count,
                when=when,
                taint=code(eviction.taint),
                age=_age(eviction.added, now),
                seconds=seconds,
            )
        )
    if None in by_seconds:
        lines.append(
            messages.DESCRIBE_EVICTION_NEVER.format(
                count=by_seconds[None], taint=code(eviction.taint)
            )
        )
    return lines


def _warnings(events: tuple[EventRow, ...], now: datetime) -> list[str]:
    warnings = [e for e in events if e.type == "Warning"]
    if not warnings:
        return []
    last = warnings[-1]
    return [
        messages.DESCRIBE_EVENTS_WARNINGS.format(
            count=len(warnings), reason=code(last.reason), age=_age(last.last, now)
        )
    ]


def node_summary(result: NodeDescription, now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    ready = next((c for c in result.conditions if c.type == "Ready"), None)
    status = (
        "Unknown"
        if ready is None or ready.status == "Unknown"
        else ("Ready" if ready.status == "True" else "NotReady")
    )
    lines = [
        messages.DESCRIBE_NODE_READY.format(
            name=code(result.name),
            status=status,
            age=_age(ready.last_transition if ready else None, moment),
            reason=_reason(ready.reason if ready else ""),
            scheduling=(
                messages.DESCRIBE_CORDONED
                if result.unschedulable
                else messages.DESCRIBE_SCHEDULABLE
            ).format(),
        ),
        _lease_line(result, moment),
    ]
    for condition in result.conditions:
        if condition.type != "Ready" and condition.status != _HEALTHY.get(condition.type, "False"):
            lines.append(_condition_line(condition, moment))
    if result.pods_visible:
        cpu = _allocation(result.allocated, "cpu")
        memory = _allocation(result.allocated, "memory")
        lines.append(
            messages.DESCRIBE_NODE_PODS.format(
                count=len(result.pods),
                max_pods=result.max_pods if result.max_pods is not None else "?",
                cpu=amount("cpu", cpu.requests if cpu else 0),
                cpu_percent=cpu.requests_percent if cpu else 0,
                memory=amount("memory", memory.requests if memory else 0),
                memory_percent=memory.requests_percent if memory else 0,
            )
        )
    else:
        lines.append(messages.DESCRIBE_PODS_HIDDEN.format())
    if result.taints:
        lines.append(
            messages.DESCRIBE_TAINTS.format(
                taints=formats.listing(code(str(t)) for t in result.taints)
            )
        )
    if result.eviction is not None:
        lines.extend(_eviction_lines(result.eviction, moment))
    lines.extend(_warnings(result.events, moment))
    return "\n".join(lines)


def _condition_line(condition: Condition, now: datetime) -> str:
    return messages.DESCRIBE_CONDITION_PROBLEM.format(
        type=condition.type,
        status=condition.status,
        age=_age(condition.last_transition, now),
        reason=_reason(condition.reason),
    )


def _section(title: str, body: str) -> str:
    return f"{title}:\n" + "\n".join(f"  {line}" for line in body.splitlines())


def _events_table(events: tuple[EventRow, ...], now: datetime) -> str:
    if not events:
        return "Events: <none>"
    rows = []
    for e in events:
        interval = _age(e.first, now)
        if e.count > 1:
            interval = f"{_age(e.last, now)} (x{e.count} over {_age(e.first, now)})"
        rows.append((e.type, e.reason, interval, e.source, e.message))
    return _section("Events", table(("Type", "Reason", "Age", "From", "Message"), rows))


def node_body(result: NodeDescription, now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    parts = [
        f"Name: {result.name}",
        f"Roles: {result.roles}",
        f"CreationTimestamp: {_stamp(result.created)}",
        "Taints: " + (", ".join(str(t) for t in result.taints) or "<none>"),
        f"Unschedulable: {str(result.unschedulable).lower()}",
        _section(
            "Lease",
            f"HolderIdentity: {result.lease_holder or '<unset>'}\n"
            f"RenewTime: {_stamp(result.lease_renewed)}"
            f" ({_age(result.lease_renewed, moment)} ago; grace {result.grace_seconds}s assumed)",
        ),
    ]
    if result.conditions:
        parts.append(
            _section(
                "Conditions",
                table(
                    ("Type", "Status", "LastTransition", "Reason", "Message"),
                    [
                        (
                            c.type,
                            c.status,
                            f"{_age(c.last_transition, moment)} ago",
                            c.reason,
                            c.message,
                        )
                        for c in result.conditions
                    ],
                ),
            )
        )
    parts.append(_section("Addresses", "\n".join(f"{t}: {a}" for t, a in result.addresses)))
    for title, values in (("Capacity", result.capacity), ("Allocatable", result.allocatable)):
        if values:
            parts.append(_section(title, "\n".join(f"{k}: {v}" for k, v in sorted(values.items()))))
    parts.append(
        _section(
            "System Info",
            f"Kernel Version: {result.kernel_version}\n"
            f"OS Image: {result.os_image}\n"
            f"Operating System: {result.operating_system}\n"
            f"Architecture: {result.architecture}\n"
            f"Container Runtime Version: {result.container_runtime}\n"
            f"Kubelet Version: {result.kubelet_version}",
        )
    )
    if not result.pods_visible:
        parts.append("Pods: not authorized")
    else:
        header = f"Non-terminated Pods: ({len(result.pods)} in total"
        header += f", max {result.max_pods})" if result.max_pods is not None else ")"
        parts.append(
            header
            + "\n"
            + "\n".join(
                f"  {line}"
                for line in table(
                    (
                        "Namespace",
                        "Name",
                        "CPU Requests",
                        "CPU Limits",
                        "Memory Requests",
                        "Memory Limits",
                        "Age",
                    ),
                    [
                        (
                            p.namespace,
                            p.name,
                            _share("cpu", p.cpu_requests, result.offered_cpu),
                            _share("cpu", p.cpu_limits, result.offered_cpu),
                            _share("memory", p.memory_requests, result.offered_memory),
                            _share("memory", p.memory_limits, result.offered_memory),
                            _age(p.created, moment),
                        )
                        for p in result.pods
                    ],
                ).splitlines()
            )
            if result.pods
            else header
        )
        parts.append(
            _section(
                "Allocated resources",
                table(
                    ("Resource", "Requests", "Limits"),
                    [
                        (
                            a.resource,
                            _with_percent(a.resource, a.requests, a.requests_percent),
                            _with_percent(a.resource, a.limits, a.limits_percent),
                        )
                        for a in result.allocated
                    ],
                ),
            )
        )
    parts.append(_events_table(result.events, moment))
    return "\n".join(parts)


def _state_text(state: ContainerState | None) -> str:
    if state is None:
        return "Waiting"
    text = state.state
    if state.reason:
        text += f" ({state.reason})"
    if state.exit_code is not None:
        text += f", exit code {state.exit_code}"
    return text


def pod_summary(result: PodDescription, now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    app = [c for c in result.containers if not c.init]
    ready = sum(1 for c in app if c.ready)
    status = result.status if not result.reason else f"{result.status} ({result.reason})"
    lines = [
        messages.DESCRIBE_POD_HEADLINE.format(
            name=code(result.name),
            namespace=code(result.namespace),
            status=status,
            node=code(result.node) if result.node else messages.DESCRIBE_POD_NOT_SCHEDULED.format(),
            ready=f"{ready}/{len(app)}",
        ),
        messages.DESCRIBE_POD_STARTED.format(
            age=_age(result.start_time, moment),
            ip=result.ip or "<none>",
            controller=code(result.controlled_by) if result.controlled_by else "<none>",
        ),
    ]
    for container in result.containers:
        if container.restart_count or (container.state and container.state.state != "Running"):
            if container.init and container.state and container.state.reason == "Completed":
                continue
            lines.append(
                messages.DESCRIBE_POD_RESTARTS.format(
                    container=code(container.name),
                    restarts=container.restart_count,
                    state=container.state.state if container.state else "Waiting",
                    reason=_reason(container.state.reason if container.state else ""),
                )
            )
    lines.extend(_warnings(result.events, moment))
    return "\n".join(lines)


def pod_body(result: PodDescription, now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    status = result.status
    if result.deleting_since:
        status += f" (lasts {_age(result.deleting_since, moment)})"
    parts = [
        f"Name: {result.name}",
        f"Namespace: {result.namespace}",
        *([f"Priority: {result.priority}"] if result.priority is not None else []),
        *([f"Service Account: {result.service_account}"] if result.service_account else []),
        f"Node: {result.node}/{result.node_ip}" if result.node else "Node: <none>",
        *([f"Start Time: {_stamp(result.start_time)}"] if result.start_time else []),
        "Labels: " + (", ".join(f"{k}={v}" for k, v in sorted(result.labels.items())) or "<none>"),
        f"Status: {status}",
        *([f"Reason: {result.reason}"] if result.reason else []),
        *([f"Message: {result.message}"] if result.message else []),
        f"IP: {result.ip}",
        *([f"Controlled By: {result.controlled_by}"] if result.controlled_by else []),
    ]
    for init in (True, False):
        containers = [c for c in result.containers if c.init is init]
        if not containers:
            continue
        lines = []
        for c in containers:
            lines.append(f"{c.name}:")
            lines.append(f"  Image: {c.image}")
            if c.ports:
                lines.append(f"  Ports: {', '.join(c.ports)}")
            lines.append(f"  State: {_state_text(c.state)}")
            if c.state and c.state.started:
                lines.append(f"    Started: {_stamp(c.state.started)}")
            if c.last_state:
                lines.append(f"  Last State: {_state_text(c.last_state)}")
            lines.append(f"  Ready: {'True' if c.ready else 'False'}")
            lines.append(f"  Restart Count: {c.restart_count}")
            for title, values in (("Limits", c.limits), ("Requests", c.requests)):
                if values:
                    shown = ", ".join(f"{k}: {v}" for k, v in sorted(values.items()))
                    lines.append(f"  {title}: {shown}")
        parts.append(_section("Init Containers" if init else "Containers", "\n".join(lines)))
    if result.conditions:
        parts.append(
            _section(
                "Conditions",
                table(("Type", "Status"), [(c.type, c.status) for c in result.conditions]),
            )
        )
    parts.append(f"QoS Class: {result.qos_class}")
    parts.append(
        "Node-Selectors: "
        + (", ".join(f"{k}={v}" for k, v in sorted(result.node_selector.items())) or "<none>")
    )
    parts.append(
        _section("Tolerations", "\n".join(str(t) for t in result.tolerations))
        if result.tolerations
        else "Tolerations: <none>"
    )
    parts.append(_events_table(result.events, moment))
    return "\n".join(parts)


def render_description(result: NodeDescription | PodDescription) -> str:
    """The shell's (and a job record's) whole answer: the summary, then the sections."""
    if isinstance(result, NodeDescription):
        return node_summary(result) + "\n\n" + node_body(result)
    return pod_summary(result) + "\n\n" + pod_body(result)


def thread_parts(result: NodeDescription | PodDescription, job_id: str) -> ThreadParts:
    """The summary in the channel, kubectl's sections in its thread."""
    if isinstance(result, NodeDescription):
        return ThreadParts(
            summary=node_summary(result),
            body=node_body(result),
            file_name=f"describe-node-{result.name}-job-{job_id}.txt",
        )
    return ThreadParts(
        summary=pod_summary(result),
        body=pod_body(result),
        file_name=f"describe-pod-{result.namespace}-{result.name}-job-{job_id}.txt",
    )
