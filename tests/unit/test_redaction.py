"""Secret masking: a corpus of real-looking log lines, masked exactly, and near misses left alone.

The corpus (``tests/data/redaction/corpus.jsonl``) is the specification: each entry names the
exact secret substrings, so a change that masks less fails loudly, and the near misses fail a
change that masks too much. All credentials in it are made up.
"""

from __future__ import annotations

import json
import os
import re
import string
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import re2  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st
from logs_helpers import corpus

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
        RedactionRule("Custom Rule", re2.compile(b"x"))


def test_custom_patterns_run_on_re2_so_a_log_line_cannot_make_them_backtrack() -> None:
    redactor = build_redactor([r"(a+)+$"])
    line = "a" * 25 + "!"  # Python's re takes seconds on this; RE2 microseconds
    started = time.monotonic()
    assert redactor.redact(line) == (line, 0)
    assert time.monotonic() - started < 0.5


def test_a_custom_pattern_re2_cannot_compile_is_refused_with_re2_s_reason() -> None:
    with pytest.raises(ValueError, match=r"custom-1.*not a valid RE2 .*invalid perl operator"):
        build_redactor([r"(?<=id=)[0-9]+"])


def test_a_patterns_file_line_re2_refuses_is_named_on_one_bounded_line(tmp_path: Path) -> None:
    path = tmp_path / "redaction.txt"
    long_lookahead = "(?=x)" + "y" * 500
    path.write_text(f"# ok\nfine\n(a)\\1\n{long_lookahead}\n")
    with pytest.raises(ValueError, match=r"line 3, '\(a\)\\\\1', .*invalid escape") as refused:
        load_extra_patterns(path)
    assert "\n" not in str(refused.value)
    path.write_text(f"{long_lookahead}\n")
    with pytest.raises(ValueError, match="line 1") as refused:
        load_extra_patterns(path)
    assert len(str(refused.value)) < 300 + len(str(path))
    assert "y" * 100 not in str(refused.value)


@pytest.mark.parametrize("pattern", [r"key-[0-9]+|\b", r"(?m)^", r"token=|", r"\B"])
def test_a_custom_pattern_that_matches_nothing_between_characters_is_refused(
    pattern: str,
) -> None:
    """Such a pattern masks nothing there, and each empty match costs Python time: a line
    of 100 KB would take a tenth of a second."""
    with pytest.raises(ValueError, match="matches the empty string"):
        build_redactor([pattern])


def test_custom_patterns_mask_non_ascii_text_by_characters() -> None:
    redactor = build_redactor([r"clé=(?P<secret>\S+)"])
    assert redactor.redact("clé=sécret ok") == ("clé=[REDACTED:custom-1] ok", 1)


def test_only_the_secret_group_is_masked_when_there_is_one() -> None:
    by_name = {rule.name: rule for rule in BUILTIN_RULES}
    assert by_name["password"].masks_secret_group
    assert not by_name["private-key"].masks_secret_group


# Ordinary lines that are masked on purpose: after `password:` or `--password` any word is
# taken for the password, and after other keys a lone word that does not start a sentence is
# taken for the value. Each is the price of a leak the review found (`password: changeme`).
MASKED_ON_PURPOSE = (
    (
        "password: must be at least 12 characters",
        "password: [REDACTED:password] be at least 12 characters",
    ),
    ("retry pass=3 of 5", "retry pass=[REDACTED:password] of 5"),
    (
        "use --password to set the admin password",
        "use --password [REDACTED:password] set the admin password",
    ),
    ("error: token: expired", "error: token: [REDACTED:token]"),
    ("secret: missing", "secret: [REDACTED:secret]"),
    ("credentials=default", "credentials=[REDACTED:secret]"),
    ("Secret: db-creds created", "Secret: [REDACTED:secret] created"),
    ("cookie: theme=dark; lang=en", "cookie: theme=[REDACTED:cookie]; lang=[REDACTED:cookie]"),
    ("verify sig=3a7bd3e2360a3d29 ok", "verify sig=[REDACTED:url-signature] ok"),
    # Too short to tell a certificate from a key.
    ("ca.bundle: LS0tLS1CRUdJTi (cut)", "ca.bundle: [REDACTED:private-key-base64] (cut)"),
)


@pytest.mark.parametrize(("line", "expected"), MASKED_ON_PURPOSE)
def test_ordinary_lines_masked_on_purpose(line: str, expected: str) -> None:
    assert REDACTOR.redact(line) == (expected, masks_in(expected))


# Ordinary lines next to the new rules that must stay as they are (the corpus has more).
LEFT_ALONE = (
    "password policy updated: minimum length 12",
    "token bucket refilled: 100 tokens available",
    'I0312 10:01:02.123456       1 tokens_controller.go:261] "Started tokens controller"',
    'I0312 10:01:02.123456       1 authentication.go:63] "Unable to authenticate the request"'
    ' err="[invalid bearer token, service account token has expired]"',
    "--- PASS: TestRedaction (0.01s)",
    "test summary: passed=12 failed=0 bypass=2",
    "invalid token: signature is invalid",
    "serving with --token-file /var/run/secrets/tokens/api-token",
    "Cookie consent banner shown",
    "authorization: denied for user alice",
    "received SIGTERM, design=v2 sigma=0.3 signals=2",
    "mysqld: ready for connections. Version: '8.0.36' port: 3306",
    "PWD=/home/app SHLVL=1",
)


@pytest.mark.parametrize("line", LEFT_ALONE)
def test_ordinary_lines_left_alone(line: str) -> None:
    assert REDACTOR.redact(line) == (line, 0)


JWT_HEADER = "eyJhbGciOiJSUzI1NiJ9"
JWT_PAYLOAD = "eyJzdWIiOiJmYWtlLXdyYXBwZWQiLCJhdWQiOiJ0ZXN0cyJ9"
JWT_SIGNATURE = (
    "RkFLRS1zaWduYXR1cmUtRkFLRS1zaWduYXR1cmUtRkFLRS1zaWduYXR1cmUtRkFLRQ"  # 66 characters
)


def redact_lines(lines: list[str]) -> list[str]:
    return [line for line, _ in REDACTOR.redact_lines(lines)]


def test_a_jwt_wrapped_over_three_lines_is_masked_to_its_end() -> None:
    token = f"{JWT_HEADER}.{JWT_PAYLOAD}.{JWT_SIGNATURE}"
    lines = ["token=" + token[:40], token[40:100], token[100:] + " expires=3600", "next line"]
    assert redact_lines(lines) == [
        "token=[REDACTED:jwt]",
        "[REDACTED:jwt]",
        "[REDACTED:jwt] expires=3600",
        "next line",
    ]


def test_a_jwt_cut_after_its_header_hides_the_rest_on_the_next_line() -> None:
    lines = [f"signed {JWT_HEADER}.", f"{JWT_PAYLOAD}.{JWT_SIGNATURE}, retrying"]
    assert redact_lines(lines) == [f"signed {JWT_HEADER}.", "[REDACTED:jwt], retrying"]


def test_a_complete_jwt_at_the_end_of_a_line_does_not_mask_the_next_line() -> None:
    signature = "c2ln" * 10 + "abc"  # 43 characters, an HS256 signature
    lines = [f"id_token {JWT_HEADER}.{JWT_PAYLOAD}.{signature}", "I0312 10:01:02.000001 next"]
    assert redact_lines(lines) == ["id_token [REDACTED:jwt]", "I0312 10:01:02.000001 next"]


def test_an_indented_line_after_an_open_jwt_is_not_its_continuation() -> None:
    lines = [f"jwt {JWT_HEADER}.{JWT_PAYLOAD}.", "  at com.example.Auth.verify(Auth.java:42)"]
    assert redact_lines(lines) == ["jwt [REDACTED:jwt]", lines[1]]


def test_a_line_after_an_unsigned_jwt_loses_its_first_word() -> None:
    # Masked on purpose: a JWT without a signature at the end of a line looks cut off.
    lines = [f"alg=none token {JWT_HEADER}.{JWT_PAYLOAD}.", "2024-03-12T10:01:02Z INFO next"]
    assert redact_lines(lines) == [
        "alg=none token [REDACTED:jwt]",
        "[REDACTED:jwt]:01:02Z INFO next",
    ]


def test_a_base64_key_wrapped_at_76_columns_is_masked_line_by_line() -> None:
    wrapped = (DATA / "wrapped-base64-key.txt").read_text(encoding="utf-8").splitlines()
    lines = ["2024-03-12T10:01:00Z key follows:", *wrapped, "2024-03-12T10:01:01Z done"]
    masked = redact_lines(lines)
    assert masked == [
        lines[0],
        *["[REDACTED:private-key-base64]"] * len(wrapped),
        "2024-03-12T10:01:01Z done",
    ]


def test_the_corpus_as_one_log_stream_is_masked_like_its_lines() -> None:
    """The integration test serves the corpus as a pod's log: state carried from one line to
    the next (key blocks, wrapped tokens) must not reach a line it does not belong to."""
    first, second, _ = corpus()
    for stream in (first, second):
        assert redact_lines([line for line, _ in stream]) == [masked for _, masked in stream]


def test_option_values_are_masked_whole_whatever_they_start_with() -> None:
    assert REDACTOR.redact(r"--password \hunter2 --user bob") == (
        "--password [REDACTED:password] --user bob",
        1,
    )
    assert REDACTOR.redact("['--token', 'FAKE-t0ken']") == ("['--token', '[REDACTED:token]']", 1)
    assert REDACTOR.redact('--secret "FAKE two words"') == ('--secret "[REDACTED:secret]"', 1)


def test_text_that_is_not_valid_utf_8_is_masked_and_kept() -> None:
    text = "path=/tmp/\udcff password=fake-Pa55word"
    assert REDACTOR.redact(text) == ("path=/tmp/\udcff password=[REDACTED:password]", 1)


def repeated(unit: str, size: int = 100_000) -> str:
    """``unit`` repeated to about ``size`` characters (whole repetitions only)."""
    return unit * (size // len(unit))


def after_a_thousand(kept: str, rule: str) -> str:
    """The masked line when a rule matched more than a thousand times on it: the first
    thousand matches as ``kept`` shows them, then the rest of the line as one mask."""
    return kept + f"[REDACTED:{rule}]"


# Pod logs are written by whoever runs in the pod. Each of these 100 KB lines is built against
# the rules (one character repeated, a rule's start repeated with no end, thousands of
# matches); the output says each was read correctly. bench/adversarial_logs.py times them.
# Past 1000 matches of one rule, the rest of the line is one mask (MAX_MATCHES_PER_LINE);
# where a match starts at the character before its token, that character is in the mask.
ADVERSARIAL = (
    ("letters", repeated("a"), repeated("a")),
    ("equals", repeated("="), repeated("=")),
    ("spaces", repeated(" "), repeated(" ")),
    ("password-equals", repeated("password="), "password=[REDACTED:password]"),
    (
        "letters-then-password",
        repeated("a") + "password=x",
        repeated("a") + "password=[REDACTED:password]",
    ),
    ("eyj", repeated("eyJ"), repeated("eyJ")),
    ("eyj-dots", repeated("eyJ."), repeated("eyJ.")),
    ("pem-begin", repeated("-----BEGIN "), repeated("-----BEGIN ")),
    ("pem-private-begin", repeated("-----BEGIN PRIVATE KEY-----"), "[REDACTED:private-key]"),
    ("percent-2e", repeated("%2E"), repeated("%2E")),
    ("mask-starts", repeated("[REDACTED:"), repeated("[REDACTED:")),
    ("masks", repeated("[REDACTED:x]"), repeated("[REDACTED:x]")),
    ("escaped-quotes", repeated('\\"'), repeated('\\"')),
    # Each match is two words ("bearer bearer"), the second not shaped like a token.
    (
        "bearer-words",
        repeated("bearer "),
        after_a_thousand(("bearer " * 2000)[:-1], "bearer"),
    ),
    (
        "authorization-headers",
        repeated("Authorization: "),
        after_a_thousand("Authorization: " * 2000, "authorization"),
    ),
    ("token-prose", repeated("token: a b "), after_a_thousand("token: a b " * 1000, "token")),
    ("password-flags", repeated("--password "), repeated("--password ")),
    ("mysql-without-p", repeated("mysql "), repeated("mysql ")),
    ("url-schemes", repeated("x://u:") + "@", repeated("x://u:") + "@"),
    (
        "many-passwords",
        repeated("pwd=x "),
        after_a_thousand("pwd=[REDACTED:password] " * 1000, "password"),
    ),
    (
        "many-options",
        repeated("--token a "),
        after_a_thousand(("--token [REDACTED:token] " * 1000)[:-1], "token"),
    ),
    (
        "many-signatures",
        repeated("&sig=a"),
        after_a_thousand("&sig=[REDACTED:url-signature]" * 1000, "url-signature"),
    ),
    ("cookie-semicolons", "Cookie: " + repeated(";"), "Cookie: " + repeated(";")),
    (
        "working-directories",
        repeated("PWD=/a "),
        after_a_thousand("PWD=/a " * 1000, "password"),
    ),
    (
        "many-cookies",
        repeated("Cookie: a=b; "),
        after_a_thousand(("Cookie: a=[REDACTED:cookie]; " * 1000)[:-1], "cookie"),
    ),
    (
        "many-jwts",
        repeated("eyJhbGciOiJI.eyJzdWIiOiJm.c2ln "),
        after_a_thousand(("[REDACTED:jwt] " * 1000)[:-1], "jwt"),
    ),
    (
        "base64-pem-prefix",
        "LS0tLS1CRUdJTi" + repeated("A"),
        "[REDACTED:private-key-base64]",
    ),
    ("slack-dashes", "xoxb-" + repeated("-"), "[REDACTED:slack-token]"),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [(text, expected) for _, text, expected in ADVERSARIAL],
    ids=[name for name, _, _ in ADVERSARIAL],
)
def test_a_100_kb_adversarial_line_is_masked_correctly(text: str, expected: str) -> None:
    assert len(text) >= 99_000
    assert REDACTOR.redact(text) == (expected, masks_in(expected) - masks_in(text))


def test_100_kb_lines_through_the_line_tracker_are_masked_correctly() -> None:
    lines = [
        "eyJ" + repeated("a") + ".eyJ" + repeated("b") + ".",
        repeated("c") + " end",
        "-----BEGIN PRIVATE KEY-----",
        repeated("d"),
        repeated("-----END "),
        "-----END PRIVATE KEY----- " + repeated("e"),
    ]
    assert redact_lines(lines) == [
        "[REDACTED:jwt]",
        "[REDACTED:jwt] end",
        "[REDACTED:private-key]",
        "[REDACTED:private-key]",
        "[REDACTED:private-key] ",  # the body line's trailing blank is kept
        "[REDACTED:private-key] " + repeated("e"),
    ]


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


def test_the_node_agent_refuses_to_start_on_a_pattern_re2_cannot_run(tmp_path: Path) -> None:
    patterns = tmp_path / "redact.txt"
    patterns.write_text("INTERNAL-[0-9]{6}\n(?<=session=)[0-9a-f]{32}\n")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "K8S_CHATOPS_NODE_NAME": "node-a",
        "K8S_CHATOPS_REDIS_URL": "redis://127.0.0.1:1/0",
        "K8S_CHATOPS_RUNTIME_ENDPOINT": f"unix://{tmp_path}/none.sock",
        "K8S_CHATOPS_REDACT_PATTERNS_FILE": str(patterns),
    }
    refused = subprocess.run(
        [sys.executable, "-m", "bot.cli", "node-agent"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode == 2
    [line] = refused.stderr.splitlines()
    assert "K8S_CHATOPS_REDACT_PATTERNS_FILE" in line and "line 2" in line
    assert "not a valid RE2" in line and "invalid perl operator" in line
