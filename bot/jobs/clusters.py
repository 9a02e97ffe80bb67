"""Which clusters there are, which have live workers, and what waits for each.

The bot holds no kubeconfig, so it learns about clusters from their workers: every worker
writes a heartbeat (its name, its cluster, the cluster's Kubernetes version and node count)
every ``interval`` seconds, expiring after three intervals, and marks its cluster as seen.
A cluster seen within the job retention stays known after its last worker has gone, so
``/k8s clusters`` can say that nobody serves it and jobs sent to it wait in its queue rather
than being refused. Key layout: ``docs/jobs.md``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import redis
from pydantic import BaseModel, Field, ValidationError

from bot.jobs import facts
from bot.jobs.model import CLUSTERS_KEY, WORKER_GROUP, queue_key, worker_key, workers_key
from handlers.kube import KubeClient, KubeError

log = logging.getLogger(__name__)

#: Seconds between heartbeats; a heartbeat lives three of them.
HEARTBEAT_INTERVAL = 15.0
#: Queue entries counted at most, so a huge backlog costs no more than this to report.
QUEUE_SCAN = 1000


class WorkerBeat(BaseModel):
    """One worker's heartbeat. Version and node count are ``None`` when its cluster's API
    did not answer: the worker is alive, the cluster may not be."""

    worker: str
    cluster: str
    kubernetes_version: str | None = None
    nodes: int | None = None
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class QueueState:
    """Entries on a cluster's queue that no worker has taken yet, and the oldest of them."""

    waiting: int
    oldest_job: str | None = None
    oldest_at: datetime | None = None
    #: ``waiting`` is a lower bound: more entries than were counted.
    more: bool = False


@dataclass(frozen=True)
class ClusterStatus:
    name: str
    workers: list[WorkerBeat]
    queue: QueueState

    @property
    def served(self) -> bool:
        return bool(self.workers)

    @property
    def latest(self) -> WorkerBeat | None:
        """The freshest heartbeat: the one whose version and node count are shown."""
        return max(self.workers, key=lambda beat: beat.at, default=None)


def beat(client: redis.Redis, heartbeat: WorkerBeat, ttl: float) -> None:
    """Say that ``heartbeat.worker`` serves ``heartbeat.cluster`` for the next ``ttl`` s."""
    now = time.time()
    pipe = client.pipeline(transaction=True)
    pipe.set(
        worker_key(heartbeat.cluster, heartbeat.worker),
        heartbeat.model_dump_json(),
        px=int(ttl * 1000),
    )
    pipe.zadd(workers_key(heartbeat.cluster), {heartbeat.worker: now + ttl})
    pipe.zadd(CLUSTERS_KEY, {heartbeat.cluster: now})
    pipe.execute()


def retire(client: redis.Redis, cluster: str, worker: str) -> None:
    """A worker that stops says so, rather than leaving its heartbeat to expire."""
    pipe = client.pipeline(transaction=True)
    pipe.delete(worker_key(cluster, worker))
    pipe.zrem(workers_key(cluster), worker)
    pipe.execute()


def live_workers(client: redis.Redis, cluster: str) -> list[WorkerBeat]:
    """The workers whose heartbeat has not expired, by name."""
    key = workers_key(cluster)
    client.zremrangebyscore(key, "-inf", time.time())
    names = cast(list[str], client.zrange(key, 0, -1))
    if not names:
        return []
    raw = cast(list[Any], client.mget([worker_key(cluster, name) for name in names]))
    beats = []
    for name, text in zip(names, raw, strict=True):
        if text is None:
            continue  # expired between the two reads
        try:
            beats.append(WorkerBeat.model_validate_json(text))
        except ValidationError:
            log.warning("the heartbeat of worker %s of cluster %s is unreadable", name, cluster)
    return beats


def seen(client: redis.Redis, within_seconds: float) -> list[str]:
    """Clusters a worker reported from within ``within_seconds`` (older ones are forgotten:
    their queued jobs have been trimmed by then too)."""
    client.zremrangebyscore(CLUSTERS_KEY, "-inf", time.time() - within_seconds)
    return sorted(cast(list[str], client.zrange(CLUSTERS_KEY, 0, -1)))


def _entry_time(entry_id: str) -> datetime:
    return datetime.fromtimestamp(int(entry_id.split("-", 1)[0]) / 1000, UTC)


def queue_state(client: redis.Redis, cluster: str) -> QueueState:
    """What waits on ``cluster``'s queue: entries after the last one a worker took (all of
    them when no worker has ever read it). An entry of a job cancelled meanwhile counts
    until a worker takes and drops it."""
    key = queue_key(cluster)
    start = "-"
    try:
        groups: list[dict[str, Any]] = client.xinfo_groups(key)
    except redis.ResponseError:  # no such stream: nothing was ever queued
        return QueueState(waiting=0)
    for group in groups:
        if group.get("name") == WORKER_GROUP:
            start = "(" + str(group["last-delivered-id"])
    entries = cast(list[Any], client.xrange(key, min=start, max="+", count=QUEUE_SCAN))
    if not entries:
        return QueueState(waiting=0)
    entry_id, fields = entries[0]
    return QueueState(
        waiting=len(entries),
        oldest_job=fields.get("job_id"),
        oldest_at=_entry_time(entry_id),
        more=len(entries) == QUEUE_SCAN,
    )


def status(client: redis.Redis, cluster: str) -> ClusterStatus:
    return ClusterStatus(cluster, live_workers(client, cluster), queue_state(client, cluster))


class Heartbeat(threading.Thread):
    """While a worker runs: publish the node facts the policy needs and the worker's
    heartbeat, every ``interval`` seconds; on :meth:`stop`, retire the heartbeat.

    ``served_changed`` is called when this worker may have changed whether the cluster is
    served at all: after its first heartbeat, and after it retired as the last live one (the
    cards of jobs waiting for the cluster say whether a worker serves it).
    """

    def __init__(
        self,
        kube: KubeClient,
        client: redis.Redis,
        cluster: str,
        worker: str,
        interval: float = HEARTBEAT_INTERVAL,
        *,
        served_changed: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(name="heartbeat", daemon=True)
        self.kube, self.client, self.cluster, self.worker = kube, client, cluster, worker
        self.interval = interval
        self.served_changed = served_changed
        self.stopping = threading.Event()

    def beat_once(self) -> None:
        nodes: int | None = None
        version: str | None = None
        try:
            nodes = facts.publish(self.kube, self.client, self.cluster, ttl=int(self.interval * 4))
            version = self.kube.server_version()
        except KubeError as error:
            log.warning("could not read the cluster for the heartbeat: %s", type(error).__name__)
        heartbeat = WorkerBeat(
            worker=self.worker, cluster=self.cluster, kubernetes_version=version, nodes=nodes
        )
        beat(self.client, heartbeat, ttl=self.interval * 3)

    def run(self) -> None:
        first = True
        while True:
            try:
                self.beat_once()
                if first:
                    first = False
                    self._tell_served_changed()
            except redis.RedisError as error:
                log.warning("could not write the heartbeat: %s", type(error).__name__)
            if self.stopping.wait(self.interval):
                return

    def stop(self) -> None:
        self.stopping.set()
        if self.is_alive():
            self.join(timeout=30)  # a beat under way must not outlive the retirement
        try:
            retire(self.client, self.cluster, self.worker)
            if not live_workers(self.client, self.cluster):
                self._tell_served_changed()
        except redis.RedisError:
            log.warning("could not retire the heartbeat; it expires on its own")

    def _tell_served_changed(self) -> None:
        if self.served_changed is None:
            return
        try:
            self.served_changed()
        except redis.RedisError:
            log.warning("could not refresh the cards of jobs waiting for %s", self.cluster)
