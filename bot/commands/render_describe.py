"""``describe node`` / ``describe pod`` shown: a few sentences that answer "is this OK?" for
the channel, and kubectl's sections (its field names, in its order) for the thread.

Ages are computed when shown, like kubectl; quantities are shown in kubectl's units (``550m``,
``198Mi``) and percentages are kubectl's, truncated.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from bot.commands.render import human_duration, table
from core import formats, messages
from core.text import code
from handlers.describe_models import (
    Allocation,
    Condition,
    EventRow,
    Eviction,
    NodeDescription,
)
from handlers.pod_resources import percent
from handlers.quantity import format_cpu, format_memory

#: A node condition is a problem when its status is not this (Ready True, pressure False).
_HEALTHY = {"Ready": "True"}


def age(since: datetime | None, now: datetime) -> str:
    return human_duration((now - since).total_seconds()) if since else "<unknown>"


def stamp(moment: datetime | None) -> str:
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


def reason(text: str) -> str:
    return f" ({text})" if text else ""


def _allocation(rows: Iterable[Allocation], resource: str) -> Allocation | None:
    return next((row for row in rows if row.resource == resource), None)


def _lease_line(result: NodeDescription, now: datetime) -> str:
    if result.lease_missing or result.lease_renewed is None:
        return messages.DESCRIBE_LEASE_NONE.format()
    late = (now - result.lease_renewed).total_seconds() > result.grace_seconds
    ago, grace = age(result.lease_renewed, now), result.grace_seconds
    if late:
        return messages.DESCRIBE_LEASE_LATE.format(age=ago, grace=grace)
    return messages.DESCRIBE_LEASE_FRESH.format(age=ago, grace=grace)


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
                age=age(eviction.added, now),
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


def warnings(events: tuple[EventRow, ...], now: datetime) -> list[str]:
    found = [e for e in events if e.type == "Warning"]
    if not found:
        return []
    last = found[-1]
    return [
        messages.DESCRIBE_EVENTS_WARNINGS.format(
            count=len(found), reason=code(last.reason), age=age(last.last, now)
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
            age=age(ready.last_transition if ready else None, moment),
            reason=reason(ready.reason if ready else ""),
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
    lines.extend(warnings(result.events, moment))
    return "\n".join(lines)


def _condition_line(condition: Condition, now: datetime) -> str:
    return messages.DESCRIBE_CONDITION_PROBLEM.format(
        type=condition.type,
        status=condition.status,
        age=age(condition.last_transition, now),
        reason=reason(condition.reason),
    )


def section(title: str, body: str) -> str:
    return f"{title}:\n" + "\n".join(f"  {line}" for line in body.splitlines())


def events_table(events: tuple[EventRow, ...], now: datetime) -> str:
    if not events:
        return "Events: <none>"
    rows = []
    for e in events:
        interval = age(e.first, now)
        if e.count > 1:
            interval = f"{age(e.last, now)} (x{e.count} over {age(e.first, now)})"
        rows.append((e.type, e.reason, interval, e.source, e.message))
    return section("Events", table(("Type", "Reason", "Age", "From", "Message"), rows))


def node_body(result: NodeDescription, now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    parts = [
        f"Name: {result.name}",
        f"Roles: {result.roles}",
        f"CreationTimestamp: {stamp(result.created)}",
        "Taints: " + (", ".join(str(t) for t in result.taints) or "<none>"),
        f"Unschedulable: {str(result.unschedulable).lower()}",
        section(
            "Lease",
            f"HolderIdentity: {result.lease_holder or '<unset>'}\n"
            f"RenewTime: {stamp(result.lease_renewed)}"
            f" ({age(result.lease_renewed, moment)} ago; grace {result.grace_seconds}s assumed)",
        ),
    ]
    if result.conditions:
        parts.append(
            section(
                "Conditions",
                table(
                    ("Type", "Status", "LastTransition", "Reason", "Message"),
                    [
                        (
                            c.type,
                            c.status,
                            f"{age(c.last_transition, moment)} ago",
                            c.reason,
                            c.message,
                        )
                        for c in result.conditions
                    ],
                ),
            )
        )
    parts.append(section("Addresses", "\n".join(f"{t}: {a}" for t, a in result.addresses)))
    for title, values in (("Capacity", result.capacity), ("Allocatable", result.allocatable)):
        if values:
            parts.append(section(title, "\n".join(f"{k}: {v}" for k, v in sorted(values.items()))))
    parts.append(
        section(
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
                            age(p.created, moment),
                        )
                        for p in result.pods
                    ],
                ).splitlines()
            )
            if result.pods
            else header
        )
        parts.append(
            section(
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
    parts.append(events_table(result.events, moment))
    return "\n".join(parts)
