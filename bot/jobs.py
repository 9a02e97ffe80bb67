"""Job records, the work queue and job events, all in Redis.

Layout (``{c}`` is the cluster name):

- ``k8s-chatops:job-seq``              INCR counter for short job ids people can type
- ``k8s-chatops:job:{id}``             hash: ``doc`` (the Job as JSON) and ``state``
- ``k8s-chatops:{c}:queue``            stream of ``job_id`` entries; consumer group ``workers``
- ``k8s-chatops:job:{id}:events``      stream of progress and the final event, for renderers
- ``k8s-chatops:notify``               stream of finished jobs; consumer group ``notifiers``

A job record is written and its id queued in one MULTI/EXEC, so a queued id always has a
record. Workers read with XREADGROUP and acknowledge only after the result is stored, so a
worker that dies leaves the entry pending for another worker to claim (XAUTOCLAIM).
State changes go through a Lua script that checks the expected state, so two workers cannot
both start, or both finish, one job.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, cast

import redis
from pydantic import BaseModel, Field

from core import messages
from core.errors import JobNotFound, QueueUnavailable
from handlers.models import Request, Result

PREFIX = "k8s-chatops"
WORKER_GROUP = "workers"
NOTIFY_GROUP = "notifiers"
NOTIFY_STREAM = f"{PREFIX}:notify"
EVENTS_TTL_SECONDS = 24 * 3600
JOB_TTL_SECONDS = 7 * 24 * 3600


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED)


class Origin(BaseModel):
    """Where the request came from, so the result goes back to the same place."""

    surface: Literal["slack", "shell"]
    channel: str | None = None
    thread_ts: str | None = None
    response_url: str | None = None


class Job(BaseModel):
    id: str
    cluster: str
    request: Request
    requester: str
    origin: Origin
    state: JobState = JobState.QUEUED
    decision: str = ""
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    started_at: datetime | None = None
    finished_at: datetime | None = None
    worker: str | None = None
    attempts: int = 0
    result: Result | None = None
    error: str | None = None


class JobEvent(BaseModel):
    """One entry of a job's event stream."""

    type: Literal["progress", "finished"]
    job_id: str
    message: str = ""
    state: JobState | None = None


def job_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}"


def events_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:events"


def queue_key(cluster: str) -> str:
    return f"{PREFIX}:{cluster}:queue"


# KEYS[1] job hash; ARGV: expected state, new state, new doc.
# Returns 1 if the transition happened, 0 if the job was not in the expected state.
_TRANSITION = """
local current = redis.call('HGET', KEYS[1], 'state')
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'doc', ARGV[3])
return 1
"""


Entry = tuple[str, dict[str, str]]


def read_group(
    client: redis.Redis,
    stream: str,
    group: str,
    consumer: str,
    *,
    count: int,
    block_ms: int | None,
    reclaim_idle_ms: int,
) -> list[Entry]:
    """Entries abandoned by a dead consumer first (XAUTOCLAIM), then new ones (XREADGROUP)."""
    claimed = cast(
        Any, client.xautoclaim(stream, group, consumer, min_idle_time=reclaim_idle_ms, count=count)
    )
    entries: list[Entry] = [e for e in claimed[1] if e[1]] if claimed else []
    if entries:
        return entries
    fresh = cast(
        Any, client.xreadgroup(group, consumer, {stream: ">"}, count=count, block=block_ms)
    )
    for _stream, items in fresh or []:
        entries.extend(items)
    return entries


def connect(url: str) -> redis.Redis:
    """A client with short timeouts: a slash command must be answered within 3 seconds."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=1.0,
        socket_timeout=5.0,
        health_check_interval=30,
        decode_responses=True,
    )


class JobStore:
    """Create, read and move jobs through their states; publish their events."""

    def __init__(self, client: redis.Redis, cluster: str) -> None:
        self.redis = client
        self.cluster = cluster
        self._transition = client.register_script(_TRANSITION)

    def ensure_groups(self) -> None:
        for stream, group in (
            (queue_key(self.cluster), WORKER_GROUP),
            (NOTIFY_STREAM, NOTIFY_GROUP),
        ):
            try:
                self.redis.xgroup_create(stream, group, id="0", mkstream=True)
            except redis.ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise

    def submit(self, request: Request, *, requester: str, origin: Origin, decision: str) -> Job:
        """Record a job and queue it atomically; raise QueueUnavailable if Redis is down."""
        try:
            job_id = str(self.redis.incr(f"{PREFIX}:job-seq"))
            job = Job(
                id=job_id,
                cluster=self.cluster,
                request=request,
                requester=requester,
                origin=origin,
                decision=decision,
            )
            pipe = self.redis.pipeline(transaction=True)
            pipe.hset(
                job_key(job_id), mapping={"state": job.state.value, "doc": job.model_dump_json()}
            )
            pipe.expire(job_key(job_id), JOB_TTL_SECONDS)
            pipe.xadd(queue_key(self.cluster), {"job_id": job_id})
            pipe.execute()
        except redis.RedisError as error:
            raise QueueUnavailable(messages.QUEUE_UNAVAILABLE) from error
        return job

    def get(self, job_id: str) -> Job:
        doc = self.redis.hget(job_key(job_id), "doc")
        if doc is None:
            raise JobNotFound(f"There is no job {job_id}.")
        return Job.model_validate_json(str(doc))

    def transition(self, job: Job, expected: JobState, **changes: Any) -> Job | None:
        """Move ``job`` out of ``expected`` with ``changes``; None if someone else moved it."""
        updated = job.model_copy(update=changes)
        moved = self._transition(
            keys=[job_key(job.id)],
            args=[expected.value, updated.state.value, updated.model_dump_json()],
        )
        return updated if moved == 1 else None

    def emit(self, event: JobEvent) -> None:
        key = events_key(event.job_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(key, {"event": event.model_dump_json()}, maxlen=1000, approximate=True)
        pipe.expire(key, EVENTS_TTL_SECONDS)
        if event.type == "finished":
            pipe.xadd(NOTIFY_STREAM, {"job_id": event.job_id}, maxlen=100_000, approximate=True)
        pipe.execute()

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
                    if JobEvent.model_validate_json(fields["event"]).type == "finished":
                        return self.get(job_id)
        return None
