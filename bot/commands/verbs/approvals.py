"""``approve JOB [REASON]`` and ``deny JOB [REASON]``: the second person's answer."""

from __future__ import annotations

from collections.abc import Callable

from bot.commands.approvals import Approvals, ApproveRequest
from bot.commands.parsing import job_id
from bot.commands.registry import Command, Context
from bot.commands.replies import Reply
from core import limits, messages
from policies.model import Access


def parse_approval(approve: bool) -> Callable[[list[str]], ApproveRequest]:
    usage = f"{'approve' if approve else 'deny'} JOB [REASON]"

    def parse(args: list[str]) -> ApproveRequest:
        named = job_id(usage, args)
        return ApproveRequest(
            job_id=named, approve=approve, reason=" ".join(args[1:])[: limits.MAX_REASON_CHARS]
        )

    return parse


def answer(context: Context, request: ApproveRequest) -> Reply:
    return Approvals(context.store, context.policy).answer(request, context.subject)


COMMANDS = (
    Command(
        verb="approve",
        rank=40,
        usage="approve JOB [REASON]",
        summary=messages.HELP_APPROVE_SUMMARY,
        documentation="approve a change that waits for a second person (never your own)",
        parse=parse_approval(True),
        policy_verbs={"approve": Access.WRITE},
        answer=answer,
        names_a_job=True,
    ),
    Command(
        verb="deny",
        rank=41,
        usage="deny JOB [REASON]",
        summary=messages.HELP_DENY_SUMMARY,
        documentation="refuse it (or withdraw your own); decided under the policy verb `approve`",
        parse=parse_approval(False),
        policy_verbs={"approve": Access.WRITE},
        answer=answer,
        names_a_job=True,
        owner_may=True,
    ),
)
