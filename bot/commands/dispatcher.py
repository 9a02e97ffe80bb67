"""The one path every chat surface uses: text in, a reply (and maybe a job) out.

Parsing (the registry's grammar), routing to a cluster (:mod:`bot.commands.routing`), the
policy decision and queueing on that cluster's queue happen here, and so does
the one ``except`` that turns errors into replies: a :class:`ChatOpsError` shows its sentence;
anything else is logged with an incident id and the person gets a short generic answer, never a
traceback. Every request and its outcome — queued, waiting for approval, refused, approved — is
audited. Decisions are the :class:`~bot.commands.decider.Decider`'s, which ``k8s-chatops
policy check`` uses too, so a reviewer is told exactly what the bot would decide.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Literal

import redis

from bot import logs
from bot.commands import grammar
from bot.commands.decider import Decider, FactsSource, run_before
from bot.commands.registry import Context, Parsed, Registry, registry
from bot.commands.replies import Reply
from bot.commands.routing import ClusterRouter
from bot.jobs import clusters, facts
from bot.jobs.model import ApprovalState, Job, JobState, Origin
from bot.jobs.store import JobStore
from core import formats, messages
from core.errors import ChatOpsError, JobNotFound, PolicyDenied, QueueUnavailable
from core.i18n import english
from core.text import code
from policies.engine import groups_of
from policies.model import Decision, Outcome, PolicyDocument, Subject, parse_duration

log = logging.getLogger(__name__)

#: Extra group memberships from outside the policy file (Slack user groups), by user id.
GroupResolver = Callable[[str, PolicyDocument], frozenset[str]]


def _no_external_groups(user: str, policy: PolicyDocument) -> frozenset[str]:
    del user, policy
    return frozenset()


class _Default(Enum):
    STORE = "the store's own cluster"


#: The default cluster is the store's: one cluster, configured by whoever built the store.
STORE_CLUSTER = _Default.STORE


class Dispatcher:
    def __init__(
        self,
        policy: PolicyDocument | Callable[[], PolicyDocument],
        store: JobStore,
        *,
        resolve_groups: GroupResolver = _no_external_groups,
        commands: Registry | None = None,
        facts_source: FactsSource | None = None,
        default_cluster: str | Literal[_Default.STORE] | None = STORE_CLUSTER,
        seen_clusters: Callable[[], Iterable[str]] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``default_cluster``: where a command naming no cluster goes when its channel has
        no default (None: only when exactly one cluster is known; see
        :mod:`bot.commands.routing`). ``seen_clusters``: clusters workers reported from."""
        self._policy = policy
        self.store = store
        self.resolve_groups = resolve_groups
        self.commands = commands or registry()
        self.router = ClusterRouter(
            lambda: self.policy,
            seen_clusters
            or (lambda: clusters.seen(store.redis, within_seconds=store.retention_seconds)),
            store.cluster if default_cluster is STORE_CLUSTER else default_cluster,
        )
        #: The time decisions are made at (tests set it to decide inside or outside windows).
        self.clock = clock
        self.decider = Decider(
            lambda: self.policy,
            self.commands,
            facts_source or (lambda node, cluster: facts.read(store.redis, cluster, node)),
            lambda user, window, cluster: store.count_recent(
                user, window, record=False, cluster=cluster
            ),
        )

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
        with logs.cluster_scope():  # log lines and audit entries name the cluster, once known
            return self._reply(text, user=user, origin=origin, idempotency=idempotency)

    def _reply(self, text: str, *, user: str, origin: Origin, idempotency: str | None) -> Reply:
        try:
            return self._submit(text, user=user, origin=origin, idempotency=idempotency)
        except ChatOpsError as error:
            log.info("refused %r from %s: %s", text[:200], user, english(error.user_message))
            self._audit_refusal(user, text, error, origin.channel)
            rule = error.rule if isinstance(error, PolicyDenied) else ""
            return Reply(error.user_message, ok=False, rule=rule)
        except redis.RedisError:
            log.warning("redis unavailable while handling %r from %s", text[:200], user)
            return Reply(messages.QUEUE_UNAVAILABLE.format(), ok=False)
        except Exception:
            incident = uuid.uuid4().hex[:8]
            log.exception("dispatching %r for %s failed (incident %s)", text[:200], user, incident)
            return Reply(messages.INTERNAL_ERROR.format(incident=incident), ok=False)

    def _audit_refusal(
        self, user: str, text: str, error: ChatOpsError, channel: str | None
    ) -> None:
        if isinstance(error, QueueUnavailable):
            return
        cluster = logs.current_cluster()
        try:
            denied = isinstance(error, PolicyDenied)
            rule = {"rule": error.rule} if isinstance(error, PolicyDenied) and error.rule else {}
            self.store.audit_refusal(
                "denied" if denied else "rejected",
                by=user,
                text=text[:200],
                reason=error.user_message,
                channel=channel,
                **({"cluster": cluster} if cluster else {}),
                **rule,
            )
        except redis.RedisError:
            log.warning("could not audit a refusal for %s", user)

    def decide(
        self,
        subject: Subject,
        parsed: Parsed,
        *,
        owner: str | None = None,
        now: datetime | None = None,
        cluster: str | None = None,
    ) -> Decision:
        return self.decider.decide(
            subject, parsed, owner=owner, now=now or self.clock(), cluster=cluster
        )

    def decide_job(self, job: Job, now: datetime) -> Decision:
        """``job``'s own request decided again at ``now`` on the job's cluster, for its
        requester as they are now (groups, and the channel the job was asked in)."""
        requester = self.subject(job.requester, job.origin.channel)
        return self.decider.decide_job(requester, job, now=now)

    def _allowed(
        self, subject: Subject, parsed: Parsed, job: Job | None, now: datetime, cluster: str | None
    ) -> Decision:
        owner = job.requester if job is not None else None
        decision = self.decide(subject, parsed, owner=owner, now=now, cluster=cluster)
        if decision.outcome is Outcome.DENY:
            raise PolicyDenied(
                messages.DENIED.format(
                    user=subject.user_id, verb=code(parsed.command.verb), reason=decision.reason
                ),
                rule=decision.rule,
            )
        return decision

    # --- The path of one command -------------------------------------------------------------

    def _submit(self, text: str, *, user: str, origin: Origin, idempotency: str | None) -> Reply:
        parsed = grammar.parse_command(text)
        command, request = parsed.command, parsed.request
        subject = self.subject(user, origin.channel)
        job = self._named_job(request.job_id, origin) if command.names_a_job else None
        cluster = self.router.route(parsed, origin.channel, job)
        logs.set_cluster(cluster)
        now = self.clock()
        decision = self._allowed(subject, parsed, job, now, cluster)
        context = Context(
            store=self.store,
            policy=self.policy,
            subject=subject,
            origin=origin,
            decision=decision,
            commands=self.commands,
            reaches=self._reaches_channel(origin),
            cluster=cluster,
            known_clusters=self.router.known,
            now=now,
            decide_job=self.decide_job,
        )
        if command.prepare is not None:
            request = command.prepare(context, request)
        if command.answer is not None:
            reply = command.answer(context, request)
        else:
            assert cluster is not None  # the router gives every job command one, or refuses
            reply = self._create_job(
                request, decision, user, origin, idempotency, now=now, cluster=cluster
            )
        return dataclasses.replace(reply, rule=reply.rule or decision.rule)

    def _create_job(
        self,
        request: Any,
        decision: Decision,
        user: str,
        origin: Origin,
        idempotency: str | None,
        *,
        now: datetime,
        cluster: str,
    ) -> Reply:
        approval = None
        state = JobState.QUEUED
        until = None
        if decision.outcome is Outcome.NEEDS_APPROVAL and decision.requirement:
            state = JobState.AWAITING_APPROVAL
            expires = now + parse_duration(decision.requirement.expires_in)
            approval = ApprovalState(requirement=decision.requirement, expires_at=expires)
        else:
            until = run_before(self.policy, request, now, cluster)
        job, created = self.store.submit(
            request,
            requester=user,
            origin=origin,
            decision=decision.reason,
            state=state,
            idempotency=idempotency,
            approval=approval,
            roles=decision.roles,
            cluster=cluster,
            run_before=until,
        )
        if request.mutating and created:
            rate = self.policy.limits.for_cluster(cluster).rate
            window = parse_duration(rate.per).total_seconds() if rate else 3600.0
            self.store.count_recent(user, window, record=True, cluster=cluster)
        text = request.command_text()
        if not created:
            log.info("duplicate delivery of %r from %s: job %s", text, user, job.id)
        if job.state is JobState.AWAITING_APPROVAL and job.approval:
            reply = messages.APPROVAL_NEEDED.format(
                job_id=job.id,
                needed=job.approval.requirement.describe(),
                expires=formats.clock(job.approval.expires_at),
            ) + messages.WAITS_ON.format(cluster=job.cluster)
        else:
            reply = messages.QUEUED.format(job_id=job.id, command=code(text))
            reply += messages.QUEUED_ON.format(cluster=job.cluster)
        unserved = not clusters.live_workers(self.store.redis, job.cluster)
        if unserved:
            reply += " " + messages.NO_WORKER.format(cluster=job.cluster)
        log.info("job %s %s for %s: %s (%s)", job.id, job.state.value, user, text, decision.reason)
        return Reply(reply, job=job, duplicate=not created, created=created, no_worker=unserved)

    # --- Which jobs a channel reaches ----------------------------------------------------------

    def _reaches_channel(self, origin: Origin) -> Callable[[str | None], bool]:
        """Which channels' jobs a command from ``origin`` may see and answer.

        From Slack: its own channel's, or every channel's from an oversight channel. The shell
        is run by someone who already holds the Redis credentials, so it reaches everything.
        """
        if origin.surface != "slack" or self.policy.oversees(origin.channel):
            return lambda channel: True
        return lambda channel: channel is not None and channel == origin.channel

    def _named_job(self, job_id: str, origin: Origin) -> Job:
        """The job a command names, if this channel reaches it; another channel's job is
        refused as if it did not exist here, so a private channel's jobs are not even
        confirmed to exist."""
        job = self.store.get(job_id)
        if not self._reaches_channel(origin)(job.origin.channel):
            raise JobNotFound(messages.JOB_NOT_IN_CHANNEL.format(job_id=job_id))
        return job
