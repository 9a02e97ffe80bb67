"""``runtime ps NODE`` and ``runtime logs NODE CONTAINER [--tail N]``: the guide's ``crictl ps``,
``crictl pods`` and ``crictl logs``, answered by the node agent over CRI and Redis alone, so
they work while the API server is down (docs/images.md). Lines are masked on the node, as
``logs`` masks them, before they leave it.
"""

from __future__ import annotations

from typing import Any

from bot.commands import render_runtime
from bot.commands.flags import Flag, parse_flags
from bot.commands.registry import Command, suggest
from bot.commands.verbs.images import check_node
from core import limits, messages
from core.errors import CommandError
from core.text import code
from handlers import images
from handlers.control import Control
from handlers.images_models import (
    NodeUnreached,
    RuntimeContainers,
    RuntimeLogLines,
    RuntimeLogs,
    RuntimePs,
)
from handlers.kube import KubeClient
from policies.model import Access

RUNTIME_FLAGS = (
    Flag("tail", "tail", "int", "200", minimum=1, maximum=limits.MAX_RUNTIME_LOGS_TAIL),
)
RUNTIME_USAGE = "runtime ps NODE | runtime logs NODE CONTAINER [--tail N]"
_SUBCOMMANDS = ("ps", "logs")
#: A container id (or a unique prefix of one) or a container name.
_CONTAINER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
_CONTAINER_LENGTH = 128


def _check_container(text: str) -> str:
    if not text or len(text) > _CONTAINER_LENGTH or not set(text) <= _CONTAINER_CHARS:
        raise CommandError(
            messages.RUNTIME_BAD_CONTAINER.format(
                container=code(text[:80]), limit=_CONTAINER_LENGTH
            )
        )
    return text


def parse_runtime(args: list[str]) -> RuntimePs | RuntimeLogs:
    if not args:
        raise CommandError(
            messages.MISSING_ARGUMENT.format(usage=code(RUNTIME_USAGE), what="ps | logs")
        )
    sub = args[0].lower()
    if sub not in _SUBCOMMANDS:
        raise CommandError(
            messages.RUNTIME_WHICH.format(word=code(args[0][:40]), usage=code(RUNTIME_USAGE))
            + suggest(sub, list(_SUBCOMMANDS))
        )
    usage = "runtime ps NODE" if sub == "ps" else "runtime logs NODE CONTAINER"
    positional, values = parse_flags(f"runtime {sub}", args[1:], RUNTIME_FLAGS, suggest)
    wanted = 1 if sub == "ps" else 2
    if len(positional) < wanted:
        what = "NODE" if not positional else "CONTAINER"
        raise CommandError(messages.MISSING_ARGUMENT.format(usage=code(usage), what=what))
    if len(positional) > wanted:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(
                usage=code(usage), extra=code(" ".join(positional[wanted:]))
            )
        )
    node = check_node(positional[0])
    if sub == "ps":
        if values:
            raise CommandError(
                messages.UNKNOWN_FLAG.format(command=code(usage), flag=code("--tail"))
            )
        return RuntimePs(node=node)
    return RuntimeLogs(node=node, container=_check_container(positional[1]), **values)


def perform(
    request: RuntimePs | RuntimeLogs, kube: KubeClient, control: Control
) -> RuntimeContainers | RuntimeLogLines | NodeUnreached:
    if isinstance(request, RuntimePs):
        return images.runtime_ps(request, kube, control)
    return images.runtime_logs(request, kube, control)


def _render(result: Any) -> str:
    return render_runtime.render_runtime(result)


COMMANDS = (
    Command(
        verb="runtime",
        rank=96,
        usage=RUNTIME_USAGE,
        summary=messages.HELP_RUNTIME_SUMMARY,
        details=messages.HELP_RUNTIME_DETAILS,
        documentation="the node's pods and containers as `crictl pods` / `crictl ps -a` show "
        "them, or a container's log (`crictl logs`, secrets masked on the node), from the node "
        "agent alone: they answer while the API server is down "
        "([docs/images.md](docs/images.md))",
        parse=parse_runtime,
        flags=RUNTIME_FLAGS,
        policy_verbs={"runtime": Access.READ},
        request_kinds=("runtime_ps", "runtime_logs"),
        perform=perform,
        render=_render,
        tabular=True,
        thread_parts=render_runtime.thread_parts,
    ),
)
