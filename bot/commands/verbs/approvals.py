"""``approve JOB [REASON]`` and ``deny JOB [REASON]``: the second person's answer."""

from __future__ import annotations

from collections.abc import Callable

from bot.commands.approvals import Approvals, ApproveRequest
from bot.commands.parsing import job_id
from bot.commands.registry import Command, Context
from bot.commands.replies import Reply
from core import limits
from policies.model import Access, Action


def approval_actions(request: ApproveRequest) -> list[Action]:
    """Approving releases a change, so it is held to the change windows like the change
    itself; denying releases nothing, so it is not (both are the policy verb ``approve``).
    Neither is a request of its own, so neither counts against the rate limit."""
    return [Action(verb=request.verb, target=request.target, read_only=not request.approve)]


def parse_approval(approve: bool) -> Callable[[list[str]], ApproveRequest]:
    usage = f"{'approve' if approve else 'deny'} JOB [REASON]"

    def parse(args: list[str]) -> ApproveRequest:
        named = job_id(usage, args)
        return ApproveRequest(
            job_id=named, approve=approve, reason=" ".join(args[1:])[: limits.MAX_REASON_CHARS]
        )

    return parse


def answer(context: Context, request: ApproveRequest) -> Reply:
    return Approvals(context.store, context.policy, context.decide_job).answer(
        request, context.subject, now=context.now
    )


COMMANDS = (
    Command(
        verb="approve",
        rank=40,
        usage="approve JOB [REASON]",
        summary="approve a change someone else asked for",
        documentation="approve a change that waits for a second person (never your own)",
        parse=parse_approval(True),
        policy_verbs={"approve": Access.WRITE},
        actions=approval_actions,
        answer=answer,
        names_a_job=True,
        answers_approval=True,
    ),
    Command(
        verb="deny",
        rank=41,
        usage="deny JOB [REASON]",
        summary="refuse a change that waits for approval",
        documentation="refuse it (or withdraw your own); decided under the policy verb `approve`",
        parse=parse_approval(False),
        policy_verbs={"approve": Access.WRITE},
        actions=approval_actions,
        answer=answer,
        names_a_job=True,
        answers_approval=True,
        owner_may=True,
    ),
)
