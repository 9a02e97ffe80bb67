"""``help [COMMAND]`` and ``whoami``: what this person may do, from the policy."""

from __future__ import annotations

from typing import Literal

from bot.commands.parsing import no_arguments
from bot.commands.registry import Command, Context
from bot.commands.replies import Reply
from core import messages
from handlers.base import RequestBase
from policies.engine import permitted_verbs, roles_of
from policies.model import Access


class HelpRequest(RequestBase):
    """``help`` is answered by the bot itself; it never becomes a job."""

    kind: Literal["help_request"] = "help_request"
    topic: str | None = None

    @property
    def verb(self) -> str:
        return "help"

    @property
    def target(self) -> str:
        return "help"


class WhoamiRequest(RequestBase):
    kind: Literal["whoami_request"] = "whoami_request"

    @property
    def verb(self) -> str:
        return "whoami"

    @property
    def target(self) -> str:
        return "whoami"


def parse_help(args: list[str]) -> HelpRequest:
    return HelpRequest(topic=args[0].lower()[:40] if args else None)


def parse_whoami(args: list[str]) -> WhoamiRequest:
    no_arguments("whoami", args)
    return WhoamiRequest()


def _permitted(context: Context) -> list[str]:
    return permitted_verbs(context.policy, context.subject, context.commands.vocabulary())


def show_help(context: Context, request: HelpRequest) -> Reply:
    return Reply(context.commands.help_text(request.topic, allowed=_permitted(context)))


def whoami(context: Context, request: WhoamiRequest) -> Reply:
    subject = context.subject
    roles = roles_of(context.policy, subject)
    return Reply(
        messages.WHOAMI.format(
            user=subject.user_id,
            roles=", ".join(roles) or messages.WHOAMI_NONE,
            groups=", ".join(sorted(subject.groups)) or messages.WHOAMI_NONE,
            verbs=", ".join(_permitted(context)) or messages.WHOAMI_NOTHING,
        )
    )


COMMANDS = (
    Command(
        verb="help",
        rank=0,
        usage="help [COMMAND]",
        summary=messages.HELP_HELP_SUMMARY,
        documentation="lists the commands you may run, or explains one",
        parse=parse_help,
        policy_verbs={"help": Access.READ},
        answer=show_help,
    ),
    Command(
        verb="whoami",
        rank=50,
        usage="whoami",
        summary=messages.HELP_WHOAMI_SUMMARY,
        documentation="your roles, groups and what you may do (`help` lists only that)",
        parse=parse_whoami,
        policy_verbs={"whoami": Access.READ},
        answer=whoami,
    ),
)
