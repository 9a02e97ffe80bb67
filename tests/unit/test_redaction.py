"""Secret masking: a corpus of real-looking log lines, masked exactly, and near misses left alone.

The corpus (``tests/data/redaction/corpus.jsonl``) is the specification: each entry names the
exact secret substrings, so a change that masks less fails loudly, and the near misses fail a
change that masks too much. All credentials in it are made up.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.redaction import (
    BUILTIN_RULES,
    MASK_PATTERN,
    RedactionRule,
    Redactor,
    build_redactor,
    load_extra_patterns,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "redaction"
CORPUS: list[dict[str, Any]] = [
    json.loads(line) for line in (DATA / "corpus.jsonl").read_text(encoding="utf-8").splitlines()
]
REDACTOR = build_redactor()


def masks_in(text: str) -> int:
    return len(MASK_PATTERN.findall(text))


def test_corpus_is_broad_enough() -> None:
    with_secrets = [entry for entry in CORPUS if entry["secrets"]]
    without = [entry for entry in CORPUS if not entry["secrets"]]
    assert len(CORPUS) >= 60
    assert len(with_secrets) >= 25
    assert len(without) >= 25
    assert all(entry["expected"] == entry["line"] for entry in without)
    fired = {
        name
        for entry in CORPUS
        for name in re.findall(r"\[REDACTED:([a-z0-9-]+)\]", entry["expected"])
    }
    assert fired == {rule.name for rule in BUILTIN_RULES}


@pytest.mark.parametrize("entry", CORPUS, ids=[entry["note"] for entry in CORPUS])
def test_corpus_line_is_masked_exactly(entry: dict[str, Any]) -> None:
    redacted, count = REDACTOR.redact(entry["line"])
    assert redacted == entry["expected"]
    assert count == masks_in(entry["expected"])
    for secret in entry["secrets"]:
        assert secret not in redacted


def test_redacting_twice_masks_nothing_new() -> None:
    for entry in CORPUS:
        once, _ = REDACTOR.redact(entry["line"])
        assert REDACTOR.redact(once) == (once, 0), entry["note"]


def test_the_whole_corpus_as_one_text_is_masked_like_its_lines() -> None:
    text = "\n".join(entry["line"] for entry in CORPUS if "PRIVATE KEY-----" not in entry["line"])
    expected = "\n".join(
        entry["expected"] for entry in CORPUS if "PRIVATE KEY-----" not in entry["line"]
    )
    assert REDACTOR.redact(text) == (expected, masks_in(expected))


def test_a_key_block_split_over_lines_is_masked_line_by_line() -> None:
    lines = (DATA / "multiline.txt").read_text(encoding="utf-8").splitlines()
    expected = (DATA / "multiline.expected.txt").read_text(encoding="utf-8").splitlines()
    results = list(REDACTOR.redact_lines(lines))
    assert [line for line, _ in results] == expected
    assert [count for _, count in results] == [masks_in(line) for line in expected]


def test_a_key_block_as_one_text_is_one_mask() -> None:
    text = (DATA / "multiline.txt").read_text(encoding="utf-8")
    redacted, _ = REDACTOR.redact(text)
    assert "ZmFrZS" not in redacted
    assert "2024-03-12T10:01:00Z INFO starting cert-loader v1.4.2" in redacted


def test_a_key_block_without_an_end_stops_being_masked_eventually() -> None:
    lines = ["-----BEGIN PRIVATE KEY-----", *["ZmFrZQ=="] * 500, "level=info msg=recovered"]
    results = [line for line, _ in REDACTOR.redact_lines(lines)]
    assert results[1] == "[REDACTED:private-key]"
    assert results[-1] == "level=info msg=recovered"


def test_a_redactor_without_the_private_key_rule_does_not_track_key_blocks() -> None:
    lines = ["-----BEGIN PRIVATE KEY-----", "ZmFrZQ=="]
    assert list(Redactor(rules=()).redact_lines(lines)) == [(line, 0) for line in lines]


def test_custom_pattern_without_a_secret_group_masks_the_whole_match() -> None:
    redactor = build_redactor([r"\bINTERNAL-[0-9]{6}\b", r"session=(?P<secret>[a-f0-9]{8})"])
    assert [rule.name for rule in redactor.rules[-2:]] == ["custom-1", "custom-2"]
    text = "ticket INTERNAL-123456 opened; session=deadbeef ok"
    assert redactor.redact(text) == (
        "ticket [REDACTED:custom-1] opened; session=[REDACTED:custom-2] ok",
        2,
    )


def test_custom_patterns_run_after_the_built_in_ones_and_never_inside_a_mask() -> None:
    redactor = build_redactor([r"REDACTED", r"[a-z]+-token"])
    text = "password=fake-Pa55word then slack-token"
    assert redactor.redact(text) == (
        "password=[REDACTED:password] then [REDACTED:custom-2]",
        2,
    )


def test_a_bad_custom_pattern_names_its_index_and_the_regex_error() -> None:
    with pytest.raises(ValueError, match=r"at index 1 \(custom-2\), '\(oops', .*missing \)"):
        build_redactor([r"fine", r"(oops"])


def test_a_custom_pattern_that_matches_nothing_at_all_is_refused() -> None:
    with pytest.raises(ValueError, match=r"at index 0 \(custom-1\), 'a\*', matches the empty"):
        build_redactor(["a*"])


def test_patterns_file_skips_blanks_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "redaction.txt"
    path.write_text(
        "# internal tickets\n\n  INTERNAL-[0-9]{6}  \n  # indented comment\nx=(?P<secret>\\d+)\n"
    )
    assert load_extra_patterns(path) == ["INTERNAL-[0-9]{6}", r"x=(?P<secret>\d+)"]


def test_a_bad_line_in_the_patterns_file_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "redaction.txt"
    path.write_text("# ok\nfine\n[unclosed\n")
    with pytest.raises(ValueError, match=rf"in {re.escape(str(path))}, line 3, '\[unclosed'"):
        load_extra_patterns(path)


def test_rule_names_must_fit_in_a_mask() -> None:
    with pytest.raises(ValueError, match="lower-case letters, digits and '-'"):
        RedactionRule("Custom Rule", re.compile("x"))


def test_only_the_secret_group_is_masked_when_there_is_one() -> None:
    by_name = {rule.name: rule for rule in BUILTIN_RULES}
    assert by_name["password"].masks_secret_group
    assert not by_name["jwt"].masks_secret_group


ORDINARY_WORDS = (
    "token",
    "password",
    "passwd",
    "pwd",
    "secret",
    "secrets",
    "api",
    "apikey",
    "key",
    "bearer",
    "Bearer",
    "Authorization",
    "Basic",
    "BEGIN",
    "END",
    "PRIVATE",
    "KEY",
    "private",
    "public",
    "certificate",
    "access",
    "client",
    "refresh",
    "session",
    "error",
    "failed",
    "invalid",
    "expired",
    "missing",
    "request",
    "response",
    "GET",
    "POST",
    "reset",
    "user",
    "alice",
    "bob",
    "node",
    "pod",
    "namespace",
    "default",
    "kube-system",
    "deployment",
    "restarted",
    "ready",
    "sha256",
    "commit",
    "image",
    "pulled",
    "eyJ",
    "ASIA",
    "asia",
    "AKIA",
    "xox",
    "hooks",
    "slack",
    "github",
    "ghp",
    "ya29",
    "AccountKey",
    "connection",
    "refused",
    "timeout",
    "retry",
    "level",
    "info",
    "warn",
    "debug",
    "msg",
    "http",
    "https",
    "localhost",
    "example",
    "com",
    "v1",
    "api/v1",
    "healthz",
)
# Token characters such as '-', '_', '.' and '/' would glue words into token-shaped strings
# ("ya29" "." "1234…" is a Google token), so words are kept apart by other characters.
SEPARATORS = [*" ,;!?()[]{}'\"#%&*<>|", " ", " ", "\t"]


@given(
    st.lists(
        st.one_of(
            st.sampled_from(ORDINARY_WORDS),
            st.integers(min_value=0, max_value=10**12).map(str),
            st.text(
                alphabet=string.punctuation.translate({ord(c): None for c in "=:@"}), max_size=3
            ),
        ),
        max_size=40,
    ),
    st.lists(st.sampled_from(SEPARATORS), min_size=40, max_size=40),
)
def test_ordinary_text_without_separators_is_never_masked(
    words: list[str], separators: list[str]
) -> None:
    text = "".join(word + separator for word, separator in zip(words, separators, strict=False))
    assert REDACTOR.redact(text) == (text, 0)
