"""Regexes typed by users, compiled with RE2.

RE2 matches in linear time, so no pattern a person types (``(a+)+$`` and friends) can pin a
worker's CPU, and its syntax is Go's, the one stern and kubectl users already write.
"""

from __future__ import annotations

from typing import Any, Protocol

import re2  # type: ignore[import-untyped]

from core.secret_rule import Re2Pattern

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the caller turns the error into a sentence; no stderr noise


class Searcher(Protocol):
    def search(self, text: str) -> object | None: ...


def compile_user_regex(pattern: str) -> Searcher:
    """Compile ``pattern`` or raise ValueError with RE2's reason."""
    compiled: Searcher = _compile(pattern)
    return compiled


def compile_byte_regex(pattern: str) -> Re2Pattern:
    """Compile ``pattern`` to match UTF-8 bytes (as the built-in secret rules do), or raise
    ValueError with RE2's reason. Matching bytes spares the binding a character-offset
    conversion per match, which a line made of matches would otherwise pay."""
    compiled: Re2Pattern = _compile(pattern.encode("utf-8", "surrogatepass"))
    return compiled


def _compile(pattern: str | bytes) -> Any:
    try:
        return re2.compile(pattern, options=_OPTIONS)
    except re2.error as error:
        detail = error.args[0] if error.args else "invalid"
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise ValueError(str(detail)) from None


def literal_regex(text: str) -> str:
    """A pattern that matches ``text`` character for character, escaped by RE2 itself."""
    return str(re2.escape(text))
