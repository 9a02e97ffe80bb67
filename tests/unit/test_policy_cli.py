"""``k8s-chatops policy validate`` and ``policy check`` as a reviewer runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT = str(REPO / "policies" / "default.yaml")
#: What the default policy's limits need to know (the bot reads them from its workers).
FACTS = ("--unschedulable", "0", "--nodes", "3", "--recent", "0")


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
    assert ok.returncode == 0 and "valid (3 roles, 4 bindings, 4 rules)" in ok.stdout
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
