"""The first piece of the policy engine: roles, verbs, read-only unknown users."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigurationError
from policies.engine import evaluate
from policies.loader import load_policy
from policies.model import Action, Outcome, PolicyDocument, Subject

REPO = Path(__file__).resolve().parents[2]


def decide(policy: PolicyDocument, user: str, verb: str) -> tuple[Outcome, str]:
    decision = evaluate(policy, Subject(user_id=user), Action(verb=verb, target="node/n1"))
    return decision.outcome, decision.reason


def test_operator_may_cordon(policy: PolicyDocument) -> None:
    assert decide(policy, "U_OPS", "cordon") == (Outcome.ALLOW, "allowed by role operator")


def test_viewer_may_not_cordon_and_is_told_why(policy: PolicyDocument) -> None:
    outcome, reason = decide(policy, "U_VIEW", "cordon")
    assert outcome is Outcome.DENY
    assert "none of your roles (viewer) allows `cordon`" in reason


def test_unknown_user_may_only_read(policy: PolicyDocument) -> None:
    assert decide(policy, "U_STRANGER", "get")[0] is Outcome.ALLOW
    outcome, reason = decide(policy, "U_STRANGER", "uncordon")
    assert outcome is Outcome.DENY
    assert "not listed in the policy file" in reason
    assert "get, help" in reason


def test_wildcard_role_allows_every_verb() -> None:
    policy = PolicyDocument.model_validate(
        {"roles": {"admin": {"verbs": ["*"]}}, "users": {"U1": ["admin"]}}
    )
    assert decide(policy, "U1", "uncordon")[0] is Outcome.ALLOW


def test_example_policy_shipped_with_the_project_loads() -> None:
    policy = load_policy(REPO / "policies" / "example-policy.yaml")
    assert "operator" in policy.roles


@pytest.mark.parametrize(
    ("yaml_text", "fragment"),
    [
        ("roles: {a: {verbs: [get, drian]}}", "unknown verb(s) drian"),
        ("roles: {a: {verbs: [get]}}\nusers: {U1: [b]}", "undefined role(s) b"),
        ("roles: {a: {verbs: [get]}}\nunknown_users: [cordon]", "may only read"),
        ("roles: {a: {verbs: [get]}}\nunknown_users: ['*']", "may only read"),
        ("version: 2\nroles: {a: {verbs: [get]}}", "version 2 is not supported"),
        ("roles: {a: {verbs: [get]}}\nextra: 1", "extra"),
        ("roles: [unclosed", "line 1, column 17: expected ',' or ']'"),
    ],
)
def test_invalid_policy_files_are_rejected_with_the_reason(
    tmp_path: Path, yaml_text: str, fragment: str
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigurationError) as caught:
        load_policy(path)
    assert fragment in caught.value.user_message
    assert str(path) in caught.value.user_message


def test_missing_policy_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="K8S_CHATOPS_POLICY_FILE"):
        load_policy(tmp_path / "absent.yaml")
