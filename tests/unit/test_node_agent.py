"""The node agent against recorded CRI answers (tests/cri_replay.py) and a real Redis: its
operations (use, pins, the sandbox image, prune decisions, the last check before each
removal, logs), and its loop (stale and bad tasks, a runtime that does not answer, an agent
that dies mid-task) as the worker's RedisNodeAgents sees them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import pytest
import redis
from cri_replay import ReplayServer
from helpers import wait_for
from pydantic import Field

from bot.commands.registry import registry
from bot.jobs.agents import RedisNodeAgents
from core.nodework import (
    MAX_TASK_BYTES,
    AgentBeat,
    EventKind,
    FailReason,
    ImageName,
    ImagesReply,
    ItemAction,
    KeptReason,
    ListImagesOp,
    LogsOp,
    PruneItem,
    PruneOp,
    PruneReply,
    PsOp,
    PsReply,
    RemoveImageOp,
    RemoveImageReply,
    Task,
    TaskEvent,
    agent_key,
    task_events_key,
    tasks_key,
)
from core.redaction import build_redactor
from handlers import images
from handlers.agents import AgentLost, AgentRefused, AgentTimeout, NoAgent, RuntimeUnreachable
from handlers.control import Control
from handlers.images_models import ApprovedRemovals, PruneImages, RemoveImage
from nodeagent.agent import NodeAgent
from nodeagent.ops import NodeRuntime, TaskRefused
from nodeagent.runtime import RuntimeClient

CLUSTER, NODE = "unit", "k8s-node1"
FOREVER = datetime.max.replace(tzinfo=UTC)
LOG_LINES = [
    "2026-11-28T10:00:00.000000001Z stdout F starting",
    "2026-11-28T10:00:00.000000002Z stdout F password=hunter2",
    "2026-11-28T10:00:00.000000003Z stdout P ready ",
    "2026-11-28T10:00:00.000000004Z stdout F now",
]


@pytest.fixture
def replay(tmp_path: Path) -> Iterator[ReplayServer]:
    server = ReplayServer(tmp_path / "cri.sock").start()
    yield server
    server.stop()


@pytest.fixture
def runtime(replay: ReplayServer, tmp_path: Path) -> Iterator[NodeRuntime]:
    pods = tmp_path / "pods"
    log = pods / "default_go-http_b6e5c45c-1705-31ab-33a0-a761abd03b4c" / "go-http" / "0.log"
    log.parent.mkdir(parents=True)
    log.write_text("\n".join(LOG_LINES) + "\n")
    client = RuntimeClient(replay.endpoint, timeout=2.0)
    yield NodeRuntime(client, pod_log_dir=pods, redactor=build_redactor())
    client.close()


def by_tag(reply: ImagesReply) -> dict[str, object]:
    return {i.repo_tags[0]: i for i in reply.images}


def test_listing_says_who_uses_what_and_which_is_the_sandbox_image(runtime: NodeRuntime) -> None:
    images = by_tag(runtime.images())
    pause = images["registry.k8s.io/pause:3.10"]
    assert pause.sandbox_image and pause.pinned  # type: ignore[attr-defined]
    assert images["docker.io/leigg/hellok8s:v1"].used_by == ["default/go-http/go-http"]  # type: ignore[attr-defined]
    assert images["docker.io/k8schatops/job-once:v1"].used_by == ["default/go-http/job-once"]  # type: ignore[attr-defined]
    old = images["docker.io/k8schatops/k8s-node1-old:v1"]
    assert old.created == datetime(2023, 6, 1, tzinfo=UTC)  # type: ignore[attr-defined]
    fs = runtime.filesystems()[0]
    assert fs.mountpoint == "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs"
    assert fs.capacity_bytes is None  # not visible here: no capacity rather than a wrong one


def test_prune_removes_only_unused_unpinned_unkept_images(
    runtime: NodeRuntime, replay: ReplayServer
) -> None:
    seen = []
    reply = runtime.prune(
        PruneOp(policy_keep=[r"^docker\.io/k8schatops/keep-"]), seen.append, FOREVER
    )
    removed = {name.reference for name in reply.removed}
    assert removed == {
        "docker.io/k8schatops/k8s-node1-old:v1",
        "docker.io/k8schatops/k8s-node1-layers:v2",
        "docker.io/k8schatops/k8s-node1-new:v1",
        "docker.io/k8schatops/unused-shared:latest",
    }
    assert {i for i, _ in replay.runtime.removed} == {n.image_id for n in reply.removed}
    reasons = {k.image.reference: k.reason for k in reply.kept}
    assert reasons["registry.k8s.io/pause:3.10"] is KeptReason.SANDBOX_IMAGE
    assert reasons["docker.io/k8schatops/node-base:v1"] is KeptReason.PINNED
    assert reasons["docker.io/k8schatops/keep-me:v1"] is KeptReason.KEEP
    assert reasons["docker.io/leigg/hellok8s:v1"] is KeptReason.IN_USE
    assert [e.action for e in seen] == [ItemAction.REMOVED] * 4  # one event per removal
    assert reply.window.count == 4 and 0 < reply.window.max_us < 1_000_000


def test_an_image_taken_between_decision_and_removal_survives(
    runtime: NodeRuntime, replay: ReplayServer
) -> None:
    victim = replay.runtime.image("docker.io/k8schatops/k8s-node1-old:v1")["id"]

    def race(image: object) -> None:
        if getattr(image, "id", None) == victim:
            replay.runtime.use(victim)

    runtime.before_check = race
    reply = runtime.prune(PruneOp(older_than_seconds=7 * 86400), lambda item: None, FOREVER)
    assert victim not in {n.image_id for n in reply.removed}
    assert victim not in {i for i, _ in replay.runtime.removed}
    late = next(k for k in reply.kept if k.image.image_id == victim)
    assert late.reason is KeptReason.IN_USE_NOW and "late" in late.detail
    assert {n.reference for n in reply.removed} == {
        "docker.io/k8schatops/unused-shared:latest",
        "docker.io/k8schatops/keep-me:v1",  # old, and no keep pattern here
    }


def test_the_last_check_asks_the_runtime_about_a_name_it_cannot_place(
    runtime: NodeRuntime, replay: ReplayServer
) -> None:
    """A container that names its image by a reference no listed image carries (only
    ImageStatus knows it): the last check resolves it as the first one does, and keeps it."""
    victim = replay.runtime.image("docker.io/k8schatops/k8s-node1-old:v1")["id"]

    def race(image: object) -> None:
        if getattr(image, "id", None) == victim:
            replay.runtime.use(victim, by="mirror.local/k8s-node1-old:v1")

    runtime.before_check = race
    reply = runtime.prune(PruneOp(older_than_seconds=7 * 86400), lambda item: None, FOREVER)
    assert victim not in {i for i, _ in replay.runtime.removed}
    late = next(k for k in reply.kept if k.image.image_id == victim)
    assert late.reason is KeptReason.IN_USE_NOW and "late" in late.detail


def test_the_filesystem_after_a_prune_is_measured_after_its_removals(
    runtime: NodeRuntime, replay: ReplayServer
) -> None:
    """The runtime answers ImageFsInfo from its last periodic measure: right after removing,
    it still says the bytes from before. The agent waits for a newer measure."""
    replay.runtime.fs_period = 0.5
    reply = runtime.prune(PruneOp(), lambda item: None, FOREVER)
    (before,), (after,) = reply.fs_before, reply.fs_after
    freed = sum(name.size_bytes for name in reply.removed)
    assert freed > 0 and after.used_bytes == before.used_bytes - freed


def test_a_runtime_that_does_not_measure_again_leaves_the_after_unknown(
    runtime: NodeRuntime, replay: ReplayServer
) -> None:
    replay.runtime.fs_period = None  # its one measure predates the removals
    runtime.fs_resample_wait = 0.3
    started = time.monotonic()
    reply = runtime.remove(
        RemoveImageOp(image="docker.io/k8schatops/k8s-node1-new:v1"), lambda item: None
    )
    assert reply.removed and reply.fs_before and reply.fs_after == []  # not a stale figure
    assert 0.3 <= time.monotonic() - started < 2


def test_a_dry_run_removes_nothing(runtime: NodeRuntime, replay: ReplayServer) -> None:
    reply = runtime.prune(PruneOp(dry_run=True), lambda item: None, FOREVER)
    assert len(reply.removed) == 5 and replay.runtime.removed == []


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        ("docker.io/leigg/hellok8s:v1", "in-use"),
        ("registry.k8s.io/pause:3.10", "sandbox-image"),
        ("docker.io/k8schatops/node-base:v1", "pinned"),
        ("docker.io/k8schatops/nothing:v1", "not-found"),
    ],
)
def test_rmi_refuses(runtime: NodeRuntime, replay: ReplayServer, image: str, reason: str) -> None:
    reply = runtime.remove(RemoveImageOp(image=image), lambda item: None)
    assert (reply.removed, reply.reason) == (False, reason)
    assert replay.runtime.removed == []


def test_rmi_by_id_prefix_removes_it(runtime: NodeRuntime, replay: ReplayServer) -> None:
    target = replay.runtime.image("docker.io/k8schatops/k8s-node1-new:v1")["id"]
    reply = runtime.remove(RemoveImageOp(image=target.removeprefix("sha256:")[:12]), lambda i: None)
    assert reply.removed and reply.image is not None and reply.image.image_id == target
    assert reply.window_us is not None


def test_logs_are_read_from_the_pod_log_dir_and_masked(runtime: NodeRuntime) -> None:
    reply = runtime.logs(LogsOp(container="go-http", tail=2))
    assert reply.lines == ["password=[REDACTED:password]", "ready now"]
    assert reply.omitted == 1 and reply.masked == 1


def test_a_log_path_outside_the_pod_log_dir_is_refused(runtime: NodeRuntime) -> None:
    with pytest.raises(TaskRefused):
        runtime.log_file("/etc/shadow")
    with pytest.raises(TaskRefused):
        runtime.log_file("/var/log/pods/../../../etc/shadow")


def test_containers_are_found_by_id_prefix_or_name(runtime: NodeRuntime) -> None:
    ps = runtime.ps()
    go_http = next(c for c in ps.containers if c.name == "go-http")
    assert runtime.find_container(go_http.id[:6]).id == go_http.id
    assert go_http.pod_name == "go-http" and go_http.image == "docker.io/leigg/hellok8s:v1"
    with pytest.raises(TaskRefused) as refused:
        runtime.find_container("nope")
    assert refused.value.reason.value == "container-not-found"


# --- The loop, through Redis ----------------------------------------------------------------


@pytest.fixture
def agent(redis_client: redis.Redis, runtime: NodeRuntime) -> Iterator[NodeAgent]:
    one = NodeAgent(
        redis_client,
        cluster=CLUSTER,
        node=NODE,
        runtime=runtime,
        heartbeat_interval=0.5,
        lease_seconds=0.6,
    )
    thread = threading.Thread(target=one.run, daemon=True)
    thread.start()
    wait_for(lambda: redis_client.exists(agent_key(CLUSTER, NODE)), timeout=5)
    yield one
    one.stop()
    thread.join(timeout=10)


@pytest.fixture
def agents(redis_client: redis.Redis) -> RedisNodeAgents:
    return RedisNodeAgents(redis_client, CLUSTER)


def test_a_call_is_answered_and_the_beat_names_the_runtime(
    agent: NodeAgent, agents: RedisNodeAgents
) -> None:
    beat = agents.live()[NODE]
    assert (beat.runtime_name, beat.runtime_version) == ("containerd", "2.4.2+unknown")
    assert beat.runtime_error is None and beat.started_at <= beat.at
    assert isinstance(agents.call(NODE, ListImagesOp(), timeout=5), ImagesReply)
    assert isinstance(agents.call(NODE, PsOp(), timeout=5), PsReply)


def test_events_say_each_removal_as_it_happens(agent: NodeAgent, agents: RedisNodeAgents) -> None:
    events: list[TaskEvent] = []
    reply = agents.call(NODE, PruneOp(), timeout=10, on_event=events.append)
    assert isinstance(reply, PruneReply)
    items = [e for e in events if e.kind is EventKind.ITEM]
    assert events[0].kind is EventKind.ACCEPTED and events[-1].kind is EventKind.DONE
    assert {e.item.image.image_id for e in items if e.item} == {n.image_id for n in reply.removed}


def test_stale_and_bad_tasks_are_skipped_and_the_loop_goes_on(
    agent: NodeAgent, agents: RedisNodeAgents, redis_client: redis.Redis, replay: ReplayServer
) -> None:
    stale = Task(deadline=datetime.now(UTC) - timedelta(seconds=1), work=PruneOp())
    redis_client.rpush(tasks_key(CLUSTER, NODE), stale.model_dump_json())
    redis_client.rpush(tasks_key(CLUSTER, NODE), '{"id": "abc123", "work": {"op": "format-disk"}}')
    redis_client.rpush(tasks_key(CLUSTER, NODE), "not json at all")
    reply = agents.call(
        NODE, RemoveImageOp(image="docker.io/k8schatops/k8s-node1-new:v1"), timeout=5
    )
    assert isinstance(reply, RemoveImageReply) and reply.removed

    def last(task_id: str) -> TaskEvent:
        entries = redis_client.xrange(task_events_key(CLUSTER, task_id))
        return TaskEvent.model_validate_json(entries[-1][1]["event"])

    assert last(stale.id).reason.value == "stale"  # type: ignore[union-attr]
    assert last("abc123").reason.value == "bad-task"  # type: ignore[union-attr]
    assert len(replay.runtime.removed) == 1  # the stale prune removed nothing


def test_an_oversized_task_is_refused_unparsed_and_the_loop_goes_on(
    agent: NodeAgent, agents: RedisNodeAgents, redis_client: redis.Redis
) -> None:
    # Valid but for its size: the agent ignores unknown fields, so only the size refuses it.
    padding = "x" * MAX_TASK_BYTES
    deadline = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    raw = f'{{"id":"big1","deadline":"{deadline}","work":{{"op":"ps"}},"pad":"{padding}"}}'
    redis_client.rpush(tasks_key(CLUSTER, NODE), raw)
    assert isinstance(agents.call(NODE, PsOp(), timeout=5), PsReply)
    entries = redis_client.xrange(task_events_key(CLUSTER, "big1"))
    assert [TaskEvent.model_validate_json(e[1]["event"]).kind for e in entries] == [
        EventKind.FAILED
    ]
    failed = TaskEvent.model_validate_json(entries[-1][1]["event"])
    assert failed.reason is FailReason.BAD_TASK
    assert f"at most {MAX_TASK_BYTES}" in failed.detail and str(len(raw)) in failed.detail


def test_reads_and_plans_are_answered_while_changes_queue(
    agent: NodeAgent, agents: RedisNodeAgents, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``runtime ps`` during an outage, or the plan of the next prune, must not wait behind
    a long prune; nor may queued prunes take every reader."""
    release = threading.Event()
    real_prune = NodeRuntime.prune

    def held_prune(self: NodeRuntime, op: PruneOp, *args: Any) -> PruneReply:
        if not op.dry_run:
            release.wait(20)
        return real_prune(self, op, *args)

    monkeypatch.setattr(NodeRuntime, "prune", held_prune)
    changes: list[object] = []
    callers = [
        threading.Thread(target=lambda: changes.append(agents.call(NODE, PruneOp(), timeout=30)))
        for _ in range(5)
    ]
    for caller in callers:
        caller.start()
    time.sleep(0.5)  # all five are taken: one runs, held; four queue
    try:
        assert isinstance(agents.call(NODE, PsOp(), timeout=3), PsReply)
        plan = agents.call(NODE, PruneOp(dry_run=True), timeout=3)
        assert isinstance(plan, PruneReply) and plan.dry_run
        assert isinstance(agents.call(NODE, ListImagesOp(), timeout=3), ImagesReply)
    finally:
        release.set()
        for caller in callers:
            caller.join(timeout=30)
    assert len(changes) == 5 and all(isinstance(c, PruneReply) for c in changes)


def test_a_failing_task_is_answered_and_does_not_stop_the_loop(
    agent: NodeAgent, agents: RedisNodeAgents
) -> None:
    with pytest.raises(AgentRefused) as refused:
        agents.call(NODE, LogsOp(container="nope"), timeout=5)
    assert refused.value.reason == "container-not-found"
    assert isinstance(agents.call(NODE, PsOp(), timeout=5), PsReply)


def test_a_runtime_that_does_not_answer_is_in_the_beat(
    agent: NodeAgent, agents: RedisNodeAgents, replay: ReplayServer
) -> None:
    replay.stop()
    beat = wait_for(lambda: (b := agents.live().get(NODE)) and b.runtime_error and b, timeout=10)
    assert "UNAVAILABLE" in beat.runtime_error
    with pytest.raises(RuntimeUnreachable):
        agents.call(NODE, ListImagesOp(), timeout=5)


def test_no_agent_and_no_answer_are_told_apart(
    agents: RedisNodeAgents, redis_client: redis.Redis
) -> None:
    with pytest.raises(NoAgent):
        agents.call("k8s-node9", PsOp(), timeout=1)
    # A beat with nobody reading the list.
    beat = AgentBeat(
        node="k8s-node9",
        cluster=CLUSTER,
        agent="x",
        started_at=datetime.now(UTC),
        runtime_name="containerd",
    )
    redis_client.set(agent_key(CLUSTER, "k8s-node9"), beat.model_dump_json(), px=60_000)
    with pytest.raises(AgentTimeout):
        agents.call("k8s-node9", PsOp(), timeout=1)
    assert redis_client.llen(tasks_key(CLUSTER, "k8s-node9")) == 0  # taken back: never runs late


def test_an_agent_that_dies_mid_task_is_lost_with_what_it_did(
    agents: RedisNodeAgents, redis_client: redis.Redis
) -> None:
    """An agent that accepts, reports one removal, and is gone (no lease renewal)."""
    beat = AgentBeat(node="k8s-node2", cluster=CLUSTER, agent="dying", started_at=datetime.now(UTC))
    redis_client.set(agent_key(CLUSTER, "k8s-node2"), beat.model_dump_json(), px=60_000)

    def dying_agent() -> None:
        _, raw = redis_client.blpop([tasks_key(CLUSTER, "k8s-node2")], 5)
        task = Task.model_validate_json(raw)
        key = task_events_key(CLUSTER, task.id)
        redis_client.set(f"k8s-chatops:{CLUSTER}:task:{task.id}:lease", "dying", px=300)
        for event in (
            TaskEvent(kind=EventKind.ACCEPTED, task_id=task.id, agent="dying"),
            TaskEvent(
                kind=EventKind.ITEM,
                task_id=task.id,
                agent="dying",
                item=PruneItem(
                    action=ItemAction.REMOVED,
                    image=ImageName(reference="x:1", image_id="sha256:1", size_bytes=5),
                ),
            ),
        ):
            redis_client.xadd(key, {"event": event.model_dump_json()})

    threading.Thread(target=dying_agent, daemon=True).start()
    with pytest.raises(AgentLost) as lost:
        agents.call("k8s-node2", PruneOp(), timeout=10)
    assert [e.item.image.reference for e in lost.value.done if e.item] == ["x:1"]


# --- Held to what the approvers saw ----------------------------------------------------------


def test_an_approved_prune_removes_only_the_approved_images(
    runtime: NodeRuntime, replay: ReplayServer
) -> None:
    old = replay.runtime.image("docker.io/k8schatops/k8s-node1-old:v1")["id"]
    new = replay.runtime.image("docker.io/k8schatops/k8s-node1-new:v1")["id"]
    seen: list[PruneItem] = []
    held = PruneOp(
        op="prune-approved",
        approved_ids=[old, new, "sha256:" + "9" * 64],  # one approved image is gone since
        policy_keep=[r"^docker\.io/k8schatops/keep-"],
    )
    reply = runtime.prune(held, seen.append, FOREVER)
    assert {n.image_id for n in reply.removed} == {old, new}
    assert {i for i, _ in replay.runtime.removed} == {old, new}
    reasons = {k.image.reference: k.reason for k in reply.kept}
    assert reasons["docker.io/k8schatops/k8s-node1-layers:v2"] is KeptReason.NOT_APPROVED
    assert reasons["docker.io/k8schatops/unused-shared:latest"] is KeptReason.NOT_APPROVED
    assert reasons["registry.k8s.io/pause:3.10"] is KeptReason.SANDBOX_IMAGE  # rules still apply
    assert reasons["docker.io/leigg/hellok8s:v1"] is KeptReason.IN_USE
    assert [e.action for e in seen] == [ItemAction.REMOVED] * 2


def test_an_approved_image_a_container_took_since_still_stays(
    runtime: NodeRuntime, replay: ReplayServer
) -> None:
    old = replay.runtime.image("docker.io/k8schatops/k8s-node1-old:v1")["id"]

    def race(image: object) -> None:
        if getattr(image, "id", None) == old:
            replay.runtime.use(old)

    runtime.before_check = race
    reply = runtime.prune(
        PruneOp(op="prune-approved", approved_ids=[old]), lambda item: None, FOREVER
    )
    assert reply.removed == [] and replay.runtime.removed == []
    assert next(k for k in reply.kept if k.image.image_id == old).reason is KeptReason.IN_USE_NOW


def test_an_approved_rmi_removes_only_the_image_the_approvers_saw(
    runtime: NodeRuntime, replay: ReplayServer
) -> None:
    name = "docker.io/k8schatops/k8s-node1-old:v1"
    other = replay.runtime.image("docker.io/k8schatops/k8s-node1-new:v1")["id"]
    refused = runtime.remove(
        RemoveImageOp(op="rmi-approved", image=name, approved_ids=[other]), lambda item: None
    )
    assert (refused.removed, refused.reason) == (False, "not-approved")
    nothing = runtime.remove(
        RemoveImageOp(op="rmi-approved", image=name, approved_ids=[]), lambda item: None
    )
    assert (nothing.removed, nothing.reason) == (False, "not-approved")
    assert replay.runtime.removed == []
    shown = replay.runtime.image(name)["id"]
    done = runtime.remove(
        RemoveImageOp(op="rmi-approved", image=name, approved_ids=[shown]), lambda item: None
    )
    assert done.removed and [i for i, _ in replay.runtime.removed] == [shown]


def test_the_handler_holds_each_node_to_its_approved_ids(
    agent: NodeAgent, agents: RedisNodeAgents, replay: ReplayServer
) -> None:
    control = Control(agents=agents.for_job("u-held"))
    old = replay.runtime.image("docker.io/k8schatops/k8s-node1-old:v1")["id"]
    request = PruneImages(node=NODE, approved=ApprovedRemovals(nodes={NODE: (old,)}))
    result = images.prune_images(request, cast(Any, None), control)
    (outcome,) = result.nodes
    assert [r.image_id for r in outcome.removed] == [old]
    assert {k.reason for k in outcome.kept} >= {"not-approved"}
    assert result.not_in_plan == [] and result.failure is None

    elsewhere = PruneImages(node=NODE, approved=ApprovedRemovals(nodes={"k8s-node2": (old,)}))
    untouched = images.prune_images(elsewhere, cast(Any, None), control)
    assert (untouched.nodes, untouched.not_in_plan) == ([], [NODE])
    assert [i for i, _ in replay.runtime.removed] == [old]  # nothing more

    dry = images.prune_images(
        elsewhere.model_copy(update={"dry_run": True}), cast(Any, None), control
    )
    assert len(dry.nodes[0].removed) == 4 and dry.not_in_plan == []  # a dry run is not held

    rmi = RemoveImage(
        node=NODE,
        image="docker.io/k8schatops/k8s-node1-new:v1",
        approved=ApprovedRemovals(nodes={NODE: (old,)}),
    )
    refused = images.remove_image(rmi, cast(Any, None), control)
    assert (refused.removed, refused.reason) == (False, "not-approved")


class _FirstReleasePruneOp(PruneOp):
    op: Literal["prune"] = "prune"  # type: ignore[assignment]


class _FirstReleaseTask(Task):
    """The task as agents of the first release parse it: no ``prune-approved`` op."""

    work: Annotated[  # type: ignore[assignment]
        ListImagesOp | _FirstReleasePruneOp | RemoveImageOp | PsOp | LogsOp,
        Field(discriminator="op"),
    ]


def test_an_agent_older_than_the_worker_removes_nothing_it_was_not_approved_to(
    agent: NodeAgent,
    agents: RedisNodeAgents,
    replay: ReplayServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("nodeagent.agent.Task", _FirstReleaseTask)
    control = Control(agents=agents.for_job("u-old"))
    old = replay.runtime.image("docker.io/k8schatops/k8s-node1-old:v1")["id"]
    held = PruneImages(node=NODE, approved=ApprovedRemovals(nodes={NODE: (old,)}))
    result = images.prune_images(held, cast(Any, None), control)
    assert result.nodes == [] and [p.reason for p in result.problems] == ["agent-outdated"]
    assert replay.runtime.removed == []
    assert "it is older than this worker. Nothing was done there" in registry().render_result(
        held, result
    )
    unheld = images.prune_images(PruneImages(node=NODE), cast(Any, None), control)
    assert len(unheld.nodes[0].removed) == 5  # what it always understood, it still does
