"""The worker's side of the node-agent protocol under stress: a long prune whose events never
pause, a node lock taken away mid-call, and Redis failing part-way through a fleet job. The
agents here are scripted against a real Redis, so each case is exact."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import redis

from bot.jobs.agents import RedisNodeAgents
from bot.jobs.model import lock_key
from core.nodework import (
    AgentBeat,
    EventKind,
    ImageName,
    ItemAction,
    PruneItem,
    PruneOp,
    PruneReply,
    Task,
    TaskEvent,
    agent_key,
    task_events_key,
    task_lease_key,
    tasks_key,
)
from handlers.agents import AgentLost

CLUSTER = "unit"


def _beat(client: redis.Redis, node: str) -> None:
    beat = AgentBeat(node=node, cluster=CLUSTER, agent="scripted", started_at=datetime.now(UTC))
    client.set(agent_key(CLUSTER, node), beat.model_dump_json(), px=60_000)


def _item(task_id: str, n: int) -> TaskEvent:
    return TaskEvent(
        kind=EventKind.ITEM,
        task_id=task_id,
        agent="scripted",
        item=PruneItem(
            action=ItemAction.REMOVED,
            image=ImageName(reference=f"x:{n}", image_id=f"sha256:{n}", size_bytes=5),
        ),
    )


def _busy_agent(
    client: redis.Redis,
    node: str,
    *,
    seconds: float,
    during: Callable[[int], None] = lambda n: None,
) -> threading.Thread:
    """An agent that takes one prune and reports a removal every 20 ms for ``seconds``
    (a long prune: the worker's reads never come back empty), then answers."""

    def work() -> None:
        _, raw = client.blpop([tasks_key(CLUSTER, node)], 5)  # type: ignore[misc]
        task = Task.model_validate_json(raw)
        events = task_events_key(CLUSTER, task.id)

        def send(event: TaskEvent) -> None:
            client.set(task_lease_key(CLUSTER, task.id), "scripted", px=3000)
            client.xadd(events, {"event": event.model_dump_json()})

        send(TaskEvent(kind=EventKind.ACCEPTED, task_id=task.id, agent="scripted"))
        end, n = time.monotonic() + seconds, 0
        while time.monotonic() < end:
            n += 1
            during(n)
            send(_item(task.id, n))
            time.sleep(0.02)
        reply = PruneReply(dry_run=False)
        send(TaskEvent(kind=EventKind.DONE, task_id=task.id, agent="scripted", reply=reply))

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_the_node_lock_is_renewed_while_events_keep_coming(redis_client: redis.Redis) -> None:
    node = "k8s-node3"
    _beat(redis_client, node)
    agents = RedisNodeAgents(redis_client, CLUSTER, job_id="job-1", lock_lease_ms=600)
    holders: list[str | None] = []

    def watch(n: int) -> None:
        holders.append(redis_client.get(lock_key(CLUSTER, f"node/{node}")))  # type: ignore[arg-type]

    agent = _busy_agent(redis_client, node, seconds=2.0, during=watch)
    reply = agents.call(node, PruneOp(), timeout=10, exclusive=True)
    agent.join(timeout=5)
    assert isinstance(reply, PruneReply)
    assert holders and set(holders) == {"job-1"}  # held the whole time, lease or not
    assert redis_client.get(lock_key(CLUSTER, f"node/{node}")) is None  # released after


def test_a_lock_taken_away_mid_call_ends_the_call_with_what_was_done(
    redis_client: redis.Redis,
) -> None:
    node = "k8s-node4"
    _beat(redis_client, node)
    agents = RedisNodeAgents(redis_client, CLUSTER, job_id="job-1", lock_lease_ms=600)

    def steal(n: int) -> None:
        if n == 10:
            redis_client.set(lock_key(CLUSTER, f"node/{node}"), "job-2", px=60_000)

    agent = _busy_agent(redis_client, node, seconds=1.5, during=steal)
    with pytest.raises(AgentLost) as lost:
        agents.call(node, PruneOp(), timeout=10, exclusive=True)
    agent.join(timeout=5)
    assert "node/k8s-node4" in lost.value.detail
    assert len(lost.value.done) >= 9
    assert redis_client.get(lock_key(CLUSTER, f"node/{node}")) == "job-2"  # not ours to free
