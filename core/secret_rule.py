"""One kind of secret, as the built-in redaction rules describe it: an RE2 pattern on bytes.

Whoever runs in a pod writes its log, so they choose the text these patterns read. A
backtracking engine such as Python's ``re`` can take seconds on a line built for one of its
patterns. RE2's time is linear in the length of the line, whatever the line holds. Matching
bytes, not ``str``, saves the binding's conversion of every match offset (a line with
thousands of masks would otherwise spend most of its time there).

RE2 has no lookaround and no backreferences. A pattern therefore matches a little more than
the secret: the character before a token, or the opening quote of a value. What the pattern
cannot say, a *finder* in Python decides (:mod:`core.secret_finders`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import re2  # type: ignore[import-untyped]

Span = tuple[int, int]


class Re2Match(Protocol):
    def span(self, group: int = 0) -> tuple[int, int]: ...


class Re2Pattern(Protocol):
    @property
    def groupindex(self) -> Mapping[bytes, int]: ...

    def finditer(self, text: bytes, pos: int | None = None) -> Iterator[Re2Match]: ...

    def search(self, text: bytes) -> Re2Match | None: ...

    def match(self, text: bytes, pos: int | None = None) -> Re2Match | None: ...

    def fullmatch(self, text: bytes) -> Re2Match | None: ...


SecretFinder = Callable[["BuiltinRule", bytes, Re2Match], Sequence[Span]]

# A line built of thousands of would-be secrets costs Python time for every one of them. Past
# this many matches of one rule on one line (or pairs in one Cookie header), the rest of the
# line is masked whole: that bounds the time a line can take (tens of milliseconds for 100 KB)
# and over-masks only a line made of little but secrets.
MAX_MATCHES_PER_LINE = 1000

_RULE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")


def compile_re2(pattern: bytes) -> Re2Pattern:
    compiled: Re2Pattern = re2.compile(pattern)
    return compiled


def is_rule_name(name: str) -> bool:
    """Whether ``name`` fits in a mask: lower-case letters, digits and '-'."""
    return _RULE_NAME.fullmatch(name) is not None


def _is_masked_group(name: bytes) -> bool:
    return name == b"secret" or name.startswith(b"secret_")


@dataclass(frozen=True)
class BuiltinRule:
    """One kind of secret: an RE2 pattern and the name that appears in its mask.

    What is masked is the first ``secret`` or ``secret_*`` group that took part in the match
    (RE2 names a group once, so each form of the secret has its own), or the whole match when
    the pattern has none; a ``find`` function decides instead when the text has to be read.
    ``anchors`` are lower-case byte strings of which at least one occurs in anything the
    pattern matches.
    """

    name: str
    pattern: Re2Pattern
    anchors: tuple[bytes, ...]
    find: SecretFinder | None = None
    secret_groups: tuple[int, ...] = field(init=False, repr=False, compare=False)
    # The binding rebuilds ``groupindex`` on every access, and a finder asks once per match.
    _group_numbers: Mapping[bytes, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not is_rule_name(self.name):
            raise ValueError(f"rule name {self.name!r} must be lower-case letters, digits and '-'")
        numbers = dict(self.pattern.groupindex)
        named = sorted(numbers.items(), key=lambda item: item[1])
        object.__setattr__(
            self, "secret_groups", tuple(index for name, index in named if _is_masked_group(name))
        )
        object.__setattr__(self, "_group_numbers", numbers)

    @property
    def masks_secret_group(self) -> bool:
        """Whether only part of the match is masked, rather than the whole match."""
        return bool(self.secret_groups)

    @property
    def mask(self) -> str:
        return f"[REDACTED:{self.name}]"

    def secret_spans(self, data: bytes, match: Re2Match) -> Sequence[Span]:
        if self.find is not None:
            return self.find(self, data, match)
        return [self.secret_span(match)]

    def secret_span(self, match: Re2Match) -> Span:
        """The first ``secret*`` group that took part, or the whole match."""
        for index in self.secret_groups:
            start, end = match.span(index)
            if start >= 0:
                return start, end
        return match.span()

    def group_span(self, match: Re2Match, name: bytes) -> Span:
        """The span of a named group; ``(-1, -1)`` when it took no part."""
        return match.span(self._group_numbers[name])
