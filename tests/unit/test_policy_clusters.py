"""Policies scoped to clusters: rules, protected targets, limits, channel defaults, and
``policy check --cluster``."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.commands.registry import registry
from core.errors import ConfigurationError
from policies.engine import Facts, evaluate, permitted_verbs
from policies.loader import parse_policy
from policies.model import Action, Outcome, PolicyDocument, Subject

VOCABULARY = registry().vocabulary()

POLICY = """
version: 1
clusters: [prod, staging]
channels:
  ops: [C0OPS]
  staging-room: [C0STAGE]
channel_defaults:
  ops: {cluster: prod}
  staging-room: {cluster: staging}
roles:
  operator: {verbs: [help, get, cordon, uncordon, drain, approve, jobs]}
bindings:
  - {role: operator, users: [U_OPS, U_OPS2]}
rules:
  - name: prod-drains-need-a-second-person
    clusters: [prod]
    verbs: [drain]
    effect: require_approval
    approval: {count: 1, approvers: {roles: [operator]}, expires_in: 1h}
  - name: no-cordons-in-prod
    clusters: [prod]
    verbs: [cordon]
    effect: deny
    reason: "no cordons in prod today."
  - name: staging-is-open-to-everyone
    clusters: [staging]
    verbs: [cordon, uncordon]
    effect: allow
protected:
  clusters: [prod]
  nodes: {names: ["k8s-master"]}
  approval: {count: 2, approvers: {roles: [operator]}, expires_in: 30m}
limits:
  max_unschedulable: 5
  change_windows:
    - {days: [mon, tue, wed, thu, fri], start: "08:00", end: "18:00", timezone: UTC}
  per_cluster:
    prod: {max_unschedulable: 1}
    staging: {change_windows: [], max_unschedulable: null}
"""

OPS = Subject(user_id="U_OPS", channel="C0OPS")
SOMEONE = Subject(user_id="U_SOMEONE")
#: A Wednesday inside the window, and a Saturday outside it.
WEEKDAY = datetime(2026, 5, 13, 10, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 5, 16, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def policy() -> PolicyDocument:
    return parse_policy(POLICY, "clusters.yaml", VOCABULARY)


def act(verb: str, node: str, cluster: str | None) -> Action:
    return Action(
        verb=verb,
        target=f"node/{node}",
        node=node,
        cluster=cluster,
        node_labels={},
        disrupts=verb in ("cordon", "drain"),
    )


def facts(unschedulable: int = 0, now: datetime = WEEKDAY) -> Facts:
    return Facts(now=now, unschedulable_nodes=unschedulable, total_nodes=10)


def test_a_rule_scoped_to_a_cluster_applies_there_only(policy: PolicyDocument) -> None:
    prod = evaluate(policy, OPS, act("drain", "k8s-node1", "prod"), facts())
    assert prod.outcome is Outcome.NEEDS_APPROVAL
    assert prod.rule == "prod-drains-need-a-second-person"
    staging = evaluate(policy, OPS, act("drain", "k8s-node1", "staging"), facts())
    assert staging.outcome is Outcome.ALLOW
    denied = evaluate(policy, OPS, act("cordon", "k8s-node1", "prod"), facts())
    assert denied.outcome is Outcome.DENY and denied.rule == "no-cordons-in-prod"
    assert evaluate(policy, OPS, act("cordon", "k8s-node1", "staging"), facts()).allowed


def test_an_allow_rule_scoped_to_a_cluster_grants_nothing_elsewhere(
    policy: PolicyDocument,
) -> None:
    assert evaluate(policy, SOMEONE, act("cordon", "k8s-node1", "staging"), facts()).allowed
    refused = evaluate(policy, SOMEONE, act("cordon", "k8s-node1", "prod"), facts())
    assert refused.outcome is Outcome.DENY and refused.rule == "default deny"
    # No cluster at all (a command about none): scoped rules match nothing.
    unscoped = evaluate(policy, SOMEONE, act("cordon", "k8s-node1", None), facts())
    assert unscoped.outcome is Outcome.DENY
    # help and whoami list what someone may do on some cluster.
    assert "cordon" in permitted_verbs(policy, SOMEONE, VOCABULARY)


def test_protected_targets_scoped_to_a_cluster(policy: PolicyDocument) -> None:
    prod = evaluate(policy, OPS, act("uncordon", "k8s-master", "prod"), facts())
    assert prod.outcome is Outcome.NEEDS_APPROVAL and prod.rule == "protected target"
    assert prod.requirement is not None and prod.requirement.count == 2
    assert evaluate(policy, OPS, act("uncordon", "k8s-master", "staging"), facts()).allowed


def test_limits_per_cluster_replace_the_file_wide_ones_field_by_field(
    policy: PolicyDocument,
) -> None:
    # prod: at most 1 unschedulable (its own); the change window is inherited.
    capped = evaluate(policy, OPS, act("uncordon", "k8s-node1", "prod"), facts())
    assert capped.allowed
    over = evaluate(policy, OPS, act("drain", "k8s-node1", "prod"), facts(unschedulable=1))
    assert over.outcome is Outcome.DENY and "at most 1 node may" in over.reason
    weekend = evaluate(policy, OPS, act("uncordon", "k8s-node1", "prod"), facts(now=SATURDAY))
    assert weekend.outcome is Outcome.DENY and "change window" in weekend.reason
    # staging lifts both: no window, no cap.
    busy = facts(unschedulable=9, now=SATURDAY)
    assert evaluate(policy, OPS, act("drain", "k8s-node1", "staging"), busy).allowed
    # Any other cluster gets the file-wide limits.
    assert policy.limits.for_cluster("dev").max_unschedulable == 5
    assert policy.limits.for_cluster(None).change_windows == policy.limits.change_windows
    assert policy.limits.for_cluster("staging").max_unschedulable is None


def test_channel_defaults(policy: PolicyDocument) -> None:
    assert policy.default_cluster("C0OPS") == "prod"
    assert policy.default_cluster("C0STAGE") == "staging"
    assert policy.default_cluster("C0ELSEWHERE") is None
    assert policy.default_cluster(None) is None


def test_files_without_clusters_read_as_before() -> None:
    plain = parse_policy("roles: {a: {verbs: [get]}}\n", "plain.yaml", VOCABULARY)
    assert plain.clusters == [] and plain.channel_defaults == {}
    assert plain.limits.for_cluster("anything") is plain.limits


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "roles: {a: {verbs: [get]}}\nrules:\n"
            "  - {name: x, clusters: [prdo], verbs: [get], effect: deny}\n",
            "rules.x names cluster(s) prdo that `clusters` does not declare (declared: none)",
        ),
        (
            "clusters: [prod]\nroles: {a: {verbs: [get]}}\nprotected: {clusters: [stage]}\n",
            "protected names cluster(s) stage",
        ),
        (
            "clusters: [prod]\nroles: {a: {verbs: [get]}}\n"
            "limits: {per_cluster: {staging: {max_unschedulable: 1}}}\n",
            "limits.per_cluster names cluster(s) staging",
        ),
        (
            "clusters: [prod]\nchannels: {ops: [C1]}\nroles: {a: {verbs: [get]}}\n"
            "channel_defaults: {opz: {cluster: prod}}\n",
            "channel_defaults names undefined channel(s) opz",
        ),
        (
            "clusters: [prod]\nchannels: {ops: [C1]}\nroles: {a: {verbs: [get]}}\n"
            "channel_defaults: {ops: {cluster: qa}}\n",
            "channel_defaults.ops names cluster(s) qa",
        ),
        (
            "clusters: [prod, qa]\nchannels: {ops: [C1], qa-room: [C1, C2]}\n"
            "roles: {a: {verbs: [get]}}\n"
            "channel_defaults: {ops: {cluster: prod}, qa-room: {cluster: qa}}\n",
            "channel C1 gets two default clusters in channel_defaults: prod and qa",
        ),
        (
            "clusters: [Prod_1]\nroles: {a: {verbs: [get]}}\n",
            "line 1, clusters.0: String should match pattern",
        ),
    ],
)
def test_cluster_references_are_checked(text: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_policy(text, "policy.yaml", VOCABULARY)
    assert fragment in caught.value.user_message


def _check(policy_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "policy",
            "check",
            "--file",
            str(policy_file),
            "--node-labels",
            "a=b",
            "--unschedulable",
            "0",
            "--nodes",
            "3",
            "--at",
            WEEKDAY.isoformat(),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_policy_check_decides_for_the_cluster_given(tmp_path: Path) -> None:
    path = tmp_path / "clusters.yaml"
    path.write_text(POLICY)
    prod = _check(path, "--user", "U_OPS", "--cluster", "prod", "--command", "drain k8s-node1")
    assert prod.returncode == 0, prod.stderr
    lines = prod.stdout.splitlines()
    assert lines[:2] == ["decision: needs_approval", "rule:     prod-drains-need-a-second-person"]
    assert "cluster:  prod" in lines
    staging = _check(path, "--user", "U_OPS", "--command", "-C staging drain k8s-node1")
    assert staging.stdout.splitlines()[0] == "decision: allow"
    assert "cluster:  staging" in staging.stdout
    by_channel = _check(path, "--user", "U_OPS", "--channel", "C0OPS", "--command", "drain n1")
    assert "cluster:  prod" in by_channel.stdout
    assert by_channel.stdout.splitlines()[0] == "decision: needs_approval"


def test_policy_check_asks_for_the_cluster_when_rules_depend_on_it(tmp_path: Path) -> None:
    path = tmp_path / "clusters.yaml"
    path.write_text(POLICY)
    unnamed = _check(path, "--user", "U_OPS", "--command", "drain k8s-node1")
    assert unnamed.returncode == 2
    assert "give --cluster" in unnamed.stderr
    disagree = _check(path, "--user", "U_OPS", "--cluster", "prod", "--command", "-C qa get nodes")
    assert disagree.returncode == 2 and "disagree" in disagree.stderr


def test_policy_check_decides_an_answer_on_the_jobs_cluster(tmp_path: Path) -> None:
    path = tmp_path / "clusters.yaml"
    path.write_text(POLICY)
    answer = ("--user", "U_OPS", "--command", "approve 7", "--requester", "U_OPS2")
    unrouted = _check(path, *answer, "--job-command", "drain k8s-node1")
    assert unrouted.returncode == 2 and "give --cluster" in unrouted.stderr
    prod = _check(path, *answer, "--job-command", "-C prod drain k8s-node1")
    assert prod.returncode == 0, prod.stderr
    assert prod.stdout.splitlines()[0] == "decision: allow"
    assert "cluster:  prod" in prod.stdout
    # The same drain on staging never waited for approval: there is nothing to approve.
    staging = _check(path, *answer, "--cluster", "staging", "--job-command", "drain k8s-node1")
    assert staging.returncode == 2 and "does not wait for approval" in staging.stderr
    disagree = _check(path, *answer, "--cluster", "staging", "--job-command", "-C prod drain n1")
    assert disagree.returncode == 2 and "disagree" in disagree.stderr
    # Approved on a Saturday: prod keeps the file-wide window, so the drain is refused now.
    saturday = _check(
        path, *answer, "--job-command", "-C prod drain k8s-node1", "--at", SATURDAY.isoformat()
    )
    assert saturday.stdout.splitlines()[:2] == ["decision: deny", "rule:     limits"]
