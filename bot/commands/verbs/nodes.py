"""``get nodes``, ``cordon NODE``, ``uncordon NODE``: kubectl's node commands."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from bot.commands.flags import Flag, parse_flags
from bot.commands.parsing import check_selector, one_node
from bot.commands.registry import Command, ThreadParts, suggest
from bot.commands.render import human_duration, table
from bot.commands.render_images import MAX_ROWS_INLINE
from bot.commands.resources import Resource
from core import limits, messages
from core.errors import CommandError
from core.text import code
from handlers import node_health, nodes
from handlers.models import (
    CordonNode,
    GetNodes,
    NodeChange,
    NodeProblem,
    NodeTable,
    UncordonNode,
)
from policies.model import Access

GET_NODES_USAGE = "get nodes [-o wide] [-l SELECTOR] [--problems [--cordoned-for 1h]]"

GET_NODES_FLAGS = (
    Flag("output", "output", "choice", "wide", choices=("wide",), short="o"),
    Flag("selector", "selector", "text", "node-role.kubernetes.io/control-plane", short="l"),
    Flag("problems", "problems", "switch"),
    Flag(
        "cordoned-for",
        "cordoned_for",
        "duration",
        "1h",
        minimum=0,
        maximum=int(limits.MAX_PRUNE_OLDER_THAN_SECONDS),
        days=True,
    ),
    Flag("lease-grace", "lease_grace", "duration", "50s", minimum=1, maximum=int(limits.DAY)),
)


def parse_get_nodes(args: list[str]) -> GetNodes:
    """The words after ``get nodes``: ``-o wide``, ``-l SELECTOR``, ``--problems`` and its
    thresholds (``--cordoned-for``, ``--lease-grace``)."""
    positional, values = parse_flags(GET_NODES_USAGE, args, GET_NODES_FLAGS, suggest)
    if positional:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(
                usage=code(GET_NODES_USAGE), extra=code(" ".join(positional)[:80])
            )
        )
    if values.get("selector"):
        check_selector("-l", str(values["selector"]))
    if not values.get("problems"):
        for field, flag in (("cordoned_for", "--cordoned-for"), ("lease_grace", "--lease-grace")):
            if field in values:
                raise CommandError(messages.NODE_PROBLEMS_ONLY.format(flag=code(flag)))
    return GetNodes(
        wide=values.get("output") == "wide",
        selector=str(values.get("selector") or ""),
        problems=bool(values.get("problems")),
        cordoned_for=float(values.get("cordoned_for", node_health.DEFAULT_CORDONED_FOR_SECONDS)),
        lease_grace=float(values.get("lease_grace", node_health.DEFAULT_LEASE_GRACE_SECONDS)),
    )


def _age(seconds: float | None) -> str:
    return (
        messages.NODE_PROBLEM_AGE_UNKNOWN.format() if seconds is None else human_duration(seconds)
    )


def problem_text(problem: NodeProblem) -> str:
    """A reason in a few words."""
    reason = problem.detail or messages.NODE_PROBLEM_NO_REASON.format()
    age = _age(problem.seconds)
    if problem.kind == "not_ready":
        return messages.NODE_PROBLEM_NOT_READY.format(age=age, reason=reason)
    if problem.kind == "unknown":
        return messages.NODE_PROBLEM_UNKNOWN.format(age=age, reason=reason)
    if problem.kind == "pressure":
        return messages.NODE_PROBLEM_PRESSURE.format(condition=problem.detail, age=age)
    if problem.kind == "heartbeat_late":
        return messages.NODE_PROBLEM_HEARTBEAT_LATE.format(
            age=age, grace=human_duration(problem.limit)
        )
    if problem.kind == "no_lease":
        return messages.NODE_PROBLEM_NO_LEASE.format()
    if problem.kind == "cordoned":
        if problem.seconds is None:
            return messages.NODE_PROBLEM_CORDONED_SINCE_UNKNOWN.format()
        return messages.NODE_PROBLEM_CORDONED.format(age=age)
    return messages.NODE_PROBLEM_FULL.format(count=problem.count, limit=problem.limit)


def _node_table(result: NodeTable, now: datetime) -> str:
    headers = ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    if result.wide:
        headers += ["INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"]
    if result.problems:
        headers.append("PROBLEMS")
    rows = []
    for r in result.rows:
        row = [r.name, r.status, r.roles, human_duration((now - r.created).total_seconds())]
        row.append(r.version)
        if result.wide:
            row += [r.internal_ip, r.external_ip, r.os_image, r.kernel_version]
            row.append(r.container_runtime)
        if result.problems:
            row.append("; ".join(problem_text(p) for p in r.problems))
        rows.append(tuple(row))
    return table(tuple(headers), rows)


def _summary(result: NodeTable) -> str:
    if result.problems:
        return messages.NODE_PROBLEMS_SUMMARY.format(count=len(result.rows), total=result.checked)
    statuses = Counter(row.status for row in result.rows)
    return messages.NODE_LIST_SUMMARY.format(
        count=len(result.rows),
        statuses="; ".join(f"{count} {status}" for status, count in sorted(statuses.items())),
    )


def node_thread_parts(result: NodeTable, job_id: str) -> ThreadParts | None:
    """A long list (hundreds of nodes): the summary in the channel, the table in the thread."""
    if len(result.rows) <= MAX_ROWS_INLINE:
        return None
    return ThreadParts(
        summary=_summary(result),
        body=_node_table(result, datetime.now(UTC)),
        file_name=f"nodes-job-{job_id}.txt",
    )


def render_node_table(result: NodeTable, *, now: datetime | None = None) -> str:
    """``kubectl get nodes``' columns (``-o wide``'s too); ages computed when shown, as kubectl
    does. With ``--problems``, a PROBLEMS column and a summary line."""
    if result.problems and not result.rows:
        return messages.NODE_PROBLEMS_NONE.format(total=result.checked)
    if not result.rows:
        return messages.NO_NODES.format()
    shown = _node_table(result, now or datetime.now(UTC))
    return f"{_summary(result)}\n{shown}" if result.problems else shown


def render_node_change(result: NodeChange) -> str:
    return result.message


#: ``get nodes`` (assembled into the ``get`` command by :mod:`bot.commands.verbs.get`).
GET_NODES = Resource(
    words=("nodes", "node", "no"),
    parse=parse_get_nodes,
    request_kinds=("get_nodes",),
    perform=nodes.get_nodes,
    results=(NodeTable,),
    render=render_node_table,
    documentation="`get nodes [-o wide] [-l SELECTOR]`: kubectl's columns NAME, STATUS (incl. "
    "`SchedulingDisabled`), ROLES, AGE, VERSION (wide: INTERNAL-IP, EXTERNAL-IP, OS-IMAGE, "
    "KERNEL-VERSION, CONTAINER-RUNTIME); `--problems [--cordoned-for 1h] [--lease-grace 50s]`: "
    "only NotReady/Unknown nodes, under pressure, late on their Lease, cordoned too long or "
    "full, each with its reasons",
    flags=GET_NODES_FLAGS,
    thread_parts=node_thread_parts,
)

COMMANDS = (
    Command(
        verb="cordon",
        rank=20,
        usage="cordon NODE",
        summary=messages.HELP_CORDON_SUMMARY,
        documentation="marks the node unschedulable (`already cordoned` if it was)",
        parse=lambda args: CordonNode(node=one_node("cordon NODE", args)),
        policy_verbs={"cordon": Access.WRITE},
        request_kinds=("cordon",),
        perform=nodes.cordon,
        render=render_node_change,
    ),
    Command(
        verb="uncordon",
        rank=21,
        usage="uncordon NODE",
        summary=messages.HELP_UNCORDON_SUMMARY,
        documentation="marks it schedulable again",
        parse=lambda args: UncordonNode(node=one_node("uncordon NODE", args)),
        policy_verbs={"uncordon": Access.WRITE},
        request_kinds=("uncordon",),
        perform=nodes.uncordon,
        render=render_node_change,
    ),
)
