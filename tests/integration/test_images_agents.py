"""Images and runtime commands on the sandbox's real containerd, through real node agents
(``k8s-chatops node-agent`` subprocesses) and Redis, with crictl as the reference.

The perform functions are called as the worker calls them: a ``Control`` whose ``agents``
is the worker's ``RedisNodeAgents`` bound to a job.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from helpers import NodeAgentProcesses, wait_for

from bot.jobs.agents import RedisNodeAgents
from core.nodework import agent_key
from core.redaction import build_redactor
from handlers import images
from handlers.control import Control
from handlers.images_models import (
    FleetImages,
    ListImages,
    NodeImages,
    PruneImages,
    RemoveImage,
    RuntimeContainers,
    RuntimeLogLines,
    RuntimeLogs,
    RuntimePs,
)
from handlers.kube import KubeClient
from nodeagent.agent import NodeAgent
from nodeagent.ops import NodeRuntime
from nodeagent.runtime import RuntimeClient
from sandbox import cluster, runtime

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLUSTER = "sandbox"
REPO = Path(__file__).resolve().parents[2]
KEEP = runtime.KEEP_PATTERN


@pytest.fixture(scope="module")
def node_runtimes(sandbox: Path) -> dict[str, object]:
    return runtime.reset()


@pytest.fixture
def fresh(node_runtimes: dict[str, object]) -> dict[str, object]:
    """The seed images and containers, restored before the test."""
    return runtime.reset()


@pytest.fixture
def agents(
    redis_url: str, tmp_path: Path, redis_client: redis.Redis
) -> Iterator[NodeAgentProcesses]:
    running = NodeAgentProcesses(redis_url, CLUSTER, tmp_path)
    running.start_all()
    yield running
    running.stop_all()


@pytest.fixture
def control(redis_client: redis.Redis) -> Control:
    return Control(agents=RedisNodeAgents(redis_client, CLUSTER).for_job("it-1"))


def _images(name: str) -> dict[str, dict]:
    return {image["id"]: image for image in runtime.images(name)}


def _seed(manifest: dict, node: str, role: str) -> list[dict]:
    return [i for i in manifest["nodes"][node]["images"] if i["role"] == role]


def test_images_matches_crictl(
    fresh: dict, agents: NodeAgentProcesses, kube: KubeClient, control: Control
) -> None:
    for node in ("k8s-master", "k8s-node1"):
        result = images.list_images(ListImages(node=node), kube, control)
        assert isinstance(result, NodeImages)
        listed = _images(node)
        ours = {(row.image_id, row.size_bytes) for row in result.rows}
        assert ours == {(i, int(image["size"])) for i, image in listed.items()}
        crictl_rows = {
            (tag.rpartition(":")[0], tag.rpartition(":")[2], i)
            for i, image in listed.items()
            for tag in image.get("repoTags") or []
        }
        assert {(r.repository, r.tag, r.image_id) for r in result.rows} == crictl_rows
        pause = next(r for r in result.rows if r.repository == "registry.k8s.io/pause")
        assert pause.sandbox_image and pause.pinned
        in_use = _seed(fresh, node, "in-use")[0]
        assert next(r for r in result.rows if r.image_id == in_use["id"]).used_by
        assert result.agent.runtime_name == "containerd"
        assert result.fs and result.fs[0].capacity_bytes  # the agent can see it here


def test_fleet_listing_names_nodes_without_an_agent(
    fresh: dict, agents: NodeAgentProcesses, kube: KubeClient, control: Control
) -> None:
    agents.kill("k8s-master")
    client = redis.Redis.from_url(agents.redis_url, decode_responses=True)
    client.delete(agent_key(CLUSTER, "k8s-master"))  # as its beat would expire
    result = images.list_images(ListImages(all_nodes=True), kube, control)
    assert isinstance(result, FleetImages)
    assert [r.node for r in result.rows] == ["k8s-node1"]
    row = result.rows[0]
    unused = _seed(fresh, "k8s-node1", "unused")
    assert (
        row.reclaimable_bytes
        == sum(i["size"] for i in unused) + _seed(fresh, "k8s-node1", "keep-me")[0]["size"]
    )
    assert {p.node: p.reason for p in result.problems}.get("k8s-master") == "no-agent"


def test_fleet_reclaimable_is_what_a_prune_under_the_policy_would_free(
    fresh: dict, agents: NodeAgentProcesses, kube: KubeClient, control: Control
) -> None:
    """RECLAIMABLE means "what a prune could free": with the policy's keep list on the
    request (the bot puts it there, as for prune), images it keeps are not counted."""
    node = "k8s-node1"
    result = images.list_images(ListImages(all_nodes=True, policy_keep=(KEEP,)), kube, control)
    assert isinstance(result, FleetImages)
    row = next(r for r in result.rows if r.node == node)
    assert row.reclaimable_bytes == sum(i["size"] for i in _seed(fresh, node, "unused"))
    plan = images.prune_images(
        PruneImages(node=node, dry_run=True, policy_keep=(KEEP,)), kube, control
    )
    assert row.reclaimable_bytes == plan.nodes[0].bytes_freed > 0


def test_dry_run_is_crictl_prune_minus_keep_pinned_and_sandbox(
    fresh: dict, agents: NodeAgentProcesses, kube: KubeClient, control: Control
) -> None:
    node = "k8s-node1"
    plan = images.prune_images(
        PruneImages(node=node, dry_run=True, policy_keep=(KEEP,)), kube, control
    )
    assert plan.dry_run and len(plan.nodes) == 1
    would = {ref.image_id for ref in plan.nodes[0].removed}
    before = set(_images(node))
    assert set(_images(node)) == before  # a dry run removes nothing
    runtime.crictl(node, "rmi", "--prune")
    crictl_removed = before - set(_images(node))
    keep_me = {i["id"] for i in _seed(fresh, node, "keep-me")}
    assert would == crictl_removed - keep_me
    assert keep_me <= crictl_removed  # crictl knows no keep list


def test_a_prune_frees_what_it_reports_and_spares_what_is_protected(
    fresh: dict, agents: NodeAgentProcesses, kube: KubeClient, control: Control
) -> None:
    node = "k8s-node1"
    before = _images(node)
    result = images.prune_images(PruneImages(node=node, policy_keep=(KEEP,)), kube, control)
    assert result.failure is None
    (outcome,) = result.nodes
    after = _images(node)
    removed = {ref.image_id for ref in outcome.removed}
    assert removed and removed.isdisjoint(after)
    assert outcome.bytes_freed == sum(int(before[i]["size"]) for i in removed)
    assert set(before) - set(after) == removed
    for role in ("pause", "pinned", "keep-me", "in-use", "exited"):
        assert {i["id"] for i in _seed(fresh, node, role)} <= set(after), role
    reasons = {k.image.image_id: k.reason for k in outcome.kept}
    assert reasons[_seed(fresh, node, "pause")[0]["id"]] == "sandbox-image"
    assert reasons[_seed(fresh, node, "pinned")[0]["id"]] == "pinned"
    assert reasons[_seed(fresh, node, "keep-me")[0]["id"]] == "keep"
    assert outcome.window_max_us is not None and outcome.window_max_us < 1_000_000
    again = images.prune_images(PruneImages(node=node, policy_keep=(KEEP,)), kube, control)
    assert again.nodes[0].removed == []  # a second run is safe and has nothing to do


def test_older_than_keeps_new_images(
    fresh: dict, agents: NodeAgentProcesses, kube: KubeClient, control: Control
) -> None:
    node = "k8s-master"
    result = images.prune_images(
        PruneImages(node=node, dry_run=True, older_than_seconds=30 * 86400), kube, control
    )
    would = {ref.reference for ref in result.nodes[0].removed}
    assert "docker.io/k8schatops/k8s-master-old:v1" in would
    assert "docker.io/k8schatops/k8s-master-new:v1" not in would
    reasons = {k.image.reference: k.reason for k in result.nodes[0].kept}
    assert reasons["docker.io/k8schatops/k8s-master-new:v1"] == "too-new"


def test_an_image_used_between_plan_and_removal_survives(
    fresh: dict, agents: NodeAgentProcesses, kube: KubeClient, control: Control
) -> None:
    node = "k8s-node1"
    request = PruneImages(node=node, policy_keep=(KEEP,))
    plan = images.plan_prune(kube, request, control)
    victim = next(r for r in plan.nodes[0].remove if r.reference.endswith("-old:v1"))
    runtime.use_image(node, victim.reference)
    result = images.prune_images(request, kube, control)
    assert victim.image_id in _images(node)
    kept = {k.image.image_id: k.reason for k in result.nodes[0].kept}
    assert kept[victim.image_id] in ("in-use", "in-use-now")


def test_an_image_taken_after_the_last_decision_is_skipped_in_use_now(
    fresh: dict, redis_client: redis.Redis, kube: KubeClient
) -> None:
    """The agent's own hook fires between the decision and the check before removal; a real
    container takes the image right there, and the check sees it."""
    node = runtime.node("k8s-master")
    victim = "docker.io/k8schatops/k8s-master-old:v1"
    raced: list[str] = []

    def race(image: object) -> None:
        if victim in getattr(image, "repo_tags", []) and not raced:
            raced.append(runtime.use_image(node.name, victim))

    client = RuntimeClient(node.endpoint)
    ops = NodeRuntime(
        client, pod_log_dir=node.log_dir, redactor=build_redactor(), before_check=race
    )
    agent = NodeAgent(redis_client, cluster=CLUSTER, node=node.name, runtime=ops)
    thread = threading.Thread(target=agent.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: redis_client.exists(agent_key(CLUSTER, node.name)), timeout=10)
        control = Control(agents=RedisNodeAgents(redis_client, CLUSTER).for_job("it-2"))
        result = images.prune_images(PruneImages(node=node.name), kube, control)
    finally:
        agent.stop()
        thread.join(timeout=15)
        client.close()
    assert raced
    kept = {k.image.reference: k for k in result.nodes[0].kept}
    assert kept[victim].reason == "in-use-now"
    assert any(victim in (image.get("repoTags") or []) for image in runtime.images(node.name))


def test_rmi_refuses_an_image_in_use_and_removes_an_unused_one(
    fresh: dict, agents: NodeAgentProcesses, kube: KubeClient, control: Control
) -> None:
    node = "k8s-node1"
    in_use = _seed(fresh, node, "in-use")[0]
    refused = images.remove_image(RemoveImage(node=node, image=in_use["refs"][0]), kube, control)
    assert not refused.removed and refused.reason == "in-use" and refused.used_by
    pause = images.remove_image(RemoveImage(node=node, image=runtime.SANDBOX_IMAGE), kube, control)
    assert (pause.removed, pause.reason) == (False, "sandbox-image")
    assert in_use["id"] in _images(node)
    old = f"docker.io/k8schatops/{node}-old:v1"
    plan = images.plan_prune(kube, RemoveImage(node=node, image=old), control)
    assert [r.reference for r in plan.nodes[0].remove] == [old]
    done = images.remove_image(RemoveImage(node=node, image=old), kube, control)
    assert done.removed and done.image is not None and done.image.image_id not in _images(node)


def test_runtime_ps_and_logs_answer_with_the_api_server_down(
    fresh: dict, agents: NodeAgentProcesses, kube: KubeClient, control: Control
) -> None:
    node = "k8s-node1"
    running = fresh["nodes"][node]["running"]
    cluster.stop_component("kube-apiserver")
    try:
        ps = images.runtime_ps(RuntimePs(node=node), kube, control)
        logs = images.runtime_logs(RuntimeLogs(node=node, container=running["name"]), kube, control)
    finally:
        cluster.start_component("kube-apiserver")
    assert isinstance(ps, RuntimeContainers)
    assert {c.container_id for c in ps.containers} >= {
        running["id"],
        fresh["nodes"][node]["exited"]["id"],
    }
    assert isinstance(logs, RuntimeLogLines) and logs.container_id == running["id"]
    text = "\n".join(logs.lines)
    assert "hunter2" not in text and "sandbox-fake-token" not in text
    assert "[REDACTED:password]" in text and logs.masked >= 2
    assert "sandbox talk: ready" in text


def test_a_fleet_prune_with_an_agent_killed_midway_says_what_was_done(
    fresh: dict, agents: NodeAgentProcesses, kube: KubeClient, redis_client: redis.Redis
) -> None:
    victim_node = "k8s-node1"
    runtime.add_images(victim_node, 120, 4096)
    killed = threading.Event()

    def progress(line: str) -> None:
        if line.startswith(f"{victim_node}: ") and not killed.is_set():
            killed.set()
            agents.kill(victim_node)

    control = Control(
        progress=progress, agents=RedisNodeAgents(redis_client, CLUSTER).for_job("it-3")
    )
    started = time.monotonic()
    first = images.prune_images(PruneImages(all_nodes=True, policy_keep=(KEEP,)), kube, control)
    took = time.monotonic() - started
    assert killed.is_set() and took < 60
    outcomes = {o.node: o for o in first.nodes}
    lost = outcomes[victim_node]
    assert lost.problem is not None and lost.problem.reason == "agent-lost"
    assert lost.removed  # it had started
    left = _images(victim_node)
    assert {r.image_id for r in lost.removed}.isdisjoint(left)  # what it says was removed, was
    assert outcomes["k8s-master"].problem is None and outcomes["k8s-master"].removed
    assert first.failure is not None and victim_node in first.failure
    agents.start(victim_node)
    second = images.prune_images(PruneImages(all_nodes=True, policy_keep=(KEEP,)), kube, control)
    assert second.failure is None
    unused_left = [
        i
        for i in runtime.images(victim_node)
        if any(t.startswith("docker.io/k8schatops/added-") for t in i.get("repoTags") or [])
    ]
    assert unused_left == []


def _wait_beat_gone(client: redis.Redis, node: str) -> Callable[[], bool]:
    return lambda: not client.exists(agent_key(CLUSTER, node))


def test_an_agent_stopped_with_sigterm_says_it_is_gone(
    agents: NodeAgentProcesses, redis_client: redis.Redis
) -> None:
    agents.processes["k8s-master"].terminate()
    assert agents.processes["k8s-master"].wait(timeout=15) == 0
    wait_for(_wait_beat_gone(redis_client, "k8s-master"), timeout=5)
    assert datetime.now(UTC)  # retired at once, not after three heartbeat intervals


def test_the_agent_exits_with_one_line_when_its_node_is_not_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "K8S_CHATOPS_NODE_NAME"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "node-agent"],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "k8s-chatops: setting K8S_CHATOPS_NODE_NAME is missing (set it in the environment)."
    ]
