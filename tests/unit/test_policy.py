"""The policy engine: table-driven decisions, properties that must always hold, file errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands.registry import registry
from core.errors import ConfigurationError
from policies.engine import (
    Facts,
    changes_allowed_until,
    evaluate,
    may_approve,
    permitted_verbs,
    roles_of,
)
from policies.loader import PolicyWatcher, load_policy, parse_policy
from policies.model import Access, Action, Outcome, PolicyDocument, Subject

VOCABULARY = registry().vocabulary()

REPO = Path(__file__).resolve().parents[2]
MASTER_LABELS = {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "m"}
WORKER_LABELS = {"kubernetes.io/hostname": "w"}


@pytest.fixture(scope="module")
def default() -> PolicyDocument:
    return load_policy(REPO / "policies" / "default.yaml", VOCABULARY)


def act(
    verb: str,
    node: str | None = None,
    labels: dict[str, str] | None = None,
    flags: tuple[str, ...] = (),
) -> Action:
    return Action(
        verb=verb,
        target=f"node/{node}" if node else verb,
        node=node,
        node_labels=labels,
        flags=frozenset(flags),
        disrupts=verb in ("cordon", "drain"),
        read_only=VOCABULARY.verbs.get(verb) is not Access.WRITE,
    )


ONCALL = Subject(user_id="U0ONCALL01")
ADMIN = Subject(user_id="U9", groups=frozenset({"platform"}))
ANYONE = Subject(user_id="U_SOMEONE")


@pytest.mark.parametrize(
    ("subject", "action", "outcome", "rule"),
    [
        (ANYONE, act("get"), Outcome.ALLOW, "role member"),
        (ANYONE, act("cordon", "w", WORKER_LABELS), Outcome.DENY, "default deny"),
        (ONCALL, act("cordon", "w", WORKER_LABELS), Outcome.ALLOW, "role operator"),
        (
            ONCALL,
            act("drain", "w", WORKER_LABELS),
            Outcome.NEEDS_APPROVAL,
            "drain-needs-a-second-person",
        ),
        (ONCALL, act("cordon", "m", MASTER_LABELS), Outcome.NEEDS_APPROVAL, "protected target"),
        (
            ONCALL,
            act("drain", "m", MASTER_LABELS),
            Outcome.NEEDS_APPROVAL,
            "drain-needs-a-second-person, protected target",
        ),
        # Unknown labels: the protected-node rule applies, to be safe.
        (ONCALL, act("cordon", "x", None), Outcome.NEEDS_APPROVAL, "protected target"),
        (
            ONCALL,
            act("drain", "w", WORKER_LABELS, ("disable-eviction",)),
            Outcome.DENY,
            "disable-eviction-is-for-admins",
        ),
        (
            ADMIN,
            act("drain", "w", WORKER_LABELS, ("disable-eviction",)),
            Outcome.NEEDS_APPROVAL,
            "drain-needs-a-second-person, disable-eviction-needs-a-reason",
        ),
        (ONCALL, act("audit"), Outcome.ALLOW, "role operator"),
        (ANYONE, act("audit"), Outcome.DENY, "default deny"),
    ],
)
def test_default_policy_decisions(
    default: PolicyDocument, subject: Subject, action: Action, outcome: Outcome, rule: str
) -> None:
    decision = evaluate(default, subject, action, Facts(unschedulable_nodes=0, total_nodes=3))
    assert (decision.outcome, decision.rule) == (outcome, rule)


def test_protected_nodes_need_two_approvals(default: PolicyDocument) -> None:
    decision = evaluate(default, ONCALL, act("drain", "m", MASTER_LABELS))
    assert decision.requirement is not None
    assert decision.requirement.count == 2
    assert decision.requirement.expires_in == "30m"
    assert decision.requirement.describe() == (
        "2 approval(s) from role admin or role operator (not the requester), within 30m"
    )


def test_disable_eviction_needs_a_reason(default: PolicyDocument) -> None:
    decision = evaluate(default, ADMIN, act("drain", "w", WORKER_LABELS, ("disable-eviction",)))
    assert decision.requirement is not None and decision.requirement.reason_required


def test_unschedulable_limit(default: PolicyDocument) -> None:
    busy = Facts(unschedulable_nodes=1, total_nodes=3, target_unschedulable=False)
    refused = evaluate(default, ONCALL, act("cordon", "w", WORKER_LABELS), busy)
    assert refused.outcome is Outcome.DENY and refused.rule == "limits"
    assert "at most 1 node(s) may be unschedulable at once and 1 already are" in refused.reason
    again = Facts(unschedulable_nodes=1, total_nodes=3, target_unschedulable=True)
    assert evaluate(default, ONCALL, act("cordon", "w", WORKER_LABELS), again).allowed
    assert evaluate(default, ONCALL, act("uncordon", "w", WORKER_LABELS), busy).allowed


def test_percentage_limit_rate_and_change_windows() -> None:
    policy = PolicyDocument.model_validate(
        {
            "roles": {"ops": {"verbs": ["*"]}},
            "bindings": [{"role": "ops", "users": ["U1"]}],
            "limits": {
                "max_unschedulable": "10%",
                "rate": {"requests": 2, "per": "1h"},
                "change_windows": [
                    {"days": ["mon"], "start": "09:00", "end": "17:00", "timezone": "Europe/Berlin"}
                ],
            },
        }
    )
    monday_10_berlin = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    sunday = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    who = Subject(user_id="U1")
    ok = Facts(now=monday_10_berlin, unschedulable_nodes=1, total_nodes=20)
    assert evaluate(policy, who, act("cordon", "n"), ok).allowed  # 10% of 20 = 2
    full = Facts(now=monday_10_berlin, unschedulable_nodes=2, total_nodes=20)
    assert evaluate(policy, who, act("cordon", "n"), full).outcome is Outcome.DENY
    weekend = evaluate(policy, who, act("cordon", "n"), Facts(now=sunday))
    assert weekend.outcome is Outcome.DENY
    assert "mon 09:00-17:00 Europe/Berlin" in weekend.reason
    assert evaluate(policy, who, act("get"), Facts(now=sunday)).allowed  # reads any time
    busy = Facts(now=monday_10_berlin, recent_requests=2)
    assert "limit of 2 changes per 1h" in evaluate(policy, who, act("cordon", "n"), busy).reason


def test_channel_bindings_and_allow_rules() -> None:
    policy = PolicyDocument.model_validate(
        {
            "channels": {"ops": ["C1"]},
            "roles": {"ops": {"verbs": ["cordon", "uncordon"]}, "none": {"verbs": ["help"]}},
            "bindings": [{"role": "ops", "users": ["U1"], "channels": ["ops"]}],
            "rules": [
                {
                    "name": "team-a-drains-its-nodes",
                    "verbs": ["drain"],
                    "nodes": {"names": ["team-a-*"]},
                    "subjects": {"users": ["U2"]},
                    "effect": "allow",
                }
            ],
        }
    )
    in_ops = Subject(user_id="U1", channel="C1")
    elsewhere = Subject(user_id="U1", channel="C9")
    assert evaluate(policy, in_ops, act("cordon", "n")).allowed
    assert evaluate(policy, elsewhere, act("cordon", "n")).outcome is Outcome.DENY
    team = Subject(user_id="U2")
    assert evaluate(policy, team, act("drain", "team-a-3")).allowed
    assert evaluate(policy, team, act("drain", "team-b-3")).outcome is Outcome.DENY
    assert "drain" in permitted_verbs(policy, team, VOCABULARY)


def test_approvers(default: PolicyDocument) -> None:
    decision = evaluate(default, ONCALL, act("drain", "w", WORKER_LABELS))
    assert decision.requirement is not None
    ok, _ = may_approve(default, Subject(user_id="U0ONCALL02"), decision.requirement, "U0ONCALL01")
    assert ok
    own, why = may_approve(default, ONCALL, decision.requirement, "U0ONCALL01")
    assert not own and "yourself" in why
    stranger, why = may_approve(default, ANYONE, decision.requirement, "U0ONCALL01")
    assert not stranger and "not one of the approvers" in why


# --- Properties ----------------------------------------------------------------------------

verbs = st.sampled_from(sorted(VOCABULARY.verbs))
users = st.sampled_from(["U1", "U2", "U3", "U4"])
group_names = st.sampled_from(["g1", "g2"])
nodes = st.sampled_from(["n1", "n2", "cp-1"])


@st.composite
def policies(draw: st.DrawFn) -> PolicyDocument:
    roles = {
        f"r{i}": {"verbs": draw(st.lists(verbs, min_size=1, max_size=4, unique=True))}
        for i in range(draw(st.integers(1, 3)))
    }
    bindings = [
        {
            "role": draw(st.sampled_from(sorted(roles))),
            "users": draw(st.lists(users, max_size=2, unique=True)) or ["U1"],
            "groups": draw(st.lists(group_names, max_size=1, unique=True)),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    rules = []
    for index in range(draw(st.integers(0, 3))):
        effect = draw(st.sampled_from(["allow", "deny", "require_approval"]))
        rule = {
            "name": f"rule-{index}",
            "verbs": draw(st.lists(verbs, min_size=1, max_size=2, unique=True)),
            "effect": effect,
        }
        if draw(st.booleans()):
            rule["nodes"] = {"names": [draw(nodes)]}
        if effect == "require_approval":
            rule["approval"] = {
                "count": draw(st.integers(1, 2)),
                "approvers": {"users": draw(st.lists(users, min_size=1, max_size=2, unique=True))},
            }
        rules.append(rule)
    return PolicyDocument.model_validate(
        {
            "groups": {"g1": {"users": ["U3"]}, "g2": {"users": []}},
            "roles": roles,
            "bindings": bindings,
            "rules": rules,
        }
    )


def subjects_of(user: str, policy: PolicyDocument) -> Subject:
    groups = frozenset(n for n, g in policy.groups.items() if user in g.users)
    return Subject(user_id=user, groups=groups)


STRICTNESS = {Outcome.ALLOW: 0, Outcome.NEEDS_APPROVAL: 1, Outcome.DENY: 2}


@settings(max_examples=200, deadline=None)
@given(verb=verbs, node=nodes, user=users)
def test_deny_by_default(verb: str, node: str, user: str) -> None:
    empty = PolicyDocument.model_validate({"roles": {"r": {"verbs": ["*"]}}})
    assert evaluate(empty, Subject(user_id=user), act(verb, node)).outcome is Outcome.DENY


@settings(max_examples=200, deadline=None)
@given(policy=policies(), verb=verbs, node=nodes, user=users)
def test_self_approval_never_counts(
    policy: PolicyDocument, verb: str, node: str, user: str
) -> None:
    decision = evaluate(policy, subjects_of(user, policy), act(verb, node))
    if decision.requirement is not None:
        ok, _ = may_approve(policy, subjects_of(user, policy), decision.requirement, user)
        assert not ok


@settings(max_examples=300, deadline=None)
@given(
    policy=policies(),
    verb=verbs,
    node=nodes,
    user=users,
    deny_verbs=st.lists(verbs, min_size=1, max_size=3, unique=True),
    deny_node=st.one_of(st.none(), nodes),
)
def test_a_deny_rule_never_widens_access(
    policy: PolicyDocument,
    verb: str,
    node: str,
    user: str,
    deny_verbs: list[str],
    deny_node: str | None,
) -> None:
    rule: dict[str, object] = {"name": "added-deny", "verbs": deny_verbs, "effect": "deny"}
    if deny_node:
        rule["nodes"] = {"names": [deny_node]}
    stricter = PolicyDocument.model_validate(
        {
            **policy.model_dump(mode="json"),
            "rules": [*policy.model_dump(mode="json")["rules"], rule],
        }
    )
    subject = subjects_of(user, policy)
    before = evaluate(policy, subject, act(verb, node)).outcome
    after = evaluate(stricter, subject, act(verb, node)).outcome
    assert STRICTNESS[after] >= STRICTNESS[before]


@settings(max_examples=200, deadline=None)
@given(policy=policies(), verb=verbs, node=nodes)
def test_a_user_in_no_group_gets_only_what_everyone_gets(
    policy: PolicyDocument, verb: str, node: str
) -> None:
    nobody = Subject(user_id="U_NOBODY")
    assert roles_of(policy, nobody) == ()
    assert evaluate(policy, nobody, act(verb, node)).outcome is not Outcome.ALLOW or any(
        r.effect == "allow" and r.subjects is None for r in policy.rules
    )


# --- Files ---------------------------------------------------------------------------------


def test_shipped_policy_files_load() -> None:
    policy = load_policy(REPO / "policies" / "default.yaml")
    assert {"member", "operator", "admin"} <= set(policy.roles)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("roles:\n  a:\n    verbs: [get, drian]\n", "line 3, roles.a.verbs: unknown verb(s) drian"),
        (
            "roles: {a: {verbs: [get]}}\nbindings:\n  - {role: b, everyone: true}\n",
            "bindings[0] names undefined role(s) b",
        ),
        (
            "roles: {a: {verbs: [get]}}\nbindings:\n  - {role: a}\n",
            "line 3, bindings.0: binding of role a names no users, groups or everyone",
        ),
        (
            "roles: {a: {verbs: [get]}}\nrules:\n"
            "  - {name: x, verbs: [get], effect: require_approval}\n",
            "requires approval but has no `approval`",
        ),
        (
            "roles: {a: {verbs: [get]}}\nlimits: {max_unschedulable: lots}\n",
            "line 2, limits.max_unschedulable",
        ),
        (
            "roles: {a: {verbs: [get]}}\nlimits:\n  change_windows:\n"
            "    - {start: '09:00', end: '17:00', timezone: Mars/Olympus}\n",
            "unknown time zone 'Mars/Olympus'",
        ),
        (
            "roles: {a: {verbs: [get]}}\nlimits:\n  rate: {requests: 1, per: 99999999999999999d}\n",
            "'99999999999999999d' is not a duration like 30m, 1h or 2d",
        ),
        (
            "roles: {a: {verbs: [get]}}\nlimits: {max_unschedulable: '\u0661\u0660%'}\n",
            "line 2, limits.max_unschedulable",
        ),
        ("version: 2\nroles: {a: {verbs: [get]}}\n", "version 2 is not supported"),
        ("roles: [unclosed", "line 1, column 17"),
    ],
)
def test_invalid_files_name_the_line_and_field(text: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_policy(text, "policy.yaml", VOCABULARY)
    assert fragment in caught.value.user_message


def test_watcher_reloads_and_keeps_the_last_good_policy(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    first = {"roles": {"a": {"verbs": ["get"]}}, "bindings": [{"role": "a", "everyone": True}]}
    path.write_text(yaml.safe_dump(first))
    watcher = PolicyWatcher(path)
    assert not watcher.check()
    first["roles"]["a"]["verbs"] = ["get", "cordon"]  # type: ignore[index]
    path.write_text(yaml.safe_dump(first) + "# changed\n")
    assert watcher.check()
    assert watcher.policy.roles["a"].verbs == ["get", "cordon"]
    path.write_text("roles: [broken\n")
    assert not watcher.check()
    assert watcher.policy.roles["a"].verbs == ["get", "cordon"]


# --- What a job keeps of the change windows (issue 13) ------------------------------------------


def _windows(*windows: dict[str, object]) -> PolicyDocument:
    return PolicyDocument.model_validate(
        {"roles": {"ops": {"verbs": ["*"]}}, "limits": {"change_windows": list(windows)}}
    )


def test_changes_allowed_until_is_the_end_of_the_open_window() -> None:
    berlin = _windows(
        {"days": ["mon"], "start": "09:00", "end": "17:00", "timezone": "Europe/Berlin"}
    )
    monday_10_berlin = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert changes_allowed_until(berlin, monday_10_berlin) == datetime(
        2026, 11, 23, 16, 0, tzinfo=UTC
    )
    sunday = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert changes_allowed_until(berlin, sunday) == sunday  # none open: not even now
    assert changes_allowed_until(_windows(), sunday) is None  # no windows: any time


def test_changes_allowed_until_follows_windows_that_open_as_one_closes() -> None:
    chained = _windows(
        {"days": ["mon"], "start": "08:00", "end": "12:00"},
        {"days": ["mon"], "start": "11:00", "end": "14:00"},
        {"days": ["mon"], "start": "14:00", "end": "15:30"},
        {"days": ["mon"], "start": "16:00", "end": "18:00"},  # a gap: not followed
    )
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert changes_allowed_until(chained, at) == datetime(2026, 11, 23, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        (
            "  - name: no-force\n    verbs: [drain]\n    flags: [--force]\n    effect: deny\n",
            "line 7, rules.0.flags: unknown flag(s) --force for verb(s) drain",
        ),
        (
            "  - name: no-force\n    verbs: [logs]\n    flags: [force]\n    effect: deny\n",
            "line 7, rules.0.flags: unknown flag(s) force for verb(s) logs",
        ),
        (
            "  - name: typo\n    verbs: [cordon]\n    flags: [previous]\n    effect: deny\n",
            "line 7, rules.0.flags: unknown flag(s) previous for verb(s) cordon; known: none",
        ),
    ],
)
def test_a_rule_naming_a_flag_no_command_of_its_verbs_has_is_refused_with_its_line(
    rule: str, fragment: str
) -> None:
    text = "version: 1\nroles:\n  a: {verbs: [drain, logs, cordon]}\nrules:\n" + rule
    with pytest.raises(ConfigurationError) as caught:
        parse_policy(text, "policy.yaml", VOCABULARY)
    assert fragment in caught.value.user_message


def test_rules_may_name_every_logs_flag_a_person_can_type() -> None:
    text = (
        "roles: {a: {verbs: [logs]}}\nrules:\n"
        "  - {name: p, verbs: [logs], flags: [previous], effect: deny}\n"
        "  - {name: a, verbs: [logs], flags: [all-namespaces], effect: deny}\n"
    )
    assert len(parse_policy(text, "policy.yaml", VOCABULARY).rules) == 2
