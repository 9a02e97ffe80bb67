"""Approving and denying jobs that wait for a second person.

By the time an answer gets here the policy has decided the ``approve`` verb for the person
answering, like any other command (roles, rules, change windows). For an approval, the job's
own request is then decided again, now, for its requester, on the job's own cluster: an
approval is recorded only while the change would still be allowed there (inside a change
window, under the unschedulable limit, no new rule refusing it). Then the approver rules
(:func:`policies.engine.may_approve`): never the requester, only the approvers the requirement
names. The approval that completes the count freezes the end of the change window open on the
job's cluster into the job (``run_before``), since workers do not load the policy, and moves
the job to the queue in the same versioned step; two simultaneous approvals by the same person
count once. The approved request carries the plan on the card (``RequestBase.as_approved``):
a drain reports what changed since, a prune or ``rmi`` removes nothing the plan did not name —
and so such a request cannot be approved before its plan is shown. Refusals are audited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal, NamedTuple

from pydantic import BaseModel

from bot.commands.decider import run_before
from bot.commands.registry import registry
from bot.commands.replies import Reply
from bot.jobs.model import Approval, Job, JobState, state_name
from bot.jobs.store import JobStore
from core import formats, messages
from core.errors import PolicyDenied
from core.text import code
from handlers.base import RequestBase
from policies.engine import may_approve
from policies.model import Decision, Outcome, PolicyDocument, Requirement, Subject

_ATTEMPTS = 5
#: The rule a refusal names when the approver rules refused it (not one of the approvers, or
#: the requester approving their own change).
APPROVERS = "approvers"


class ApproveRequest(RequestBase):
    """``approve JOB [reason]`` or ``deny JOB [reason]``."""

    kind: Literal["approve_request"] = "approve_request"
    job_id: str
    approve: bool
    reason: str = ""

    @property
    def verb(self) -> str:
        return "approve"

    @property
    def target(self) -> str:
        return f"job/{self.job_id}"


class Refusal(NamedTuple):
    sentence: str
    #: What refused it: ``approvers``, or the rule that refuses the job's request now.
    rule: str = ""


def answer_refusal(
    policy: PolicyDocument,
    subject: Subject,
    request: ApproveRequest,
    requirement: Requirement,
    requester: str,
) -> Refusal | None:
    """The approver rules, once the policy has allowed the ``approve`` verb: only the
    approvers ``requirement`` names may answer (the requester may withdraw with ``deny``, and
    never approve); an approval may need a reason. ``policy check`` asks the same."""
    if not request.approve and subject.user_id == requester:
        return None
    eligible, why = may_approve(policy, subject, requirement, requester)
    if not eligible:
        return Refusal(why, APPROVERS)
    if request.approve and requirement.reason_required and not request.reason:
        return Refusal(messages.APPROVAL_REASON_REQUIRED.format(job_id=request.job_id))
    return None


def still_refused(now: Decision, request: ApproveRequest, requester: str) -> Refusal | None:
    """An approval is recorded only while the job's own request, decided again now for its
    requester, would still be allowed (``now``: that decision)."""
    if now.outcome is not Outcome.DENY:
        return None
    return Refusal(
        messages.APPROVAL_NOT_ALLOWED_NOW.format(
            job_id=request.job_id, requester=requester, reason=now.reason
        ),
        now.rule,
    )


class Approvals:
    def __init__(
        self,
        store: JobStore,
        policy: PolicyDocument,
        decide_job: Callable[[Job, datetime], Decision],
    ) -> None:
        self.store = store
        self.policy = policy
        #: The job's own request decided again at a moment, for its requester.
        self.decide_job = decide_job

    def answer(self, request: ApproveRequest, subject: Subject, *, now: datetime) -> Reply:
        for _ in range(_ATTEMPTS):
            job = self.store.get(request.job_id)
            reply = self._try(job, request, subject, now)
            if reply is not None:
                return reply
        return Reply(
            messages.APPROVAL_NOT_WAITING.format(
                job_id=request.job_id, state=state_name(self.store.get(request.job_id).state)
            ),
            ok=False,
        )

    def _refuse(self, job: Job, subject: Subject, why: str, rule: str = "") -> PolicyDenied:
        self.store.audit(
            "approval refused",
            by=subject.user_id,
            job=job.id,
            command=job.request.command_text(),
            reason=why,
            cluster=job.cluster,
            channel=job.origin.channel,
            **({"rule": rule} if rule else {}),
        )
        return PolicyDenied(why, rule=rule)

    def _try(
        self, job: Job, request: ApproveRequest, subject: Subject, now: datetime
    ) -> Reply | None:
        """One versioned attempt; None when the job moved meanwhile and it must be retried."""
        if request.approve and job.approval and job.approval.approved_by(subject.user_id):
            # A double click, even one that lost the race to the click that queued the job.
            return Reply(messages.APPROVAL_ALREADY.format(job_id=job.id), job=job)
        if job.state is not JobState.AWAITING_APPROVAL or job.approval is None:
            raise self._refuse(
                job,
                subject,
                messages.APPROVAL_NOT_WAITING.format(job_id=job.id, state=state_name(job.state)),
            )
        if job.approval.expires_at <= now:
            self.store.transition(
                job,
                JobState.EXPIRED,
                by="k8s-chatops",
                reason="approval window passed",
                finished_at=now,
            )
            raise self._refuse(
                job,
                subject,
                messages.APPROVAL_EXPIRED.format(
                    job_id=job.id, expires=formats.clock(job.approval.expires_at)
                ),
            )
        refusal = (
            still_refused(self.decide_job(job, now), request, job.requester)
            if request.approve
            else None
        ) or answer_refusal(self.policy, subject, request, job.approval.requirement, job.requester)
        if refusal is not None:
            raise self._refuse(job, subject, refusal.sentence, refusal.rule)
        if not request.approve:
            return self._deny(job, request, subject, now)
        if job.request.runs_within_plan and self._shown_plan(job) is None:
            raise self._refuse(job, subject, messages.APPROVAL_PLAN_NOT_SHOWN.format(job_id=job.id))
        approval = job.approval.model_copy(
            update={
                "approvals": [
                    *job.approval.approvals,
                    Approval(by=subject.user_id, at=now, reason=request.reason),
                ]
            }
        )
        if approval.complete:
            names = ", ".join(a.by for a in approval.approvals)
            shown = self._shown_plan(job)
            to_run = job.request.as_approved(shown) if shown is not None else job.request
            moved = self.store.transition(
                job,
                JobState.QUEUED,
                by=subject.user_id,
                reason=f"approved by {names}",
                approval=approval,
                request=to_run,
                run_before=run_before(self.policy, job.request, now, job.cluster),
            )
            text = messages.APPROVAL_COMPLETE.format(
                job_id=job.id, approvers=names, command=code(job.request.command_text())
            )
        else:
            moved = self.store.transition(
                job,
                JobState.AWAITING_APPROVAL,
                by=subject.user_id,
                reason=request.reason or "approved",
                audit_event="approved",
                approval=approval,
            )
            text = messages.APPROVAL_RECORDED.format(
                have=len(approval.approvals), need=approval.requirement.count, job_id=job.id
            )
        return Reply(text, job=moved) if moved is not None else None

    def _shown_plan(self, job: Job) -> BaseModel | None:
        """The plan on the job's card: what its approvers see (a plan, once saved, is never
        replaced: ``JobStore.save_plan``)."""
        model = registry().plan_model(job.request)
        return self.store.plan(job.id, model) if model is not None else None

    def _deny(
        self, job: Job, request: ApproveRequest, subject: Subject, now: datetime
    ) -> Reply | None:
        moved = self.store.transition(
            job,
            JobState.DENIED,
            by=subject.user_id,
            reason=request.reason or "denied",
            finished_at=now,
        )
        if moved is None:
            return None
        suffix = messages.DENIAL_REASON.format(reason=request.reason) if request.reason else ""
        return Reply(
            messages.DENIAL_RECORDED.format(job_id=job.id, user=subject.user_id, reason=suffix),
            job=moved,
        )
