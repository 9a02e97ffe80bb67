"""The policy file's ``images.keep``: RE2 patterns, checked when the file is loaded, with the
line and the pattern named when one is wrong."""

from __future__ import annotations

import pytest

from bot.commands.registry import registry
from core.errors import ConfigurationError
from policies.loader import parse_policy

HEAD = "roles:\n  op: {verbs: [images, prune-images]}\n"


def load(text: str) -> list[str]:
    return parse_policy(HEAD + text, "policy.yaml", registry().vocabulary()).images.keep


def refusal(text: str) -> str:
    with pytest.raises(ConfigurationError) as error:
        load(text)
    return error.value.user_message


def test_a_file_without_images_keeps_nothing_extra() -> None:
    assert load("") == []


def test_patterns_are_kept_in_order() -> None:
    assert load("images:\n  keep:\n    - '^registry\\.k8s\\.io/'\n    - 'debug'\n") == [
        "^registry\\.k8s\\.io/",
        "debug",
    ]


def test_a_bad_pattern_is_named_with_its_line() -> None:
    text = "images:\n  keep:\n    - '^ok/'\n    - '(base'\n"
    assert refusal(text) == (
        "Policy file policy.yaml is not valid: line 6, images.keep.1: keep pattern '(base' is "
        "not a valid RE2 regex: missing ): (base"
    )


def test_backtracking_constructs_re2_lacks_are_refused() -> None:
    assert "not a valid RE2 regex" in refusal("images: {keep: ['(a)\\1']}")
    assert "not a valid RE2 regex" in refusal("images: {keep: ['(?=x)']}")


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("images: {keep: ['']}", "images.keep.0: String should have at least 1 character"),
        ("images: {keep: ['" + "x" * 201 + "']}", "at most 200 characters"),
        ("images: {keep: [" + ", ".join(["a"] * 65) + "]}", "at most 64 items"),
        ("images: {keep: 'one'}", "images.keep: Input should be a valid list"),
        ("images: {prune: []}", "images.prune: Extra inputs are not permitted"),
    ],
)
def test_bounds_and_shape(text: str, detail: str) -> None:
    assert detail in refusal(text)
