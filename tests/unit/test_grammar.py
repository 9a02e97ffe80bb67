"""The command grammar: typed requests out, specific messages for bad input."""

from __future__ import annotations

import pytest

from bot import grammar
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
        ("get pods", "I can't `get` `pods`."),
        ("get", "RESOURCE is missing"),
        ("cordon", "`cordon NODE`: NODE is missing."),
        ("cordon a b", "takes no more arguments, but got `b`"),
        ("cordon --force k8s-node1", "has no flag `--force`"),
        ("get nodes -o yaml", "has no flag `-o`"),
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
