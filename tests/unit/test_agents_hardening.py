"""The worker's side of the node-agent protocol under stress: a long prune whose events never
pause, a node lock taken away mid-call, and Redis failing part-way through a fleet job. The
agents here are scripted against a real Redis, so each case is exact."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from cri_replay import ReplayServer
from helpers import wait_for

from bot.jobs.agents import RedisNodeAgents
from bot.jobs.model import lock_key
from core.nodework import (
    AgentBeat,
    EventKind,
    FsUsage,
    ImageName,
    ItemAction,
    PruneItem,
    PruneOp,
    PruneReply,
    PsOp,
    PsReply,
    Task,
    TaskEvent,
    WireImage,
    agent_key,
    task_events_key,
    task_lease_key,
    tasks_key,
)
from core.redaction import build_redactor
from handlers import images
from handlers.agents import AgentLost
from handlers.control import Control
from handlers.images_models import PruneImages
from nodeagent import ops
from nodeagent.agent import NodeAgent
from nodeagent.health import serve_health
from nodeagent.ops import NodeRuntime
from nodeagent.runtime import RuntimeClient

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


def test_a_lease_missing_once_after_a_redis_restart_is_not_agent_lost(
    redis_client: redis.Redis,
) -> None:
    """A restarted Redis may come back without the lease key for up to one renewal (a
    second); the agent is still working and sets it again. One miss is not a lost agent."""
    node = "k8s-node6"
    _beat(redis_client, node)

    def work() -> None:
        _, raw = redis_client.blpop([tasks_key(CLUSTER, node)], 5)  # type: ignore[misc]
        task = Task.model_validate_json(raw)
        events, lease = task_events_key(CLUSTER, task.id), task_lease_key(CLUSTER, task.id)
        redis_client.set(lease, "scripted", px=3000)
        accepted = TaskEvent(kind=EventKind.ACCEPTED, task_id=task.id, agent="scripted")
        redis_client.xadd(events, {"event": accepted.model_dump_json()})
        time.sleep(0.3)
        redis_client.delete(lease)  # Redis restarted and lost the key
        time.sleep(1.3)  # the worker looks at least once meanwhile
        redis_client.set(lease, "scripted", px=3000)  # the agent's next renewal
        time.sleep(1.5)
        done = TaskEvent(
            kind=EventKind.DONE, task_id=task.id, agent="scripted", reply=PruneReply(dry_run=False)
        )
        redis_client.xadd(events, {"event": done.model_dump_json()})

    agent = threading.Thread(target=work, daemon=True)
    agent.start()
    reply = RedisNodeAgents(redis_client, CLUSTER).call(node, PruneOp(), timeout=10)
    agent.join(timeout=5)
    assert isinstance(reply, PruneReply)


def test_an_agent_that_restarts_between_taking_a_task_and_accepting_it_is_lost(
    redis_client: redis.Redis,
) -> None:
    """SIGKILL right after BLPOP: the task is gone from the list, and the restarted agent
    beats again under a new name within seconds. The worker says agent-lost at once rather
    than waiting out the task's whole deadline (15 minutes for a prune)."""
    node = "k8s-node7"
    _beat(redis_client, node)

    def restart() -> None:
        redis_client.blpop([tasks_key(CLUSTER, node)], 5)  # taken, then killed
        reborn = AgentBeat(node=node, cluster=CLUSTER, agent="reborn", started_at=datetime.now(UTC))
        redis_client.set(agent_key(CLUSTER, node), reborn.model_dump_json(), px=60_000)

    agent = threading.Thread(target=restart, daemon=True)
    agent.start()
    started = time.monotonic()
    with pytest.raises(AgentLost) as lost:
        RedisNodeAgents(redis_client, CLUSTER).call(node, PruneOp(), timeout=20)
    agent.join(timeout=5)
    assert time.monotonic() - started < 6
    assert "restarted" in lost.value.detail


def test_a_new_agent_that_takes_the_queued_task_is_not_lost(redis_client: redis.Redis) -> None:
    """The other order: the old agent died before taking the task; the new one takes it."""
    node = "k8s-node8"
    _beat(redis_client, node)
    reborn = AgentBeat(node=node, cluster=CLUSTER, agent="reborn", started_at=datetime.now(UTC))

    def restart_then_work() -> None:
        time.sleep(0.3)  # the task is queued by now
        redis_client.set(agent_key(CLUSTER, node), reborn.model_dump_json(), px=60_000)
        time.sleep(2.5)  # the worker looks a few times meanwhile: the task is still queued
        _busy_agent(redis_client, node, seconds=0.2).join(timeout=5)

    agent = threading.Thread(target=restart_then_work, daemon=True)
    agent.start()
    reply = RedisNodeAgents(redis_client, CLUSTER).call(node, PruneOp(), timeout=20)
    agent.join(timeout=10)
    assert isinstance(reply, PruneReply)


def test_a_redis_error_mid_call_is_agent_lost_with_the_items_seen(
    redis_client: redis.Redis, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = "k8s-node5"
    _beat(redis_client, node)
    worker_side = redis.Redis.from_url(redis_url, decode_responses=True)
    real_xread = worker_side.xread
    seen = 0

    def xread(*args: object, **kwargs: object) -> object:
        nonlocal seen
        if seen >= 4:  # accepted and three items read: Redis goes away
            raise redis.ConnectionError("Connection reset by peer")
        answer = real_xread(*args, **kwargs)  # type: ignore[arg-type]
        seen += sum(len(entries) for _, entries in answer or [])
        return answer

    monkeypatch.setattr(worker_side, "xread", xread)
    agent = _busy_agent(redis_client, node, seconds=0.3, during=lambda n: time.sleep(0.05))
    with pytest.raises(AgentLost) as lost:
        RedisNodeAgents(worker_side, CLUSTER).call(node, PruneOp(), timeout=10)
    agent.join(timeout=5)
    worker_side.close()
    assert len(lost.value.done) >= 3
    assert "Redis" in lost.value.detail and "reset" not in lost.value.detail.lower()


class _Nodes:
    """The API server's node list, for ``--all``."""

    def __init__(self, names: list[str]) -> None:
        self.names = names

    def retrying(self, retrier: object) -> _Nodes:
        return self

    def list_pages(self, path: str, label_selector: str | None = None) -> list[dict]:
        return [{"metadata": {"name": n}} for n in self.names]


class _SplitAgents:
    """k8s-node1 prunes; k8s-node2's call fails with an error no agent problem covers."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def live(self) -> dict[str, AgentBeat]:
        now = datetime.now(UTC)
        return {
            n: AgentBeat(node=n, cluster=CLUSTER, agent="a", started_at=now)
            for n in ("k8s-node1", "k8s-node2")
        }

    def call(self, node: str, work: object, **kwargs: object) -> PruneReply:
        if node == "k8s-node2":
            raise self.error
        gone = ImageName(reference="x:1", image_id="sha256:1", size_bytes=5)
        return PruneReply(dry_run=False, removed=[gone])


@pytest.mark.parametrize(
    "error", [redis.ConnectionError("gone"), AssertionError("odd reply"), OSError(5, "EIO")]
)
def test_one_node_failing_does_not_lose_the_others_removals(error: Exception) -> None:
    result = images.prune_images(
        PruneImages(all_nodes=True),
        _Nodes(["k8s-node1", "k8s-node2"]),  # type: ignore[arg-type]
        Control(agents=_SplitAgents(error)),
    )
    by_node = {o.node: o for o in result.nodes}
    assert [r.reference for r in by_node["k8s-node1"].removed] == ["x:1"]
    problem = by_node["k8s-node2"].problem
    assert problem is not None and problem.reason == "agent-lost"
    assert "incident" in problem.detail


# --- The agent keeps going ----------------------------------------------------------------


@pytest.fixture
def replay(tmp_path: Path) -> Iterator[ReplayServer]:
    server = ReplayServer(tmp_path / "cri.sock").start()
    yield server
    server.stop()


@pytest.fixture
def runtime(replay: ReplayServer, tmp_path: Path) -> Iterator[NodeRuntime]:
    client = RuntimeClient(replay.endpoint, timeout=2.0)
    yield NodeRuntime(
        client, pod_log_dir=tmp_path, redactor=build_redactor(), image_fs_path=tmp_path
    )
    client.close()


@contextlib.contextmanager
def _running(agent: NodeAgent) -> Iterator[threading.Thread]:
    thread = threading.Thread(target=agent.run, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        agent.stop()
        thread.join(timeout=10)


def _agent(client: redis.Redis, runtime: NodeRuntime, node: str) -> NodeAgent:
    return NodeAgent(
        client,
        cluster=CLUSTER,
        node=node,
        runtime=runtime,
        heartbeat_interval=0.2,
        lease_seconds=0.6,
    )


def test_a_filesystem_that_cannot_be_measured_leaves_capacity_unknown(
    runtime: NodeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def stale(path: object) -> os.statvfs_result:
        raise OSError(errno.ESTALE, "Stale file handle")

    monkeypatch.setattr(ops.os, "statvfs", stale)
    usages = runtime.filesystems()
    assert usages and all(u.capacity_bytes is None for u in usages)


def test_the_heartbeat_survives_an_unexpected_error(
    redis_client: redis.Redis, runtime: NodeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = "k8s-node6"
    real, calls = runtime.filesystems, 0

    def once_broken() -> list[FsUsage]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ValueError("a surprise")
        return real()

    monkeypatch.setattr(runtime, "filesystems", once_broken)
    with _running(_agent(redis_client, runtime, node)):
        wait_for(lambda: calls >= 4, timeout=5)
        beat = RedisNodeAgents(redis_client, CLUSTER).beat(node)
        assert beat is not None and (datetime.now(UTC) - beat.at).total_seconds() < 1


def test_a_redis_blip_while_skipping_a_task_does_not_stop_the_agent(
    redis_client: redis.Redis, runtime: NodeRuntime
) -> None:
    node = "k8s-node7"
    agent = _agent(redis_client, runtime, node)
    real_emit = agent._emit

    def blip(event: TaskEvent) -> None:
        if event.reason is not None and event.reason.value == "stale":
            raise redis.ConnectionError("blip")
        real_emit(event)

    agent._emit = blip  # type: ignore[method-assign]
    with _running(agent) as thread:
        wait_for(lambda: redis_client.exists(agent_key(CLUSTER, node)), timeout=5)
        stale = Task(deadline=datetime.now(UTC) - timedelta(seconds=1), work=PruneOp())
        redis_client.rpush(tasks_key(CLUSTER, node), stale.model_dump_json())
        reply = RedisNodeAgents(redis_client, CLUSTER).call(node, PsOp(), timeout=5)
        assert isinstance(reply, PsReply) and thread.is_alive()


# --- A runtime that stays away: exit, so the kubelet mounts its socket afresh ---------------


def test_an_agent_whose_runtime_stays_unreachable_exits_non_zero(
    redis_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "K8S_CHATOPS_REDIS_URL": redis_url,
        "K8S_CHATOPS_NODE_NAME": "k8s-node8",
        "K8S_CHATOPS_CLUSTER": CLUSTER,
        "K8S_CHATOPS_RUNTIME_ENDPOINT": f"unix://{tmp_path}/gone.sock",
        "K8S_CHATOPS_POD_LOG_DIR": str(tmp_path),
        "K8S_CHATOPS_RUNTIME_GIVE_UP_SECONDS": "1",
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "node-agent"],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    assert "K8S_CHATOPS_RUNTIME_GIVE_UP_SECONDS" in done.stderr
    assert time.monotonic() - started < 30


def _health(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_the_health_port_says_whether_the_agent_is_alive(
    redis_client: redis.Redis, runtime: NodeRuntime, replay: ReplayServer
) -> None:
    agent = NodeAgent(
        redis_client,
        cluster=CLUSTER,
        node="k8s-node9",
        runtime=runtime,
        heartbeat_interval=0.2,
        runtime_give_up=1.0,
    )
    server = serve_health(agent, host="127.0.0.1", port=0)
    port = server.server_address[1]
    try:
        with _running(agent) as thread:
            wait_for(lambda: _health(port)[0] == 200, timeout=5)
            replay.stop()
            _, text = wait_for(lambda: (h := _health(port))[0] == 503 and h, timeout=5)
            assert "runtime" in text
            thread.join(timeout=10)
            assert not thread.is_alive() and agent.gave_up
    finally:
        server.shutdown()


def test_two_snapshots_at_once_forget_a_gone_image_once(runtime: NodeRuntime) -> None:
    """Reads run side by side and share the caches: here the other reader runs, start to end,
    right after this one has listed the cache entries it will forget."""
    others: list[tuple[list[WireImage], str | None]] = []
    started = threading.Event()

    class Shared(dict[str, Any]):
        def __iter__(self) -> Iterator[str]:
            keys = list(super().__iter__())
            if not started.is_set():
                started.set()
                others.append(runtime.snapshot())
            return iter(keys)

    runtime._created = Shared({"sha256:gone": None})
    runtime._sandbox_images = Shared({"gone-sandbox": None})
    images, _ = runtime.snapshot()
    assert others and {i.id for i in images} == {i.id for i in others[0][0]}
    assert "sha256:gone" not in runtime._created
    assert "gone-sandbox" not in runtime._sandbox_images
