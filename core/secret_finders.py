"""What the built-in redaction rules' patterns cannot say, read from the text in Python.

RE2 has no lookaround, so when the text around a match or the meaning of a value decides
(``token: signature is invalid`` is prose, a base64 blob is a certificate, ``Bearer
authentication`` names a scheme), a finder returns the spans of the match to mask, or none. A
finder reads its match and at most a bounded run after it, so redaction stays linear.

A value is masked more readily than it used to be: after ``password:`` any word is taken to
be the password. A leaked value stays in Redis as long as the job does, while an over-masked
word costs one word of a log line. Lines that are masked on purpose are listed in the tests.
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence

from core.secret_rule import (
    MAX_MATCHES_PER_LINE,
    BuiltinRule,
    Re2Match,
    SecretFinder,
    Span,
    compile_re2,
)

# --- Shapes a finder checks ---------------------------------------------------------------------

_DIGITS = b"0123456789"
_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _has_any(text: bytes, characters: bytes) -> bool:
    return len(text.translate(None, characters)) < len(text)


def looks_like_token(text: bytes, *, min_length: int = 8, long: int = 20) -> bool:
    """Letters and digits mixed, or long: ``7f3a9c2e1b4d``, not ``authentication``."""
    if len(text) < min_length:
        return False
    return len(text) >= long or (_has_any(text, _DIGITS) and _has_any(text, _LETTERS))


# Values that are placeholders, not secrets: null, booleans, ****, ${VAR}, $VAR, {{ var }}, %s,
# or the start of a structure ({"user": …}).
_PLACEHOLDER_WORDS = frozenset(b"null none nil true false undefined redacted filtered".split())
_ENVIRONMENT_VARIABLE = compile_re2(rb"\$[A-Z_][A-Z0-9_]*")


# The first bytes a placeholder can start with, so most values skip the check.
_PLACEHOLDER_STARTS = frozenset(b"*${%<[(").union(
    *(word[:1] + word[:1].upper() for word in _PLACEHOLDER_WORDS)
)
_QUOTES = frozenset(b"\"'")
_BACKSLASH, _SLASH = ord("\\"), ord("/")


def _is_placeholder(value: bytes) -> bool:
    first = value[:1]
    if first == b"*":
        return not value.strip(b"*")
    if first == b"$":
        variable = _ENVIRONMENT_VARIABLE.fullmatch(value) is not None
        return variable or value.startswith((b"${", b"$("))
    if first == b"{" or value.startswith(b"%s"):
        return True
    return len(value) <= 12 and value.strip(b"<>[]()").lower() in _PLACEHOLDER_WORDS


# ``invalid token: signature is invalid``: a lone word after a colon that a sentence goes on
# from is prose, not a value.
_SENTENCE_GOES_ON = compile_re2(rb"[.,;:!?)]*[ \t]+[A-Za-z]")
_NEAR = 64


def _is_a_word(value: bytes) -> bool:
    return value.rstrip(b".:!?)").isalpha()


def _sentence_goes_on(data: bytes, end: int) -> bool:
    """Whether punctuation, a blank and a letter follow ``end``. Reads the next few
    characters, and further (with RE2) only when they are all punctuation and blanks."""
    near = data[end : end + _NEAR]
    after_punctuation = near.lstrip(b".,;:!?)")
    word = after_punctuation.lstrip(b" \t")
    if word:
        return len(word) < len(after_punctuation) and word[:1].isalpha()
    if end + _NEAR >= len(data):
        return False
    return _SENTENCE_GOES_ON.match(data, end) is not None


def labelled_value(*, always_a_value: bool) -> SecretFinder:
    """``always_a_value``: a word after ``password:`` is the password even if a sentence goes
    on from it (``password: changeme`` must not leak; ``password: must be …`` pays for it)."""

    def find(rule: BuiltinRule, data: bytes, match: Re2Match) -> Sequence[Span]:
        start, end = rule.secret_span(match)
        escaped = data[start] == _BACKSLASH and data[start + 1 : start + 2] in (b'"', b"'")
        quoted = escaped or data[start] in _QUOTES
        start += 2 if escaped else 1 if quoted else 0
        first = data[start] if start < end else 0
        if first in _PLACEHOLDER_STARTS and _is_placeholder(data[start:end]):
            return []
        if first == _SLASH and _label_ends_in_pwd(rule, data, match):
            return []  # PWD=/home/app is the working directory
        if always_a_value or quoted or not _is_a_word(data[start:end]):
            return [(start, end)]
        after_colon = data[slice(*rule.group_span(match, b"separator"))] == b":"
        after_option = rule.group_span(match, b"secret_option")[0] >= 0
        if (after_colon or after_option) and _sentence_goes_on(data, end):
            return []
        return [(start, end)]

    return find


def _label_ends_in_pwd(rule: BuiltinRule, data: bytes, match: Re2Match) -> bool:
    end = rule.group_span(match, b"label")[1]
    if end < 0:
        end = rule.group_span(match, b"option")[1]
    return end >= 3 and data[end - 3 : end].lower() == b"pwd"


# --- Authorization headers ------------------------------------------------------------------------

_AUTHORIZATION_SCHEMES = frozenset(
    b"bearer token basic negotiate ntlm apikey api-key key oauth dpop hmac sso-key ssws".split()
)


def shaped_bearer(rule: BuiltinRule, data: bytes, match: Re2Match) -> Sequence[Span]:
    """After an Authorization header anything is the token; elsewhere only a word that looks
    like one, so ``missing bearer token`` survives."""
    start, end = rule.secret_span(match)
    if start == end:
        return []
    if rule.group_span(match, b"loose")[0] < 0:
        return [(start, end)]
    shape = data[slice(*rule.group_span(match, b"shape"))]
    return [(start, end)] if looks_like_token(shape) else []


def authorization_value(rule: BuiltinRule, data: bytes, match: Re2Match) -> Sequence[Span]:
    """Whatever scheme a header names (``token``, ``SSWS``), the word after it is the
    credential; without a known scheme, only a word shaped like a token is taken."""
    start, end = rule.secret_span(match)
    scheme_start, scheme_end = rule.group_span(match, b"scheme")
    scheme = data[scheme_start:scheme_end] if scheme_start >= 0 else b""
    if scheme.lower() in _AUTHORIZATION_SCHEMES:
        return [(start, end)]
    if scheme and looks_like_token(scheme):
        return [(scheme_start, scheme_end)]
    return [(start, end)] if looks_like_token(data[start:end]) else []


# --- Cookies, registry auth, URLs ---------------------------------------------------------------

_COOKIE_ATTRIBUTES = frozenset(
    b"path domain expires max-age samesite secure httponly priority partitioned version"
    b" comment".split()
)


def cookie_values(rule: BuiltinRule, data: bytes, match: Re2Match) -> Sequence[Span]:
    """Every ``name=value`` pair's value, except Set-Cookie's attributes (``Path=/``). Only
    pairs with an ``=`` cost a step, and each byte is searched once."""
    start, end = rule.secret_span(match)
    spans: list[Span] = []
    pair_start = start
    while (equals := data.find(b"=", pair_start, end)) >= 0:
        pair_start = data.rfind(b";", pair_start, equals) + 1 or pair_start
        pair_end = data.find(b";", equals, end)
        if pair_end < 0:
            pair_end = end
        value = data[equals + 1 : pair_end].rstrip(b" \t")
        if value and data[pair_start:equals].strip().lower() not in _COOKIE_ATTRIBUTES:
            if len(spans) == MAX_MATCHES_PER_LINE:
                return [*spans, (pair_start, end)]
            spans.append((equals + 1, equals + 1 + len(value)))
        pair_start = pair_end + 1
    return spans


def registry_auth(rule: BuiltinRule, data: bytes, match: Re2Match) -> Sequence[Span]:
    start, end = rule.secret_span(match)
    value = data[start:end]
    return [(start, end)] if looks_like_token(value) or _has_any(value, b"+/=") else []


def long_url_user(rule: BuiltinRule, data: bytes, match: Re2Match) -> Sequence[Span]:
    """``scheme://user:password@``, or a user long and mixed enough to be a token."""
    start, end = rule.secret_span(match)
    only_a_user = rule.group_span(match, b"secret_user")[0] == start
    if only_a_user and not looks_like_token(data[start:end], min_length=20):
        return []
    return [(start, end)]


# --- Private keys in base64 (a Kubernetes Secret's data) ----------------------------------------

BASE64_PEM_START = b"LS0tLS1CRUdJTi"  # base64 of "-----BEGIN"
_PEM_HEADER = compile_re2(rb"-----BEGIN [A-Z0-9 ]+-----")


def decoded_prefix(blob: bytes) -> bytes:
    """What the whole 4-character groups of ``blob`` decode to; nothing if they do not."""
    try:
        return binascii.a2b_base64(blob[: len(blob) // 4 * 4])
    except binascii.Error:
        return b""


def is_base64_private_key(blob: bytes) -> bool:
    """Whether a base64 blob that decodes to ``-----BEGIN`` holds a private key. A blob too
    short to show its label counts as one: a certificate is kept only when it says so."""
    decoded = decoded_prefix(blob)
    return b"PRIVATE KEY" in decoded or _PEM_HEADER.match(decoded) is None


def base64_private_key(rule: BuiltinRule, data: bytes, match: Re2Match) -> Sequence[Span]:
    start, end = match.span()
    return [(start, end)] if is_base64_private_key(data[start:end]) else []
