"""The job store on a real redis-server: lifecycle, idempotency, cancel, retention, audit."""

from __future__ import annotations

import threading

import pytest
import redis
from helpers import make_worker

from bot.commands.dispatcher import Dispatcher
from bot.jobs.locks import Locks
from bot.jobs.model import (
    NOTIFY_GROUP,
    NOTIFY_STREAM,
    CardLocation,
    JobState,
    NotifyKind,
    Origin,
    QueueKind,
    job_key,
    queue_key,
)
from bot.jobs.store import JobStore
from bot.jobs.worker import Worker
from handlers.base import RequestBase, ResultBase
from handlers.control import Control
from handlers.drain_models import DrainNode, DrainPlan
from handlers.kube import KubeClient
from handlers.models import GetNodes, NodeTable
from policies.model import PolicyDocument

pytestmark = pytest.mark.integration

SHELL = Origin(surface="shell")
SLACK = Origin(surface="slack", channel="C1")
AWAITING = JobState.AWAITING_APPROVAL


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
    header = ["JOB", "CLUSTER", "STATE", "REQUESTER", "TARGET", "COMMAND", "AGE"]
    assert listing[0].split() == header
    assert listing[1].split()[:5] == ["1", "sandbox", "queued", "U_VIEW", "nodes"]
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


def test_queue_entries_say_what_a_worker_is_asked_for(store: JobStore) -> None:
    store.submit(GetNodes(), requester="U1", origin=SHELL, decision="ok")
    drain = DrainNode(node="k8s-node1", ignore_daemonsets=True)
    store.submit(drain, requester="U1", origin=SHELL, decision="ok", state=AWAITING)
    store.submit(GetNodes(), requester="U1", origin=SHELL, decision="ok", state=AWAITING)
    kinds = [fields.get("kind") for _, fields in store.redis.xrange(queue_key("sandbox"))]
    assert kinds == [None, QueueKind.PLAN]  # a job to run has no kind; nothing to plan, no entry


def test_notify_entries_are_read_back_by_kind(store: JobStore) -> None:
    job, _ = store.submit(GetNodes(), requester="U1", origin=SLACK, decision="ok")
    running = store.transition(job, JobState.RUNNING, by="w")  # no card yet: nothing to refresh
    assert running is not None and store.card(job.id) is None
    store.save_card(job.id, CardLocation(channel="C1", ts="1700000000.000100"))
    assert store.card(job.id) == CardLocation(channel="C1", ts="1700000000.000100")
    running = store.transition(running, JobState.RUNNING, by="w2", reason="taken over")
    assert running is not None
    store.emit_progress(job.id, ["step 1", "step 2"], notify=True)
    store.save_plan(job.id, DrainPlan(node="k8s-node1", cordoned=False, pods=[]))
    store.transition(running, JobState.SUCCEEDED, by="w2")
    store.redis.xadd(NOTIFY_STREAM, {"job_id": job.id, "kind": "from-a-newer-version"})

    read = store.read_notifications("n1", count=10, block_ms=None, reclaim_idle_ms=60_000)
    assert [(n.job_id, n.kind, n.line) for n in read] == [
        (job.id, NotifyKind.STATE, ""),
        (job.id, NotifyKind.PROGRESS, "step 2"),
        (job.id, NotifyKind.PLAN, ""),
        (job.id, NotifyKind.RESULT, ""),
    ]
    # On the wire: the enum's values, and a result with no kind at all.
    wire = [fields.get("kind") for _, fields in store.redis.xrange(NOTIFY_STREAM)]
    assert wire == ["state", "progress", "plan", None, "from-a-newer-version"]
    for notification in read:
        store.ack_notification(notification.entry_id)
    # The entry this version cannot read is left pending, not acknowledged.
    assert store.redis.xpending(NOTIFY_STREAM, NOTIFY_GROUP)["pending"] == 1


def test_one_notifier_claims_a_result_until_it_gives_it_up(store: JobStore) -> None:
    job, _ = store.submit(GetNodes(), requester="U1", origin=SLACK, decision="ok")
    assert store.claim_notification(job.id, by="bot-a")
    assert not store.claim_notification(job.id, by="bot-b")
    store.release_notification(job.id)
    assert store.claim_notification(job.id, by="bot-b")
    assert store.redis.hget(job_key(job.id), "notified") == "bot-b"
