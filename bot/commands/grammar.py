"""From ``/k8s …`` text to a command and its typed request, or a sentence saying what is wrong.

There is one grammar: the registry's commands, each parsing its own words. ``policy check``,
the shell, Slack and the tests all come through here, so none of them can tell a person
something the bot would not do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.commands.parsing import MAX_COMMAND_LENGTH, tokenize
from bot.commands.registry import Parsed, registry

__all__ = ["MAX_COMMAND_LENGTH", "help_text", "parse", "parse_command"]


def parse_command(text: str) -> Parsed:
    return registry().parse(tokenize(text))


def parse(text: str) -> Any:
    """The typed request alone (what most callers and tests want)."""
    return parse_command(text).request


def help_text(topic: str | None = None, *, allowed: Iterable[str] | None = None) -> str:
    return registry().help_text(topic, allowed=allowed)
