"""``get nodes``, ``cordon NODE``, ``uncordon NODE``: kubectl's node commands."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.commands.parsing import one_node, reject_flags
from bot.commands.registry import Command, suggest
from bot.commands.render import human_duration, table
from core import messages
from core.errors import CommandError
from core.text import code
from handlers import nodes
from handlers.models import CordonNode, GetNodes, NodeChange, NodeTable, UncordonNode
from policies.model import Access

_GET_RESOURCES = {"nodes": "nodes", "node": "nodes", "no": "nodes"}


def parse_get(args: list[str]) -> GetNodes:
    usage = "get nodes"
    if not args:
        raise CommandError(
            messages.MISSING_ARGUMENT.format(usage=code("get RESOURCE"), what="RESOURCE")
        )
    resource, rest = args[0], args[1:]
    if resource.lower() not in _GET_RESOURCES:
        raise CommandError(
            messages.UNKNOWN_RESOURCE.format(verb=code("get"), word=code(resource))
            + suggest(resource, sorted(_GET_RESOURCES))
        )
    reject_flags(usage, rest)
    if rest:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(usage=code(usage), extra=code(" ".join(rest)))
        )
    return GetNodes()


def render_node_table(result: NodeTable, *, now: datetime | None = None) -> str:
    """``kubectl get nodes``' columns; ages computed when shown, as kubectl does."""
    if not result.rows:
        return messages.NO_NODES.format()
    moment = now or datetime.now(UTC)
    return table(
        ("NAME", "STATUS", "ROLES", "AGE", "VERSION"),
        [
            (
                r.name,
                r.status,
                r.roles,
                human_duration((moment - r.created).total_seconds()),
                r.version,
            )
            for r in result.rows
        ],
    )


def render_node_change(result: NodeChange) -> str:
    return result.message


COMMANDS = (
    Command(
        verb="get",
        rank=10,
        usage="get nodes",
        summary=messages.HELP_GET_SUMMARY,
        documentation="`kubectl get nodes` columns: NAME, STATUS (incl. `SchedulingDisabled`), "
        "ROLES, AGE, VERSION",
        parse=parse_get,
        policy_verbs={"get": Access.READ},
        request_kinds=("get_nodes",),
        perform=nodes.get_nodes,
        render=render_node_table,
        tabular=True,
    ),
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
