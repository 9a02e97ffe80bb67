"""The job store on a real redis-server: lifecycle, idempotency, cancel, retention, audit."""

from __future__ import annotations

import threading

import pytest
import redis
from helpers import make_worker

from bot.commands.dispatcher import Dispatcher
from bot.jobs.locks import Locks
from bot.jobs.model import JobState, Origin, job_key, queue_key
from bot.jobs.store import JobStore
from bot.jobs.worker import Worker
from handlers.base import RequestBase, ResultBase
from handlers.control import Control
from handlers.kube import KubeClient
from handlers.models import GetNodes, NodeTable
from policies.model import PolicyDocument

pytestmark = pytest.mark.integration

SHELL = Origin(surface="shell")


def test_transitions_are_recorded_and_checked(store: JobStore) -> None:
    job, created = store.submit(GetNodes(), requester="U1", origin=SHELL, decision="allowed")
    assert created and job.version == 1
    running = store.transition(job, JobState.RUNNING, by="w1", reason="started")
    assert running is not None and running.version == 2
    # A writer holding the old version changes nothing.
    assert store.transition(job, JobState.RUNNING, by="w2") is None
    assert store.get(job.id).history[-1].by == "w1"
    with pytest.raises(ValueError, match="queued → succeeded is not allowed"):
        store.transition(job, JobState.SUCCEEDED, by="w1")
    done = store.transition(running, JobState.SUCCEEDED, by="w1", reason="done")
    assert done is not None
    stored = store.get(job.id)
    assert [(t.state, t.by) for t in stored.history] == [
        (JobState.QUEUED, "U1"),
        (JobState.RUNNING, "w1"),
        (JobState.SUCCEEDED, "w1"),
    ]
    events = store.events(job.id)
    assert [e.type for e in events] == ["finished"]
    assert store.redis.xlen("k8s-chatops:notify") == 1


def test_finished_jobs_expire_and_the_audit_stays(redis_client: redis.Redis) -> None:
    store = JobStore(redis_client, "sandbox", retention_seconds=120)
    job, _ = store.submit(GetNodes(), requester="U1", origin=SHELL, decision="ok")
    assert redis_client.ttl(job_key(job.id)) == -1  # not while it is alive
    running = store.transition(job, JobState.RUNNING, by="w")
    assert running is not None
    store.transition(running, JobState.FAILED, by="w", error="boom")
    assert 0 < redis_client.ttl(job_key(job.id)) <= 120
    assert redis_client.ttl("k8s-chatops:audit") == -1
    events = [e["event"] for e in store.audit_tail(10)]
    assert events == ["requested", "running", "failed"]


def test_same_idempotency_key_makes_one_job(
    store: JobStore, policy: PolicyDocument, redis_client: redis.Redis
) -> None:
    dispatcher = Dispatcher(policy, store)
    replies = []

    def deliver() -> None:
        replies.append(
            dispatcher.submit(
                "get nodes", user="U1", origin=SHELL, idempotency="slack:T1:trigger-1"
            )
        )

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = {reply.job.id for reply in replies if reply.job}
    assert len(ids) == 1
    assert sum(1 for reply in replies if not reply.duplicate) == 1
    assert redis_client.xlen(queue_key("sandbox")) == 1
    other = dispatcher.submit("get nodes", user="U1", origin=SHELL, idempotency="slack:T1:t-2")
    assert other.job is not None and other.job.id not in ids


def test_cancel_a_queued_job(store: JobStore, policy: PolicyDocument, kube: KubeClient) -> None:
    dispatcher = Dispatcher(policy, store)
    queued = dispatcher.submit("cordon k8s-node1", user="U_OPS", origin=SHELL)
    assert queued.job is not None
    stranger = dispatcher.submit(f"cancel {queued.job.id}", user="U_VIEW", origin=SHELL)
    assert not stranger.ok and "is U_OPS's" in stranger.text
    reply = dispatcher.submit(f"cancel #{queued.job.id}", user="U_OPS", origin=SHELL)
    assert reply.text == f"Job {queued.job.id} cancelled before it started; nothing was changed."
    assert make_worker(store, kube, name="w").run(burst=True) == 1  # acknowledged, not run
    job = store.get(queued.job.id)
    assert job.state is JobState.CANCELLED and job.attempts == 0
    again = dispatcher.submit(f"cancel {queued.job.id}", user="U_OPS", origin=SHELL)
    assert "already ended (cancelled)" in again.text
    missing = dispatcher.submit("cancel 999", user="U_OPS", origin=SHELL)
    assert not missing.ok and "There is no job 999" in missing.text


def test_jobs_and_audit_commands(store: JobStore, policy: PolicyDocument) -> None:
    dispatcher = Dispatcher(policy, store)
    dispatcher.submit("get nodes", user="U_VIEW", origin=SHELL)
    dispatcher.submit("cordon k8s-node1", user="U_VIEW", origin=SHELL)  # denied
    dispatcher.submit("cordn k8s-node1", user="U_OPS", origin=SHELL)  # rejected
    listing = dispatcher.submit("jobs", user="U_VIEW", origin=SHELL).text.splitlines()
    assert listing[0].split() == ["JOB", "STATE", "REQUESTER", "TARGET", "COMMAND", "AGE"]
    assert listing[1].split()[:4] == ["1", "queued", "U_VIEW", "nodes"]
    audit = dispatcher.submit("audit 5", user="U_OPS", origin=SHELL).text.splitlines()
    assert [line.split("  ")[2].split()[0] for line in audit] == ["requested", "denied", "rejected"]
    assert "cordn k8s-node1" in audit[2]
    denied = dispatcher.submit("audit", user="U_STRANGER", origin=SHELL)
    assert not denied.ok and "may not `audit`" in denied.text


def test_progress_is_coalesced(store: JobStore, kube: KubeClient) -> None:
    def chatty(request: RequestBase, kube: KubeClient, control: Control) -> ResultBase:
        for index in range(500):
            control.progress(f"step {index}")
        return NodeTable(rows=[])

    job, _ = store.submit(GetNodes(), requester="U1", origin=SHELL, decision="ok")
    Worker(store, kube, name="w", perform=chatty).run(burst=True)
    events = store.events(job.id)
    progress = [e for e in events if e.type == "progress"]
    assert len(progress) <= 3
    lines = [line for e in progress for line in e.message.splitlines()]
    assert lines == [f"step {i}" for i in range(500)]
    assert [e.type for e in events].count("finished") == 1


def test_cap_counts_a_node_whose_job_has_not_cordoned_it_yet(redis_client: redis.Redis) -> None:
    """Regression (seen in CI): a second drain pruned the first one's node before its cordon."""
    locks = Locks(redis_client, "sandbox")
    active = {"1"}
    check = {"still_disrupted": lambda node: False, "job_active": lambda job: job in active}
    assert locks.reserve_disruption("n1", "1", 1, **check) is None
    refusal = locks.reserve_disruption("n2", "2", 1, **check)
    assert refusal is not None and refusal.holders == {"n1": "1"}
    active.clear()  # job 1 ended and its node is schedulable again: the slot frees up
    assert locks.reserve_disruption("n2", "2", 1, **check) is None
    assert locks.disrupted() == {"n2": "2"}
