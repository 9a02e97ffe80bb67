"""Nothing lost, nothing twice: killed workers, a restarted Redis, locks, the cap, cancel."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from helpers import block_hellok8s_evictions, make_worker, wait_for

from bot.commands.dispatcher import Dispatcher
from bot.jobs.model import NOTIFY_STREAM, Job, JobState, Origin, queue_key
from bot.jobs.store import JobStore, connect
from bot.jobs.worker import Worker
from handlers.base import RequestBase
from handlers.drain_models import DrainNode
from handlers.kube import KubeClient, resource_for
from handlers.models import CordonNode, UncordonNode
from policies.model import PolicyDocument
from sandbox import cluster, seed

pytestmark = pytest.mark.integration

SHELL = Origin(surface="shell")
NODE = "k8s-node1"


def drained(kube: KubeClient) -> bool:
    node = kube.get(resource_for("Node").path(name=NODE))
    pods = kube.list_pages(resource_for("Pod").path(), field_selector=f"spec.nodeName={NODE}")
    left = {p["metadata"]["name"].rsplit("-", 1)[0] for p in pods}
    return bool(node["spec"].get("unschedulable")) and left <= {"calico-node", "kube-proxy"}


def notifications_for(client: redis.Redis, job_id: str) -> int:
    """Final-result notifications (progress and plan pings carry a ``kind``)."""
    return sum(
        1 for _, f in client.xrange(NOTIFY_STREAM) if f["job_id"] == job_id and "kind" not in f
    )


def in_thread(worker: Worker) -> threading.Thread:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return thread


@pytest.mark.slow
def test_worker_killed_at_random_points_during_a_drain(
    worker_env: dict[str, str], redis_client: redis.Redis, kube: KubeClient
) -> None:
    rng = random.Random(20261125)
    env = {**worker_env, "K8S_CHATOPS_RECLAIM_IDLE_SECONDS": "1"}
    store = JobStore(redis_client, "sandbox")
    for run in range(20):
        seed.reset(kube)
        redis_client.flushdb()
        job, _ = store.submit(
            DrainNode(node=NODE, ignore_daemonsets=True, force=True),
            requester="U1",
            origin=SHELL,
            decision="test",
        )
        victim = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        kill_after = rng.uniform(0.3, 2.5)
        time.sleep(kill_after)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        rescuer = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            finished = store.wait_finished(job.id, timeout=60)
        finally:
            rescuer.terminate()
            _, errors = rescuer.communicate(timeout=15)
        where = f"run {run}, killed after {kill_after:.2f}s"
        assert finished is not None, where
        assert finished.state is JobState.SUCCEEDED, (where, finished.error)
        final_steps = [t for t in finished.history if t.state.finished]
        assert len(final_steps) == 1, where
        assert notifications_for(redis_client, job.id) == 1, where
        assert [e.type for e in store.events(job.id)].count("finished") == 1, where
        assert drained(kube), where
        assert "Traceback" not in errors, where


class DurableRedis:
    """A redis-server with AOF fsync on every write (as in production) that a test can crash
    (SIGKILL) and start again on the same port and data."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.port = cluster.free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._argv = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(workdir),
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
        ]
        self._process: subprocess.Popen[bytes] | None = None

    def _ping(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url).ping())
        except redis.ConnectionError:
            return False

    def start(self) -> None:
        self._process = subprocess.Popen(self._argv, stdout=subprocess.DEVNULL)
        wait_for(self._ping, timeout=10)

    def crash(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        self._process.wait()
        self._process = None

    def crash_and_restart(self) -> None:
        self.crash()
        self.start()

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait()


@pytest.fixture
def durable_redis(tmp_path: Path) -> Iterator[DurableRedis]:
    binary = shutil.which("redis-server")
    assert binary
    server = DurableRedis(binary, tmp_path)
    server.start()
    yield server
    server.stop()


def test_queued_jobs_survive_a_redis_crash(
    durable_redis: DurableRedis, policy: PolicyDocument, pristine: KubeClient
) -> None:
    url, crash_and_restart = durable_redis.url, durable_redis.crash_and_restart
    store = JobStore(redis.Redis.from_url(url, decode_responses=True), "sandbox")
    dispatcher = Dispatcher(policy, store)
    replies = [
        dispatcher.submit(text, user="U_OPS", origin=SHELL)
        for text in (
            "get nodes",
            "cordon k8s-node1",
            "get nodes",
            "uncordon k8s-node1",
            "get nodes",
        )
    ]
    ids = [reply.job.id for reply in replies if reply.job]
    assert len(ids) == 5
    crash_and_restart()
    restarted = JobStore(redis.Redis.from_url(url, decode_responses=True), "sandbox")
    assert make_worker(restarted, pristine, name="after-crash").run(burst=True) == 5
    assert [restarted.get(job_id).state for job_id in ids] == [JobState.SUCCEEDED] * 5


def test_one_job_per_target_at_a_time(
    store: JobStore, policy: PolicyDocument, pristine: KubeClient
) -> None:
    block_hellok8s_evictions(pristine)
    dispatcher = Dispatcher(policy, store)
    first = dispatcher.submit(
        f"drain {NODE} --ignore-daemonsets --force --timeout=3s", user="U_ADMIN", origin=SHELL
    )
    second = dispatcher.submit(f"uncordon {NODE}", user="U_OPS", origin=SHELL)
    assert first.job and second.job
    workers = [make_worker(store, pristine, name=f"w{i}") for i in range(2)]
    # The drain must hold the node before the second worker starts (else the order is a race).
    threads = [in_thread(workers[0])]
    wait_for(lambda: store.redis.get(f"k8s-chatops:sandbox:lock:node/{NODE}") == first.job.id)
    threads.append(in_thread(workers[1]))
    try:
        a = store.wait_finished(first.job.id, timeout=30)
        b = store.wait_finished(second.job.id, timeout=30)
    finally:
        for worker in workers:
            worker.stop()
        for thread in threads:
            thread.join(timeout=10)
    assert a is not None and b is not None
    assert a.state is JobState.FAILED  # the PDB held until --timeout
    assert b.state is JobState.SUCCEEDED
    waiting = [e.message for e in store.events(b.id) if e.type == "progress"]
    assert any(f"node/{NODE} is being changed by job {a.id}" in m for m in waiting)
    assert a.finished_at is not None and b.finished_at is not None
    assert b.finished_at >= a.finished_at
    assert not pristine.get(resource_for("Node").path(name=NODE))["spec"].get("unschedulable")


def test_disruption_cap_lets_one_of_two_drains_run(store: JobStore, pristine: KubeClient) -> None:
    seed.scale(pristine, nodes=1, pods_per_node=1)
    other = "kwok-node-00000"
    wait_for(
        lambda: any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in pristine.get(resource_for("Node").path(name=other))
            .get("status", {})
            .get("conditions", [])
        )
    )
    jobs: list[Job] = [
        store.submit(
            DrainNode(node=name, ignore_daemonsets=True, force=True),
            requester="U1",
            origin=SHELL,
            decision="test",
        )[0]
        for name in (NODE, other)
    ]
    workers = [make_worker(store, pristine, name=f"w{i}", max_disrupted_nodes=1) for i in range(2)]
    threads = [in_thread(w) for w in workers]
    try:
        results = [store.wait_finished(job.id, timeout=30) for job in jobs]
    finally:
        for worker in workers:
            worker.stop()
        for thread in threads:
            thread.join(timeout=10)
    states = sorted(r.state.value for r in results if r)
    assert states == ["failed", "succeeded"]
    refused = next(r for r in results if r and r.state is JobState.FAILED)
    assert refused.error is not None and refused.error.startswith(
        "Refused: at most 1 node may be out of service"
    )
    untouched = refused.request.disrupts
    assert untouched is not None
    node = pristine.get(resource_for("Node").path(name=untouched))
    assert not node["spec"].get("unschedulable")
    assert list(make_worker(store, pristine).locks.disrupted()) != [untouched]


def test_cancel_a_running_drain(
    store: JobStore, policy: PolicyDocument, pristine: KubeClient
) -> None:
    block_hellok8s_evictions(pristine)
    dispatcher = Dispatcher(policy, store)
    reply = dispatcher.submit(
        f"drain {NODE} --ignore-daemonsets --force", user="U_ADMIN", origin=SHELL
    )
    assert reply.job is not None
    worker = make_worker(store, pristine, name="w")
    thread = in_thread(worker)
    try:
        wait_for(lambda: any("will retry" in e.message for e in store.events(reply.job.id)))
        answer = dispatcher.submit(f"cancel {reply.job.id}", user="U_ADMIN", origin=SHELL)
        assert answer.text == f"Cancel requested: job {reply.job.id} stops at its next safe point."
        started = time.monotonic()
        job = store.wait_finished(reply.job.id, timeout=15)
        assert time.monotonic() - started < 5
    finally:
        worker.stop()
        thread.join(timeout=10)
    assert job is not None and job.state is JobState.CANCELLED
    assert job.result is not None and job.result.kind == "drain_result"
    assert job.result.cancelled
    assert pristine.get(resource_for("Node").path(name=NODE))["spec"]["unschedulable"]


def test_worker_survives_redis_going_away_and_runs_the_next_job(
    durable_redis: DurableRedis, pristine: KubeClient
) -> None:
    """Redis is down when the worker starts, and again while it waits for work; each time a job
    submitted after Redis is back is run to success by that same worker."""
    store = JobStore(connect(durable_redis.url), "sandbox")

    def submit_and_wait(request: RequestBase) -> Job | None:
        job, _ = store.submit(request, requester="U1", origin=SHELL, decision="t")
        return store.wait_finished(job.id, timeout=30)

    durable_redis.crash()
    worker = make_worker(store, pristine, name="survivor")
    thread = in_thread(worker)
    try:
        time.sleep(1.5)
        assert thread.is_alive()
        durable_redis.start()
        cordoned = submit_and_wait(CordonNode(node=NODE))
        durable_redis.crash()
        time.sleep(1.5)
        assert thread.is_alive()
        durable_redis.start()
        uncordoned = submit_and_wait(UncordonNode(node=NODE))
    finally:
        worker.stop()
        thread.join(timeout=35)
    assert not thread.is_alive()
    for job in (cordoned, uncordoned):
        assert job is not None and job.state is JobState.SUCCEEDED, job
        assert job.worker == "survivor" and job.attempts == 1
    assert not pristine.get(resource_for("Node").path(name=NODE))["spec"].get("unschedulable")


def test_cordon_job_is_idempotent_when_run_twice(store: JobStore, pristine: KubeClient) -> None:
    job, _ = store.submit(CordonNode(node=NODE), requester="U1", origin=SHELL, decision="t")
    store.redis.xadd(queue_key("sandbox"), {"job_id": job.id})  # delivered twice
    assert make_worker(store, pristine, name="w").run(burst=True) == 2
    finished = store.get(job.id)
    assert finished.state is JobState.SUCCEEDED and finished.attempts == 1
    assert notifications_for(store.redis, job.id) == 1
