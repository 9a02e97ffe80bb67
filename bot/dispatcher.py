"""The one path every chat surface uses: text in, a reply (and maybe a queued job) out.

Parsing, the policy check and queueing happen here, and so does the one ``except`` that turns
errors into replies: a :class:`ChatOpsError` shows its sentence; anything else is logged with
an incident id and the person gets a short generic answer, never a traceback. Every request
and its outcome — queued, refused, or answered — goes to the audit trail.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import redis

from bot import grammar
from bot.jobs import Job, JobState, Origin
from bot.render import render_audit, render_jobs
from bot.store import JobStore
from core import messages
from core.errors import ChatOpsError, PolicyDenied, QueueUnavailable
from policies.engine import evaluate
from policies.model import Action, PolicyDocument, Subject

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """What to tell the person right away; ``job`` is set when work was queued."""

    text: str
    job: Job | None = None
    ok: bool = True
    duplicate: bool = False


class Dispatcher:
    def __init__(self, policy: PolicyDocument, store: JobStore) -> None:
        self.policy = policy
        self.store = store

    def submit(
        self, text: str, *, user: str, origin: Origin, idempotency: str | None = None
    ) -> Reply:
        try:
            return self._submit(text, user=user, origin=origin, idempotency=idempotency)
        except ChatOpsError as error:
            log.info("refused %r from %s: %s", text[:200], user, error.user_message)
            self._audit_refusal(user, text, error)
            return Reply(error.user_message, ok=False)
        except redis.RedisError:
            log.warning("redis unavailable while handling %r from %s", text[:200], user)
            return Reply(messages.QUEUE_UNAVAILABLE, ok=False)
        except Exception:
            incident = uuid.uuid4().hex[:8]
            log.exception("dispatching %r for %s failed (incident %s)", text[:200], user, incident)
            return Reply(messages.INTERNAL_ERROR.format(incident=incident), ok=False)

    def _audit_refusal(self, user: str, text: str, error: ChatOpsError) -> None:
        if isinstance(error, QueueUnavailable):
            return
        try:
            event = "denied" if isinstance(error, PolicyDenied) else "rejected"
            self.store.audit(event, by=user, text=text[:200], reason=error.user_message)
        except redis.RedisError:
            log.warning("could not audit a refusal for %s", user)

    def _allowed(self, user: str, verb: str, target: str) -> str:
        decision = evaluate(self.policy, Subject(user_id=user), Action(verb=verb, target=target))
        if not decision.allowed:
            raise PolicyDenied(messages.DENIED.format(user=user, verb=verb, reason=decision.reason))
        return decision.reason

    def _submit(self, text: str, *, user: str, origin: Origin, idempotency: str | None) -> Reply:
        command = grammar.parse(text)
        if isinstance(command, grammar.CancelRequest):
            return self._cancel(command.job_id, user)
        reason = self._allowed(user, command.verb, command.target)
        if isinstance(command, grammar.HelpRequest):
            return Reply(grammar.help_text(command.topic))
        if isinstance(command, grammar.JobsRequest):
            return Reply(render_jobs(self.store.recent(20)))
        if isinstance(command, grammar.AuditRequest):
            return Reply(render_audit(self.store.audit_tail(command.count)))
        job, created = self.store.submit(
            command, requester=user, origin=origin, decision=reason, idempotency=idempotency
        )
        if not created:
            log.info("duplicate delivery of %r from %s: job %s", text[:200], user, job.id)
            return Reply(
                messages.QUEUED.format(job_id=job.id, command=job.request.command_text()),
                job=job,
                duplicate=True,
            )
        log.info("job %s queued for %s: %s (%s)", job.id, user, command.command_text(), reason)
        return Reply(messages.QUEUED.format(job_id=job.id, command=command.command_text()), job=job)

    def _cancel(self, job_id: str, user: str) -> Reply:
        job = self.store.get(job_id)
        if job.requester != user:
            try:
                self._allowed(user, "cancel", f"job/{job_id}")
            except PolicyDenied:
                raise PolicyDenied(
                    messages.CANCEL_NOT_YOURS.format(job_id=job_id, requester=job.requester)
                ) from None
        if job.state.finished:
            return Reply(messages.CANCEL_FINISHED.format(job_id=job_id, state=job.state.value))
        after = self.store.request_cancel(job_id, by=user)
        if after.state is JobState.CANCELLED:
            return Reply(messages.CANCEL_QUEUED.format(job_id=job_id))
        if after.state.finished:
            return Reply(messages.CANCEL_FINISHED.format(job_id=job_id, state=after.state.value))
        return Reply(messages.CANCEL_RUNNING.format(job_id=job_id))
