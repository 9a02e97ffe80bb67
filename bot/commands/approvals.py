"""Approving and denying jobs that wait for a second person.

Who may approve is the policy's answer (:func:`policies.engine.may_approve`): never the
requester, only the approvers the requirement names. Each approval is a versioned update of
the job, so two simultaneous approvals by the same person count once, and the one that
completes the count moves the job to the queue in the same step. Refusals are audited.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from bot.commands.replies import Reply
from bot.jobs.model import Approval, Job, JobState
from bot.jobs.store import JobStore
from core import messages
from core.errors import PolicyDenied
from core.text import code
from policies.engine import may_approve
from policies.model import PolicyDocument, Subject

_ATTEMPTS = 5


class ApproveRequest(BaseModel):
    """``approve JOB [reason]`` or ``deny JOB [reason]``."""

    job_id: str
    approve: bool
    reason: str = ""

    @property
    def verb(self) -> str:
        return "approve"

    @property
    def target(self) -> str:
        return f"job/{self.job_id}"


class Approvals:
    def __init__(self, store: JobStore, policy: PolicyDocument) -> None:
        self.store = store
        self.policy = policy

    def answer(self, request: ApproveRequest, subject: Subject) -> Reply:
        for _ in range(_ATTEMPTS):
            job = self.store.get(request.job_id)
            reply = self._try(job, request, subject)
            if reply is not None:
                return reply
        return Reply(
            messages.APPROVAL_NOT_WAITING.format(
                job_id=request.job_id, state=self.store.get(request.job_id).state.value
            ),
            ok=False,
        )

    def _refuse(self, job: Job, subject: Subject, why: str) -> PolicyDenied:
        self.store.audit(
            "approval refused",
            by=subject.user_id,
            job=job.id,
            command=job.request.command_text(),
            reason=why,
            cluster=job.cluster,
            channel=job.origin.channel,
        )
        return PolicyDenied(why)

    def _try(self, job: Job, request: ApproveRequest, subject: Subject) -> Reply | None:
        """One versioned attempt; None when the job moved meanwhile and it must be retried."""
        if request.approve and job.approval and job.approval.approved_by(subject.user_id):
            # A double click, even one that lost the race to the click that queued the job.
            return Reply(messages.APPROVAL_ALREADY.format(job_id=job.id), job=job)
        if job.state is not JobState.AWAITING_APPROVAL or job.approval is None:
            raise self._refuse(
                job,
                subject,
                messages.APPROVAL_NOT_WAITING.format(job_id=job.id, state=job.state.value),
            )
        now = datetime.now(UTC)
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
                    job_id=job.id, expires=job.approval.expires_at.strftime("%H:%M UTC")
                ),
            )
        if not request.approve:
            return self._deny(job, request, subject, now)
        eligible, why = may_approve(self.policy, subject, job.approval.requirement, job.requester)
        if not eligible:
            raise self._refuse(job, subject, why)
        if job.approval.requirement.reason_required and not request.reason:
            raise self._refuse(
                job, subject, messages.APPROVAL_REASON_REQUIRED.format(job_id=job.id)
            )
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
            to_run = job.request
            shown = self.store.plan(job.id)
            if shown is not None and to_run.plans_for_approval:
                # Run as planned: the result will say what changed since the approvers looked.
                to_run = to_run.model_copy(update={"expected_plan": shown})
            moved = self.store.transition(
                job,
                JobState.QUEUED,
                by=subject.user_id,
                reason=f"approved by {names}",
                approval=approval,
                request=to_run,
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

    def _deny(
        self, job: Job, request: ApproveRequest, subject: Subject, now: datetime
    ) -> Reply | None:
        assert job.approval is not None
        if subject.user_id != job.requester:
            eligible, why = may_approve(
                self.policy, subject, job.approval.requirement, job.requester
            )
            if not eligible:
                raise self._refuse(job, subject, why)
        moved = self.store.transition(
            job,
            JobState.DENIED,
            by=subject.user_id,
            reason=request.reason or "denied",
            finished_at=now,
        )
        if moved is None:
            return None
        suffix = f" ({request.reason})" if request.reason else ""
        return Reply(
            messages.DENIAL_RECORDED.format(job_id=job.id, user=subject.user_id, reason=suffix),
            job=moved,
        )
