"""``k8s-chatops policy validate`` and ``policy check`` as a reviewer runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT = str(REPO / "policies" / "default.yaml")


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
    )
    assert "rule:     disable-eviction-is-for-admins" in denied.stdout
