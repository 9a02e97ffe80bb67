"""The policy path, made true (issue 13): approve, deny and cancel are decided like every other
verb, rules on flags match, and what time- and count-bound rules allowed is decided again when
the last approval completes and frozen into the job for the worker.

Everything goes through the Dispatcher on a real Redis; node facts are written into Redis as
workers publish them. Time is the Dispatcher's clock, set to a Monday in 2030 so that windows
are open or closed on purpose (and no real-time expiry sweep touches these jobs).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.commands.dispatcher import Dispatcher
from bot.jobs import facts
from bot.jobs.model import JobState, Origin
from bot.jobs.store import JobStore
from bot.jobs.worker import Worker
from handlers.base import RequestBase, ResultBase
from handlers.kube import KubeClient
from handlers.models import CordonNode, GetNodes, NodeTable
from policies.loader import parse_policy
from policies.model import PolicyDocument

pytestmark = pytest.mark.integration

SHELL = Origin(surface="shell")
MONDAY_10 = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)
MONDAY_18 = datetime(2030, 1, 7, 18, 0, tzinfo=UTC)
WINDOW_END = datetime(2030, 1, 7, 17, 0, tzinfo=UTC)

BASE = """
version: 1
roles:
  member: {{verbs: [help, whoami, get, jobs, logs]}}
  operator: {{verbs: [help, whoami, get, jobs, logs, cordon, uncordon, drain, approve, cancel]}}
  reviewer: {{verbs: [approve]}}
bindings:
  - {{role: member, everyone: true}}
  - {{role: operator, users: [U_A, U_B, U_C, U_D]}}
  - {{role: reviewer, users: [U_REVIEWER]}}
{bindings}
rules:
  - name: drain-needs-one
    verbs: [drain]
    effect: require_approval
    approval: {{count: 1, approvers: {{roles: [operator], users: [U_LISTED]}}, expires_in: 12h}}
{rules}
{limits}
"""
WINDOWS = """
limits:
  change_windows:
    - {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00", timezone: UTC}
"""


@dataclass
class Clock:
    now: datetime = MONDAY_10

    def __call__(self) -> datetime:
        return self.now


def policy(*, rules: str = "", bindings: str = "", limits: str = "") -> PolicyDocument:
    return parse_policy(BASE.format(rules=rules, bindings=bindings, limits=limits), "test")


def bot(store: JobStore, document: PolicyDocument, clock: Clock | None = None) -> Dispatcher:
    return Dispatcher(document, store, clock=clock or Clock())


def publish_nodes(store: JobStore, *cordoned: str) -> None:
    """The snapshot a worker would publish: three workers, ``cordoned`` unschedulable."""
    nodes = {f"k8s-node{n}": ({"kubernetes.io/hostname": f"k8s-node{n}"}, False) for n in (1, 2, 3)}
    nodes |= {name: (nodes[name][0], True) for name in cordoned}
    facts.write(store.redis, store.cluster, nodes)


def ask_drain(dispatcher: Dispatcher, node: str = "k8s-node1") -> str:
    asked = dispatcher.submit(f"drain {node} --ignore-daemonsets", user="U_A", origin=SHELL)
    assert asked.job is not None and asked.job.state is JobState.AWAITING_APPROVAL, asked.text
    return asked.job.id


# --- approve and deny are decided by the policy --------------------------------------------------


def test_a_deny_rule_on_approve_refuses_the_subjects_it_names(store: JobStore) -> None:
    dispatcher = bot(
        store,
        policy(
            rules="  - {name: no-approvals-from-c, verbs: [approve], subjects: {users: [U_C]}, "
            "effect: deny, reason: U_C is on leave.}"
        ),
    )
    publish_nodes(store)
    job_id = ask_drain(dispatcher)
    refused = dispatcher.submit(f"approve {job_id}", user="U_C", origin=SHELL)
    assert not refused.ok and refused.rule == "no-approvals-from-c"
    assert "U_C is on leave." in refused.text
    assert store.get(job_id).state is JobState.AWAITING_APPROVAL
    # The rule covers `deny` too (same policy verb), and spares everyone it does not name.
    assert dispatcher.submit(f"deny {job_id}", user="U_C", origin=SHELL).rule == (
        "no-approvals-from-c"
    )
    approved = dispatcher.submit(f"approve {job_id}", user="U_B", origin=SHELL)
    assert approved.ok and store.get(job_id).state is JobState.QUEUED
    denied = [e for e in store.audit_tail(20) if e["event"] == "denied"]
    assert [e.get("rule") for e in denied] == ["no-approvals-from-c"] * 2


def test_an_approver_named_by_the_rule_still_needs_a_role_that_grants_approve(
    store: JobStore,
) -> None:
    dispatcher = bot(store, policy())
    publish_nodes(store)
    job_id = ask_drain(dispatcher)
    listed = dispatcher.submit(f"approve {job_id}", user="U_LISTED", origin=SHELL)
    assert not listed.ok and listed.rule == "default deny"
    assert "none of your roles (member) allows `approve`" in listed.text
    assert store.get(job_id).state is JobState.AWAITING_APPROVAL
    # With the verb granted, the approver rule admits them.
    granted = bot(store, policy(bindings="  - {role: reviewer, users: [U_LISTED]}"))
    assert granted.submit(f"approve {job_id}", user="U_LISTED", origin=SHELL).ok
    assert store.get(job_id).state is JobState.QUEUED


def test_someone_with_approve_who_is_not_an_approver_is_refused_by_the_approver_rules(
    store: JobStore,
) -> None:
    dispatcher = bot(store, policy())
    publish_nodes(store)
    job_id = ask_drain(dispatcher)
    for verb in ("approve", "deny"):
        refused = dispatcher.submit(f"{verb} {job_id}", user="U_REVIEWER", origin=SHELL)
        assert not refused.ok and refused.rule == "approvers"
        assert "not one of the approvers" in refused.text
    assert store.get(job_id).state is JobState.AWAITING_APPROVAL


def test_an_approval_outside_a_change_window_is_refused(store: JobStore) -> None:
    clock = Clock(MONDAY_10)
    dispatcher = bot(store, policy(limits=WINDOWS), clock)
    publish_nodes(store)
    job_id = ask_drain(dispatcher)
    clock.now = MONDAY_18
    late = dispatcher.submit(f"approve {job_id}", user="U_B", origin=SHELL)
    assert not late.ok and late.rule == "limits"
    assert "the change window mon,tue,wed,thu,fri 09:00-17:00 UTC" in late.text
    assert store.get(job_id).state is JobState.AWAITING_APPROVAL
    # Withdrawing or refusing a change changes nothing, so it is not held to the window.
    assert dispatcher.submit(f"deny {job_id} not tonight", user="U_B", origin=SHELL).ok
    assert store.get(job_id).state is JobState.DENIED


def test_the_last_approval_freezes_the_end_of_the_window_into_the_job(store: JobStore) -> None:
    clock = Clock(MONDAY_10)
    dispatcher = bot(store, policy(limits=WINDOWS), clock)
    publish_nodes(store)
    job_id = ask_drain(dispatcher)
    assert store.get(job_id).run_before is None  # waiting: nothing frozen yet
    clock.now = MONDAY_10 + timedelta(hours=6)  # 16:00, an hour before the window closes
    assert dispatcher.submit(f"approve {job_id}", user="U_B", origin=SHELL).ok
    assert store.get(job_id).run_before == WINDOW_END


#: prod: its own unschedulable limit, and a window that closes at noon.
PROD_LIMITS = WINDOWS + (
    "  per_cluster:\n"
    "    prod:\n"
    "      max_unschedulable: 1\n"
    "      change_windows:\n"
    '        - {days: [mon, tue, wed, thu, fri], start: "09:00", end: "12:00", timezone: UTC}\n'
    "clusters: [prod]\n"
)


def test_each_cluster_keeps_its_own_limits_and_an_approval_is_decided_on_the_jobs(
    store: JobStore,
) -> None:
    clock = Clock(MONDAY_10)
    dispatcher = bot(store, policy(limits=PROD_LIMITS), clock)
    publish_nodes(store, "k8s-node3")
    facts.write(store.redis, "prod", {"k8s-node1": ({}, False), "k8s-node2": ({}, False)})
    here = dispatcher.submit("cordon k8s-node1", user="U_A", origin=SHELL)
    assert here.job is not None and here.job.run_before == WINDOW_END
    drain = "-C prod drain k8s-node1 --ignore-daemonsets"
    on_prod = dispatcher.submit(drain, user="U_A", origin=SHELL)
    assert on_prod.job is not None and on_prod.job.cluster == "prod"
    assert on_prod.job.state is JobState.AWAITING_APPROVAL
    # Meanwhile a node of prod was cordoned: prod's limit (1) is reached, not this cluster's.
    facts.write(store.redis, "prod", {"k8s-node1": ({}, False), "k8s-node2": ({}, True)})
    refused = dispatcher.submit(f"approve {on_prod.job.id}", user="U_B", origin=SHELL)
    assert not refused.ok and refused.rule == "limits"
    assert "at most 1 node may be unschedulable at once; unschedulable now: 1" in refused.text
    facts.write(store.redis, "prod", {"k8s-node1": ({}, False), "k8s-node2": ({}, False)})
    clock.now = MONDAY_10 + timedelta(hours=1)
    assert dispatcher.submit(f"approve {on_prod.job.id}", user="U_B", origin=SHELL).ok
    approved = store.get(on_prod.job.id)
    assert approved.state is JobState.QUEUED
    assert approved.run_before == MONDAY_10.replace(hour=12)  # prod's window, not this one's


def test_an_approval_is_refused_when_the_request_would_now_pass_the_unschedulable_limit(
    store: JobStore,
) -> None:
    dispatcher = bot(store, policy(limits="limits: {max_unschedulable: 1}"))
    publish_nodes(store)
    job_id = ask_drain(dispatcher)
    publish_nodes(store, "k8s-node2")  # someone cordoned another node meanwhile
    refused = dispatcher.submit(f"approve {job_id}", user="U_B", origin=SHELL)
    assert not refused.ok and refused.rule == "limits"
    assert f"Job {job_id} can't be approved now: if U_A asked for it now" in refused.text
    assert "at most 1 node may be unschedulable at once; unschedulable now: 1" in refused.text
    assert store.get(job_id).state is JobState.AWAITING_APPROVAL
    refusals = [e for e in store.audit_tail(20) if e["event"] == "approval refused"]
    assert refusals[-1]["rule"] == "limits"
    publish_nodes(store)  # uncordoned again: the same approval now goes through
    assert dispatcher.submit(f"approve {job_id}", user="U_B", origin=SHELL).ok


def test_an_approval_is_refused_under_a_rule_added_while_the_job_waited(store: JobStore) -> None:
    current = {"policy": policy()}
    dispatcher = Dispatcher(lambda: current["policy"], store, clock=Clock())
    publish_nodes(store)
    job_id = ask_drain(dispatcher)
    current["policy"] = policy(
        rules="  - {name: freeze, verbs: [drain], effect: deny, reason: Release freeze.}"
    )
    refused = dispatcher.submit(f"approve {job_id}", user="U_B", origin=SHELL)
    assert not refused.ok and refused.rule == "freeze" and "Release freeze." in refused.text


def test_approvals_neither_count_against_nor_are_held_to_the_rate_limit(store: JobStore) -> None:
    """The rate limits how many changes a person asks for. An approval releases a request
    that was counted when it arrived, so it is not counted again, for the approver or the
    requester."""
    dispatcher = bot(store, policy(limits="limits: {rate: {requests: 1, per: 1h}}"))
    publish_nodes(store)
    assert dispatcher.submit("cordon k8s-node3", user="U_B", origin=SHELL).ok  # U_B: 1 of 1
    job_id = ask_drain(dispatcher)  # U_A: 1 of 1
    assert store.count_recent("U_A", 3600, record=False) == 1
    approved = dispatcher.submit(f"approve {job_id}", user="U_B", origin=SHELL)
    assert approved.ok, approved.text
    assert store.count_recent("U_B", 3600, record=False) == 1
    assert store.count_recent("U_A", 3600, record=False) == 1
    again = dispatcher.submit("cordon k8s-node2", user="U_B", origin=SHELL)
    assert not again.ok and again.rule == "limits"


# --- cancel --------------------------------------------------------------------------------------


def test_cancelling_ones_own_job_is_refused_by_an_explicit_deny_rule(store: JobStore) -> None:
    dispatcher = bot(
        store,
        policy(
            rules="  - {name: no-cancels-for-d, verbs: [cancel], subjects: {users: [U_D]}, "
            "effect: deny}"
        ),
    )
    mine = dispatcher.submit("cordon k8s-node1", user="U_D", origin=SHELL)
    assert mine.job is not None
    refused = dispatcher.submit(f"cancel {mine.job.id}", user="U_D", origin=SHELL)
    assert not refused.ok and refused.rule == "no-cancels-for-d"
    assert store.get(mine.job.id).state is JobState.QUEUED


def test_a_requester_without_the_cancel_verb_may_cancel_only_their_own_job(
    store: JobStore,
) -> None:
    without_cancel = BASE.replace("drain, approve, cancel]", "drain, approve]")
    dispatcher = bot(
        store, parse_policy(without_cancel.format(rules="", bindings="", limits=""), "t")
    )
    mine = dispatcher.submit("cordon k8s-node1", user="U_A", origin=SHELL)
    assert mine.job is not None
    theirs = dispatcher.submit(f"cancel {mine.job.id}", user="U_B", origin=SHELL)
    assert not theirs.ok and theirs.rule == "default deny"
    own = dispatcher.submit(f"cancel {mine.job.id}", user="U_A", origin=SHELL)
    assert own.ok and own.rule == "own job"
    assert store.get(mine.job.id).state is JobState.CANCELLED


def test_cancelling_is_not_held_to_the_change_window(store: JobStore) -> None:
    clock = Clock(MONDAY_10)
    dispatcher = bot(store, policy(limits=WINDOWS), clock)
    queued = dispatcher.submit("cordon k8s-node1", user="U_A", origin=SHELL)
    assert queued.job is not None
    clock.now = MONDAY_18
    assert dispatcher.submit(f"cancel {queued.job.id}", user="U_A", origin=SHELL).ok


# --- rules on logs flags -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "command"),
    [("previous", "logs web -p"), ("all-namespaces", "logs web -A")],
)
def test_a_logs_rule_on_a_flag_refuses_the_command_that_uses_it(
    store: JobStore, flag: str, command: str
) -> None:
    dispatcher = bot(
        store,
        policy(rules=f"  - {{name: no-{flag}, verbs: [logs], flags: [{flag}], effect: deny}}"),
    )
    refused = dispatcher.submit(command, user="U_A", origin=SHELL)
    assert not refused.ok and refused.rule == f"no-{flag}"
    plain = dispatcher.submit("logs web", user="U_A", origin=SHELL)
    assert plain.ok and plain.job is not None


# --- what a queued job keeps, and the worker -----------------------------------------------------


def test_a_job_that_needs_no_approval_keeps_the_end_of_its_window(store: JobStore) -> None:
    dispatcher = bot(store, policy(limits=WINDOWS))
    change = dispatcher.submit("cordon k8s-node1", user="U_A", origin=SHELL)
    assert change.job is not None and change.job.run_before == WINDOW_END
    read = dispatcher.submit("get nodes", user="U_A", origin=SHELL)
    assert read.job is not None and read.job.run_before is None  # reads any time
    anytime = bot(store, policy()).submit("cordon k8s-node2", user="U_A", origin=SHELL)
    assert anytime.job is not None and anytime.job.run_before is None


def _worker(store: JobStore, ran: list[str]) -> Worker:
    def perform(request: RequestBase, kube: KubeClient, *args: object) -> ResultBase:
        del kube, args
        ran.append(request.command_text())
        return NodeTable(rows=[])

    return Worker(store, KubeClient.__new__(KubeClient), name="w", perform=perform)


def test_the_worker_does_not_start_a_job_whose_window_closed_while_it_was_queued(
    store: JobStore,
) -> None:
    closed = datetime.now(UTC) - timedelta(minutes=5)
    late, _ = store.submit(
        CordonNode(node="k8s-node1"),
        requester="U_A",
        origin=SHELL,
        decision="allowed by role operator",
        run_before=closed,
    )
    in_time, _ = store.submit(
        GetNodes(), requester="U_A", origin=SHELL, decision="allowed by role member"
    )
    ran: list[str] = []
    _worker(store, ran).run(burst=True)
    refused = store.get(late.id)
    assert refused.state is JobState.FAILED
    assert refused.error == (
        f"Refused: the change window closed at {closed:%Y-%m-%d %H:%M} UTC before this job "
        "could start; nothing was changed. Ask again inside a change window."
    )
    assert ran == ["get nodes"]
    assert store.get(in_time.id).state is JobState.SUCCEEDED


def test_the_worker_starts_a_job_inside_its_window(store: JobStore) -> None:
    job, _ = store.submit(
        CordonNode(node="k8s-node1"),
        requester="U_A",
        origin=SHELL,
        decision="allowed by role operator",
        run_before=datetime.now(UTC) + timedelta(minutes=5),
    )
    ran: list[str] = []
    _worker(store, ran).run(burst=True)
    assert ran == ["cordon k8s-node1"]
    assert store.get(job.id).state is JobState.SUCCEEDED
