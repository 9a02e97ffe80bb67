"""``version``, the worked example of adding a command: grammar, policy, rendering."""

from __future__ import annotations

import pytest

from bot.commands import grammar
from bot.commands.registry import registry
from bot.commands.verbs.version import render_version
from core.errors import CommandError
from handlers.version import GetVersion, ServerVersion


def test_parses_and_is_decided_as_a_read() -> None:
    parsed = grammar.parse_command("version")
    assert parsed.request == GetVersion()
    (action,) = parsed.command.actions(parsed.request)
    assert (action.verb, action.read_only) == ("get", True)


def test_refuses_arguments_and_suggests_itself() -> None:
    with pytest.raises(CommandError, match="has no flag `--client`"):
        grammar.parse("version --client")
    with pytest.raises(CommandError, match="takes no more arguments"):
        grammar.parse("version now")
    with pytest.raises(CommandError, match="Did you mean `version`"):
        grammar.parse("versoin")


def test_renders_like_kubectl_and_is_listed_in_help() -> None:
    result = ServerVersion(git_version="v1.37.2", platform="linux/amd64")
    assert render_version(result) == "Server Version: v1.37.2 (linux/amd64)"
    assert "/k8s version" in registry().help_text(allowed=["get"])
    assert "/k8s version" not in registry().help_text(allowed=["help"])
