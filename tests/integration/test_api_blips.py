"""Jobs against a control plane that goes away for real: the API server frozen (SIGSTOP), or
restarted, or stopped past the job's deadline; etcd restarted, or stopped. Every test puts the
component back, whatever happens.

Run these with ``K8S_CHATOPS_SANDBOX_RUN_DIR`` pointing at a sandbox of your own: they freeze
and restart its processes, which would break anyone else's tests on a shared one.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
import redis
from helpers import block_hellok8s_evictions, make_worker, wait_for

from bot.commands.registry import registry
from bot.jobs.model import NOTIFY_STREAM, Job, JobState, Origin
from bot.jobs.store import JobStore
from bot.jobs.worker import Worker
from handlers.control import Control
from handlers.drain_models import DrainNode
from handlers.kube import JSON, KubeClient, KubeError, resource_for
from handlers.retry import Deadline, retrying
from handlers.watch import Watch
from sandbox import cluster, seed

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SHELL = Origin(surface="shell")
NODE = "k8s-node1"
LOCK = f"k8s-chatops:sandbox:lock:node/{NODE}"
PDB = resource_for("PodDisruptionBudget").path("default", "hellok8s")
HELLO = "deployment-hellok8s-go-http"
INTERNALS = ("://", "127.0.0.1", "/api/", "/apis/", "serviceaccount", "system:")
#: The worker's SIGTERM grace for a restart: kube-apiserver stops listening at once, but its
#: process lingers ~10 s; SIGKILL after 2 s keeps the tests short and changes nothing else.
GRACE = 2.0
#: ``--timeout`` of the drains that outlast it: time to reach the PodDisruptionBudget's wait,
#: then to meet the outage.
DEADLINE = 12


def api_answers(kube: KubeClient) -> bool:
    try:
        kube.retrying(None).request("GET", "/version", timeout=(1.0, 2.0))
    except KubeError:
        return False
    return True


def submit_drain(store: JobStore, timeout_seconds: float) -> Job:
    request = DrainNode(
        node=NODE, ignore_daemonsets=True, force=True, timeout_seconds=timeout_seconds
    )
    job, _ = store.submit(request, requester="U_ADMIN", origin=SHELL, decision="test")
    return job


def progress(store: JobStore, job_id: str) -> list[str]:
    return [
        line
        for event in store.events(job_id)
        if event.type == "progress"
        for line in event.message.splitlines()
    ]


def card_lines(client: redis.Redis, job_id: str) -> list[str]:
    """What the Slack card was told while the job ran (the notifier shows the latest)."""
    return [
        f["line"]
        for _, f in client.xrange(NOTIFY_STREAM)
        if f.get("job_id") == job_id and f.get("kind") == "progress"
    ]


def results_posted(client: redis.Redis, job_id: str) -> int:
    return sum(
        1 for _, f in client.xrange(NOTIFY_STREAM) if f["job_id"] == job_id and "kind" not in f
    )


def waiting_lines(store: JobStore, job_id: str) -> list[str]:
    """The job's "API server … retrying" lines: what its card said while it waited."""
    return [
        line
        for line in progress(store, job_id)
        if line.startswith("API server ") and "retrying" in line
    ]


def held_by_the_budget(store: JobStore, job_id: str) -> bool:
    return any("will retry after 5s" in line for line in progress(store, job_id))


def cordoned(kube: KubeClient) -> bool:
    return bool(kube.get(resource_for("Node").path(name=NODE))["spec"].get("unschedulable"))


def assert_plain(text: str) -> None:
    assert [s for s in INTERNALS if s in text] == [], text


def revive(kube: KubeClient) -> None:
    """Whatever a test froze or stopped runs again and answers; so does any component that
    exited on its own (the scheduler exits on purpose when an outage leaves its cache in
    doubt, and a kubelet would restart it)."""
    state = cluster.load_state()
    assert state is not None
    for name, now in cluster.component_states(state).items():
        if now == "paused":
            cluster.resume_component(name)
    revived = cluster.revive()
    if revived:
        print(f"(started again: {', '.join(revived)})")
    wait_for(lambda: api_answers(kube), timeout=60)


@pytest.fixture
def scenario(kube: KubeClient) -> Iterator[KubeClient]:
    """The seed scenario on a control plane that is whole, and whole again afterwards.

    After an outage the scheduler gets a fresh process: its cache can be left in doubt
    (upstream, it then exits a minute or so later, in the middle of whatever test comes next).
    What the test checked happened before this."""
    revive(kube)
    seed.reset(kube)
    yield kube
    revive(kube)
    cluster.restart_component("kube-scheduler", grace=GRACE)


@pytest.fixture
def worker(store: JobStore, scenario: KubeClient) -> Iterator[Worker]:
    running = make_worker(store, scenario, name="blip-worker")
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    yield running
    running.stop()
    thread.join(timeout=60)


def timed(what: str, started: float) -> None:
    print(f"{what}: {time.monotonic() - started:.1f}s")


def test_a_drain_outlives_a_40_second_freeze_of_the_api_server(
    store: JobStore, scenario: KubeClient, worker: Worker
) -> None:
    block_hellok8s_evictions(scenario)
    job = submit_drain(store, timeout_seconds=120)
    began = time.monotonic()
    wait_for(lambda: held_by_the_budget(store, job.id))
    frozen = time.monotonic()
    cluster.pause_component("kube-apiserver")
    try:
        time.sleep(40)
    finally:
        cluster.resume_component("kube-apiserver")
    timed("frozen for", frozen)
    wait_for(lambda: api_answers(scenario), timeout=30)
    assert store.get(job.id).state is JobState.RUNNING  # still waiting, not failed
    scenario.delete(PDB)
    finished = store.wait_finished(job.id, timeout=90)
    timed("drain took", began)
    assert finished is not None
    assert finished.state is JobState.SUCCEEDED, finished.error
    said = progress(store, job.id)
    assert any(line.startswith("API server not answering for ") for line in said), said
    assert any(line.startswith("API server answering again after ") for line in said), said
    waiting = [line for line in said if "retrying" in line]
    assert 1 <= len(waiting) <= 40 / 10 + 1, waiting
    assert any("API server not answering" in line for line in card_lines(store.redis, job.id))
    assert results_posted(store.redis, job.id) == 1
    assert store.redis.get(LOCK) is None
    print("\n".join(waiting))


def test_a_drain_outlives_a_restart_of_the_api_server(
    store: JobStore, scenario: KubeClient, worker: Worker
) -> None:
    block_hellok8s_evictions(scenario)
    job = submit_drain(store, timeout_seconds=120)
    began = time.monotonic()
    wait_for(lambda: held_by_the_budget(store, job.id))
    old = cluster.load_state()
    assert old is not None
    # Down until the job has said it is waiting, then a new process: the drain is asleep for
    # 5 s between evictions the budget refuses, so a fixed outage could end before its next
    # request, or after too few failures (report_after, with jitter) for a line on the card.
    stopped = time.monotonic()
    cluster.stop_component("kube-apiserver", grace=GRACE)
    try:
        wait_for(lambda: waiting_lines(store, job.id), timeout=30)
    finally:
        cluster.start_component("kube-apiserver")
    timed("API server away (a new process, the same etcd)", stopped)
    new = cluster.load_state()
    assert new is not None and new.pids["kube-apiserver"] != old.pids["kube-apiserver"]
    scenario.delete(PDB)
    finished = store.wait_finished(job.id, timeout=90)
    timed("drain took", began)
    assert finished is not None
    assert finished.state is JobState.SUCCEEDED, finished.error
    said = progress(store, job.id)
    print("\n".join(line for line in said if line.startswith("API server")))
    assert waiting_lines(store, job.id), "\n".join(said)
    assert any(line.startswith("API server answering again after ") for line in said), said
    assert results_posted(store.redis, job.id) == 1
    assert store.redis.get(LOCK) is None


def rolled_out(objects: Mapping[str, JSON]) -> bool:
    deployment = objects.get(f"default/{HELLO}")
    if deployment is None:
        return False
    status, want = deployment.get("status") or {}, deployment["spec"]["replicas"]
    return bool(
        status.get("observedGeneration", 0) >= deployment["metadata"]["generation"]
        and status.get("updatedReplicas") == want
        and status.get("readyReplicas") == want
        and status.get("availableReplicas") == want
    )


def set_unschedulable(kube: KubeClient, node: str, value: bool) -> None:
    kube.patch_strategic(
        resource_for("Node").path(name=node), {"spec": {"unschedulable": value or None}}
    )


def test_following_a_rollout_rides_out_a_restart_of_the_api_server(scenario: KubeClient) -> None:
    """A Deployment scaled while no node takes pods, followed with the watch helper until it
    has rolled out. In the middle, the control plane is upgraded as kubeadm does it, one
    component after another (the API server first); then a node opens up. (Restarting the
    controllers too keeps this quick: after an API server restart the old ones back off for
    up to a minute before they see the node open, which says nothing about the watch.)"""
    for node in ("k8s-master", NODE):
        set_unschedulable(scenario, node, True)
    deployments = resource_for("Deployment")
    scenario.patch_merge(deployments.path("default", HELLO), {"spec": {"replicas": 3}})
    lines: list[str] = []
    follower = retrying(scenario, Control(progress=lines.append), verb="rollout")
    watch = Watch(
        follower,
        deployments.path("default"),
        field_selector=f"metadata.name={HELLO}",
        deadline=Deadline(120),
        server_timeout=30,
    )
    outcome: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: outcome.update(done=watch.until(rolled_out)))
    began = time.monotonic()
    thread.start()
    wait_for(lambda: watch.resource_version)
    time.sleep(1)
    assert "done" not in outcome  # the third pod has nowhere to go
    away = cluster.restart_component("kube-apiserver", down_for=3, grace=GRACE)
    print(f"API server away for {away:.1f}s")
    for name in ("kube-controller-manager", "kube-scheduler"):
        cluster.restart_component(name, grace=GRACE)
    set_unschedulable(scenario, "k8s-master", False)
    thread.join(timeout=110)
    timed("rollout followed in", began)
    assert outcome.get("done") is True, lines
    assert watch.resumed >= 1
    print(f"resumed {watch.resumed}, relisted {watch.relisted}; card: {lines}")


def test_a_watch_resumed_from_a_compacted_version_lists_again(scenario: KubeClient) -> None:
    """410 Gone for real: etcd compacted past the version a watch resumes from, and a restarted
    API server whose cache begins after it (a running one would serve it from its cache)."""
    nodes = resource_for("Node")
    saved = scenario.request("GET", nodes.path(), query={"limit": 1})["metadata"]
    for step in range(3):
        scenario.patch_merge(
            nodes.path(name=NODE), {"metadata": {"labels": {"blip-step": str(step)}}}
        )
    latest = scenario.request("GET", nodes.path(), query={"limit": 1})["metadata"]
    compact(int(latest["resourceVersion"]))
    cluster.restart_component("kube-apiserver", grace=GRACE)
    watch = Watch(
        scenario, nodes.path(), resource_version=saved["resourceVersion"], deadline=Deadline(20)
    )

    def last_step(objects: Mapping[str, JSON]) -> bool:
        node = objects.get(NODE) or {}
        return bool(node.get("metadata", {}).get("labels", {}).get("blip-step") == "2")

    assert watch.until(last_step)
    assert watch.relisted == 1


def compact(revision: int) -> None:
    """Compact the sandbox's etcd at ``revision`` through its HTTP gateway."""
    state = cluster.load_state()
    assert state is not None
    request = urllib.request.Request(
        f"http://127.0.0.1:{state.ports['etcd']}/v3/kv/compaction",
        data=json.dumps({"revision": str(revision), "physical": True}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def assert_failed_plainly_and_cordoned(
    store: JobStore, kube: KubeClient, job_id: str, finished: Job | None
) -> None:
    assert finished is not None
    assert finished.state is JobState.FAILED
    assert finished.error is not None
    assert_plain(finished.error)
    rendered = registry().render_job(finished)
    assert_plain(rendered)
    assert f"{NODE} stays cordoned" in rendered, rendered
    assert "Gave up on the Kubernetes API server at this job's deadline" in finished.error
    assert store.redis.get(LOCK) is None
    wait_for(lambda: api_answers(kube), timeout=60)
    assert cordoned(kube)


def drain_while_away(
    store: JobStore, kube: KubeClient, stop: Callable[[], object], start: Callable[[], object]
) -> tuple[Job | None, float]:
    block_hellok8s_evictions(kube)
    job = submit_drain(store, timeout_seconds=DEADLINE)
    began = time.monotonic()
    wait_for(lambda: held_by_the_budget(store, job.id))
    stop()
    try:
        finished = store.wait_finished(job.id, timeout=60)
        took = time.monotonic() - began
    finally:
        start()
    return finished, took


@pytest.mark.parametrize("component", ["kube-apiserver", "etcd"])
def test_a_component_gone_past_the_deadline_fails_the_drain_plainly(
    component: str, store: JobStore, scenario: KubeClient, worker: Worker
) -> None:
    finished, took = drain_while_away(
        store,
        scenario,
        lambda: cluster.stop_component(component, grace=GRACE),
        lambda: cluster.start_component(component),
    )
    print(f"failed after {took:.1f}s (deadline {DEADLINE}s): {finished and finished.error}")
    assert took < DEADLINE + 3
    assert finished is not None
    assert_failed_plainly_and_cordoned(store, scenario, finished.id, finished)


def test_a_drain_outlives_a_restart_of_etcd(
    store: JobStore, scenario: KubeClient, worker: Worker
) -> None:
    block_hellok8s_evictions(scenario)
    job = submit_drain(store, timeout_seconds=120)
    began = time.monotonic()
    wait_for(lambda: held_by_the_budget(store, job.id))
    away = cluster.restart_component("etcd", down_for=6, grace=GRACE)
    print(f"etcd away for {away:.1f}s")
    wait_for(lambda: api_answers(scenario), timeout=60)
    wait_for(lambda: delete_quietly(scenario, PDB), timeout=60)
    finished = store.wait_finished(job.id, timeout=90)
    timed("drain took", began)
    assert finished is not None
    assert finished.state is JobState.SUCCEEDED, finished.error
    print("\n".join(line for line in progress(store, job.id) if "API server" in line))
    assert results_posted(store.redis, job.id) == 1
    assert store.redis.get(LOCK) is None


def delete_quietly(kube: KubeClient, path: str) -> bool:
    try:
        kube.delete(path)
    except KubeError as error:
        return error.status == 404
    return True
