"""``version``: which Kubernetes the cluster runs (the worked example in CONTRIBUTING.md)."""

from __future__ import annotations

from bot.commands.parsing import no_arguments
from bot.commands.registry import Command
from core import messages
from handlers.version import GetVersion, ServerVersion, get_version
from policies.model import Access


def parse_version(args: list[str]) -> GetVersion:
    no_arguments("version", args)
    return GetVersion()


def render_version(result: ServerVersion) -> str:
    return messages.SERVER_VERSION.format(version=result.git_version, platform=result.platform)


COMMANDS = (
    Command(
        verb="version",
        rank=15,
        usage="version",
        summary=messages.HELP_VERSION_SUMMARY,
        documentation="the API server's version and platform (`Server Version: v1.37.2`)",
        parse=parse_version,
        policy_verbs={"get": Access.READ},
        request_kinds=("version",),
        perform=get_version,
        render=render_version,
    ),
)
