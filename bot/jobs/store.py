"""The job store: records, the queue entry, state changes, events and the audit, in Redis.

Every write that must happen together happens in one Lua script: creating a job (with its
idempotency key, queue entry, index entry and audit line), and each state change (checked
against the job's version, so a stale writer changes nothing; a final state also sets the
retention, publishes the final event and the notification, in the same step). So there is
never a queued id without a record, a finished job without its event, or two final results.
Key layout: ``docs/jobs.md``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import redis
from pydantic import BaseModel, ValidationError
from redis.connection import parse_url
from redis.sentinel import Sentinel, SentinelConnectionPool

from bot.jobs.model import (
    AUDIT_STREAM,
    INDEX_KEY,
    NOTIFY_GROUP,
    NOTIFY_STREAM,
    SEQUENCE_KEY,
    TRANSITIONS,
    WORKER_GROUP,
    ApprovalState,
    CardLocation,
    EventType,
    Job,
    JobEvent,
    JobState,
    Notification,
    NotifyKind,
    Origin,
    QueueKind,
    Transition,
    cancel_key,
    events_key,
    idempotency_key,
    job_key,
    queue_key,
    rate_key,
    refusal_count_key,
)
from bot.jobs.queue import ensure_group, read_group
from core import messages
from core.errors import JobNotFound, JobUnreadable, QueueUnavailable
from core.i18n import english, in_language
from core.redis_target import RedisTarget
from handlers.base import RequestBase

log = logging.getLogger("k8s-chatops.audit")
store_log = logging.getLogger(__name__)
#: A command's plan for approvers (``DrainPlan``, ``PrunePlan``…), read back by its type.
PlanT = TypeVar("PlanT", bound=BaseModel)

DAY = 24 * 3600
#: Refusals audited per person per minute; more are logged only, so someone with no role
#: typing in a loop cannot fill the 90-day audit trail.
REFUSAL_AUDITS_PER_MINUTE = 10
EVENTS_MAXLEN = 1000
#: The notify stream is trimmed to about this many entries (also in ``_TRANSITION``).
NOTIFY_MAXLEN = 100_000
#: How far back ``jobs`` and ``audit`` look for entries a filter accepts (one channel's).
SCAN_LIMIT = 2000

# KEYS[1] idempotency key ('' for none), [2] job, [3] queue, [4] index, [5] audit.
# ARGV[1] job id, [2] job doc, [3] state, [4] enqueue ('1' or '0'), [5] index score (created
# at), [6] idempotency ttl, [7] audit entry, [8] audit min id, [9] queue min id, [10] index min
# score, [11] the queue entry's kind ('' for a job to run, whose entry has no kind; or
# QueueKind.PLAN). Returns the id of the job (an earlier one if the idempotency key was already
# used). Queue entries and index entries older than the job retention are trimmed here, so
# neither grows without bound.
_CREATE = """
if KEYS[1] ~= '' then
  local existing = redis.call('GET', KEYS[1])
  if existing then return existing end
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[6])
end
redis.call('HSET', KEYS[2], 'state', ARGV[3], 'doc', ARGV[2], 'version', '1')
if ARGV[4] == '1' and ARGV[11] == '' then
  redis.call('XADD', KEYS[3], 'MINID', ARGV[9], '*', 'job_id', ARGV[1])
elseif ARGV[4] == '1' then
  redis.call('XADD', KEYS[3], 'MINID', ARGV[9], '*', 'job_id', ARGV[1], 'kind', ARGV[11])
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. ARGV[10])
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[1])
redis.call('XADD', KEYS[5], 'MINID', '~', ARGV[8], '*', 'entry', ARGV[7])
return ARGV[1]
"""

# KEYS[1] job, [2] its events, [3] notify, [4] audit, [5] queue.
# ARGV[1] expected version, [2] state, [3] job doc, [4] final ('1' or '0'), [5] retention of a
# finished job, [6] the final event, [7] audit entry, [8] job id, [9] audit min id, [10] enqueue
# ('1' or '0'), [11] queue min id, [12] NotifyKind.STATE.
# Returns 1 if applied, 0 if the job had moved. Every change of a job that has a card tells the
# notifier (a final one as its result, with no kind; others as ``state``), whichever door it
# came through — a button, a typed command, the shell, expiry — so its one card is always
# current.
_TRANSITION = """
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'doc', ARGV[3],
           'version', tostring(tonumber(ARGV[1]) + 1))
redis.call('XADD', KEYS[4], 'MINID', '~', ARGV[9], '*', 'entry', ARGV[7])
if ARGV[4] == '1' then
  redis.call('EXPIRE', KEYS[1], ARGV[5])
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', '1000', '*', 'event', ARGV[6])
  redis.call('EXPIRE', KEYS[2], ARGV[5])
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', '100000', '*', 'job_id', ARGV[8])
elseif redis.call('HEXISTS', KEYS[1], 'card') == 1 then
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', '100000', '*', 'job_id', ARGV[8], 'kind', ARGV[12])
end
if ARGV[10] == '1' then
  redis.call('XADD', KEYS[5], 'MINID', ARGV[11], '*', 'job_id', ARGV[8])
end
return 1
"""


# KEYS[1] job, [2] notify. ARGV[1] the plan, [2] job id, [3] NotifyKind.PLAN.
# Returns 1 if the plan was saved, 0 if the job already had one (which stays).
_SAVE_PLAN = """
if redis.call('HSETNX', KEYS[1], 'plan', ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', '100000', '*', 'job_id', ARGV[2], 'kind', ARGV[3])
return 1
"""


#: How often, at most, a process asks the sentinels again whether the master moved.
MASTER_RECHECK_SECONDS = 1.0


class _MasterFollowingPool(SentinelConnectionPool):
    """redis-py asks the sentinels for the master only when it opens a connection, and keeps
    reusing pooled ones. After ``SENTINEL FAILOVER`` the old master keeps answering as a
    master until the sentinels reconfigure it (about 10 s here, their INFO period), and every
    write it takes meanwhile is discarded when it resyncs from the new one — jobs lost. So
    when a connection is taken, at most once a second, ask again: a changed answer closes the
    idle connections (redis-py's own check), and busy ones are dropped when given back."""

    def __init__(self, service_name: str, sentinel_manager: Sentinel, **kwargs: Any) -> None:
        super().__init__(service_name, sentinel_manager, **kwargs)  # type: ignore[no-untyped-call]
        self._checked_at = time.monotonic()

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        now = time.monotonic()
        if now - self._checked_at >= MASTER_RECHECK_SECONDS:
            self._checked_at = now
            with contextlib.suppress(redis.ConnectionError, redis.TimeoutError):
                # No master now: opening the connection will say so.
                self.get_master_address()  # type: ignore[no-untyped-call]
        return super().get_connection(*args, **kwargs)


def connect(
    target: RedisTarget | str, *, connect_timeout: float = 1.0, socket_timeout: float = 5.0
) -> redis.Redis:
    """The one place a process gets its Redis client (bot, shell, worker, node agent).

    Short timeouts by default: a slash command must be answered within 3 seconds. With
    sentinels (core.redis_target) the client asks them for the master before each new
    connection, so after a failover it reconnects to the new one; redis-py's default retry
    (10 tries, backoff from 10 ms up to 1 s) covers the blip while the sentinels promote a
    replica, and a command that still finds no master fails with QUEUE_UNAVAILABLE like any
    other Redis outage. The URL's database, user, password and TLS apply to the master.
    """
    if isinstance(target, str):
        target = RedisTarget(url=target)
    options: dict[str, Any] = {
        "socket_connect_timeout": connect_timeout,
        "socket_timeout": socket_timeout,
        "health_check_interval": 30,
        "decode_responses": True,
    }
    if not target.sentinels:
        pool = redis.ConnectionPool.from_url(target.url, **options)
        if target.password is not None:  # the URL's own would win inside from_url
            pool.connection_kwargs["password"] = target.password
        return redis.Redis.from_pool(pool)
    if target.password is not None:
        options["password"] = target.password
    from_url: dict[str, Any] = parse_url(target.url)  # type: ignore[no-untyped-call]
    for name in ("db", "username", "password"):
        if name in from_url:
            options.setdefault(name, from_url[name])
    if target.url.startswith("rediss://"):  # TLS to the master; the sentinels' plain
        options["ssl"] = True
    sentinel_options: dict[str, Any] = {
        "socket_connect_timeout": connect_timeout,
        "socket_timeout": socket_timeout,
        "decode_responses": True,
    }
    if target.sentinel_password is not None:
        sentinel_options["password"] = target.sentinel_password
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        list(target.sentinels), sentinel_kwargs=sentinel_options
    )
    assert target.master is not None  # RedisTarget refuses sentinels without a master
    client: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
        target.master, connection_pool_class=_MasterFollowingPool, **options
    )
    return client


def audit_entry(event: str, *, by: str, **fields: Any) -> str:
    """One audit line, in English whoever was answered in which language: it is for
    operators and machines."""
    entry = {
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "event": event,
        "by": by,
        **{
            name: english(value) if isinstance(value, str) else value
            for name, value in fields.items()
        },
    }
    text = json.dumps(entry, default=str, ensure_ascii=False)
    log.info(text)
    return text


def _queue_entry(job: Job) -> QueueKind | None:
    """What goes on the queue with a new job: the job itself, a plan for the approvers, or
    nothing (waiting for approval with nothing to plan)."""
    if job.state is JobState.QUEUED:
        return QueueKind.RUN
    if job.state is JobState.AWAITING_APPROVAL and job.request.plans_for_approval:
        return QueueKind.PLAN
    return None


class JobStore:
    """Jobs of every cluster, by id. ``cluster`` is the one this process serves (a worker's
    queue) and where :meth:`submit` sends a job that names no other."""

    def __init__(
        self,
        client: redis.Redis,
        cluster: str,
        *,
        retention_seconds: int = 7 * DAY,
        audit_retention_seconds: int = 90 * DAY,
    ) -> None:
        self.redis = client
        self.cluster = cluster
        self.retention_seconds = retention_seconds
        self.audit_retention_seconds = audit_retention_seconds
        self._create = client.register_script(_CREATE)
        self._move = client.register_script(_TRANSITION)
        self._save_plan = client.register_script(_SAVE_PLAN)

    def _audit_min_id(self) -> str:
        return str(int((time.time() - self.audit_retention_seconds) * 1000))

    def _job_horizon(self) -> float:
        """Queue and index entries older than this (epoch seconds) belong to records that
        have expired; they are trimmed as new ones are written."""
        return time.time() - self.retention_seconds

    def ensure_groups(self) -> None:
        """The consumer groups a worker reads: its cluster's queue, and the notify stream.
        Each from the stream's start: jobs queued before any worker of the cluster ran wait
        for the first one."""
        ensure_group(self.redis, queue_key(self.cluster), WORKER_GROUP)
        self.ensure_notify_group()

    def ensure_notify_group(self) -> None:
        """The notifiers' group only: the bot serves every cluster and reads no queue."""
        ensure_group(self.redis, NOTIFY_STREAM, NOTIFY_GROUP)

    def submit(
        self,
        request: RequestBase,
        *,
        requester: str,
        origin: Origin,
        decision: str,
        state: JobState = JobState.QUEUED,
        idempotency: str | None = None,
        approval: ApprovalState | None = None,
        roles: tuple[str, ...] = (),
        cluster: str | None = None,
        run_before: datetime | None = None,
    ) -> tuple[Job, bool]:
        """Record (and queue, on ``cluster``'s queue: this store's own by default) a job;
        return it and whether it is new (False: a duplicate).

        The job shows ``decision`` in its channel's language (the card); its history and the
        audit keep it in English."""
        target_cluster = cluster or self.cluster
        try:
            job_id = str(self.redis.incr(SEQUENCE_KEY))
            job = Job(
                id=job_id,
                cluster=target_cluster,
                request=request,
                requester=requester,
                origin=origin,
                decision=in_language(decision, origin.language),
                state=state,
                version=1,
                history=[Transition(state=state, by=requester, reason=english(decision))],
                approval=approval,
                roles=list(roles),
                run_before=run_before,
            )
            entry = audit_entry(
                "requested",
                by=requester,
                job=job_id,
                command=request.command_text(),
                decision=decision,
                state=state.value,
                cluster=target_cluster,
                channel=origin.channel,
            )
            queued = _queue_entry(job)
            created = self._create(
                keys=[
                    idempotency_key(idempotency) if idempotency else "",
                    job_key(job_id),
                    queue_key(target_cluster),
                    INDEX_KEY,
                    AUDIT_STREAM,
                ],
                args=[
                    job_id,
                    job.model_dump_json(),
                    state.value,
                    "0" if queued is None else "1",
                    job.created_at.timestamp(),
                    DAY,
                    entry,
                    self._audit_min_id(),
                    str(int(self._job_horizon() * 1000)),
                    self._job_horizon(),
                    "" if queued in (None, QueueKind.RUN) else queued.value,
                ],
            )
            if str(created) != job_id:
                return self.get(str(created)), False
        except redis.RedisError as error:
            raise QueueUnavailable(messages.QUEUE_UNAVAILABLE.format()) from error
        return job, True

    def get(self, job_id: str) -> Job:
        doc = self.redis.hget(job_key(job_id), "doc")
        if doc is None:
            raise JobNotFound(messages.JOB_NOT_FOUND.format(job_id=job_id))
        try:
            return Job.model_validate_json(str(doc))
        except ValidationError as error:
            raise self._quarantine(job_id, error) from None

    def _quarantine(self, job_id: str, error: ValidationError) -> JobUnreadable:
        """Take an unreadable record out of the index (so lists stop tripping on it) and give it
        the retention of a finished job; it stays readable by hand until then."""
        incident = uuid.uuid4().hex[:8]
        store_log.error(
            "job %s has an unreadable record (incident %s): %d validation errors, first at %s",
            job_id,
            incident,
            error.error_count(),
            ".".join(str(part) for part in error.errors()[0]["loc"]) if error.errors() else "?",
        )
        try:
            pipe = self.redis.pipeline(transaction=True)
            pipe.zrem(INDEX_KEY, job_id)
            pipe.expire(job_key(job_id), self.retention_seconds)
            pipe.execute()
        except redis.RedisError:
            store_log.warning("could not quarantine job %s", job_id)
        return JobUnreadable(messages.JOB_UNREADABLE.format(job_id=job_id, incident=incident))

    def transition(
        self,
        job: Job,
        state: JobState,
        *,
        by: str,
        reason: str = "",
        audit_event: str | None = None,
        **changes: Any,
    ) -> Job | None:
        """Move ``job`` to ``state``; None if it moved meanwhile (nothing is written then).

        Entering ``queued`` also puts the job on the queue, in the same step.
        """
        if state not in TRANSITIONS.get(job.state, frozenset()):
            raise ValueError(f"job {job.id}: {job.state.value} → {state.value} is not allowed")
        step = Transition(state=state, by=by, reason=english(reason))
        updated = job.model_copy(
            update={
                **changes,
                "state": state,
                "version": job.version + 1,
                "history": [*job.history, step],
            }
        )
        final = state.finished
        event = JobEvent(type=EventType.FINISHED, job_id=job.id, state=state).model_dump_json()
        outcome = {"error": updated.error} if updated.error else {}
        entry = audit_entry(
            audit_event or state.value,
            by=by,
            job=job.id,
            command=job.request.command_text(),
            reason=reason,
            cluster=job.cluster,
            channel=job.origin.channel,
            **outcome,
        )
        enqueue = state is JobState.QUEUED and job.state is not JobState.QUEUED
        moved = self._move(
            keys=[
                job_key(job.id),
                events_key(job.id),
                NOTIFY_STREAM,
                AUDIT_STREAM,
                queue_key(job.cluster),
            ],
            args=[
                str(job.version),
                state.value,
                updated.model_dump_json(),
                "1" if final else "0",
                self.retention_seconds,
                event,
                entry,
                job.id,
                self._audit_min_id(),
                "1" if enqueue else "0",
                str(int(self._job_horizon() * 1000)),
                NotifyKind.STATE.value,
            ],
        )
        return updated if moved == 1 else None

    def save_plan(self, job_id: str, plan: BaseModel) -> bool:
        """Keep the plan approvers look at, and tell the card to show it; whether it was
        saved. A plan once saved is never replaced (a plan entry run again, after the worker
        that saved it died before acknowledging, finds it there): everyone who approves a
        job saw the same plan, and the approved request carries that one."""
        saved = self._save_plan(
            keys=[job_key(job_id), NOTIFY_STREAM],
            args=[plan.model_dump_json(), job_id, NotifyKind.PLAN.value],
        )
        return bool(saved)

    def plan(self, job_id: str, model: type[PlanT]) -> PlanT | None:
        """The plan saved for ``job_id``, read as its command's plan ``model``; None when
        there is none, or it does not read as one (a record from another version)."""
        raw = self.redis.hget(job_key(job_id), "plan")
        if not raw:
            return None
        try:
            return model.model_validate_json(str(raw))
        except ValidationError:
            store_log.warning("the plan of job %s does not read as a %s", job_id, model.__name__)
            return None

    def emit_progress(self, job_id: str, lines: Iterable[str], *, notify: bool = False) -> None:
        """Append progress; with ``notify``, also tell renderers that follow the notify stream
        (the Slack card), which they may treat as best-effort."""
        text = "\n".join(lines)
        if not text:
            return
        event = JobEvent(type=EventType.PROGRESS, job_id=job_id, message=text)
        key = events_key(job_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(key, {"event": event.model_dump_json()}, maxlen=EVENTS_MAXLEN, approximate=True)
        pipe.expire(key, self.retention_seconds)
        if notify:
            line = text.splitlines()[-1][:200]
            pipe.xadd(
                NOTIFY_STREAM,
                {"job_id": job_id, "kind": NotifyKind.PROGRESS.value, "line": line},
                maxlen=NOTIFY_MAXLEN,
                approximate=True,
            )
        pipe.execute()

    def read_notifications(
        self, consumer: str, *, count: int, block_ms: int | None, reclaim_idle_ms: int
    ) -> list[Notification]:
        """The next notify entries for ``consumer`` (abandoned ones first), parsed.

        An entry this version cannot read is logged with an incident id and left pending, like
        any entry the notifier fails on: it is offered again after ``reclaim_idle_ms``.
        """
        entries = read_group(
            self.redis,
            NOTIFY_STREAM,
            NOTIFY_GROUP,
            consumer,
            count=count,
            block_ms=block_ms,
            reclaim_idle_ms=reclaim_idle_ms,
        )
        notifications = []
        for entry_id, fields in entries:
            try:
                notifications.append(Notification.model_validate({**fields, "entry_id": entry_id}))
            except ValidationError as error:
                store_log.error(
                    "notify entry %s is unreadable (incident %s): %d validation errors",
                    entry_id,
                    uuid.uuid4().hex[:8],
                    error.error_count(),
                )
        return notifications

    def ack_notification(self, entry_id: str) -> None:
        self.redis.xack(NOTIFY_STREAM, NOTIFY_GROUP, entry_id)

    def save_card(self, job_id: str, card: CardLocation) -> None:
        """Remember where the job's card is; from now on every change of the job refreshes it
        (``_TRANSITION``)."""
        self.redis.hset(job_key(job_id), "card", card.model_dump_json())

    def card(self, job_id: str) -> CardLocation | None:
        raw = self.redis.hget(job_key(job_id), "card")
        return CardLocation.model_validate_json(str(raw)) if raw else None

    def claim_notification(self, job_id: str, *, by: str) -> bool:
        """Whether ``by`` is the one to post the job's result (HSETNX: the first caller is)."""
        return bool(self.redis.hsetnx(job_key(job_id), "notified", by))

    def release_notification(self, job_id: str) -> None:
        """Give up the claim after a post that did not happen, so a retry may post."""
        self.redis.hdel(job_key(job_id), "notified")

    def events(self, job_id: str) -> list[JobEvent]:
        return [
            JobEvent.model_validate_json(fields["event"])
            for _, fields in cast(Any, self.redis.xrange(events_key(job_id)))
        ]

    def wait_finished(self, job_id: str, timeout: float) -> Job | None:
        """Block until the job's final event arrives (or ``timeout``); return the job."""
        deadline = time.monotonic() + timeout
        last_id = "0"
        while (remaining := deadline - time.monotonic()) > 0:
            block_ms = max(1, int(min(remaining, 2.0) * 1000))
            entries = cast(Any, self.redis.xread({events_key(job_id): last_id}, block=block_ms))
            for _stream, items in entries or []:
                for entry_id, fields in items:
                    last_id = entry_id
                    event = JobEvent.model_validate_json(fields["event"])
                    if event.type is EventType.FINISHED:
                        return self.get(job_id)
        return None

    def request_cancel(self, job_id: str, *, by: str) -> Job:
        """Cancel a job that has not started; flag a running one to stop at a safe point."""
        for _ in range(5):
            job = self.get(job_id)
            if job.state.finished:
                return job
            if job.state is JobState.RUNNING:
                self.redis.set(cancel_key(job_id), by, ex=self.retention_seconds)
                self.redis.xadd(
                    AUDIT_STREAM,
                    {
                        "entry": audit_entry(
                            "cancel requested",
                            by=by,
                            job=job_id,
                            command=job.request.command_text(),
                            cluster=job.cluster,
                            channel=job.origin.channel,
                        )
                    },
                )
                return job
            cancelled = self.transition(
                job,
                JobState.CANCELLED,
                by=by,
                reason="cancelled before it started",
                finished_at=datetime.now(UTC),
            )
            if cancelled is not None:
                return cancelled
        return self.get(job_id)

    def count_recent(
        self, user: str, window_seconds: float, *, record: bool, cluster: str | None = None
    ) -> int:
        """Changes ``user`` asked for on ``cluster`` (this store's by default) in the last
        ``window_seconds`` (recording this one first)."""
        key = rate_key(cluster or self.cluster, user)
        now = time.time()
        pipe = self.redis.pipeline(transaction=True)
        pipe.zremrangebyscore(key, 0, now - window_seconds)
        if record:
            pipe.zadd(key, {f"{now:.6f}": now})
        pipe.zcard(key)
        pipe.expire(key, int(window_seconds) + 60)
        return int(pipe.execute()[-2])

    def expire_overdue(self, now: datetime | None = None, *, scan: int = 200) -> list[Job]:
        """Mark jobs whose approval window has passed as expired."""
        moment = now or datetime.now(UTC)
        expired = []
        for job in self.recent(scan):
            if (
                job.state is JobState.AWAITING_APPROVAL
                and job.approval
                and job.approval.expires_at <= moment
            ):
                done = self.transition(
                    job,
                    JobState.EXPIRED,
                    by="k8s-chatops",
                    reason="approval window passed",
                    finished_at=moment,
                )
                if done is not None:
                    expired.append(done)
        return expired

    def refresh_waiting_cards(self, cluster: str, *, limit: int = 100) -> int:
        """Ask the notifier to re-render the cards of ``cluster``'s jobs that have not started
        (queued, or waiting for approval): whether they wait for a worker changes when the
        cluster's first worker starts or its last one stops. How many were asked for."""
        waiting = self.recent(
            limit,
            where=lambda job: (
                job.cluster == cluster
                and job.state in (JobState.QUEUED, JobState.AWAITING_APPROVAL)
            ),
        )
        carded = [job for job in waiting if self.redis.hexists(job_key(job.id), "card")]
        if carded:
            pipe = self.redis.pipeline(transaction=False)
            for job in carded:
                pipe.xadd(
                    NOTIFY_STREAM,
                    {"job_id": job.id, "kind": NotifyKind.STATE.value},
                    maxlen=NOTIFY_MAXLEN,
                    approximate=True,
                )
            pipe.execute()
        return len(carded)

    def cancel_requested(self, job_id: str) -> bool:
        return bool(self.redis.exists(cancel_key(job_id)))

    def recent(self, limit: int = 20, *, where: Callable[[Job], bool] | None = None) -> list[Job]:
        """Newest jobs first (those ``where`` accepts, looking at most ``SCAN_LIMIT`` back);
        ids whose records have expired are dropped from the index."""
        jobs: list[Job] = []
        page = limit * 2 + 1 if where is None else 100
        for start in range(0, SCAN_LIMIT, page):
            ids = cast(list[str], self.redis.zrevrange(INDEX_KEY, start, start + page - 1))
            for job_id in ids:
                try:
                    job = self.get(job_id)
                except JobNotFound:
                    self.redis.zrem(INDEX_KEY, job_id)
                    continue
                if where is None or where(job):
                    jobs.append(job)
                if len(jobs) == limit:
                    return jobs
            if len(ids) < page or where is None:
                break
        return jobs

    def audit_tail(
        self, count: int, *, where: Callable[[dict[str, Any]], bool] | None = None
    ) -> list[dict[str, Any]]:
        """The last ``count`` audit entries (that ``where`` accepts, looking at most
        ``SCAN_LIMIT`` entries back), oldest first."""
        if where is None:
            entries = cast(Any, self.redis.xrevrange(AUDIT_STREAM, count=count))
            return [json.loads(fields["entry"]) for _, fields in reversed(entries or [])]
        found: list[dict[str, Any]] = []
        before = "+"
        scanned = 0
        while len(found) < count and scanned < SCAN_LIMIT:
            batch = cast(Any, self.redis.xrevrange(AUDIT_STREAM, max=before, count=200)) or []
            for entry_id, fields in batch:
                if entry_id == before:
                    continue
                entry = json.loads(fields["entry"])
                if where(entry):
                    found.append(entry)
                    if len(found) == count:
                        break
            scanned += len(batch)
            if len(batch) < 200:
                break
            before = batch[-1][0]
        return list(reversed(found))

    def audit(self, event: str, *, by: str, **fields: Any) -> None:
        """Record something that is not a job transition (a refusal, a denied click)."""
        self.redis.xadd(
            AUDIT_STREAM,
            {"entry": audit_entry(event, by=by, **fields)},
            minid=self._audit_min_id(),
            approximate=True,
        )

    def audit_refusal(self, event: str, *, by: str, **fields: Any) -> bool:
        """Audit a refused request, at most ``REFUSAL_AUDITS_PER_MINUTE`` per person per
        minute; the first one over the limit is audited as a note that more were dropped.
        Whether this one was audited."""
        minute = int(time.time() // 60)
        key = refusal_count_key(by, minute)
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, 120)
        count = int(pipe.execute()[0])
        if count <= REFUSAL_AUDITS_PER_MINUTE:
            self.audit(event, by=by, **fields)
            return True
        if count == REFUSAL_AUDITS_PER_MINUTE + 1:
            self.audit(
                "refusals not audited",
                by=by,
                reason=f"more than {REFUSAL_AUDITS_PER_MINUTE} refusals in a minute; "
                "the rest of this minute's are in the bot's log only",
            )
        return False
