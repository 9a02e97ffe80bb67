"""An approved prune removes at most what its approvers saw: on the sandbox's real containerd,
through real node agents (subprocesses), a real Redis and the real job flow (dispatcher,
approvals, worker, the terminal shell), with crictl as the reference.

Each test makes reality differ from the plan after the plan is on the card — a new unused
image, a tag that names another image now, a node the plan did not include — and checks that
the approved job leaves the difference alone and says so.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from helpers import NodeAgentProcesses, make_worker, wait_for

from bot.commands.dispatcher import Dispatcher
from bot.commands.registry import registry
from bot.jobs import facts
from bot.jobs.agents import RedisNodeAgents
from bot.jobs.model import Job, JobState, Origin, QueueKind, queue_key
from bot.jobs.store import JobStore
from bot.jobs.worker import Worker
from bot.surfaces.shell import Shell
from handlers import images
from handlers.base import RequestBase, ResultBase
from handlers.control import Control
from handlers.images_models import PruneImages, PrunePlan, PruneResult, RemoveImageResult
from handlers.kube import KubeClient
from policies.loader import parse_policy
from sandbox import runtime

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NODE = "k8s-node1"
SHELL = Origin(surface="shell")
POLICY = r"""
roles:
  op: {verbs: [help, jobs, images, prune-images, approve]}
bindings:
  - {role: op, users: [U_A, U_B]}
rules:
  - name: image-removal-needs-a-second-person
    verbs: [prune-images]
    effect: require_approval
    approval: {count: 1, approvers: {roles: [op]}, expires_in: 1h}
images:
  keep: ['^docker\.io/k8schatops/keep-']
"""


@pytest.fixture(scope="module")
def node_runtimes(sandbox: Path) -> dict[str, object]:
    return runtime.reset()


@pytest.fixture
def fresh(node_runtimes: dict[str, object]) -> dict[str, Any]:
    return runtime.reset()


@pytest.fixture
def agents(
    redis_url: str, tmp_path: Path, redis_client: redis.Redis
) -> Iterator[NodeAgentProcesses]:
    running = NodeAgentProcesses(redis_url, CLUSTER, tmp_path)
    running.start_all()
    yield running
    running.stop_all()


#: The cluster the agents and workers of these tests serve (the job store's).
CLUSTER = "sandbox"


@pytest.fixture
def bot(store: JobStore, kube: KubeClient) -> Dispatcher:
    facts.publish(kube, store.redis, CLUSTER)
    return Dispatcher(parse_policy(POLICY, "test"), store)


def worker(store: JobStore, kube: KubeClient, name: str = "w", **options: Any) -> Worker:
    """A worker as ``k8s-chatops worker`` runs one: the registry's handlers and plans, and
    the cluster's node agents over Redis."""
    return make_worker(
        store, kube, name=name, agents=RedisNodeAgents(store.redis, CLUSTER), **options
    )


def on_node(node: str) -> dict[str, dict[str, Any]]:
    """The node's images as crictl lists them, by id."""
    return {image["id"]: image for image in runtime.images(node)}


def planned(store: JobStore, job_id: str) -> PrunePlan:
    plan = store.plan(job_id, PrunePlan)
    assert plan is not None, "no plan on the card"
    return plan


def ask_and_plan(bot: Dispatcher, store: JobStore, kube: KubeClient, text: str) -> Job:
    asked = bot.submit(text, user="U_A", origin=SHELL)
    assert asked.job is not None and asked.job.state is JobState.AWAITING_APPROVAL, asked.text
    assert worker(store, kube).run(burst=True) == 1  # the plan entry
    return asked.job


def test_an_image_unused_after_the_plan_survives_the_approved_prune(
    fresh: dict[str, Any],
    agents: NodeAgentProcesses,
    bot: Dispatcher,
    store: JobStore,
    kube: KubeClient,
) -> None:
    asked = bot.submit(f"prune images {NODE}", user="U_A", origin=SHELL)
    assert asked.job is not None and asked.job.state is JobState.AWAITING_APPROVAL
    job_id = asked.job.id

    # Before the plan is on the card nobody can approve it: they would approve unseen removals.
    early = bot.submit(f"approve {job_id}", user="U_B", origin=SHELL)
    assert not early.ok and f"Job {job_id} can't be approved yet" in early.text
    assert store.get(job_id).state is JobState.AWAITING_APPROVAL

    assert worker(store, kube).run(burst=True) == 1  # the plan entry
    plan = planned(store, job_id)
    (node_plan,) = plan.nodes
    approved_ids = {image.image_id for image in node_plan.remove}
    assert approved_ids and approved_ids <= set(on_node(NODE))

    # After the plan: new unused images appear on the node (a pull, a finished build).
    late_refs = runtime.add_images(NODE, 2, 4096)
    late_ids = {i for i, image in on_node(NODE).items() if set(image["repoTags"]) & set(late_refs)}
    assert len(late_ids) == 2

    # The plan entry offered again (its worker died before acknowledging) plans again: the
    # card keeps the plan approvers may already have looked at.
    store.redis.xadd(queue_key(CLUSTER), {"job_id": job_id, "kind": QueueKind.PLAN.value})
    assert worker(store, kube).run(burst=True) == 1
    assert planned(store, job_id) == plan

    # The second person approves from the terminal chat; the shell waits for the result.
    running = worker(store, kube)
    serving = threading.Thread(target=running.run, daemon=True)
    serving.start()
    out = io.StringIO()
    try:
        printed = Shell(bot, store, user="U_A", out=out, job_timeout=90).handle(
            f":as U_B approve {job_id} looks right"
        )
    finally:
        running.stop()
        serving.join(timeout=30)
    assert printed is not None and f"Job {job_id} approved by U_B" in printed

    done = store.get(job_id)
    assert done.state is JobState.SUCCEEDED, done.error
    request = done.request
    assert isinstance(request, PruneImages) and request.approved is not None
    assert set(request.approved.nodes[NODE]) == approved_ids
    result = done.result
    assert isinstance(result, PruneResult)
    (outcome,) = result.nodes
    assert {image.image_id for image in outcome.removed} == approved_ids
    kept = {k.image.image_id: k.reason for k in outcome.kept}
    assert {kept[i] for i in late_ids} == {"not-approved"}

    left = on_node(NODE)  # crictl: the planned images are gone, the late ones are there
    assert approved_ids.isdisjoint(left)
    assert late_ids <= set(left)
    assert "2 not in the approved plan" in printed  # the node's line, among its kept reasons
    assert "kept: not in the plan the approvers saw" in printed  # each late image's row


class WorkerDied(BaseException):
    """What a worker killed mid-job leaves: the job running under its name, the queue entry
    unacknowledged (nothing in the worker catches a BaseException)."""


def test_a_second_worker_taking_over_the_job_still_holds_it_to_the_plan(
    fresh: dict[str, Any],
    agents: NodeAgentProcesses,
    bot: Dispatcher,
    store: JobStore,
    kube: KubeClient,
) -> None:
    job = ask_and_plan(bot, store, kube, f"prune images {NODE}")
    approved_ids = {i.image_id for i in planned(store, job.id).nodes[0].remove}
    late_ids = set(on_node(NODE))
    runtime.add_images(NODE, 3, 4096)
    late_ids = set(on_node(NODE)) - late_ids
    assert bot.submit(f"approve {job.id}", user="U_B", origin=SHELL).ok

    def dies(request: RequestBase, kube: KubeClient, control: Control) -> ResultBase:
        raise WorkerDied

    with pytest.raises(WorkerDied):
        Worker(store, kube, name="first", perform=dies, reclaim_idle_seconds=60).run(burst=True)
    assert store.get(job.id).state is JobState.RUNNING
    assert store.get(job.id).worker == "first"

    time.sleep(0.4)  # the dead worker's claim goes idle
    rescuer = worker(store, kube, name="second", reclaim_idle_seconds=0.2)
    assert rescuer.run(burst=True) == 1
    done = store.get(job.id)
    assert done.state is JobState.SUCCEEDED, done.error
    assert any("taken over from first" in step.reason for step in done.history)
    result = done.result
    assert isinstance(result, PruneResult)
    assert {i.image_id for i in result.nodes[0].removed} == approved_ids
    left = on_node(NODE)
    assert late_ids <= set(left) and approved_ids.isdisjoint(left)


def test_a_node_outside_the_approved_plan_is_not_touched(
    fresh: dict[str, Any], agents: NodeAgentProcesses, kube: KubeClient, redis_client: redis.Redis
) -> None:
    """``--all`` approved when the plan covered one node (the other had no agent then, or
    joined the cluster later): the other node keeps every image and is named."""
    control = Control(agents=RedisNodeAgents(redis_client, CLUSTER).for_job("it-held"))
    request = PruneImages(all_nodes=True, policy_keep=(runtime.KEEP_PATTERN,))
    plan = images.plan_prune(kube, request, control)
    node1 = next(n for n in plan.nodes if n.node == NODE)
    only_node1 = PrunePlan(nodes=[node1])
    master_before = set(on_node("k8s-master"))

    result = images.prune_images(request.as_approved(only_node1), kube, control)

    assert result.not_in_plan == ["k8s-master"]
    assert [o.node for o in result.nodes] == [NODE]
    assert result.failure is None
    assert set(on_node("k8s-master")) == master_before
    assert {i.image_id for i in node1.remove}.isdisjoint(on_node(NODE))
    text = registry().render_result(request, result)
    assert "Not in the approved plan, so left untouched: k8s-master." in text


def test_an_approved_rmi_does_not_remove_another_image_under_the_same_name(
    fresh: dict[str, Any],
    agents: NodeAgentProcesses,
    bot: Dispatcher,
    store: JobStore,
    kube: KubeClient,
) -> None:
    name = f"docker.io/k8schatops/{NODE}-old:v1"
    job = ask_and_plan(bot, store, kube, f"rmi {NODE} {name}")
    (shown,) = planned(store, job.id).nodes[0].remove
    assert shown.reference == name

    # After the plan, the name is given to another image (a re-push of the tag, pulled again).
    (other_ref,) = runtime.add_images(NODE, 1, 4096)
    runtime.ctr(NODE, "images", "tag", "--force", other_ref, name)
    other_id = wait_for(
        lambda: next(
            (
                i
                for i, image in on_node(NODE).items()
                if {other_ref, name} <= set(image["repoTags"])
            ),
            None,
        ),
        timeout=10,
    )
    assert other_id != shown.image_id

    assert bot.submit(f"approve {job.id}", user="U_B", origin=SHELL).ok
    assert worker(store, kube).run(burst=True) == 1
    done = store.get(job.id)
    result = done.result
    assert isinstance(result, RemoveImageResult)
    assert (result.removed, result.reason) == (False, "not-approved")
    assert result.image is not None and result.image.image_id == other_id
    assert other_id in on_node(NODE)  # crictl: still there
    assert done.state is JobState.FAILED and "not-approved" in (done.error or "")
    assert "is not the image the approvers saw in the plan" in registry().render_job(done)


def test_a_prune_allowed_without_approval_is_not_held(
    fresh: dict[str, Any], agents: NodeAgentProcesses, store: JobStore, kube: KubeClient
) -> None:
    """No approval, no plan, no holding: it removes what is unused when it runs, as before."""
    before, _, _ = POLICY.partition("rules:")
    _, images_key, keep = POLICY.partition("images:")
    free = Dispatcher(parse_policy(before + images_key + keep, "test"), store)
    late = set(on_node(NODE))
    runtime.add_images(NODE, 2, 4096)
    late = set(on_node(NODE)) - late
    asked = free.submit(f"prune images {NODE}", user="U_A", origin=SHELL)
    assert asked.job is not None and asked.job.state is JobState.QUEUED
    assert worker(store, kube).run(burst=True) == 1
    done = store.get(asked.job.id)
    assert isinstance(done.request, PruneImages) and done.request.approved is None
    assert done.state is JobState.SUCCEEDED
    assert late.isdisjoint(on_node(NODE))
