"""Secret masking for text that leaves the cluster: pod log lines on their way to Slack.

A log line posted to a channel is copied to every member's devices and kept by Slack, so a
token in it has leaked for good. Every line therefore passes through a :class:`Redactor`
first. Each rule masks either its whole match or, when the pattern has a named group
``secret``, only that group, so ``password=[REDACTED:password]`` still tells the reader what
was there. The rule name in the mask says which rule fired, which is what someone needs to
judge a false positive.

Every rule runs on RE2, whose time is linear in the length of the text. Pod logs are written
by whoever runs in the pod, and the worker and the node agents mask every line they read, so
no line, however built, can make a rule backtrack. That includes the operator's extra patterns
from ``K8S_CHATOPS_REDACT_PATTERNS_FILE``: a pattern RE2 cannot compile (lookaround,
backreferences) is refused at start-up rather than run on a backtracking engine.

Rules run over the UTF-8 bytes of the text, in two stages: the built-in rules
(:mod:`core.redaction_rules`), then the configured ones, which so see the built-in masks
already written. Within a stage each rule collects the spans it would mask; a span that runs
into an earlier rule's mask, or a mask already in the text, is cut short where that mask
begins, and one that starts inside a mask is dropped. The masks are written in one pass at
the end of the stage. Redacting twice changes nothing.

Rules run one after another, but each carries *anchors*: lower-case substrings of which at
least one must occur for the rule to match at all (``xox`` for Slack tokens, ``@`` for
credentials in URLs). Most log lines contain none of them, so the usual cost of a line is one
``lower()`` and one search for all anchors together, not a scan per rule.

Pod logs arrive one line at a time, while a PEM private key spans many and a wrapped JWT or
base64 key may run on into the next line. :meth:`Redactor.redact_lines` remembers the block
or token a line left open and masks its rest on the lines that follow, for a bounded number
of lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from pathlib import Path

import re2  # type: ignore[import-untyped]

from core.redaction_rules import BUILTIN_RULES, PEM_BEGIN, PEM_END
from core.regex import compile_byte_regex
from core.secret_rule import (
    MAX_MATCHES_PER_LINE,
    BuiltinRule,
    Re2Pattern,
    compile_re2,
)
from core.wrapped_tokens import WrappedToken, wrapped_token_at_end

MASKED_GROUP = "secret"
PRIVATE_KEY_RULE = "private-key"
MASK_PATTERN = re.compile(r"\[REDACTED:[a-z0-9][a-z0-9-]*\]")
_MASK_START = "[REDACTED:"
_MASK_START_BYTES = _MASK_START.encode()
_MASK_BYTES = compile_re2(rb"\[REDACTED:[a-z0-9][a-z0-9-]*\]")

# A key body is at most ~100 lines of base64 (RSA 8192); past this many lines without an END
# marker the block is taken to have been cut off, and ordinary redaction resumes.
MAX_KEY_BLOCK_LINES = 200


@dataclass(frozen=True)
class RedactionRule(BuiltinRule):
    """An operator's pattern (RE2 on UTF-8 bytes): masks its match, or its ``secret`` group.

    It runs after the built-in rules, in a stage of its own, so it sees their masks and never
    matches inside one. Without anchors it is tried on every text.
    """

    anchors: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class _Stage:
    rules: tuple[BuiltinRule, ...]
    # Matches any text one of the rules could match; None when a rule has no anchors.
    anchor_test: Re2Pattern | None


def _stage(rules: Sequence[BuiltinRule]) -> _Stage:
    anchors = sorted({anchor for rule in rules for anchor in rule.anchors})
    test = None
    if anchors and all(rule.anchors for rule in rules):
        test = compile_re2(b"|".join(re2.escape(anchor) for anchor in anchors))
    return _Stage(tuple(rules), test)


@dataclass(frozen=True)
class Redactor:
    """Applies its rules in order; earlier rules win where two would mask the same text."""

    rules: tuple[BuiltinRule, ...]
    # Consecutive rules of one kind (built-in, configured) form a stage: one pass over the
    # bytes, its masks written before the next stage reads the text.
    _stages: tuple[_Stage, ...] = field(init=False, repr=False, compare=False)
    _names: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        stages = [_stage(list(run)) for _, run in groupby(self.rules, key=type)]
        object.__setattr__(self, "_stages", tuple(stages))
        object.__setattr__(self, "_names", frozenset(rule.name for rule in self.rules))

    def redact(self, text: str) -> tuple[str, int]:
        """Return the text with every secret replaced by a mask, and how many were replaced."""
        total = 0
        for stage in self._stages:
            text, count = _mask_stage(stage, text)
            total += count
        return text, total

    def redact_lines(self, lines: Iterable[str]) -> Iterator[tuple[str, int]]:
        """Redact a stream of log lines, masking PEM private key blocks that span lines and
        the rest of a JWT or base64 key that a line ended in the middle of."""
        tracks_key_blocks = PRIVATE_KEY_RULE in self._names
        body_lines = -1  # lines seen since an unfinished BEGIN marker; -1 when outside a block
        wrapped: WrappedToken | None = None
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
            head, rest, masked = "", line, 0
            if wrapped is not None:
                token = wrapped
                span, wrapped = token.continued_on(line)
                if span is not None:
                    start, end = span
                    head, rest, masked = line[:start] + token.mask, line[end:], 1
            redacted, count = self.redact(rest)
            if tracks_key_blocks and opens_key_block(line):
                body_lines, wrapped = 0, None
            elif wrapped is None:
                wrapped = wrapped_token_at_end(rest, self._names)
            yield head + redacted, count + masked


def _mask_stage(stage: _Stage, text: str) -> tuple[str, int]:
    data = text.encode("utf-8", "surrogatepass")
    lowered = data.lower()
    test = stage.anchor_test
    if test is not None and test.search(lowered) is None:
        return text, 0
    # (start, end, mask); a mask of None is one already in the text, kept as it is.
    taken: list[tuple[int, int, bytes | None]] = []
    if _MASK_START_BYTES in data:
        taken = [(*mask.span(), None) for mask in _MASK_BYTES.finditer(data)]
    for rule in stage.rules:
        if rule.anchors and not any(anchor in lowered for anchor in rule.anchors):
            continue
        found = _uncovered_spans(rule, data, taken)
        if found:
            taken = sorted(taken + found, key=itemgetter(0))
    if not any(mask is not None for _, _, mask in taken):
        return text, 0
    pieces: list[bytes] = []
    position = count = 0
    for start, end, mask in taken:
        if mask is not None:
            pieces += (data[position:start], mask)
            position = end
            count += 1
    pieces.append(data[position:])
    joined = b"".join(pieces)
    try:
        return joined.decode("utf-8", "surrogatepass"), count
    except UnicodeDecodeError:  # a mask cut into bytes that were never valid UTF-8
        return joined.decode("utf-8", "replace"), count


def _uncovered_spans(
    rule: BuiltinRule, data: bytes, taken: list[tuple[int, int, bytes | None]]
) -> list[tuple[int, int, bytes | None]]:
    """The rule's secrets, each cut short where a mask in ``taken`` (sorted) begins.

    A secret that starts inside a mask was already recognised by a rule that knew it better
    (``x-access-token:[REDACTED:github-token]@github.com``), so what follows that mask is
    left alone, as it was when rules only saw the text between masks. A rule's matches come
    left to right and do not overlap, so one walk along ``taken`` serves them all.

    Past :data:`MAX_MATCHES_PER_LINE` matches on one line, the rest of the line is masked
    whole instead: each match costs Python time, and a line may be built of nothing else.
    """
    mask = rule.mask.encode()
    found: list[tuple[int, int, bytes | None]] = []
    index, last = 0, len(taken)
    position, line_end, matches = 0, -1, 0
    restart = True
    while restart:
        restart = False
        for match in rule.pattern.finditer(data, position):
            match_start, match_end = match.span()
            if match_start == match_end:  # an operator's pattern such as `key-[0-9]+|\b`
                continue
            if match_start > line_end:
                line_end = _line_end(data, match_start)
                matches = 0
            matches += 1
            if matches > MAX_MATCHES_PER_LINE:
                while index < last and taken[index][1] <= match_start:
                    index += 1
                piece = match_start
                while index < last and taken[index][0] < line_end:
                    if piece < taken[index][0]:
                        found.append((piece, taken[index][0], mask))
                    piece = max(piece, taken[index][1])
                    index += 1
                if piece < line_end:
                    found.append((piece, line_end, mask))
                position, restart = line_end, line_end < len(data)
                break
            for start, end in rule.secret_spans(data, match):
                while index < last and taken[index][1] <= start:
                    index += 1
                cut = taken[index][0] if index < last and taken[index][0] < end else end
                if start < cut:
                    found.append((start, cut, mask))
    return found


def _line_end(data: bytes, position: int) -> int:
    newline = data.find(b"\n", position)
    return len(data) if newline < 0 else newline


def build_redactor(extra_patterns: Sequence[str] = ()) -> Redactor:
    """The built-in rules followed by configured ones, named ``custom-1``, ``custom-2``, …"""
    extra: list[BuiltinRule] = []
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


# How much of a refused pattern, and of RE2's reason (which may quote it), an error repeats.
_QUOTED_CHARS = 60


def _compile_extra(pattern: str, where: str) -> Re2Pattern:
    try:
        compiled = compile_byte_regex(pattern)
    except ValueError as error:
        raise ValueError(
            f"redaction pattern {where}, {_quoted(pattern)}, is not a valid RE2 regular "
            f"expression (no lookaround or backreferences): {_shortened(str(error))}"
        ) from None
    if compiled.fullmatch(b"") is not None or any(
        start == end for start, end in (m.span() for m in compiled.finditer(_EMPTY_PROBE))
    ):
        raise ValueError(
            f"redaction pattern {where}, {_quoted(pattern)}, matches the empty string, "
            "so it would mask nothing useful; make it match the secret itself"
        )
    return compiled


# A line on which a pattern that can match nothing (``\b``, ``(?m)^``, ``x|``) does so: such
# a pattern masks nothing, and its empty matches cost Python time on every line.
_EMPTY_PROBE = "key: A-b_1.2/3=4@x 'y' \"z\" é\tend\n".encode()


def _shortened(text: str) -> str:
    return text if len(text) <= _QUOTED_CHARS else text[:_QUOTED_CHARS] + "…"


def _quoted(pattern: str) -> str:
    return repr(_shortened(pattern))


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
    last = _LAST_PEM_BEGIN.match(line)
    return last is not None and _PEM_END.search(line, last.end(1)) is None


_PEM_END = re2.compile(PEM_END.decode())
_LAST_PEM_BEGIN = re2.compile("(?s:.*)(" + PEM_BEGIN.decode() + ")")
_PRIVATE_KEY_MASK = f"[REDACTED:{PRIVATE_KEY_RULE}]"
