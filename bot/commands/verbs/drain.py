"""``drain NODE``: kubectl's drain, with its flags and messages, and a plan for approvers."""

from __future__ import annotations

from bot.commands.flags import Flag, parse_flags
from bot.commands.parsing import check_selector, one_node
from bot.commands.registry import Command, suggest
from bot.commands.render_drain import render_drain
from core import limits, messages
from handlers import drain
from handlers.drain_models import DrainNode, DrainPlan
from handlers.drain_plan import make_plan
from policies.model import Access

DRAIN_FLAGS = (
    Flag("ignore-daemonsets", "ignore_daemonsets", "switch"),
    Flag("force", "force", "switch"),
    Flag("delete-emptydir-data", "delete_emptydir_data", "switch"),
    Flag("disable-eviction", "disable_eviction", "switch"),
    Flag(
        "grace-period",
        "grace_period",
        "int",
        "30",
        minimum=-1,
        maximum=limits.MAX_GRACE_PERIOD_SECONDS,
    ),
    Flag("timeout", "timeout_seconds", "duration", "5m", maximum=limits.MAX_DRAIN_TIMEOUT_SECONDS),
    Flag("pod-selector", "pod_selector", "text", "app=web"),
    Flag(
        "skip-wait-for-delete-timeout",
        "skip_wait_for_delete_timeout",
        "int",
        "60",
        minimum=0,
        maximum=limits.MAX_SKIP_WAIT_SECONDS,
    ),
    Flag("dry-run", "dry_run", "choice", "server", choices=("none", "client", "server")),
    Flag("chunk-size", "chunk_size", "int", "500", minimum=0, maximum=limits.MAX_CHUNK_SIZE),
)
DRAIN_USAGE = "drain NODE [--ignore-daemonsets] [--force] [--delete-emptydir-data] [...]"


def parse_drain(args: list[str]) -> DrainNode:
    positional, values = parse_flags("drain NODE", args, DRAIN_FLAGS, suggest)
    node = one_node("drain NODE", positional)
    selector = values.get("pod_selector")
    if selector is not None:
        check_selector("--pod-selector", selector)
    return DrainNode(node=node, **values)


COMMANDS = (
    Command(
        verb="drain",
        rank=80,
        usage=DRAIN_USAGE,
        summary=messages.HELP_DRAIN_SUMMARY,
        documentation="cordons and evicts like `kubectl drain`, with kubectl's messages, and shows "
        "the plan: each pod's fate, PDBs that will refuse, spare capacity elsewhere, risks "
        "([docs/drain.md](docs/drain.md))",
        parse=parse_drain,
        flags=DRAIN_FLAGS,
        policy_verbs={"drain": Access.WRITE},
        request_kinds=("drain",),
        perform=drain.drain,
        plan=make_plan,
        plan_model=DrainPlan,
        render=render_drain,
        tabular=True,
    ),
)
