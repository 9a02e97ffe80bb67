"""Who may read which logs: rule ``unless`` subjects, and per-namespace decisions for ``logs``
(``-A`` leaves out what the policy keeps from you instead of refusing everything).

Logs decisions read only the policy, never the job store, so the dispatcher runs here without
Redis; node logs go through the shared path, which reads node facts, so they are decided at
the engine.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from policy_probe import Probe

from bot.commands import grammar
from core.errors import ConfigurationError
from handlers.logs_models import PodLogs
from policies.engine import evaluate
from policies.loader import load_policy, parse_policy
from policies.model import Action, Outcome, PolicyDocument, Subject

REPO = Path(__file__).resolve().parents[2]
MEMBER = "U0SOMEONE"  # everyone holds member
OPERATOR = "U0ONCALL01"  # listed by user id
ADMIN = "U0PLATFORM1"  # in the platform group
ONCALL_GROUP_MEMBER = "U0PAGED"  # in the oncall Slack user group
KUBE_SYSTEM_DENIAL = (
    "in namespace `kube-system`: kube-system logs are for on-call operators; ask in #ops."
)


@pytest.fixture(scope="module")
def default() -> PolicyDocument:
    return load_policy(REPO / "policies" / "default.yaml")


@pytest.fixture(scope="module")
def dispatcher(default: PolicyDocument) -> Probe:
    def slack_groups(user: str, policy: PolicyDocument) -> frozenset[str]:
        del policy
        return frozenset({"oncall"}) if user == ONCALL_GROUP_MEMBER else frozenset()

    return Probe(default, resolve_groups=slack_groups)


def logs(text: str) -> PodLogs:
    parsed = grammar.parse(text)
    assert isinstance(parsed, PodLogs)
    return parsed


def decide(dispatcher: Probe, user: str, text: str) -> tuple[Outcome, str, str]:
    decision = dispatcher.decide(dispatcher.subject(user, None), logs(text))
    return decision.outcome, decision.rule, decision.reason


# --- The default policy, through the dispatcher ----------------------------------------------


def test_member_may_read_logs_in_an_ordinary_namespace(dispatcher: Probe) -> None:
    assert decide(dispatcher, MEMBER, "logs web -n shop") == (
        Outcome.ALLOW,
        "role member",
        "allowed by role member",
    )


def test_member_may_not_read_kube_system_logs(dispatcher: Probe) -> None:
    assert decide(dispatcher, MEMBER, "logs coredns -n kube-system") == (
        Outcome.DENY,
        "kube-system-logs-are-for-operators",
        KUBE_SYSTEM_DENIAL,
    )


@pytest.mark.parametrize("user", [OPERATOR, ADMIN, ONCALL_GROUP_MEMBER])
def test_operators_and_admins_may_read_kube_system_logs(dispatcher: Probe, user: str) -> None:
    subject = dispatcher.subject(user, None)
    decision = dispatcher.decide(subject, logs("logs coredns -n kube-system"))
    assert decision.outcome is Outcome.ALLOW
    assert {"operator", "admin"} & set(decision.roles)


@pytest.mark.parametrize(
    "text",
    [
        "logs web -n default -n kube-system",
        "logs web -n kube-system,default",
        "logs deploy/coredns -n shop,kube-system",
    ],
)
def test_one_restricted_namespace_among_several_refuses_and_is_named(
    dispatcher: Probe, text: str
) -> None:
    outcome, rule, reason = decide(dispatcher, MEMBER, text)
    assert (outcome, rule, reason) == (
        Outcome.DENY,
        "kube-system-logs-are-for-operators",
        KUBE_SYSTEM_DENIAL,
    )


def test_all_namespaces_is_allowed_for_a_member(dispatcher: Probe) -> None:
    assert decide(dispatcher, MEMBER, "logs web -A")[0] is Outcome.ALLOW


def test_all_namespaces_leaves_kube_system_out_for_a_member(dispatcher: Probe) -> None:
    subject = dispatcher.subject(MEMBER, None)
    fetched = dispatcher._logs_exclusions(subject, logs("logs web -A"))
    assert fetched.excluded_namespaces == ("kube-system",)
    assert fetched.all_namespaces


@pytest.mark.parametrize("user", [OPERATOR, ADMIN, ONCALL_GROUP_MEMBER])
def test_all_namespaces_leaves_nothing_out_for_operators(dispatcher: Probe, user: str) -> None:
    subject = dispatcher.subject(user, None)
    assert dispatcher._logs_exclusions(subject, logs("logs web -A")).excluded_namespaces == ()


def test_named_namespaces_are_never_rewritten(dispatcher: Probe) -> None:
    request = logs("logs web -n shop")
    assert dispatcher._logs_exclusions(dispatcher.subject(MEMBER, None), request) is request


# --- Node logs: a verb of its own, only operators and admins hold it ----------------------------


def node_logs_decision(policy: PolicyDocument, subject: Subject) -> tuple[Outcome, str]:
    decision = evaluate(
        policy,
        subject,
        Action(verb="node-logs", target="node/k8s-node1", node="k8s-node1", read_only=True),
    )
    return decision.outcome, decision.rule


def test_member_may_not_read_node_logs(default: PolicyDocument) -> None:
    subject = Subject(user_id=MEMBER)
    assert node_logs_decision(default, subject) == (Outcome.DENY, "default deny")
    reason = evaluate(
        default, subject, Action(verb="node-logs", target="node/n1", read_only=True)
    ).reason
    assert "none of your roles (member) allows `node-logs`" in reason


def test_operator_may_read_node_logs(default: PolicyDocument) -> None:
    subject = Subject(user_id=OPERATOR)
    assert node_logs_decision(default, subject) == (Outcome.ALLOW, "role operator")


def test_node_logs_verb_matches_the_parsed_request() -> None:
    assert grammar.parse("logs node/k8s-node1").verb == "node-logs"


# --- `unless` in the engine -----------------------------------------------------------------

UNLESS_POLICY = """
version: 1
groups:
  sre: {users: [U_SRE]}
  contractors: {users: [U_TEMP]}
roles:
  reader: {verbs: [logs]}
  operator: {verbs: [logs, node-logs]}
bindings:
  - {role: reader, everyone: true}
  - {role: operator, users: [U_OPS]}
rules:
  - name: secrets-ns-is-closed
    verbs: [logs]
    namespaces: [vault]
    unless: {roles: [operator], groups: [sre], users: [U_AUDITOR]}
    effect: deny
    reason: "vault logs are closed."
  - name: contractors-read-only-their-apps
    verbs: [logs]
    subjects: {groups: [contractors]}
    unless: {users: [U_TEMP_LEAD]}
    namespaces: [shop]
    effect: deny
  - name: break-glass-node-logs
    verbs: [node-logs]
    unless: {groups: [contractors]}
    effect: allow
"""


@pytest.fixture(scope="module")
def unless_policy() -> PolicyDocument:
    return parse_policy(UNLESS_POLICY, "unless.yaml")


def outcome(policy: PolicyDocument, subject: Subject, verb: str, namespace: str | None) -> Outcome:
    return evaluate(
        policy, subject, Action(verb=verb, target="x", namespace=namespace, read_only=True)
    ).outcome


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        (Subject(user_id="U_ANYONE"), Outcome.DENY),
        (Subject(user_id="U_OPS"), Outcome.ALLOW),  # by role
        (Subject(user_id="U_SRE", groups=frozenset({"sre"})), Outcome.ALLOW),  # by group
        (Subject(user_id="U_AUDITOR"), Outcome.ALLOW),  # by user id
    ],
)
def test_unless_exempts_the_roles_groups_and_users_it_lists(
    unless_policy: PolicyDocument, subject: Subject, expected: Outcome
) -> None:
    assert outcome(unless_policy, subject, "logs", "vault") is expected


def test_unless_does_not_widen_a_rule_outside_its_namespaces(unless_policy: PolicyDocument) -> None:
    assert outcome(unless_policy, Subject(user_id="U_ANYONE"), "logs", "shop") is Outcome.ALLOW


def test_unless_subtracts_from_the_rule_subjects(unless_policy: PolicyDocument) -> None:
    temp = Subject(user_id="U_TEMP", groups=frozenset({"contractors"}))
    lead = Subject(user_id="U_TEMP_LEAD", groups=frozenset({"contractors"}))
    assert outcome(unless_policy, temp, "logs", "shop") is Outcome.DENY
    assert outcome(unless_policy, lead, "logs", "shop") is Outcome.ALLOW


def test_unless_on_an_allow_rule_withholds_the_grant(unless_policy: PolicyDocument) -> None:
    everyone = Subject(user_id="U_ANYONE")
    temp = Subject(user_id="U_TEMP", groups=frozenset({"contractors"}))
    assert outcome(unless_policy, everyone, "node-logs", None) is Outcome.ALLOW
    assert outcome(unless_policy, temp, "node-logs", None) is Outcome.DENY


def test_all_namespaces_leaves_out_each_closed_namespace(unless_policy: PolicyDocument) -> None:
    dispatcher = Probe(unless_policy)
    temp = Subject(user_id="U_TEMP", groups=frozenset({"contractors"}))
    assert dispatcher._logs_exclusions(temp, logs("logs web -A")).excluded_namespaces == (
        "shop",
        "vault",
    )


def test_all_namespaces_is_refused_when_no_role_allows_logs_anywhere() -> None:
    policy = parse_policy(
        "version: 1\nroles: {viewer: {verbs: [get]}}\nbindings: [{role: viewer, everyone: true}]\n",
        "viewer.yaml",
    )
    decision = Probe(policy).decide(Subject(user_id="U1"), logs("logs web -A"))
    assert decision.outcome is Outcome.DENY
    assert decision.reason.startswith("in every namespace: none of your roles (viewer)")


@pytest.mark.parametrize(
    ("unless", "detail"),
    [
        ("{roles: [ghost]}", "rules.r names undefined role(s) ghost"),
        ("{groups: [ghosts]}", "rules.r names undefined group(s) ghosts"),
        ("{teams: [x]}", "Extra inputs are not permitted"),
    ],
)
def test_policy_validation_rejects_unless_naming_what_does_not_exist(
    unless: str, detail: str
) -> None:
    text = (
        "version: 1\nroles: {viewer: {verbs: [logs]}}\n"
        f"rules:\n  - {{name: r, verbs: [logs], effect: deny, unless: {unless}}}\n"
    )
    with pytest.raises(ConfigurationError) as caught:
        parse_policy(text, "bad.yaml")
    assert detail in caught.value.user_message
    assert caught.value.user_message.startswith("Policy file bad.yaml is not valid: line ")
