"""The command grammar: typed requests out, specific messages for bad input."""

from __future__ import annotations

import pytest

from bot.commands import grammar
from core.errors import CommandError
from handlers.models import CordonNode, GetNodes, UncordonNode


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("get nodes", GetNodes()),
        ("/k8s get nodes", GetNodes()),
        ("get node", GetNodes()),
        ("GET no", GetNodes()),
        ("cordon k8s-node1", CordonNode(node="k8s-node1")),
        ("/k8s uncordon k8s-node1", UncordonNode(node="k8s-node1")),
        ("cordon 'ip-10-0-0-1.ec2.internal'", CordonNode(node="ip-10-0-0-1.ec2.internal")),
    ],
)
def test_parses_into_typed_requests(text: str, expected: object) -> None:
    assert grammar.parse(text) == expected


def test_uncordon_is_not_mistaken_for_cordon() -> None:
    parsed = grammar.parse("uncordon n1")
    assert type(parsed) is UncordonNode
    assert parsed.verb == "uncordon"
    assert parsed.target == "node/n1"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Type a command after /k8s"),
        ("/k8s", "Type a command after /k8s"),
        ("cordn k8s-node1", "Did you mean `cordon`?"),
        ("uncordom k8s-node1", "Did you mean `uncordon`?"),
        ("xyzzy", "Try `/k8s help`."),
        ("get nods", "Did you mean `nodes`?"),
        ("get widgets", "I can't `get` `widgets`."),
        ("get", "RESOURCE is missing"),
        ("cordon", "`cordon NODE`: NODE is missing."),
        ("cordon a b", "takes no more arguments, but got `b`"),
        ("cordon --force k8s-node1", "has no flag `--force`"),
        ("get nodes -o yaml", "must be one of wide"),
        ("get nodes --problem", "has no flag `--problem`"),
        ("cordon -node", "has no flag `-node`"),
        ("cordon 'unterminated", "couldn't read that command: no closing quotation"),
    ],
)
def test_bad_input_gets_a_specific_message(text: str, fragment: str) -> None:
    with pytest.raises(CommandError) as caught:
        grammar.parse(text)
    assert fragment in caught.value.user_message


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("K8S-NODE1", "upper-case"),
        ("node_1", "'_'"),
        ("node-", "starts or ends with '-'"),
        ("node..one", "empty part"),
        ("a" * 254, "254 characters"),
        ("node;rm -rf", "';'"),
    ],
)
def test_node_names_are_validated_before_anything_runs(name: str, reason: str) -> None:
    with pytest.raises(CommandError) as caught:
        grammar.parse(f"cordon '{name}'")
    message = caught.value.user_message
    assert "is not a valid node name" in message
    assert reason in message


def test_overlong_command_is_refused() -> None:
    with pytest.raises(CommandError, match="limit is 2000"):
        grammar.parse("get " + "x" * 3000)


def test_help_lists_every_command_and_explains_one() -> None:
    text = grammar.help_text()
    for verb in ("help", "get nodes", "cordon NODE", "uncordon NODE"):
        assert f"/k8s {verb}" in text
    assert grammar.help_text("cordon").startswith("/k8s cordon NODE")
    assert "Did you mean `cordon`?" in grammar.help_text("cordn")


# --- Bounds on everything typed (issue 12, findings 2 and 5) ------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("drain n1 --timeout " + "9" * 310 + "s", "is not a duration"),
        ("drain n1 --timeout 25h", "must be at most 24h"),
        ("drain n1 --grace-period 86401", "must be at most 86400"),
        ("drain n1 --grace-period ١٢", "not a whole number"),
        ("drain n1 --grace-period 1_000", "not a whole number"),
        ("drain n1 --skip-wait-for-delete-timeout 9999999", "must be at most 86400"),
        ("drain n1 --chunk-size 10001", "must be at most 10000"),
        ("drain n1 --chunk-size " + "9" * 30, "not a whole number"),
        ("drain n1 --pod-selector " + "a" * 1500, "longer than 1024 characters"),
        ("logs api --since " + "9" * 400 + "h", "--since"),
        ("logs api --since 721h", "must be at most 720h"),
        ("logs api --tail 100001", "must be at most 100000"),
        ("logs api --max-log-requests 101", "must be at most 100"),
        ("logs api -n ,", "`--namespace` needs a value"),
        ("logs api -n , -n ,,", "`--namespace` needs a value"),
        ("audit ²", "is not a count from 1 to 100"),
        ("audit 101", "is not a count from 1 to 100"),
        ("cancel ²", "is not a job id"),
        ("approve ٣", "is not a job id"),
    ],
)
def test_numbers_are_ascii_finite_and_capped(text: str, fragment: str) -> None:
    with pytest.raises(CommandError) as caught:
        grammar.parse(text)
    assert fragment in caught.value.user_message


def test_values_at_their_caps_are_accepted() -> None:
    drain = grammar.parse(
        "drain n1 --timeout 24h --grace-period 86400 --chunk-size 10000 "
        "--skip-wait-for-delete-timeout 86400"
    )
    assert drain.timeout_seconds == 86400  # type: ignore[union-attr]
    logs = grammar.parse("logs api --since 720h --tail 100000")
    assert logs.since_seconds == 720 * 3600  # type: ignore[union-attr]
