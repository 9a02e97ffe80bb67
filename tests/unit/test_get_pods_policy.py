"""``get pods``/``get events`` are decided per namespace, as ``logs``: a rule denying a
namespace to a role refuses a read naming it, in the read's words, and ``-A`` leaves it out
instead of refusing the whole list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from policy_probe import Probe

from bot.commands import grammar
from bot.commands.registry import Context, registry
from bot.commands.verbs import get
from handlers.pods_models import EventTable, GetEvents, GetPods, PodTable
from policies.loader import parse_policy
from policies.model import Outcome, PolicyDocument

MEMBER = "U0SOMEONE"
OPERATOR = "U0ONCALL01"
POLICY = """
version: 1
roles:
  member: {verbs: [help, get]}
  operator: {verbs: [help, get]}
bindings:
  - {role: member, everyone: true}
  - {role: operator, users: [U0ONCALL01]}
rules:
  - name: payments-is-private
    verbs: [get]
    namespaces: [payments]
    unless: {roles: [operator]}
    effect: deny
    reason: "payments is read by its team only."
  - name: no-wide-node-hunts
    verbs: [get]
    flags: [node]
    effect: deny
    reason: "ask on-call."
"""


@pytest.fixture(scope="module")
def policy() -> PolicyDocument:
    return parse_policy(POLICY, "test")


def request(text: str) -> Any:
    parsed = grammar.parse(text)
    assert isinstance(parsed, GetPods | GetEvents)
    return parsed


def prepared(policy: PolicyDocument, user: str, text: str) -> Any:
    probe = Probe(policy)
    context = Context(
        store=cast(Any, None),
        policy=policy,
        subject=probe.subject(user, None),
        origin=cast(Any, None),
        decision=cast(Any, None),
        commands=registry(),
        reaches=lambda channel: True,
        now=datetime.now(UTC),
        decide_job=lambda job, now: cast(Any, None),
    )
    return get.prepare(context, request(text))


@pytest.mark.parametrize(
    "text", ["get pods -n payments", "get pods -n shop,payments -o wide", "get events -n payments"]
)
def test_a_denied_namespace_refuses_and_is_named(policy: PolicyDocument, text: str) -> None:
    probe = Probe(policy)
    decision = probe.decide(probe.subject(MEMBER, None), request(text))
    assert (decision.outcome, decision.rule) == (Outcome.DENY, "payments-is-private")
    assert decision.reason == "in namespace `payments`: payments is read by its team only."


def test_other_namespaces_and_the_exempt_role_are_allowed(policy: PolicyDocument) -> None:
    probe = Probe(policy)
    assert probe.decide(probe.subject(MEMBER, None), request("get pods")).outcome is (Outcome.ALLOW)
    operator = probe.subject(OPERATOR, None)
    assert probe.decide(operator, request("get pods -n payments")).outcome is Outcome.ALLOW


@pytest.mark.parametrize("word", ["pods", "events"])
def test_all_namespaces_leaves_the_denied_one_out(policy: PolicyDocument, word: str) -> None:
    probe = Probe(policy)
    text = f"get {word} -A"
    assert probe.decide(probe.subject(MEMBER, None), request(text)).outcome is Outcome.ALLOW
    assert prepared(policy, MEMBER, text).excluded_namespaces == ("payments",)
    assert prepared(policy, OPERATOR, text).excluded_namespaces == ()
    named = request(f"get {word} -n shop")
    assert prepared(policy, MEMBER, f"get {word} -n shop") == named


def test_the_reply_names_what_policy_left_out() -> None:
    empty = PodTable(rows=[], all_namespaces=True, excluded_namespaces=("payments",))
    assert get.render(empty).splitlines() == [
        "No resources found",
        "Left out by policy: payments.",
    ]
    events = EventTable(rows=[], all_namespaces=True, excluded_namespaces=("payments",))
    assert get.render(events).splitlines()[-1] == "Left out by policy: payments."


def test_a_rule_on_a_flag_singles_out_reads_using_it(policy: PolicyDocument) -> None:
    probe = Probe(policy)
    member = probe.subject(MEMBER, None)
    refused = probe.decide(member, request("get pods -A --node k8s-node1"))
    assert (refused.outcome, refused.rule) == (Outcome.DENY, "no-wide-node-hunts")
    assert probe.decide(member, request("get pods -A -o wide")).outcome is Outcome.ALLOW
    assert request("get pods -n a -o wide -l x=y").flags == {"namespace", "output", "selector"}
    assert request("get events -A --for pod/x --types Warning").flags == {
        "all-namespaces",
        "for",
        "types",
    }
