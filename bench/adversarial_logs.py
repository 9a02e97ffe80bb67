"""Log lines built to be slow to redact: 100 KB each, for timing ``core.redaction``.

Whoever runs in a pod writes its log, and the worker masks every line it fetches, so each
line here is built against the rules: one character repeated (what a backtracking regex is
slowest on), a rule's start repeated with no end, thousands of would-be secrets on one line
(each costs Python time). ``SAMPLES`` holds ``(name, text)`` pairs; a benchmark imports
them, and tests/unit/test_redaction.py builds the same shapes with their expected masks (it
asserts no timings).
"""

from __future__ import annotations

SIZE = 100_000


def repeated(unit: str, size: int = SIZE) -> str:
    """``unit`` repeated to about ``size`` characters (whole repetitions only)."""
    return unit * (size // len(unit))


SAMPLES: tuple[tuple[str, str], ...] = (
    ("letters", repeated("a")),
    ("equals", repeated("=")),
    ("spaces", repeated(" ")),
    ("password-equals", repeated("password=")),
    ("letters-then-password", repeated("a") + "password=x"),
    ("eyj", repeated("eyJ")),
    ("eyj-dots", repeated("eyJ.")),
    ("pem-begin", repeated("-----BEGIN ")),
    ("pem-private-begin", repeated("-----BEGIN PRIVATE KEY-----")),
    ("percent-2e", repeated("%2E")),
    ("mask-starts", repeated("[REDACTED:")),
    ("masks", repeated("[REDACTED:x]")),
    ("escaped-quotes", repeated('\\"')),
    ("bearer-words", repeated("bearer ")),
    ("authorization-headers", repeated("Authorization: ")),
    ("token-prose", repeated("token: a b ")),
    ("password-flags", repeated("--password ")),
    ("mysql-without-p", repeated("mysql ")),
    ("url-schemes", repeated("x://u:") + "@"),
    ("many-passwords", repeated("pwd=x ")),
    ("many-options", repeated("--token a ")),
    ("many-signatures", repeated("&sig=a")),
    ("cookie-semicolons", "Cookie: " + repeated(";")),
    ("working-directories", repeated("PWD=/a ")),
    ("many-cookies", repeated("Cookie: a=b; ")),
    ("many-jwts", repeated("eyJhbGciOiJI.eyJzdWIiOiJm.c2ln ")),
    ("base64-pem-prefix", "LS0tLS1CRUdJTi" + repeated("A")),
    ("slack-dashes", "xoxb-" + repeated("-")),
    # Every anchor at once, so every rule scans the line.
    (
        "every-anchor",
        repeated(
            "private key ls0tls1crudjti eyj xox xapp- hooks.slack.com ghp_ github_pat_ glpat- "
            "sig x-amz- akia asia aiza ya29. secret accountkey bearer basic authorization "
            "cookie auth @ mysql pass pwd token apikey credential "
        ),
    ),
    ("many-mixed-secrets", repeated("token=x password=y secret=z api_key=w Cookie: a=b; ")),
)
