"""The node agent's two loops: a heartbeat, and a work loop taking the node's tasks from Redis.

The heartbeat says which node, which runtime (name and version), how full the image
filesystem is and since when the agent runs; a runtime that does not answer is written into
the beat (``runtime_error``) rather than stopping the agent, so a worker can tell "no agent"
from "agent up, runtime down". The work loop takes one task at a time off the node's list and
hands it to a small pool: reads (``images``, ``ps``, ``logs``, and dry runs, which only read)
run side by side, changes (``prune``, ``rmi``) one after another on a thread of their own, so
a queue of changes never delays a read. A task past its deadline is skipped, one that does
not parse, or is over :data:`~core.nodework.MAX_TASK_BYTES` (not even parsed), is answered
``bad-task``, and any error in one task is answered ``error`` with an incident id: nothing a
task does stops the loop. While a task runs, its lease is renewed every
second; its events say what was done, item by item (protocol: :mod:`core.nodework`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, cast

import redis
from pydantic import ValidationError

from core.nodework import (
    EVENTS_TTL,
    HEARTBEAT_INTERVAL,
    LEASE_SECONDS,
    MAX_TASK_BYTES,
    AgentBeat,
    EventKind,
    FailReason,
    ListImagesOp,
    LogsOp,
    PruneItem,
    PruneOp,
    PsOp,
    RemoveImageOp,
    Reply,
    Task,
    TaskEvent,
    agent_key,
    agents_key,
    task_events_key,
    task_lease_key,
    tasks_key,
)
from nodeagent.ops import NodeRuntime, TaskRefused
from nodeagent.runtime import RuntimeError_, RuntimeUnreachable

log = logging.getLogger(__name__)
#: How long the work loop blocks on an empty list before it looks at its stop flag.
_POLL_SECONDS = 1.0
_READERS = 4


class NodeAgent:
    def __init__(
        self,
        client: redis.Redis,
        *,
        cluster: str,
        node: str,
        runtime: NodeRuntime,
        heartbeat_interval: float = HEARTBEAT_INTERVAL,
        lease_seconds: float = LEASE_SECONDS,
        runtime_give_up: float | None = None,
    ) -> None:
        self.redis, self.cluster, self.node, self.runtime = client, cluster, node, runtime
        self.heartbeat_interval = heartbeat_interval
        self.lease_seconds = lease_seconds
        #: Seconds the runtime may stay unreachable before the agent stops (None: never).
        #: A restarted containerd makes a new socket; only a new container sees it when the
        #: socket's file rather than its directory is mounted, and a restart also clears
        #: anything else stuck (docs/deploy.md).
        self.runtime_give_up = runtime_give_up
        self.gave_up = False
        self._runtime_down_since: float | None = None
        self._last_tick = time.monotonic()
        self.started_at = datetime.now(UTC)
        self.name = f"{node}/{os.getpid()}/{uuid.uuid4().hex[:6]}"
        self.stopping = threading.Event()
        # Reads (and dry runs, which only read) side by side; changes (prune, rmi) one at a
        # time on their own thread, so a queue of them never holds a reader.
        self._pool = ThreadPoolExecutor(max_workers=_READERS, thread_name_prefix="task")
        self._changes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="change")

    # --- Heartbeat --------------------------------------------------------------------------

    def beat(self) -> AgentBeat:
        """Read the runtime's facts (never raising for the runtime) and publish them."""
        facts: dict[str, Any] = {}
        try:
            version = self.runtime.client.version()
            facts = {
                "runtime_name": version.name,
                "runtime_version": version.version,
                "runtime_api_version": version.api_version,
                "image_fs": self.runtime.filesystems(),
            }
            self._runtime_down_since = None
        except (RuntimeUnreachable, RuntimeError_) as error:
            facts = {"runtime_error": str(error)[:300]}
            if self._runtime_down_since is None:
                self._runtime_down_since = time.monotonic()
            log.warning(
                "the runtime at %s does not answer: %s", self.runtime.client.endpoint, error
            )
        beat = AgentBeat(
            node=self.node,
            cluster=self.cluster,
            agent=self.name,
            started_at=self.started_at,
            **facts,
        )
        ttl = self.heartbeat_interval * 3
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(agent_key(self.cluster, self.node), beat.model_dump_json(), px=int(ttl * 1000))
        pipe.zadd(agents_key(self.cluster), {self.node: time.time() + ttl})
        pipe.execute()
        return beat

    def runtime_down_for(self) -> float:
        """Seconds the runtime has not answered the heartbeat; 0 while it does."""
        since = self._runtime_down_since
        return 0.0 if since is None else time.monotonic() - since

    def healthy(self) -> tuple[bool, str]:
        """Whether the agent is worth keeping: its heartbeat loop runs, and the runtime has
        not been away past the give-up time. Redis being away is not a reason (a restart
        would not bring it back)."""
        down = self.runtime_down_for()
        if self.gave_up or (self.runtime_give_up is not None and down > self.runtime_give_up):
            return False, f"the runtime has not answered for {down:.0f}s"
        if self.stopping.is_set():
            return False, "stopping"
        silent = time.monotonic() - self._last_tick
        if silent > max(3 * self.heartbeat_interval, 30.0):
            return False, f"the heartbeat has not run for {silent:.0f}s"
        return True, "ok"

    def _give_up(self) -> bool:
        down = self.runtime_down_for()
        if self.runtime_give_up is None or down <= self.runtime_give_up:
            return False
        log.error(
            "the runtime at %s has not answered for %.0fs (K8S_CHATOPS_RUNTIME_GIVE_UP_SECONDS"
            " is %.0f); exiting so the agent is started again with a fresh socket mount",
            self.runtime.client.endpoint,
            down,
            self.runtime_give_up,
        )
        self.gave_up = True
        self.stopping.set()
        return True

    def _heartbeat(self) -> None:
        while not self.stopping.is_set():
            self._last_tick = time.monotonic()
            try:
                self.beat()
            except redis.RedisError as error:
                log.warning("could not write the heartbeat: %s", type(error).__name__)
            except Exception:  # a dead heartbeat thread would make every worker see no-agent
                incident = uuid.uuid4().hex[:8]
                log.exception("the heartbeat failed (incident %s); beating on", incident)
            if self._give_up():
                return
            self.stopping.wait(self.heartbeat_interval)

    def retire(self) -> None:
        """Say we are gone at once, if the beat is still ours (a newer agent may have started)."""
        key = agent_key(self.cluster, self.node)
        try:
            raw = self.redis.get(key)
            if raw and AgentBeat.model_validate_json(cast(str, raw)).agent == self.name:
                pipe = self.redis.pipeline(transaction=True)
                pipe.delete(key)
                pipe.zrem(agents_key(self.cluster), self.node)
                pipe.execute()
        except (redis.RedisError, ValidationError):
            log.warning("could not retire the heartbeat; it expires on its own")

    # --- Work -------------------------------------------------------------------------------

    def run(self) -> None:
        heartbeat = threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True)
        heartbeat.start()
        log.info(
            "node agent %s serving node %s of cluster %s (runtime %s)",
            self.name,
            self.node,
            self.cluster,
            self.runtime.client.endpoint,
        )
        backoff = 0.5
        try:
            while not self.stopping.is_set():
                try:
                    popped = self.redis.blpop([tasks_key(self.cluster, self.node)], _POLL_SECONDS)
                    backoff = 0.5
                except redis.RedisError as error:
                    log.warning(
                        "redis unreachable (%s); retrying in %.1fs", type(error).__name__, backoff
                    )
                    self.stopping.wait(backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                if popped:
                    _, raw = cast(tuple[str, str], popped)
                    try:
                        self.dispatch(raw)
                    except Exception:  # one task, or one blip while skipping it, stops nothing
                        incident = uuid.uuid4().hex[:8]
                        log.exception("a task could not be dispatched (incident %s)", incident)
        finally:
            self.stopping.set()
            self._pool.shutdown(wait=True)
            self._changes.shutdown(wait=True)
            heartbeat.join(timeout=5)
            self.retire()

    def stop(self, *_: object) -> None:
        self.stopping.set()

    def dispatch(self, raw: str) -> None:
        """Parse one task and hand it to the pool; a task that does not parse, or is too big
        to be parsed at all, is answered ``bad-task`` when it says which task it is, and only
        logged when it does not."""
        size = len(raw.encode("utf-8", "surrogatepass"))
        if size > MAX_TASK_BYTES:
            incident = uuid.uuid4().hex[:8]
            log.warning(
                "a task for node %s is %d bytes, over %d; refused unread (incident %s)",
                self.node,
                size,
                MAX_TASK_BYTES,
                incident,
            )
            self._refuse(
                _leading_task_id(raw),
                f"{incident}: the task is {size} bytes; an agent reads at most {MAX_TASK_BYTES}",
            )
            return
        try:
            task = Task.model_validate_json(raw)
        except ValidationError as error:
            incident = uuid.uuid4().hex[:8]
            log.warning(
                "a task for node %s does not parse (incident %s): %s",
                self.node,
                incident,
                error.errors()[:1],
            )
            self._refuse(_task_id(raw), incident)
            return
        if task.stale():
            log.info(
                "skipping task %s (%s): its deadline passed before it was taken",
                task.id,
                task.work.op,
            )
            self._emit(
                TaskEvent(
                    kind=EventKind.FAILED, task_id=task.id, agent=self.name, reason=FailReason.STALE
                )
            )
            return
        (self._changes if _changes(task) else self._pool).submit(self.handle, task)

    def _refuse(self, task_id: str | None, detail: str) -> None:
        if task_id:
            self._emit(
                TaskEvent(
                    kind=EventKind.FAILED,
                    task_id=task_id,
                    agent=self.name,
                    reason=FailReason.BAD_TASK,
                    detail=detail,
                )
            )

    def handle(self, task: Task) -> None:
        """Run one task to its ``done`` or ``failed`` event; never raises."""
        lease = _Lease(
            self.redis, task_lease_key(self.cluster, task.id), self.name, self.lease_seconds
        )
        try:
            lease.start()
            self._emit(TaskEvent(kind=EventKind.ACCEPTED, task_id=task.id, agent=self.name))
            reply = self._perform(task)
            self._emit(
                TaskEvent(kind=EventKind.DONE, task_id=task.id, agent=self.name, reply=reply)
            )
        except TaskRefused as refused:
            self._fail(task, refused.reason, refused.detail)
        except RuntimeUnreachable as error:
            self._fail(task, FailReason.RUNTIME_UNREACHABLE, str(error)[:300])
        except redis.RedisError as error:
            log.warning(
                "task %s: redis failed (%s); the worker will see the lease lapse",
                task.id,
                type(error).__name__,
            )
        except Exception:
            incident = uuid.uuid4().hex[:8]
            log.exception("task %s (%s) failed (incident %s)", task.id, task.work.op, incident)
            self._fail(task, FailReason.ERROR, incident)
        finally:
            lease.stop()

    def _perform(self, task: Task) -> Reply:
        work = task.work
        emit = self._item_emitter(task)
        if isinstance(work, ListImagesOp):
            return self.runtime.images()
        if isinstance(work, PsOp):
            return self.runtime.ps()
        if isinstance(work, LogsOp):
            return self.runtime.logs(work)
        if _changes(task) and task.stale():
            raise TaskRefused(FailReason.STALE, "its deadline passed while it waited")
        if isinstance(work, PruneOp):
            return self.runtime.prune(work, emit, task.deadline)
        assert isinstance(work, RemoveImageOp)
        return self.runtime.remove(work, emit)

    def _item_emitter(self, task: Task) -> Callable[[PruneItem], None]:
        def emit(item: PruneItem) -> None:
            self._emit(TaskEvent(kind=EventKind.ITEM, task_id=task.id, agent=self.name, item=item))

        return emit

    def _fail(self, task: Task, reason: FailReason, detail: str) -> None:
        try:
            self._emit(
                TaskEvent(
                    kind=EventKind.FAILED,
                    task_id=task.id,
                    agent=self.name,
                    reason=reason,
                    detail=detail,
                )
            )
        except redis.RedisError:
            log.warning("task %s: could not report %s", task.id, reason.value)

    def _emit(self, event: TaskEvent) -> None:
        key = task_events_key(self.cluster, event.task_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(key, {"event": event.model_dump_json()})
        pipe.expire(key, EVENTS_TTL)
        pipe.execute()


def _changes(task: Task) -> bool:
    """Whether the task may remove something (a prune or ``rmi`` that is not a dry run)."""
    return isinstance(task.work, PruneOp | RemoveImageOp) and not task.work.dry_run


def _task_id(raw: str) -> str | None:
    """The ``id`` of a task that does not validate, if it has a usable one."""
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    task_id = value.get("id") if isinstance(value, dict) else None
    return task_id if isinstance(task_id, str) and _usable_id(task_id) else None


_ID_OPENING = '{"id":"'


def _leading_task_id(raw: str) -> str | None:
    """The ``id`` of a task too big to parse, read from its opening only: a worker writes the
    id first (``Task`` declares it first), so its first characters are ``{"id":"…"``."""
    if not raw.startswith(_ID_OPENING):
        return None
    opening = raw[len(_ID_OPENING) : len(_ID_OPENING) + 65]
    end = opening.find('"')
    return opening[:end] if end > 0 and _usable_id(opening[:end]) else None


def _usable_id(task_id: str) -> bool:
    return 0 < len(task_id) <= 64 and task_id.isascii() and task_id.isalnum()


class _Lease:
    """The agent's claim on a task it works on, renewed every third of its life."""

    def __init__(self, client: redis.Redis, key: str, holder: str, seconds: float) -> None:
        self.client, self.key, self.holder, self.seconds = client, key, holder, seconds
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._renew, name=f"lease-{key[-8:]}", daemon=True)

    def start(self) -> None:
        self.client.set(self.key, self.holder, px=int(self.seconds * 1000))
        self._thread.start()

    def _renew(self) -> None:
        while not self._done.wait(self.seconds / 3):
            try:
                self.client.set(self.key, self.holder, px=int(self.seconds * 1000))
            except redis.RedisError:
                log.warning("could not renew the lease %s", self.key)

    def stop(self) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        with contextlib.suppress(redis.RedisError):
            self.client.delete(self.key)
