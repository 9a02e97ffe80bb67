"""The worker loop: take a job from the queue, run its handler, store the result, acknowledge.

A job is acknowledged only after its final state is stored and its final event published, so a
worker killed mid-job leaves the queue entry pending; another worker claims it after
``reclaim_idle_seconds`` and runs it again. Handlers are idempotent (cordoning a cordoned node
reports "already cordoned"), which makes re-running safe.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from datetime import UTC, datetime
from types import FrameType

import redis

from bot.jobs import WORKER_GROUP, Job, JobEvent, JobState, JobStore, queue_key, read_group
from core import messages
from core.errors import ChatOpsError, JobNotFound
from handlers.control import Control
from handlers.kube import KubeClient
from handlers.registry import perform

log = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        store: JobStore,
        kube: KubeClient,
        *,
        name: str | None = None,
        reclaim_idle_seconds: float = 60.0,
    ) -> None:
        self.store = store
        self.kube = kube
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.reclaim_idle_ms = int(reclaim_idle_seconds * 1000)
        self.stopping = threading.Event()

    def stop(self, *_: object) -> None:
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        def handle(signum: int, frame: FrameType | None) -> None:
            log.info("worker %s stopping after the current job (signal %d)", self.name, signum)
            self.stop()

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)

    def run(self, *, burst: bool = False) -> int:
        """Process jobs until stopped (or, with ``burst``, until the queue is empty)."""
        self.store.ensure_groups()
        processed = 0
        backoff = 0.5
        while not self.stopping.is_set():
            try:
                entry = self._next_entry(block_ms=100 if burst else 1000)
                backoff = 0.5
            except redis.ConnectionError:
                log.warning("redis unreachable; retrying in %.1fs", backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            if entry is None:
                if burst:
                    break
                continue
            entry_id, job_id = entry
            self._process(job_id)
            self.store.redis.xack(queue_key(self.store.cluster), WORKER_GROUP, entry_id)
            processed += 1
        return processed

    def _next_entry(self, *, block_ms: int) -> tuple[str, str] | None:
        entries = read_group(
            self.store.redis,
            queue_key(self.store.cluster),
            WORKER_GROUP,
            self.name,
            count=1,
            block_ms=block_ms,
            reclaim_idle_ms=self.reclaim_idle_ms,
        )
        if not entries:
            return None
        entry_id, fields = entries[0]
        return entry_id, fields["job_id"]

    def _process(self, job_id: str) -> None:
        try:
            job = self.store.get(job_id)
        except JobNotFound:
            log.warning("job %s expired before it ran; dropping it", job_id)
            return
        if job.state.finished:
            # An earlier attempt stored the result but died before acknowledging; its final
            # event may be missing, so publish it again (renderers deliver a result once).
            self.store.emit(JobEvent(type="finished", job_id=job.id, state=job.state))
            return
        started = self._start(job)
        if started is None:
            return
        self._finish(started, *self._execute(started))

    def _start(self, job: Job) -> Job | None:
        changes = {
            "worker": self.name,
            "attempts": job.attempts + 1,
            "started_at": datetime.now(UTC),
            "state": JobState.RUNNING,
        }
        if job.state is JobState.RUNNING:  # re-run after a crash
            return self.store.transition(job, JobState.RUNNING, **changes)
        return self.store.transition(job, JobState.QUEUED, **changes)

    def _execute(self, job: Job) -> tuple[JobState, dict[str, object]]:
        def progress(message: str) -> None:
            self.store.emit(JobEvent(type="progress", job_id=job.id, message=message))

        try:
            result = perform(job.request, self.kube, Control(progress=progress))
        except ChatOpsError as error:
            return JobState.FAILED, {"error": error.user_message}
        except Exception:
            incident = uuid.uuid4().hex[:8]
            log.exception("job %s crashed (incident %s)", job.id, incident)
            return JobState.FAILED, {
                "error": messages.JOB_CRASHED.format(job_id=job.id, incident=incident)
            }
        return JobState.SUCCEEDED, {"result": result}

    def _finish(self, job: Job, state: JobState, changes: dict[str, object]) -> None:
        finished = self.store.transition(
            job, JobState.RUNNING, state=state, finished_at=datetime.now(UTC), **changes
        )
        if finished is None:
            log.warning("job %s was changed by someone else while it ran", job.id)
            return
        self.store.emit(JobEvent(type="finished", job_id=job.id, state=state))
        log.info(
            "job %s %s for %s: %s", job.id, state.value, job.requester, job.request.command_text()
        )
