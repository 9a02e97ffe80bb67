"""``jobs``, ``cancel JOB`` and ``audit [N]``: answered from Redis by the bot itself."""

from __future__ import annotations

from typing import Literal

from bot.commands.flags import parse_integer
from bot.commands.parsing import checked_job_id, no_arguments, reject_flags
from bot.commands.registry import Command, Context
from bot.commands.render import render_audit, render_jobs
from bot.commands.replies import Reply
from bot.jobs.model import JobState, state_name
from core import limits, messages
from core.errors import CommandError
from core.text import code
from handlers.base import RequestBase
from policies.model import Access


class JobsRequest(RequestBase):
    """``jobs``: active and recent jobs, answered from Redis by the bot."""

    kind: Literal["jobs_request"] = "jobs_request"

    @property
    def verb(self) -> str:
        return "jobs"

    @property
    def target(self) -> str:
        return "jobs"


class AuditRequest(RequestBase):
    kind: Literal["audit_request"] = "audit_request"
    count: int = 20

    @property
    def verb(self) -> str:
        return "audit"

    @property
    def target(self) -> str:
        return "audit"


class CancelRequest(RequestBase):
    kind: Literal["cancel_request"] = "cancel_request"
    job_id: str

    @property
    def verb(self) -> str:
        return "cancel"

    @property
    def target(self) -> str:
        return f"job/{self.job_id}"


def parse_jobs(args: list[str]) -> JobsRequest:
    no_arguments("jobs", args)
    return JobsRequest()


def parse_audit(args: list[str]) -> AuditRequest:
    reject_flags("audit [N]", args)
    if len(args) > 1:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(
                usage=code("audit [N]"), extra=code(" ".join(args[1:]))
            )
        )
    if not args:
        return AuditRequest()
    try:
        count = parse_integer(args[0])
    except ValueError:
        count = 0
    if not 1 <= count <= limits.MAX_AUDIT_ENTRIES:
        raise CommandError(
            messages.BAD_COUNT.format(value=code(args[0][:20]), limit=limits.MAX_AUDIT_ENTRIES)
        )
    return AuditRequest(count=count)


def parse_cancel(args: list[str]) -> CancelRequest:
    reject_flags("cancel JOB", args)
    if not args:
        raise CommandError(messages.MISSING_ARGUMENT.format(usage=code("cancel JOB"), what="JOB"))
    if len(args) > 1:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(
                usage=code("cancel JOB"), extra=code(" ".join(args[1:]))
            )
        )
    return CancelRequest(job_id=checked_job_id(args[0]))


def list_jobs(context: Context, request: JobsRequest) -> Reply:
    """This channel's jobs on every cluster, or on the one named with ``-C``."""
    context.store.expire_overdue()
    cluster = context.cluster
    jobs = context.store.recent(
        20,
        where=lambda job: context.reaches(job.origin.channel) and cluster in (None, job.cluster),
    )
    return Reply(render_jobs(jobs))


def show_audit(context: Context, request: AuditRequest) -> Reply:
    cluster = context.cluster
    entries = context.store.audit_tail(
        request.count,
        where=lambda entry: (
            context.reaches(entry.get("channel")) and cluster in (None, entry.get("cluster"))
        ),
    )
    return Reply(render_audit(entries))


def cancel(context: Context, request: CancelRequest) -> Reply:
    """The policy has allowed it: someone else's job needs a role or rule that grants
    ``cancel``; one's own job only needs nothing to refuse it (``owner_may``)."""
    job_id = request.job_id
    store, subject = context.store, context.subject
    job = store.get(job_id)
    if job.state.finished:
        return Reply(messages.CANCEL_FINISHED.format(job_id=job_id, state=state_name(job.state)))
    after = store.request_cancel(job_id, by=subject.user_id)
    if after.state is JobState.CANCELLED:
        return Reply(messages.CANCEL_QUEUED.format(job_id=job_id))
    if after.state.finished:
        return Reply(messages.CANCEL_FINISHED.format(job_id=job_id, state=state_name(after.state)))
    return Reply(messages.CANCEL_RUNNING.format(job_id=job_id))


COMMANDS = (
    Command(
        verb="jobs",
        rank=30,
        usage="jobs",
        summary=messages.HELP_JOBS_SUMMARY,
        documentation="active and recent jobs of this channel: id, cluster, state, requester, "
        "target, command, age (`-C NAME`: one cluster's)",
        parse=parse_jobs,
        policy_verbs={"jobs": Access.READ},
        answer=list_jobs,
    ),
    Command(
        verb="cancel",
        rank=31,
        usage="cancel JOB",
        summary=messages.HELP_CANCEL_SUMMARY,
        documentation="cancels a queued job, or stops a running one at its next safe point (your "
        "own jobs; others' need `cancel`)",
        parse=parse_cancel,
        policy_verbs={"cancel": Access.WRITE},
        answer=cancel,
        names_a_job=True,
        owner_may=True,
    ),
    Command(
        verb="audit",
        rank=60,
        usage="audit [N]",
        summary=messages.HELP_AUDIT_SUMMARY,
        documentation="the last N audit entries of this channel, each naming its cluster "
        "(default 20, at most 100; `-C NAME`: one cluster's)",
        parse=parse_audit,
        policy_verbs={"audit": Access.READ},
        answer=show_audit,
    ),
)
