"""The worker's side of the node-agent protocol (:mod:`core.nodework`): which agents are alive,
and a call that leaves a task on a node's list and follows the task's events to its answer.

A call ends in one of four ways, each told apart: the agent's ``done`` (its reply), its
``failed`` (the reason it gives), the task's lease lapsing after the agent took it (the agent
died or lost Redis: ``agent-lost``, with the items it had finished), or the deadline. A task
nobody took by then is taken back off the list, so no agent starts it after the worker gave up
(and the agent itself skips a task past its deadline). With ``exclusive``, the node's target
lock (``node/NAME``, :mod:`bot.jobs.locks`) is held for the call on behalf of the job, so a
fleet-wide prune and a drain of one of its nodes never run on that node at once.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, cast

import redis
from pydantic import ValidationError

from bot.jobs.locks import Locks
from bot.jobs.model import lock_key
from core.nodework import (
    LEASE_SECONDS,
    TASK_LIST_TTL,
    AgentBeat,
    EventKind,
    FailReason,
    Op,
    Reply,
    Task,
    TaskEvent,
    agent_key,
    agents_key,
    task_events_key,
    task_lease_key,
    tasks_key,
)
from handlers.agents import (
    TASK_TIMEOUTS,
    AgentLost,
    AgentProblem,
    AgentRefused,
    AgentTimeout,
    NoAgent,
    RuntimeUnreachable,
)

log = logging.getLogger(__name__)
#: How long one read of a task's events blocks; also how often the lease is looked at.
_POLL_SECONDS = 0.5
_LOCK_POLL_SECONDS = 0.2


def live_agents(client: redis.Redis, cluster: str) -> dict[str, AgentBeat]:
    key = agents_key(cluster)
    client.zremrangebyscore(key, "-inf", time.time())
    nodes = cast(list[str], client.zrange(key, 0, -1))
    if not nodes:
        return {}
    raw = cast(list[Any], client.mget([agent_key(cluster, node) for node in nodes]))
    beats: dict[str, AgentBeat] = {}
    for node, text in zip(nodes, raw, strict=True):
        if text is None:
            continue  # expired between the two reads
        try:
            beats[node] = AgentBeat.model_validate_json(text)
        except ValidationError:
            log.warning(
                "the heartbeat of the agent on %s (cluster %s) is unreadable", node, cluster
            )
    return beats


@dataclass(frozen=True)
class RedisNodeAgents:
    """:class:`handlers.agents.NodeAgents` over Redis, for one cluster (and one job, once
    :meth:`for_job` has bound it: the job whose node locks ``exclusive`` calls take)."""

    redis: redis.Redis
    cluster: str
    job_id: str | None = None
    lock_lease_ms: int = 30_000

    def for_job(self, job_id: str) -> RedisNodeAgents:
        return replace(self, job_id=job_id)

    def live(self) -> dict[str, AgentBeat]:
        return live_agents(self.redis, self.cluster)

    def beat(self, node: str) -> AgentBeat | None:
        raw = self.redis.get(agent_key(self.cluster, node))
        if raw is None:
            return None
        try:
            return AgentBeat.model_validate_json(cast(str, raw))
        except ValidationError:
            return None

    def call(
        self,
        node: str,
        work: Op,
        *,
        timeout: float | None = None,
        on_event: Callable[[TaskEvent], None] | None = None,
        exclusive: bool = False,
    ) -> Reply:
        items: list[TaskEvent] = []
        try:
            return self._call(
                node, work, timeout=timeout, on_event=on_event, exclusive=exclusive, items=items
            )
        except redis.RedisError as error:
            # Redis went away mid-call: say so per node, with what the agent had finished.
            log.warning("Redis failed during a task on %s: %s", node, type(error).__name__)
            lost = AgentLost(node, f"Redis failed while the task ran ({type(error).__name__})")
            lost.done = items
            raise lost from None

    def _call(
        self,
        node: str,
        work: Op,
        *,
        timeout: float | None,
        on_event: Callable[[TaskEvent], None] | None,
        exclusive: bool,
        items: list[TaskEvent],
    ) -> Reply:
        seconds = timeout if timeout is not None else TASK_TIMEOUTS.get(work.op, 60.0)
        end = time.monotonic() + seconds
        beat = self.beat(node)
        if beat is None:
            raise NoAgent(node)
        if beat.runtime_error:
            raise RuntimeUnreachable(node, beat.runtime_error)
        locked = self._lock(node, end, seconds) if exclusive else None
        try:
            task = Task.make(work, timeout=max(end - time.monotonic(), 0.1))
            raw = task.model_dump_json()
            pipe = self.redis.pipeline(transaction=True)
            pipe.rpush(tasks_key(self.cluster, node), raw)
            pipe.expire(tasks_key(self.cluster, node), TASK_LIST_TTL)
            pipe.execute()
            try:
                return self._follow(
                    node, task, (end, seconds), on_event, locked, items=items, taken=(beat, raw)
                )
            except (AgentProblem, redis.RedisError):
                # Not taken yet: take it back, so no agent starts what nobody waits for.
                with contextlib.suppress(redis.RedisError):
                    self.redis.lrem(tasks_key(self.cluster, node), 1, raw)
                raise
        finally:
            if locked is not None:
                self._unlock(locked)

    def _follow(
        self,
        node: str,
        task: Task,
        deadline: tuple[float, float],
        on_event: Callable[[TaskEvent], None] | None,
        locked: str | None,
        *,
        items: list[TaskEvent],
        taken: tuple[AgentBeat, str],
    ) -> Reply:
        """Read the task's events until its answer; ``deadline`` is (monotonic end, seconds).
        ``items`` collects the items the agent finished, for whoever handles a failure;
        ``taken`` is the beat of the agent the task was left for, and the task as pushed."""
        end, seconds = deadline
        key = task_events_key(self.cluster, task.id)
        last = "0-0"
        accepted = False
        # Renewed on a clock, not when reads come back empty: a long prune's events never
        # pause, and the node must stay ours the whole time.
        renew_every = self.lock_lease_ms / 3000
        renewed = time.monotonic()
        missing_since = 0.0  # when the task's lease was first seen missing
        vanished = 0  # checks in a row that found the task taken by an agent now gone

        def problem(error: AgentProblem) -> AgentProblem:
            error.done = items
            return error

        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise problem(AgentTimeout(node, seconds))
            block = int(min(left, _POLL_SECONDS) * 1000) or 1
            answer = cast(list[Any], self.redis.xread({key: last}, count=200, block=block))
            for _, entries in answer or []:
                for entry_id, fields in entries:
                    last = entry_id
                    event = _event(fields)
                    if event is None:
                        continue
                    if on_event is not None:
                        on_event(event)
                    if event.kind is EventKind.ACCEPTED:
                        accepted = True
                    elif event.kind is EventKind.ITEM:
                        items.append(event)
                    elif event.kind is EventKind.DONE and event.reply is not None:
                        return event.reply
                    elif event.kind is EventKind.FAILED:
                        raise problem(_failure(node, event))
            if locked is not None and time.monotonic() - renewed >= renew_every:
                if not self._renew(locked):
                    raise problem(AgentLost(node, f"{locked} is no longer held by this job"))
                renewed = time.monotonic()
            if answer:
                continue  # read on before looking at the lease: the answer may be next
            if accepted and not self.redis.exists(task_lease_key(self.cluster, task.id)):
                # The lease lapsed. One last read: the agent ends the lease after its answer.
                if self.redis.xlen(key) and self._more_events(key, last):
                    continue
                # A Redis restart can lose the key while the agent works on; it sets it again
                # within a renewal. Lost is a lease still missing a full lease later.
                missing_since = missing_since or time.monotonic()
                if time.monotonic() - missing_since >= LEASE_SECONDS:
                    raise problem(AgentLost(node, f"task {task.id[:8]}"))
                continue
            missing_since = 0.0
            if not accepted:
                vanished = self._not_yet_accepted(node, taken, vanished)

    def _not_yet_accepted(self, node: str, taken: tuple[AgentBeat, str], vanished: int) -> int:
        """Raise AgentLost when no agent will ever accept the task: the node's heartbeat
        stopped, or the task left the list while the agent it was left for is gone (killed
        between BLPOP and ``accepted``, and already restarted under a new name) at two checks
        in a row (a new agent that took it accepts within milliseconds). Else the count of
        such checks so far."""
        beat = self.beat(node)
        if beat is None:
            raise AgentLost(node, "its heartbeat stopped before it took the task")
        before, raw = taken
        if beat.agent == before.agent:
            return 0
        if self.redis.lpos(tasks_key(self.cluster, node), raw) is not None:
            return 0  # still queued: the new agent will take it
        if vanished >= 1:
            raise AgentLost(node, "the agent restarted after taking the task, before starting it")
        return vanished + 1

    def _more_events(self, key: str, last: str) -> bool:
        rest = cast(list[Any], self.redis.xrange(key, min=f"({last}", max="+"))
        return bool(rest)

    # --- The node's lock --------------------------------------------------------------------

    def _lock(self, node: str, end: float, seconds: float) -> str | None:
        """Hold ``node/NAME`` for this job; None when the job already held it (the worker
        takes a one-node job's target itself and releases it)."""
        if self.job_id is None:
            return None
        locks = Locks(self.redis, self.cluster)
        target = f"node/{node}"
        if self.redis.get(lock_key(self.cluster, target)) == self.job_id:
            return None
        while True:
            holder = locks.acquire(target, self.job_id, self.lock_lease_ms)
            if holder == self.job_id:
                return target
            if time.monotonic() >= end:
                raise AgentTimeout(node, seconds, f"{target} is held by job {holder}")
            time.sleep(_LOCK_POLL_SECONDS)

    def _renew(self, target: str) -> bool:
        """Extend this job's hold on ``target``; False when the job no longer holds it."""
        assert self.job_id is not None
        return Locks(self.redis, self.cluster).renew(target, self.job_id, self.lock_lease_ms)

    def _unlock(self, target: str) -> None:
        assert self.job_id is not None
        try:
            Locks(self.redis, self.cluster).release(target, self.job_id)
        except redis.RedisError:
            log.warning("could not release %s; its lease ends it", target)


def _event(fields: dict[str, str]) -> TaskEvent | None:
    try:
        return TaskEvent.model_validate_json(fields.get("event", ""))
    except ValidationError:
        log.warning("an unreadable task event was skipped")
        return None


def _failure(node: str, event: TaskEvent) -> AgentProblem:
    if event.reason is FailReason.RUNTIME_UNREACHABLE:
        return RuntimeUnreachable(node, event.detail)
    reason = event.reason.value if event.reason is not None else FailReason.ERROR.value
    return AgentRefused(node, reason, event.detail)
