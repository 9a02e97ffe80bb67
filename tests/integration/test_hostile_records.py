"""One bad record must never stop a loop that serves everyone (issue 12, finding 2).

A drain typed with ``--timeout`` of 310 nines used to become ``inf``, be stored as ``null``, and
make every later read of that job fail validation: ``jobs`` failed for everyone, approvals gave
internal errors and the worker died on every restart. The grammar now refuses such values; these
tests plant the record an older version wrote and check every reader lives with it.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import redis

from bot.commands.dispatcher import Dispatcher
from bot.jobs.model import INDEX_KEY, JobState, Origin, job_key
from bot.jobs.store import JobStore
from bot.jobs.worker import Worker
from core.errors import ConfigurationError
from handlers.base import RequestBase, ResultBase
from handlers.drain_models import DrainNode
from handlers.kube import KubeClient
from handlers.models import GetNodes, NodeTable
from policies.loader import parse_policy
from policies.model import PolicyDocument

pytestmark = pytest.mark.integration

SHELL = Origin(surface="shell")


def _plant_poisoned_drain(store: JobStore) -> str:
    """A drain waiting for approval whose stored timeout is ``null``, as ``inf`` was saved."""
    job, _ = store.submit(
        DrainNode(node="k8s-node1", timeout_seconds=60),
        requester="U_OPS",
        origin=SHELL,
        decision="needs approval",
        state=JobState.AWAITING_APPROVAL,
    )
    doc = json.loads(str(store.redis.hget(job_key(job.id), "doc")))
    doc["request"]["timeout_seconds"] = None
    store.redis.hset(job_key(job.id), "doc", json.dumps(doc))
    return job.id


def test_an_infinite_timeout_is_refused_before_anything_is_stored(
    store: JobStore, policy: PolicyDocument
) -> None:
    dispatcher = Dispatcher(policy, store)
    reply = dispatcher.submit(
        "drain k8s-node1 --timeout " + "9" * 310 + "s", user="U_ADMIN", origin=SHELL
    )
    assert not reply.ok
    assert "--timeout" in reply.text
    assert store.redis.zcard(INDEX_KEY) == 0


def test_jobs_approve_and_expiry_live_with_an_unreadable_record(
    store: JobStore, policy: PolicyDocument, caplog: pytest.LogCaptureFixture
) -> None:
    good, _ = store.submit(GetNodes(), requester="U_OPS", origin=SHELL, decision="ok")
    bad = _plant_poisoned_drain(store)
    dispatcher = Dispatcher(policy, store)

    listed = dispatcher.submit("jobs", user="U_OPS", origin=SHELL)
    assert listed.ok, listed.text
    assert f"{good.id}" in listed.text

    approve = dispatcher.submit(f"approve {bad}", user="U_ADMIN", origin=SHELL)
    assert not approve.ok
    assert f"Job {bad}'s record could not be read" in approve.text
    assert "Something went wrong" not in approve.text
    assert store.expire_overdue() == []
    assert any("unreadable record" in r.getMessage() for r in caplog.records)
    # Quarantined: out of the index, and given a retention instead of living for ever.
    assert store.redis.zscore(INDEX_KEY, bad) is None
    assert 0 < store.redis.ttl(job_key(bad)) <= store.retention_seconds


def test_a_worker_survives_an_unreadable_record_and_runs_the_next_job(
    store: JobStore, redis_client: redis.Redis
) -> None:
    bad = _plant_poisoned_drain(store)
    store.redis.xadd("k8s-chatops:sandbox:queue", {"job_id": bad})
    good, _ = store.submit(GetNodes(), requester="U_OPS", origin=SHELL, decision="ok")

    def perform(
        request: RequestBase, kube: KubeClient, *args: object, **kwargs: object
    ) -> ResultBase:
        del request, kube, args, kwargs
        return NodeTable(rows=[])

    worker = Worker(store, KubeClient.__new__(KubeClient), name="w", perform=perform)
    worker.run(burst=True)
    assert store.get(good.id).state is JobState.SUCCEEDED
    assert redis_client.exists(job_key(bad))  # kept for a look, not deleted


# --- Redis does not grow without bound (finding 7) -----------------------------------------------


def test_queue_and_index_entries_older_than_the_retention_are_trimmed(
    redis_client: redis.Redis,
) -> None:
    old = JobStore(redis_client, "sandbox", retention_seconds=60)
    old.ensure_groups()
    # Entries written "long ago": explicit stream ids and scores in the past.
    for n in range(50):
        redis_client.xadd("k8s-chatops:sandbox:queue", {"job_id": f"old{n}"}, id=f"{1000 + n}-0")
        redis_client.zadd(INDEX_KEY, {f"old{n}": 1000 + n})
    old.submit(GetNodes(), requester="U1", origin=SHELL, decision="ok")
    assert redis_client.zcard(INDEX_KEY) == 1
    assert redis_client.xlen("k8s-chatops:sandbox:queue") == 1


def test_refusals_from_one_person_are_audited_at_most_ten_a_minute(
    store: JobStore, policy: PolicyDocument
) -> None:
    dispatcher = Dispatcher(policy, store)
    for _ in range(200):
        reply = dispatcher.submit("cordon k8s-node1", user="U_NOBODY", origin=SHELL)
        assert not reply.ok
    events = [entry["event"] for entry in store.audit_tail(100)]
    assert events.count("denied") == 10
    assert events.count("refusals not audited") == 1
    # Someone else's refusals are still audited.
    dispatcher.submit("cordon k8s-node1", user="U_OTHER", origin=SHELL)
    assert store.audit_tail(1)[0]["by"] == "U_OTHER"


# --- Jobs stay in their channel unless policy widens it (finding 10) ------------------------------

OVERSIGHT_POLICY = """
channels:
  oncall-room: [C0ONCALL]
oversight_channels: [oncall-room]
roles:
  op: {verbs: [help, get, jobs, audit, cordon, uncordon, drain, approve, cancel]}
bindings: [{role: op, everyone: true}]
"""


def test_audit_and_jobs_show_only_this_channel_except_from_an_oversight_channel(
    store: JobStore,
) -> None:
    dispatcher = Dispatcher(parse_policy(OVERSIGHT_POLICY, "test"), store)
    private = Origin(surface="slack", channel="C0PRIVATE")
    queued = dispatcher.submit("cordon k8s-node7", user="U_A", origin=private)
    assert queued.ok and queued.job is not None
    public = Origin(surface="slack", channel="C0PUBLIC")
    for command in ("jobs", "audit 50"):
        assert "k8s-node7" not in dispatcher.submit(command, user="U_B", origin=public).text
        assert "k8s-node7" in dispatcher.submit(command, user="U_B", origin=private).text
        oncall = Origin(surface="slack", channel="C0ONCALL")
        assert "k8s-node7" in dispatcher.submit(command, user="U_B", origin=oncall).text
        assert "k8s-node7" in dispatcher.submit(command, user="U_B", origin=SHELL).text
    refused = dispatcher.submit(f"cancel {queued.job.id}", user="U_A", origin=public)
    assert "There is no job" in refused.text
    cancelled = dispatcher.submit(
        f"cancel {queued.job.id}", user="U_A", origin=Origin(surface="slack", channel="C0ONCALL")
    )
    assert cancelled.ok, cancelled.text


def test_an_oversight_channel_must_name_a_defined_channel_set() -> None:
    with pytest.raises(ConfigurationError, match="undefined channel"):
        parse_policy("oversight_channels: [nowhere]\nroles: {r: {verbs: [get]}}\n", "test")


def test_a_worker_lives_through_redis_losing_its_queue_and_serves_the_next_job(
    store: JobStore, redis_client: redis.Redis
) -> None:
    """A Redis restarted without its data has no consumer group; the worker makes it again."""

    def perform(request: RequestBase, kube: KubeClient, *args: object) -> ResultBase:
        del request, kube, args
        return NodeTable(rows=[])

    worker = Worker(store, KubeClient.__new__(KubeClient), name="w", perform=perform)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        redis_client.delete("k8s-chatops:sandbox:queue", "k8s-chatops:notify")  # data lost
        time.sleep(1.5)
        job, _ = store.submit(GetNodes(), requester="U_OPS", origin=SHELL, decision="ok")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and store.get(job.id).state is not JobState.SUCCEEDED:
            time.sleep(0.1)
        assert store.get(job.id).state is JobState.SUCCEEDED
        assert thread.is_alive()
    finally:
        worker.stop()
        thread.join(timeout=5)
