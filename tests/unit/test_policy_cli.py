"""``k8s-chatops policy validate`` and ``policy check`` as a reviewer runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT = str(REPO / "policies" / "default.yaml")
#: What the default policy's limits need to know (the bot reads them from its workers), and
#: the user's Slack user groups (its `oncall` group is one; the bot asks Slack).
FACTS = ("--unschedulable", "0", "--nodes", "3", "--recent", "0", "--groups", "")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "policy", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_validate(tmp_path: Path) -> None:
    ok = cli("validate", DEFAULT)
    assert ok.returncode == 0 and "valid (3 roles, 4 bindings, 7 rules)" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("roles:\n  a:\n    verbs: [get, drian]\n")
    refused = cli("validate", str(bad))
    assert refused.returncode == 1
    assert "line 3, roles.a.verbs: unknown verb(s) drian" in refused.stderr


def test_check_names_the_rule() -> None:
    result = cli(
        "check",
        "--file",
        DEFAULT,
        "--user",
        "U0ONCALL01",
        "--command",
        "drain k8s-master --ignore-daemonsets",
        "--node-labels",
        "node-role.kubernetes.io/control-plane=",
        *FACTS,
    )
    assert result.returncode == 0
    assert result.stdout.splitlines()[:2] == [
        "decision: needs_approval",
        "rule:     drain-needs-a-second-person, protected target",
    ]
    denied = cli(
        "check",
        "--file",
        DEFAULT,
        "--user",
        "U0ONCALL01",
        "--command",
        "drain k8s-node1 --disable-eviction",
        "--node-labels",
        "a=b",
        *FACTS,
    )
    assert "rule:     disable-eviction-is-for-admins" in denied.stdout


def test_check_names_the_flag_for_a_fact_it_needs() -> None:
    result = cli("check", "--file", DEFAULT, "--user", "U0ONCALL01", "--command", "drain k8s-node1")
    assert result.returncode == 2
    assert "--node-labels" in result.stderr
    assert "--unschedulable" in result.stderr
    assert "--recent" in result.stderr


def test_check_refuses_a_rule_naming_a_flag_no_command_has(tmp_path: Path) -> None:
    typo = tmp_path / "typo.yaml"
    typo.write_text(
        "roles: {a: {verbs: [drain]}}\n"
        "rules:\n"
        "  - {name: no-force, verbs: [drain], flags: [--force], effect: deny}\n"
    )
    refused = cli("validate", str(typo))
    assert refused.returncode == 1
    assert "unknown flag(s) --force for verb(s) drain" in refused.stderr


def check(policy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli("check", "--file", str(policy), *args)


def lines(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert result.returncode == 0, result.stderr
    return {
        k.strip(): v.strip() for k, _, v in (x.partition(":") for x in result.stdout.splitlines())
    }


APPROVALS = """
groups:
  oncall: {slack_usergroup: S0ONCALL}
channels:
  ops: [C0OPS]
roles:
  member: {verbs: [get, jobs]}
  operator: {verbs: [get, jobs, cordon, drain, approve, cancel]}
  reviewer: {verbs: [approve]}
bindings:
  - {role: member, everyone: true}
  - {role: operator, users: [U_A, U_B]}
  - {role: operator, groups: [oncall]}
  - {role: reviewer, users: [U_R], channels: [ops]}
rules:
  - name: drain-needs-one
    verbs: [drain]
    effect: require_approval
    approval: {count: 1, approvers: {roles: [operator]}, expires_in: 1h}
  - {name: team-a-nodes, verbs: [drain], nodes: {names: ["team-a-*"], selector: pool=a},
     effect: deny}
limits:
  change_windows:
    - {days: [mon], start: "09:00", end: "17:00", timezone: UTC}
"""
MONDAY = ("--at", "2030-01-07T10:00+00:00")
#: Facts every check on APPROVALS needs: group membership from Slack, and the channel.
WHO = ("--groups", "", "--channel", "C0OPS")


def test_check_asks_for_the_job_an_answer_names(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(APPROVALS)
    bare = check(policy, "--user", "U_B", "--command", "approve 4", *WHO, *MONDAY)
    assert bare.returncode == 2
    assert "--requester" in bare.stderr and "--job-command" in bare.stderr
    own_cancel = check(
        policy, "--user", "U_X", "--command", "cancel 4", "--requester", "U_X", *WHO, *MONDAY
    )
    assert lines(own_cancel)["rule"] == "own job"


def test_check_applies_the_approver_rules_and_decides_the_job_again(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(APPROVALS)
    job = (
        "--requester",
        "U_A",
        "--requester-groups",
        "",
        "--job-command",
        "drain k8s-node1",
        "--node-labels",
        "pool=b",
    )
    approved = lines(check(policy, "--user", "U_B", "--command", "approve 4", *job, *WHO, *MONDAY))
    assert (approved["decision"], approved["rule"]) == ("allow", "role operator")
    not_an_approver = lines(
        check(policy, "--user", "U_R", "--command", "approve 4", *job, *WHO, *MONDAY)
    )
    assert (not_an_approver["decision"], not_an_approver["rule"]) == ("deny", "approvers")
    night = lines(
        check(
            policy,
            "--user",
            "U_B",
            "--command",
            "approve 4",
            *job,
            *WHO,
            "--at",
            "2030-01-07T20:00+00:00",
        )
    )
    assert (night["decision"], night["rule"]) == ("deny", "limits")
    assert night["at"].startswith("2030-01-07T20:00+00:00 (given by --at")
    # Outside #ops the reviewer holds no role that grants approve at all.
    elsewhere = check(
        policy,
        "--user",
        "U_R",
        "--command",
        "approve 4",
        *job,
        "--groups",
        "",
        "--channel",
        "",
        *MONDAY,
    )
    assert lines(elsewhere)["rule"] == "default deny"


def test_check_asks_for_slack_groups_and_the_channel_when_the_policy_uses_them(
    tmp_path: Path,
) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(APPROVALS)
    result = check(policy, "--user", "U_B", "--command", "get nodes")
    assert result.returncode == 2
    assert "group(s) oncall take members from Slack: give --groups" in result.stderr
    assert "give --channel" in result.stderr
    assert lines(check(policy, "--user", "U_B", "--command", "get nodes", *WHO))["at"].endswith(
        "(now; --at decides at another time; change windows use it)"
    )


def test_check_asks_for_labels_only_when_a_selector_could_decide(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(APPROVALS)
    named = check(policy, "--user", "U_B", "--command", "drain team-a-1", *WHO, *MONDAY)
    assert lines(named)["rule"] == "team-a-nodes"  # the name matches: no labels needed
    other = check(policy, "--user", "U_B", "--command", "drain k8s-node1", *WHO, *MONDAY)
    assert other.returncode == 2 and "--node-labels" in other.stderr


def test_check_asks_whether_the_target_is_cordoned_only_at_the_limit() -> None:
    base = ("--user", "U0ONCALL01", "--command", "cordon k8s-node1", "--node-labels", "a=b")
    below = cli("check", "--file", DEFAULT, *base, *FACTS)
    assert lines(below)["decision"] == "allow"
    at_limit = cli(
        "check", "--file", DEFAULT, *base, "--unschedulable", "1", "--recent", "0", "--groups", ""
    )
    assert at_limit.returncode == 2 and "--target-unschedulable yes|no" in at_limit.stderr
    cordoned = cli(
        "check",
        "--file",
        DEFAULT,
        *base,
        "--unschedulable",
        "1",
        "--recent",
        "0",
        "--groups",
        "",
        "--target-unschedulable",
    )
    assert lines(cordoned)["decision"] == "allow"
    other = cli(
        "check",
        "--file",
        DEFAULT,
        *base,
        "--unschedulable",
        "1",
        "--recent",
        "0",
        "--groups",
        "",
        "--target-unschedulable",
        "no",
    )
    assert lines(other)["rule"] == "limits"


def test_check_asks_no_cluster_facts_when_nothing_grants_the_verb() -> None:
    refused = cli(
        "check",
        "--file",
        DEFAULT,
        "--user",
        "U0SOMEONE",
        "--groups",
        "",
        "--command",
        "drain k8s-master",
    )
    assert lines(refused)["rule"] == "default deny"
    unknown_groups = cli("check", "--file", DEFAULT, "--user", "U0SOMEONE", "--command", "drain x")
    assert unknown_groups.returncode == 2 and "--node-labels" in unknown_groups.stderr
