"""Secret masking for text that leaves the cluster: pod log lines on their way to Slack.

A log line posted to a channel is copied to every member's devices and kept by Slack, so a
token in it has leaked for good. Every line therefore passes through a :class:`Redactor`
first. Each rule masks either its whole match or, when the pattern has a named group
``secret``, only that group, so ``password=[REDACTED:password]`` still tells the reader what
was there. The rule name in the mask says which rule fired, which is what someone needs to
judge a false positive.

Rules run one after another, but each carries *anchors*: lower-case substrings of which at
least one must occur for the rule to match at all (``xox`` for Slack tokens, ``@`` for
credentials in URLs). Most log lines contain none of them, so the usual cost of a line is one
``lower()`` and one search for all anchors together, not a regex scan per rule. Masks already
in the text are left alone (rules only see the text between them), so redacting twice changes
nothing.

Pod logs arrive one line at a time while a PEM private key spans many; :meth:`Redactor.
redact_lines` remembers that it is inside a key block and masks the body lines too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MASKED_GROUP = "secret"
PRIVATE_KEY_RULE = "private-key"
MASK_PATTERN = re.compile(r"\[REDACTED:[a-z0-9][a-z0-9-]*\]")
_MASK_START = "[REDACTED:"
_RULE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")

# A key body is at most ~100 lines of base64 (RSA 8192); past this many lines without an END
# marker the block is taken to have been cut off, and ordinary redaction resumes.
MAX_KEY_BLOCK_LINES = 200


@dataclass(frozen=True)
class RedactionRule:
    """One kind of secret: a pattern, and the name that appears in its mask.

    ``anchors`` are lower-case substrings of which at least one occurs in any text the pattern
    can match; a rule without anchors is tried on every text.
    """

    name: str
    pattern: re.Pattern[str]
    anchors: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _RULE_NAME.fullmatch(self.name):
            raise ValueError(
                f"redaction rule name {self.name!r} must be lower-case letters, digits and '-'"
            )

    @property
    def masks_secret_group(self) -> bool:
        """Whether only the ``secret`` group is masked, rather than the whole match."""
        return MASKED_GROUP in self.pattern.groupindex

    @property
    def mask(self) -> str:
        return f"[REDACTED:{self.name}]"


@dataclass(frozen=True)
class Redactor:
    """Applies its rules in order; earlier rules win where two would mask the same text."""

    rules: tuple[RedactionRule, ...]
    _anchor_test: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _anchor_scan: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _rules_by_anchor: dict[str, frozenset[int]] = field(init=False, repr=False, compare=False)
    _unanchored: frozenset[int] = field(init=False, repr=False, compare=False)
    _always: tuple[RedactionRule, ...] = field(init=False, repr=False, compare=False)
    _tracks_key_blocks: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A plain search over all anchors rejects an ordinary line quickly; a line that has one
        # is scanned again for every anchor (overlapping, longest first at each position). An
        # anchor found stands for any anchor inside it too, so none is hidden by another.
        anchors = sorted({a for rule in self.rules for a in rule.anchors}, key=len, reverse=True)
        alternatives = "|".join(map(re.escape, anchors))
        test = re.compile(alternatives) if anchors else None
        scan = re.compile(f"(?=({alternatives}))") if anchors else None
        by_anchor = {
            found: frozenset(
                index
                for index, rule in enumerate(self.rules)
                if any(anchor in found for anchor in rule.anchors)
            )
            for found in anchors
        }
        unanchored = frozenset(i for i, rule in enumerate(self.rules) if not rule.anchors)
        tracks = any(rule.name == PRIVATE_KEY_RULE for rule in self.rules)
        object.__setattr__(self, "_anchor_test", test)
        object.__setattr__(self, "_anchor_scan", scan)
        object.__setattr__(self, "_rules_by_anchor", by_anchor)
        object.__setattr__(self, "_unanchored", unanchored)
        object.__setattr__(self, "_always", tuple(rule for rule in self.rules if not rule.anchors))
        object.__setattr__(self, "_tracks_key_blocks", tracks)

    def redact(self, text: str) -> tuple[str, int]:
        """Return the text with every secret replaced by a mask, and how many were replaced."""
        total = 0
        for rule in self._rules_that_may_match(text):
            text, count = _apply_outside_masks(rule, text)
            total += count
        return text, total

    def _rules_that_may_match(self, text: str) -> Iterable[RedactionRule]:
        if self._anchor_test is None or self._anchor_scan is None:
            return self.rules
        lowered = text.lower()
        if self._anchor_test.search(lowered) is None:
            return self._always
        found = set(self._anchor_scan.findall(lowered))
        indices = self._unanchored.union(*(self._rules_by_anchor[a] for a in found))
        return [self.rules[i] for i in sorted(indices)]

    def redact_lines(self, lines: Iterable[str]) -> Iterator[tuple[str, int]]:
        """Redact a stream of log lines, masking PEM private key blocks that span lines."""
        body_lines = -1  # lines seen since an unfinished BEGIN marker; -1 when outside a block
        for line in lines:
            if body_lines >= 0:
                end = _PEM_END.search(line)
                if end is not None:
                    rest, count = self.redact(line[end.end() :])
                    yield _leading_space(line) + _PRIVATE_KEY_MASK + rest, count + 1
                    body_lines = -1
                    continue
                if body_lines < MAX_KEY_BLOCK_LINES:
                    body_lines += 1
                    yield _mask_key_body(line)
                    continue
                body_lines = -1
            redacted, count = self.redact(line)
            if self._tracks_key_blocks and opens_key_block(line):
                body_lines = 0
            yield redacted, count


def build_redactor(extra_patterns: Sequence[str] = ()) -> Redactor:
    """The built-in rules followed by configured ones, named ``custom-1``, ``custom-2``, …"""
    extra = []
    for index, pattern in enumerate(extra_patterns):
        name = f"custom-{index + 1}"
        extra.append(RedactionRule(name, _compile_extra(pattern, f"at index {index} ({name})")))
    return Redactor(BUILTIN_RULES + tuple(extra))


def load_extra_patterns(path: Path) -> list[str]:
    """One regex per line, surrounding blanks stripped; blank lines and ``#`` comments skipped."""
    patterns = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        _compile_extra(pattern, f"in {path}, line {number}")
        patterns.append(pattern)
    return patterns


def _compile_extra(pattern: str, where: str) -> re.Pattern[str]:
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise ValueError(
            f"redaction pattern {where}, {pattern!r}, is not a valid regular expression: {error}"
        ) from error
    if compiled.fullmatch("") is not None:
        raise ValueError(
            f"redaction pattern {where}, {pattern!r}, matches the empty string, "
            "so it would mask nothing useful; make it match the secret itself"
        )
    return compiled


def _apply_outside_masks(rule: RedactionRule, text: str) -> tuple[str, int]:
    """Apply one rule to the text between existing masks, never across or inside them."""
    if _MASK_START not in text:
        return _substitute(rule, text)
    pieces: list[str] = []
    total, start = 0, 0
    for mask in MASK_PATTERN.finditer(text):
        redacted, count = _substitute(rule, text[start : mask.start()])
        pieces += (redacted, mask.group())
        total += count
        start = mask.end()
    redacted, count = _substitute(rule, text[start:])
    pieces.append(redacted)
    return "".join(pieces), total + count


def _substitute(rule: RedactionRule, text: str) -> tuple[str, int]:
    count = 0
    by_group = rule.masks_secret_group

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        start, end = match.span(MASKED_GROUP) if by_group else match.span()
        if start == end:  # the group did not take part, or the pattern matched nothing
            return match.group()
        count += 1
        whole = match.group()
        offset = match.start()
        return whole[: start - offset] + rule.mask + whole[end - offset :]

    return rule.pattern.sub(replace, text), count


def _leading_space(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _mask_key_body(line: str) -> tuple[str, int]:
    content = line.strip()
    if not content:
        return line, 0
    trailing = line[len(line.rstrip()) :]
    return _leading_space(line) + _PRIVATE_KEY_MASK + trailing, 1


def opens_key_block(line: str) -> bool:
    """Whether the line's last BEGIN … PRIVATE KEY marker has no END marker after it."""
    if "PRIVATE KEY" not in line:
        return False
    begins = list(_PEM_BEGIN.finditer(line))
    return bool(begins) and _PEM_END.search(line, begins[-1].end()) is None


# --- The built-in rules ----------------------------------------------------------------------

_PEM_LABEL = r"[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
_PEM_BEGIN = re.compile(r"-----BEGIN " + _PEM_LABEL)
_PEM_END = re.compile(r"-----END " + _PEM_LABEL)
_PRIVATE_KEY_MASK = f"[REDACTED:{PRIVATE_KEY_RULE}]"

# Not part of a longer word or token on the left.
_START = r"(?<![A-Za-z0-9_\-.+/])"
# Not continued on the right by more token characters.
_STOP = r"(?![A-Za-z0-9_\-])"

# A labelled value: ``password=x``, ``password: x``, ``"password": "x"``, ``?password=x&``,
# ``\"password\":\"x\"`` (JSON inside a JSON string). The quotes stay; only the value goes.
_QUOTE = r"(?:\\?[\"'])"
_LABEL_END = r"(?![A-Za-z0-9])"
_VALUE_SEPARATOR = (
    rf"(?:{_QUOTE}?[ \t]*=[ \t]*{_QUOTE}?"
    # After a colon an unquoted lone word is prose ("invalid token: signature is invalid").
    rf"|{_QUOTE}?[ \t]*:[ \t]*(?:{_QUOTE}|(?![A-Za-z]+[.,;:!?)]*(?:\s|$))))"
)
# Values that are placeholders, not secrets: null, booleans, ****, ${VAR}, {{ var }}, %s.
_PLACEHOLDER = (
    r"(?!(?i:null|none|nil|true|false|undefined|\*+|<nil>)(?:[\"'\s,;&}\])]|\\|$))"
    r"(?!\$\{|\{\{|%s)"
)
_VALUE = (
    rf"(?P<secret>{_PLACEHOLDER}"
    r"(?:(?<=\")(?:[^\"\\\n]|\\[^\"\n])+"
    r"|(?<=')(?:[^'\\\n]|\\[^'\n])+"
    r"|(?<![\"'])[^\s\"'&,;}\]\\]+))"
)


def _labelled_value(keys: str) -> re.Pattern[str]:
    """``keys`` (case-insensitive), with any prefix such as ``db_``, ``X-Auth-`` or ``client``."""
    return re.compile(
        rf"(?<![A-Za-z0-9_.\-])[A-Za-z0-9_.\-]*?(?i:{keys}){_LABEL_END}{_VALUE_SEPARATOR}{_VALUE}"
    )


def _rule(name: str, pattern: str | re.Pattern[str], *anchors: str) -> RedactionRule:
    compiled = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)
    return RedactionRule(name, compiled, anchors)


_BEARER_CHARS = r"[A-Za-z0-9._~+/\-]"
_HEADER = r"(?i:authorization)[\"']?[ \t]*[:=][ \t]*[\"']?\[?"
_TOKEN_SHAPE = (
    rf"(?=(?:(?={_BEARER_CHARS}*[0-9])(?={_BEARER_CHARS}*[A-Za-z])|{_BEARER_CHARS}{{20}})"
    rf"{_BEARER_CHARS}{{8}})"
)

BUILTIN_RULES: tuple[RedactionRule, ...] = (
    # The whole block on one line, or from BEGIN to the end of the text when END is missing.
    _rule(
        PRIVATE_KEY_RULE, rf"{_PEM_BEGIN.pattern}(?s:.*?)(?:{_PEM_END.pattern}|\Z)", "private key"
    ),
    _rule("jwt", rf"{_START}eyJ[A-Za-z0-9_\-]{{8,}}\.[A-Za-z0-9_\-]{{8,}}\.[A-Za-z0-9_\-]*", "eyj"),
    _rule("slack-token", rf"{_START}(?:xox[abeprs]|xapp)-[A-Za-z0-9\-]{{10,}}", "xox", "xapp-"),
    _rule(
        "slack-webhook",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/"
        r"(?P<secret>[A-Za-z0-9]+/[A-Za-z0-9/_\-]+)",
        "hooks.slack.com",
    ),
    _rule(
        "github-token",
        rf"{_START}(?:gh[pousr]_[A-Za-z0-9]{{20,}}|github_pat_[A-Za-z0-9_]{{20,}}){_STOP}",
        *("ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"),
    ),
    _rule("aws-access-key", r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])", "akia", "asia"),
    _rule("gcp-api-key", rf"{_START}AIza[A-Za-z0-9_\-]{{35}}{_STOP}", "aiza"),
    _rule("google-oauth", rf"{_START}ya29\.[A-Za-z0-9_\-]{{20,}}", "ya29."),
    _rule(
        "aws-secret-key",
        r"(?i:aws_?secret_?(?:access_?)?key|secret_?access_?key)"
        rf"{_QUOTE}?[ \t]*[:=][ \t]*{_QUOTE}?(?P<secret>[A-Za-z0-9/+=]{{16,}})",
        "secret",
    ),
    _rule(
        "azure-key",
        r"(?i:AccountKey|SharedAccessKey)=(?P<secret>[A-Za-z0-9+/=]{16,})",
        "accountkey",
        "sharedaccesskey",
    ),
    _rule(
        "bearer",
        # After an Authorization header anything is the token; elsewhere only a word that looks
        # like one (letters and digits, or 20+ characters), so "missing bearer token" survives.
        rf"(?:{_HEADER}(?i:bearer)[ \t]+|(?<![A-Za-z0-9])(?i:bearer)[ \t]+{_TOKEN_SHAPE})"
        rf"(?P<secret>[^\s\"'\],;]+)",
        "bearer",
    ),
    _rule("basic-auth", rf"{_HEADER}(?i:basic)[ \t]+(?P<secret>[A-Za-z0-9+/]{{4,}}=*)", "basic"),
    _rule(
        "url-credentials",
        r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@?#\"'<>]*:"
        r"(?P<secret>[^\s/?#\"'<>]+)@",
        "@",
    ),
    _rule(
        "password",
        _labelled_value(r"passw(?:or)?d|pwd(?![\"'\\]*[ \t]*[:=][ \t]*[\"'\\]*/)"),
        "passw",
        "pwd",
    ),
    _rule("token", _labelled_value("token"), "token"),
    _rule("api-key", _labelled_value(r"api[_\-]?key"), "apikey", "api_key", "api-key"),
    _rule("secret", _labelled_value(r"secret(?:[_\-]?key)?"), "secret"),
)
