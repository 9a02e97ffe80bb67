"""``get nodes``, ``cordon NODE``, ``uncordon NODE``: kubectl's node commands."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.commands.parsing import one_node, reject_flags
from bot.commands.registry import Command
from bot.commands.render import human_duration, table
from bot.commands.resources import Resource
from core import messages
from core.errors import CommandError
from core.text import code
from handlers import nodes
from handlers.models import CordonNode, GetNodes, NodeChange, NodeTable, UncordonNode
from policies.model import Access


def parse_get_nodes(args: list[str]) -> GetNodes:
    """The words after ``get nodes``."""
    usage = "get nodes"
    reject_flags(usage, args)
    if args:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(usage=code(usage), extra=code(" ".join(args)))
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


#: ``get nodes`` (assembled into the ``get`` command by :mod:`bot.commands.verbs.get`).
GET_NODES = Resource(
    words=("nodes", "node", "no"),
    parse=parse_get_nodes,
    request_kinds=("get_nodes",),
    perform=nodes.get_nodes,
    results=(NodeTable,),
    render=render_node_table,
    documentation="`get nodes`: kubectl's columns NAME, STATUS (incl. `SchedulingDisabled`), "
    "ROLES, AGE, VERSION",
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
