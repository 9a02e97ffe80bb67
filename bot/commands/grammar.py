"""From ``/k8s …`` text to a command and its typed request, or a sentence saying what is wrong.

There is one grammar: the registry's commands, each parsing its own words. ``policy check``,
the shell, Slack and the tests all come through here, so none of them can tell a person
something the bot would not do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from bot.commands.parsing import (
    MAX_COMMAND_LENGTH,
    cluster_flag_misplaced,
    split_cluster,
    tokenize,
)
from bot.commands.registry import Parsed, registry
from core import messages
from core.errors import CommandError
from core.text import code

__all__ = ["MAX_COMMAND_LENGTH", "help_text", "parse", "parse_command"]


def parse_command(text: str) -> Parsed:
    """The command, its request, and the cluster it names with ``-C``/``--cluster`` (which
    the dispatcher resolves; ``None`` when it names none)."""
    cluster, words = split_cluster(tokenize(text))
    try:
        parsed = registry().parse(words)
    except CommandError as error:
        misplaced = cluster_flag_misplaced(words[1:])
        if misplaced is None:
            raise
        # Most likely what went wrong; the command's own complaint would be about a flag.
        flag = code(misplaced.partition("=")[0])
        raise CommandError(messages.CLUSTER_FLAG_FIRST.format(flag=flag)) from error
    return replace(parsed, cluster=cluster)


def parse(text: str) -> Any:
    """The typed request alone (what most callers and tests want)."""
    return parse_command(text).request


def help_text(topic: str | None = None, *, allowed: Iterable[str] | None = None) -> str:
    return registry().help_text(topic, allowed=allowed)
