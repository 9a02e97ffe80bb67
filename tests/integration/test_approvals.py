"""Approvals on a real Redis: who may approve, counting once, expiry, denial, protected nodes."""

from __future__ import annotations

import threading
import time

import pytest
from helpers import make_worker

from bot.commands.dispatcher import Dispatcher
from bot.jobs import facts
from bot.jobs.model import JobState, Origin, queue_key
from bot.jobs.store import JobStore
from handlers.kube import KubeClient
from policies.loader import parse_policy

pytestmark = pytest.mark.integration

SHELL = Origin(surface="shell")
POLICY = """
version: 1
roles:
  member: {verbs: [help, whoami, get, jobs]}
  operator: {verbs: [help, whoami, get, jobs, audit, cordon, uncordon, drain, approve]}
  reviewer: {verbs: [approve]}
bindings:
  - {role: member, everyone: true}
  - {role: operator, users: [U_A, U_B, U_C]}
  - {role: reviewer, users: [U_NOBODY]}   # may answer approvals, but no rule names it
rules:
  - name: drain-needs-one
    verbs: [drain]
    effect: require_approval
    approval: {count: 1, approvers: {roles: [operator]}, expires_in: EXPIRY}
protected:
  nodes: {selector: node-role.kubernetes.io/control-plane}
  approval: {count: 2, approvers: {roles: [operator]}, expires_in: 30m}
"""


def runnable(store: JobStore) -> int:
    """Queue entries that run a job (a drain waiting for approval also queues a plan)."""
    entries = store.redis.xrange(queue_key("sandbox"))
    return sum(1 for _, fields in entries if fields.get("kind") != "plan")


def dispatcher(store: JobStore, expiry: str = "1h") -> Dispatcher:
    return Dispatcher(parse_policy(POLICY.replace("EXPIRY", expiry), "test"), store)


def test_second_person_approves_and_the_job_runs(store: JobStore, pristine: KubeClient) -> None:
    facts.publish(pristine, store.redis, "sandbox")  # k8s-node1 is not a control-plane node
    bot = dispatcher(store)
    asked = bot.submit("drain k8s-node1 --ignore-daemonsets --force", user="U_A", origin=SHELL)
    assert asked.job is not None and asked.job.state is JobState.AWAITING_APPROVAL
    assert f"Job {asked.job.id} waits for approval: 1 approval(s) from role operator" in asked.text
    assert runnable(store) == 0
    job_id = asked.job.id

    own = bot.submit(f"approve {job_id}", user="U_A", origin=SHELL)
    assert not own.ok and "someone else has to approve it" in own.text
    outsider = bot.submit(f"approve {job_id}", user="U_NOBODY", origin=SHELL)
    assert not outsider.ok and "not one of the approvers" in outsider.text

    answers = []
    clicks = [
        threading.Thread(
            target=lambda: answers.append(
                bot.submit(f"approve {job_id} plan looks fine", user="U_B", origin=SHELL)
            )
        )
        for _ in range(2)
    ]
    for click in clicks:
        click.start()
    for click in clicks:
        click.join()
    assert sorted(a.text.split(";")[0][:30] for a in answers) == [
        f"Job {job_id} approved by U_B"[:30],
        f"You already approved job {job_id}"[:30],
    ]
    job = store.get(job_id)
    assert job.state is JobState.QUEUED and job.approval is not None
    assert [a.by for a in job.approval.approvals] == ["U_B"]
    assert runnable(store) == 1

    make_worker(store, pristine, name="w").run(burst=True)
    assert store.get(job_id).state is JobState.SUCCEEDED
    events = [e["event"] for e in store.audit_tail(20)]
    assert events.count("approval refused") == 2
    assert "queued" in events and "succeeded" in events


def test_protected_node_needs_two_approvers(store: JobStore, pristine: KubeClient) -> None:
    facts.publish(pristine, store.redis, "sandbox")
    bot = dispatcher(store)
    asked = bot.submit("cordon k8s-master", user="U_A", origin=SHELL)
    assert asked.job is not None and asked.job.state is JobState.AWAITING_APPROVAL
    assert "2 approval(s)" in asked.text
    first = bot.submit(f"approve {asked.job.id}", user="U_B", origin=SHELL)
    assert first.text == f"Approval 1/2 for job {asked.job.id} recorded."
    assert store.get(asked.job.id).state is JobState.AWAITING_APPROVAL
    second = bot.submit(f"approve {asked.job.id}", user="U_C", origin=SHELL)
    assert second.text.startswith(f"Job {asked.job.id} approved by U_B, U_C")
    plain = bot.submit("cordon k8s-node1", user="U_A", origin=SHELL)
    assert plain.job is not None and plain.job.state is JobState.QUEUED


def test_expired_requests_cannot_be_approved(store: JobStore, kube: KubeClient) -> None:
    facts.publish(kube, store.redis, "sandbox")
    bot = dispatcher(store, expiry="1s")
    asked = bot.submit("drain k8s-node1 --ignore-daemonsets", user="U_A", origin=SHELL)
    assert asked.job is not None
    time.sleep(1.2)
    late = bot.submit(f"approve {asked.job.id}", user="U_B", origin=SHELL)
    assert not late.ok and "expired" in late.text
    assert store.get(asked.job.id).state is JobState.EXPIRED
    assert runnable(store) == 0


def test_deny_ends_the_request(store: JobStore) -> None:
    bot = dispatcher(store)
    asked = bot.submit("drain k8s-node1", user="U_A", origin=SHELL)
    assert asked.job is not None
    denied = bot.submit(f"deny {asked.job.id} not during the release", user="U_B", origin=SHELL)
    assert denied.text == (
        f"Job {asked.job.id} denied by U_B (not during the release); nothing was done."
    )
    assert store.get(asked.job.id).state is JobState.DENIED
    again = bot.submit(f"approve {asked.job.id}", user="U_C", origin=SHELL)
    assert not again.ok and "is not waiting for approval (it is denied)" in again.text


def test_whoami(store: JobStore) -> None:
    text = dispatcher(store).submit("whoami", user="U_A", origin=SHELL).text
    assert text.startswith("You are U_A. Roles: member, operator. Groups: none. You may: ")
    assert "drain" in text
