"""The one path every chat surface uses: text in, a reply (and maybe a job) out.

Parsing, the policy decision and queueing happen here, and so does the one ``except`` that
turns errors into replies: a :class:`ChatOpsError` shows its sentence; anything else is logged
with an incident id and the person gets a short generic answer, never a traceback. Every
request and its outcome — queued, waiting for approval, refused, approved — is audited.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import redis

from bot.commands import grammar
from bot.commands.approvals import Approvals
from bot.commands.render import render_audit, render_jobs
from bot.commands.replies import Reply
from bot.jobs import facts
from bot.jobs.model import ApprovalState, Job, JobState, Origin
from bot.jobs.store import JobStore
from core import messages
from core.errors import ChatOpsError, JobNotFound, PolicyDenied, QueueUnavailable
from core.text import code
from handlers.logs_models import PodLogs
from policies.engine import Facts, evaluate, groups_of, permitted_verbs, roles_of
from policies.model import Action, Decision, Outcome, PolicyDocument, Subject, parse_duration

log = logging.getLogger(__name__)

#: Extra group memberships from outside the policy file (Slack user groups), by user id.
GroupResolver = Callable[[str, PolicyDocument], frozenset[str]]


def _no_external_groups(user: str, policy: PolicyDocument) -> frozenset[str]:
    del user, policy
    return frozenset()


class Dispatcher:
    def __init__(
        self,
        policy: PolicyDocument | Callable[[], PolicyDocument],
        store: JobStore,
        *,
        resolve_groups: GroupResolver = _no_external_groups,
    ) -> None:
        self._policy = policy
        self.store = store
        self.resolve_groups = resolve_groups

    @property
    def policy(self) -> PolicyDocument:
        """The policy in force (a watcher may swap it between requests)."""
        return self._policy() if callable(self._policy) else self._policy

    def subject(self, user: str, channel: str | None) -> Subject:
        policy = self.policy
        groups = groups_of(policy, user) | self.resolve_groups(user, policy)
        return Subject(user_id=user, groups=groups, channel=channel)

    def submit(
        self, text: str, *, user: str, origin: Origin, idempotency: str | None = None
    ) -> Reply:
        try:
            return self._submit(text, user=user, origin=origin, idempotency=idempotency)
        except ChatOpsError as error:
            log.info("refused %r from %s: %s", text[:200], user, error.user_message)
            self._audit_refusal(user, text, error, origin.channel)
            return Reply(error.user_message, ok=False)
        except redis.RedisError:
            log.warning("redis unavailable while handling %r from %s", text[:200], user)
            return Reply(messages.QUEUE_UNAVAILABLE, ok=False)
        except Exception:
            incident = uuid.uuid4().hex[:8]
            log.exception("dispatching %r for %s failed (incident %s)", text[:200], user, incident)
            return Reply(messages.INTERNAL_ERROR.format(incident=incident), ok=False)

    def _audit_refusal(
        self, user: str, text: str, error: ChatOpsError, channel: str | None
    ) -> None:
        if isinstance(error, QueueUnavailable):
            return
        try:
            event = "denied" if isinstance(error, PolicyDenied) else "rejected"
            self.store.audit_refusal(
                event, by=user, text=text[:200], reason=error.user_message, channel=channel
            )
        except redis.RedisError:
            log.warning("could not audit a refusal for %s", user)

    def decide(self, subject: Subject, command: grammar.Parsed) -> Decision:
        if isinstance(command, PodLogs):
            return self._decide_logs(subject, command)
        policy = self.policy
        node = command.target.removeprefix("node/") if command.target.startswith("node/") else None
        disrupts = bool(getattr(command, "disrupts", None))
        mutating = bool(getattr(command, "mutating", False))
        known = facts.read(self.store.redis, self.store.cluster, node)
        rate = policy.limits.rate
        recent = 0
        if rate and mutating:
            window = parse_duration(rate.per).total_seconds()
            recent = self.store.count_recent(subject.user_id, window, record=False)
        action = Action(
            verb=command.verb,
            target=command.target,
            node=node,
            node_labels=known.labels,
            flags=frozenset(getattr(command, "flags", frozenset())),
            disrupts=disrupts,
        )
        return evaluate(
            policy,
            subject,
            action,
            Facts(
                unschedulable_nodes=known.unschedulable_nodes,
                total_nodes=known.total_nodes,
                target_unschedulable=known.unschedulable,
                recent_requests=recent,
            ),
        )

    def _decide_logs(self, subject: Subject, command: PodLogs) -> Decision:
        """Logs are decided per namespace: every one named must be allowed; ``-A`` needs the
        namespaces no rule names to be allowed (the named ones are checked by
        :meth:`_logs_exclusions`)."""
        policy = self.policy
        namespaces: list[str | None] = [None] if command.all_namespaces else [*command.namespaces]
        decisions = [
            (
                ns,
                evaluate(policy, subject, Action(verb="logs", target=command.target, namespace=ns)),
            )
            for ns in namespaces
        ]
        for namespace, decision in decisions:
            if decision.outcome is Outcome.DENY:
                reason = (
                    messages.LOGS_DENIED_IN.format(
                        namespace=code(namespace), reason=decision.reason
                    )
                    if namespace
                    else messages.LOGS_DENIED_EVERYWHERE.format(reason=decision.reason)
                )
                return decision.model_copy(update={"reason": reason})
        pending = [d for _, d in decisions if d.outcome is Outcome.NEEDS_APPROVAL]
        return pending[0] if pending else decisions[0][1]

    def _logs_exclusions(self, subject: Subject, command: PodLogs) -> PodLogs:
        """For ``-A``: leave out each namespace the policy names that this person may not
        read freely, so one restricted namespace does not refuse the whole fetch."""
        if not command.all_namespaces:
            return command
        policy = self.policy
        named = {ns for rule in policy.rules for ns in rule.namespaces}
        excluded = sorted(
            ns
            for ns in named
            if evaluate(
                policy, subject, Action(verb="logs", target=command.target, namespace=ns)
            ).outcome
            is not Outcome.ALLOW
        )
        return command.model_copy(update={"excluded_namespaces": tuple(excluded)})

    def _allowed(self, subject: Subject, command: grammar.Parsed) -> Decision:
        decision = self.decide(subject, command)
        if decision.outcome is Outcome.DENY:
            raise PolicyDenied(
                messages.DENIED.format(
                    user=subject.user_id, verb=code(command.verb), reason=decision.reason
                )
            )
        return decision

    def _submit(self, text: str, *, user: str, origin: Origin, idempotency: str | None) -> Reply:
        command = grammar.parse(text)
        subject = self.subject(user, origin.channel)
        if isinstance(command, grammar.CancelRequest):
            self._check_reach(command.job_id, origin)
            return self._cancel(command.job_id, subject)
        if isinstance(command, grammar.ApproveRequest):
            self._check_reach(command.job_id, origin)
            return Approvals(self.store, self.policy).answer(command, subject)
        decision = self._allowed(subject, command)
        if isinstance(command, PodLogs):
            command = self._logs_exclusions(subject, command)
        if isinstance(command, grammar.HelpRequest):
            allowed = set(permitted_verbs(self.policy, subject))
            return Reply(grammar.help_text(command.topic, allowed=allowed))
        if isinstance(command, grammar.WhoamiRequest):
            return Reply(self._whoami(subject))
        if isinstance(command, grammar.JobsRequest):
            self.store.expire_overdue()
            return Reply(render_jobs(self.store.recent(20, where=self._reaches_job(origin))))
        if isinstance(command, grammar.AuditRequest):
            reaches = self._reaches_channel(origin)
            entries = self.store.audit_tail(
                command.count, where=lambda entry: reaches(entry.get("channel"))
            )
            return Reply(render_audit(entries))
        return self._create_job(command, decision, user, origin, idempotency)

    def _create_job(
        self,
        command: grammar.Parsed,
        decision: Decision,
        user: str,
        origin: Origin,
        idempotency: str | None,
    ) -> Reply:
        approval = None
        state = JobState.QUEUED
        if decision.outcome is Outcome.NEEDS_APPROVAL and decision.requirement:
            state = JobState.AWAITING_APPROVAL
            expires = datetime.now(UTC) + parse_duration(decision.requirement.expires_in)
            approval = ApprovalState(requirement=decision.requirement, expires_at=expires)
        job, created = self.store.submit(
            command,  # type: ignore[arg-type]  # immediate requests returned above
            requester=user,
            origin=origin,
            decision=decision.reason,
            state=state,
            idempotency=idempotency,
            approval=approval,
            roles=decision.roles,
        )
        if getattr(command, "mutating", False) and created:
            rate = self.policy.limits.rate
            window = parse_duration(rate.per).total_seconds() if rate else 3600.0
            self.store.count_recent(user, window, record=True)
        text = command.command_text()  # type: ignore[union-attr]
        if not created:
            log.info("duplicate delivery of %r from %s: job %s", text, user, job.id)
        if job.state is JobState.AWAITING_APPROVAL and job.approval:
            reply = messages.APPROVAL_NEEDED.format(
                job_id=job.id,
                needed=job.approval.requirement.describe(),
                expires=job.approval.expires_at.strftime("%H:%M UTC"),
            )
        else:
            reply = messages.QUEUED.format(job_id=job.id, command=code(text))
        log.info("job %s %s for %s: %s (%s)", job.id, job.state.value, user, text, decision.reason)
        return Reply(reply, job=job, duplicate=not created, created=created)

    def _reaches_channel(self, origin: Origin) -> Callable[[str | None], bool]:
        """Which channels' jobs a command from ``origin`` may see and answer.

        From Slack: its own channel's, or every channel's from an oversight channel. The shell
        is run by someone who already holds the Redis credentials, so it reaches everything.
        """
        if origin.surface != "slack" or self.policy.oversees(origin.channel):
            return lambda channel: True
        return lambda channel: channel is not None and channel == origin.channel

    def _reaches_job(self, origin: Origin) -> Callable[[Job], bool]:
        reaches = self._reaches_channel(origin)
        return lambda job: reaches(job.origin.channel)

    def _check_reach(self, job_id: str, origin: Origin) -> None:
        """Answering a job from another channel is refused as if it did not exist there, so a
        private channel's jobs are not even confirmed to exist."""
        if not self._reaches_job(origin)(self.store.get(job_id)):
            raise JobNotFound(messages.JOB_NOT_IN_CHANNEL.format(job_id=job_id))

    def _whoami(self, subject: Subject) -> str:
        policy = self.policy
        roles = roles_of(policy, subject)
        return messages.WHOAMI.format(
            user=subject.user_id,
            roles=", ".join(roles) or "none",
            groups=", ".join(sorted(subject.groups)) or "none",
            verbs=", ".join(permitted_verbs(policy, subject)) or "nothing",
        )

    def _cancel(self, job_id: str, subject: Subject) -> Reply:
        job = self.store.get(job_id)
        if job.requester != subject.user_id:
            decision = evaluate(self.policy, subject, Action(verb="cancel", target=f"job/{job_id}"))
            if decision.outcome is Outcome.DENY:
                raise PolicyDenied(
                    messages.CANCEL_NOT_YOURS.format(job_id=job_id, requester=job.requester)
                )
        if job.state.finished:
            return Reply(messages.CANCEL_FINISHED.format(job_id=job_id, state=job.state.value))
        after = self.store.request_cancel(job_id, by=subject.user_id)
        if after.state is JobState.CANCELLED:
            return Reply(messages.CANCEL_QUEUED.format(job_id=job_id))
        if after.state.finished:
            return Reply(messages.CANCEL_FINISHED.format(job_id=job_id, state=after.state.value))
        return Reply(messages.CANCEL_RUNNING.format(job_id=job_id))
