"""The worker loop: claim a job, take its locks, run its handler, store the result, acknowledge.

A job's queue entry is acknowledged only after its final state is stored (which publishes the
final event in the same step), so a worker killed at any point leaves the entry pending. While
it works, a lease thread renews the entry's claim and the target lock; when the worker dies,
both expire and another worker takes the job over after ``reclaim_idle_seconds`` and runs it
again. Handlers are idempotent (re-cordoning says "already cordoned", re-draining finds the
evicted pods gone), which is what makes running a job again safe.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from typing import Literal, Protocol

import redis
from pydantic import BaseModel

from bot.jobs.locks import Locks
from bot.jobs.model import WORKER_GROUP, Job, JobState, Outcome, QueueKind, queue_key
from bot.jobs.queue import keep_claim, read_group
from bot.jobs.store import JobStore
from core import formats, messages
from core.errors import ChatOpsError, JobNotFound, JobUnreadable
from core.i18n import english, language
from core.redaction import Redactor, build_redactor
from handlers.agents import NodeAgents
from handlers.base import RequestBase, ResultBase
from handlers.control import Control, OutputCaps
from handlers.kube import KubeClient, KubeNotFound, resource_for

log = logging.getLogger(__name__)

Perform = Callable[[RequestBase, KubeClient, Control], ResultBase]
#: The plan approvers see (None: the command has none); ``Control`` carries what a planner
#: may need besides the cluster (the node agents, for an image prune).
Planner = Callable[[KubeClient, RequestBase, Control], BaseModel | None]
Impersonation = Literal["none", "user", "user-and-roles"]
USER_PREFIX = "slack:"


class NodeAgentsFactory(Protocol):
    """The cluster's node agents, as the worker holds them: bound to a job before a handler
    sees them, so that the node locks they take are the job's."""

    def for_job(self, job_id: str) -> NodeAgents: ...


GROUP_PREFIX = "k8s-chatops:"
PROGRESS_INTERVAL = 0.5
NOTIFY_INTERVAL = 2.0


class _Progress:
    """Coalesces progress lines into at most one event per interval, so no renderer floods."""

    def __init__(self, store: JobStore, job_id: str) -> None:
        self._store, self._job_id = store, job_id
        self._lines: list[str] = []
        self._last = 0.0
        self._last_notified = 0.0
        self._lock = threading.Lock()

    def __call__(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)
            now = time.monotonic()
            if now - self._last < PROGRESS_INTERVAL:
                return
            lines, self._lines, self._last = self._lines, [], now
            # Chat cards are updated at most every NOTIFY_INTERVAL (Slack allows ~1/s/channel).
            notify = now - self._last_notified >= NOTIFY_INTERVAL
            if notify:
                self._last_notified = now
        self._store.emit_progress(self._job_id, lines, notify=notify)

    def flush(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
        self._store.emit_progress(self._job_id, lines)


class _Lease(threading.Thread):
    """Renews the queue claim and the target lock while a job runs."""

    def __init__(self, worker: Worker, entry_id: str, job: Job, lease_ms: int) -> None:
        super().__init__(name=f"lease-{job.id}", daemon=True)
        self.worker, self.entry_id, self.job, self.lease_ms = worker, entry_id, job, lease_ms
        self.locked: str | None = None
        self.done = threading.Event()

    def run(self) -> None:
        store = self.worker.store
        while not self.done.wait(self.lease_ms / 3000):
            try:
                keep_claim(
                    store.redis,
                    queue_key(store.cluster),
                    WORKER_GROUP,
                    self.worker.name,
                    self.entry_id,
                )
                if self.locked:
                    self.worker.locks.renew(self.locked, self.job.id, self.lease_ms)
            except redis.RedisError:
                log.warning("could not renew the lease of job %s", self.job.id)


class Worker:
    def __init__(
        self,
        store: JobStore,
        kube: KubeClient,
        *,
        perform: Perform,
        planner: Planner | None = None,
        name: str | None = None,
        reclaim_idle_seconds: float = 30.0,
        max_disrupted_nodes: int = 1,
        impersonate: Impersonation = "none",
        redactor: Redactor | None = None,
        caps: OutputCaps | None = None,
        agents: NodeAgentsFactory | None = None,
    ) -> None:
        self.store = store
        self.kube = kube
        self.locks = Locks(store.redis, store.cluster)
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.reclaim_idle_ms = int(reclaim_idle_seconds * 1000)
        self.max_disrupted_nodes = max_disrupted_nodes
        self.perform = perform
        self.planner = planner
        self.impersonate = impersonate
        #: Masks secrets in whatever a handler reads (logs) before it is stored or posted.
        self.redactor = redactor or build_redactor()
        self.caps = caps or OutputCaps()
        #: The cluster's node agents, bound to each job (its node locks) as it runs.
        self.agents = agents
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
        processed = 0
        backoff = 0.5
        groups_ready = False
        next_sweep = 0.0
        while not self.stopping.is_set():
            try:
                if not groups_ready:
                    self.store.ensure_groups()
                    groups_ready = True
                if time.monotonic() >= next_sweep:
                    self.store.expire_overdue()
                    next_sweep = time.monotonic() + 10
                entries = read_group(
                    self.store.redis,
                    queue_key(self.store.cluster),
                    WORKER_GROUP,
                    self.name,
                    count=1,
                    block_ms=100 if burst else 1000,
                    reclaim_idle_ms=self.reclaim_idle_ms,
                )
                backoff = 0.5
            except redis.ConnectionError:
                log.warning("redis unreachable; retrying in %.1fs", backoff)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 30.0)
                continue
            if not entries:
                if burst:
                    break
                continue
            entry_id, fields = entries[0]
            try:
                if self._handle_entry(entry_id, fields):
                    self.store.redis.xack(queue_key(self.store.cluster), WORKER_GROUP, entry_id)
            except redis.ConnectionError:
                # The job's state is stored; the entry stays pending and, offered again after
                # the reclaim interval, is only acknowledged (its job has already ended).
                log.warning("redis went away before entry %s was acknowledged", entry_id)
                self.stopping.wait(backoff)
                continue
            processed += 1
        return processed

    def _handle_entry(self, entry_id: str, fields: dict[str, str]) -> bool:
        """Run one queue entry; whether to acknowledge it.

        A bug met while handling one entry must not stop the loop that serves every other job:
        it is logged with an incident id and the entry stays pending, so it is tried again
        after ``reclaim_idle_ms`` (by this worker or another) rather than lost.
        """
        job_id = fields.get("job_id", "")
        try:
            if fields.get("kind") == QueueKind.PLAN:
                self._plan(job_id)
            else:
                self._process(entry_id, job_id)
        except redis.ConnectionError:
            raise
        except Exception:
            incident = uuid.uuid4().hex[:8]
            log.exception(
                "queue entry %s (job %s) failed (incident %s)", entry_id, job_id, incident
            )
            return False
        return True

    def _plan(self, job_id: str) -> None:
        """Compute what a job waiting for approval would do (a drain's pods, a prune's images),
        for the approvers' card."""
        try:
            job = self.store.get(job_id)
        except JobNotFound:
            return
        if (
            job.state is not JobState.AWAITING_APPROVAL
            or not job.request.plans_for_approval
            or self.planner is None
        ):
            return
        try:
            control = Control(
                redactor=self.redactor,
                caps=self.caps,
                agents=self.agents.for_job(job.id) if self.agents else None,
            )
            with language(job.origin.language):  # the plan's sentences are for its channel
                plan = self.planner(self.kube_for(job), job.request, control)
        except ChatOpsError as error:
            log.warning("planning job %s failed: %s", job_id, english(error.user_message))
            return
        if plan is not None and not self.store.save_plan(job_id, plan):
            log.info("job %s already has a plan on its card; it stays as approvers saw it", job_id)

    def _process(self, entry_id: str, job_id: str) -> None:
        try:
            job = self.store.get(job_id)
        except JobUnreadable:
            return  # logged with its incident id by the store; nothing here can run it
        except JobNotFound:
            log.warning("job %s expired before it ran; dropping it", job_id)
            return
        if job.state not in (JobState.QUEUED, JobState.RUNNING):
            return  # finished (its final event went out with its final state), or cancelled
        started = self._start(job)
        if started is None:
            return
        lease = _Lease(self, entry_id, started, self.reclaim_idle_ms)
        lease.start()
        try:
            # Results, errors and progress are read in the job's channel (or shell).
            with language(job.origin.language):
                outcome = self._guarded_execute(started, lease)
        finally:
            lease.done.set()
            if lease.locked:
                self.locks.release(lease.locked, started.id)
        self._finish(started, outcome)

    def _start(self, job: Job) -> Job | None:
        previous = job.worker
        reason = (
            "started"
            if job.state is JobState.QUEUED
            else (f"taken over from {previous}, which stopped renewing its claim")
        )
        return self.store.transition(
            job,
            JobState.RUNNING,
            by=self.name,
            reason=reason,
            worker=self.name,
            attempts=job.attempts + 1,
            started_at=job.started_at or datetime.now(UTC),
        )

    def _guarded_execute(self, job: Job, lease: _Lease) -> Outcome:
        progress = _Progress(self.store, job.id)
        control = Control(
            progress=progress,
            cancelled=self._cancel_check(job.id),
            redactor=self.redactor,
            caps=self.caps,
            agents=self.agents.for_job(job.id) if self.agents else None,
        )
        try:
            closed = self._window_closed(job)
            if closed is None and job.request.mutating:
                waiting = self._take_target(job, lease, control)
                if waiting is not None:
                    return waiting
                closed = self._window_closed(job)  # waiting for the target may take a while
            if closed is not None:
                return Outcome(JobState.FAILED, error=closed)
            refusal = self._check_cap(job)
            if refusal is not None:
                return Outcome(JobState.FAILED, error=refusal)
            if control.cancelled():
                return Outcome(
                    JobState.CANCELLED, error=messages.JOB_CANCELLED_BEFORE_START.format()
                )
            return self._execute(job, control)
        finally:
            progress.flush()

    def _cancel_check(self, job_id: str) -> Callable[[], bool]:
        last = {"at": 0.0, "value": False}

        def cancelled() -> bool:
            if not last["value"] and time.monotonic() - float(last["at"]) > 0.5:
                last["at"] = time.monotonic()
                try:
                    last["value"] = self.store.cancel_requested(job_id)
                except redis.RedisError:
                    return False
            return bool(last["value"])

        return cancelled

    def _take_target(self, job: Job, lease: _Lease, control: Control) -> Outcome | None:
        """Wait for the target lock; say once who holds it. None once it is ours."""
        announced = False
        while True:
            holder = self.locks.acquire(job.target, job.id, self.reclaim_idle_ms)
            if holder == job.id:
                lease.locked = job.target
                return None
            if not announced:
                control.progress(
                    messages.JOB_WAITING_FOR_LOCK.format(target=job.target, holder=holder)
                )
                announced = True
            if control.cancelled() or self.stopping.is_set():
                return Outcome(
                    JobState.CANCELLED, error=messages.JOB_CANCELLED_BEFORE_START.format()
                )
            time.sleep(0.2)

    def _window_closed(self, job: Job) -> str | None:
        """The refusal for a job that would start after the change window it was queued in
        closed (frozen into the job by the bot; workers do not load the policy). A job taken
        over from a worker that stopped had started in time, and is finished."""
        if job.run_before is None or job.attempts > 1 or datetime.now(UTC) < job.run_before:
            return None
        return messages.JOB_WINDOW_CLOSED.format(
            closed=job.run_before.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        )

    def _check_cap(self, job: Job) -> str | None:
        node = job.request.disrupts
        if node is None:
            return None
        refusal = self.locks.reserve_disruption(
            node,
            job.id,
            self.max_disrupted_nodes,
            still_disrupted=self._still_cordoned,
            job_active=self._job_active,
        )
        if refusal is None:
            return None
        holders = formats.listing(
            messages.JOB_CAP_HOLDER.format(node=n, job_id=j)
            for n, j in sorted(refusal.holders.items())
        )
        return messages.JOB_CAP_REACHED.format(cap=refusal.cap, holders=holders, node=node)

    def _job_active(self, job_id: str) -> bool:
        try:
            return not self.store.get(job_id).state.finished
        except JobNotFound:
            return False

    def _still_cordoned(self, node: str) -> bool:
        try:
            return bool(
                self.kube.get(resource_for("Node").path(name=node))["spec"].get("unschedulable")
            )
        except KubeNotFound:
            return False

    def kube_for(self, job: Job) -> KubeClient:
        """The client a job acts through: the requester's own identity when impersonating."""
        if self.impersonate == "none":
            return self.kube
        groups = (
            tuple(f"{GROUP_PREFIX}{role}" for role in job.roles)
            if self.impersonate == "user-and-roles"
            else ()
        )
        return self.kube.impersonating(f"{USER_PREFIX}{job.requester}", groups)

    def _execute(self, job: Job, control: Control) -> Outcome:
        try:
            result = self.perform(job.request, self.kube_for(job), control)
        except ChatOpsError as error:
            return Outcome(JobState.FAILED, error=error.user_message)
        except Exception:
            incident = uuid.uuid4().hex[:8]
            log.exception("job %s crashed (incident %s)", job.id, incident)
            crashed = messages.JOB_CRASHED.format(job_id=job.id, incident=incident)
            return Outcome(JobState.FAILED, error=crashed)
        if job.request.restores:
            self.locks.end_disruption(job.request.restores)
        if result.was_cancelled:
            return Outcome(JobState.CANCELLED, result=result)
        if result.failure:
            return Outcome(JobState.FAILED, result=result, error=result.failure)
        return Outcome(JobState.SUCCEEDED, result=result)

    def _finish(self, job: Job, outcome: Outcome) -> None:
        finished = self.store.transition(
            job,
            outcome.state,
            by=self.name,
            reason=outcome.reason,
            finished_at=datetime.now(UTC),
            **outcome.changes(),
        )
        if finished is None:
            log.warning("job %s was changed by someone else while it ran", job.id)
            return
        log.info(
            "job %s %s for %s: %s",
            job.id,
            outcome.state.value,
            job.requester,
            job.request.command_text(),
        )
