"""What counts as a secret in a log line: the built-in rules, matched by RE2 on UTF-8 bytes.

Whoever runs in a pod writes its log, so they choose the text these patterns read. A
backtracking engine such as Python's ``re`` can take seconds on a line built for one of its
patterns. RE2's time is linear in the length of the line, whatever the line holds. Matching
bytes, not ``str``, saves the binding's conversion of every match offset (a line with
thousands of masks would otherwise spend most of its time there).

RE2 has no lookaround and no backreferences. A pattern therefore matches a little more than
the secret: the character before a token (``(?:^|[^A-Za-z0-9])``), or the opening quote of a
value. When text around the match or the meaning of a value decides (``token: signature is
invalid`` is prose, a base64 blob is a certificate), a *finder* in Python returns the spans to
mask. A finder reads its match and at most a bounded run after it, so redaction stays linear.

A value is masked more readily than it used to be: after ``password:`` any word is taken to
be the password. A leaked value stays in Redis as long as the job does, while an over-masked
word costs one word of a log line. Lines that are masked on purpose are listed in the tests.
"""

from __future__ import annotations

import binascii
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


def _rule(
    name: str, pattern: bytes, *anchors: str, find: SecretFinder | None = None
) -> BuiltinRule:
    return BuiltinRule(name, compile_re2(pattern), tuple(a.encode() for a in anchors), find)


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


# --- Labelled values: password=…, "token": "…", --password …, ['--token', '…'] -----------------

_QUOTE = rb"(?:\\?[\"'])"


def _value(group: bytes) -> bytes:
    """A value, quoted or not. The opening quote is part of the group, so one group serves
    every quoting, and the finder steps over it; the closing quote is not."""
    return (
        rb"(?P<" + group + rb">\\?\"(?:[^\"\\\n]|\\[^\"\n])+"
        rb"|\\?'(?:[^'\\\n]|\\[^'\n])+"
        rb"|[^\s\"'&,;}\]\\]+)"
    )


_OPTION_VALUE = (
    rb"(?:[ \t]+(?P<secret_option>\"[^\"\n]+|'[^'\n]+|[^\s\"'\-][^\s\"']*)"
    rb"|" + _QUOTE + rb"[ \t]*,[ \t]*" + _QUOTE + rb"(?P<secret_listed>[^\"'\\\n]+))"
)


def _labelled_pattern(keys: bytes, *, short_key: bytes = b"") -> bytes:
    """``keys`` (case-insensitive) after any prefix (``db_``, ``X-Auth-``, ``client``) before
    ``=`` or ``:``, or as a command-line option (``--db-password VALUE``, ``['--token',
    'VALUE']``).

    A ``short_key`` such as ``pass`` is a word too common to be a key everywhere: it is one
    after a prefix that ends a word (``db_pass``, ``x-pass``, ``dbPass``; not ``bypass``), as
    an option, before ``=``, or quoted before ``:`` (``"pass": …``), but not in ``--- PASS:
    TestFoo``.
    """
    label = rb"[A-Za-z0-9_.\-]*?(?i:" + keys + rb")"
    option_keys = keys
    if short_key:
        label += rb"|[A-Za-z0-9_.\-]*[_.\-](?i:" + short_key + rb")"
        label += rb"|[A-Za-z0-9_.\-]*[a-z0-9]" + short_key.capitalize()
        option_keys += b"|" + short_key
    separator = _QUOTE + rb"?[ \t]*(?P<separator>[:=])[ \t]*"
    option = rb"(?P<option>--?(?:[A-Za-z0-9]+[_.\-])*?(?i:" + option_keys + rb"))"
    pattern = (
        rb"\b(?P<label>"
        + label
        + rb")"
        + separator
        + _value(b"secret")
        + rb"|(?:^|[^A-Za-z0-9_.\-])"
        + option
        + _OPTION_VALUE
    )
    if short_key:
        pattern += (
            rb"|\b(?i:"
            + short_key
            + rb")(?:[ \t]*=[ \t]*|"
            + _QUOTE
            + rb"[ \t]*:[ \t]*)"
            + _value(b"secret_short")
        )
    return pattern


def _labelled_value(*, always_a_value: bool) -> SecretFinder:
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


def _labelled(
    name: str, keys: bytes, *anchors: str, short_key: bytes = b"", always_a_value: bool = False
) -> BuiltinRule:
    pattern = _labelled_pattern(keys, short_key=short_key)
    return _rule(name, pattern, *anchors, find=_labelled_value(always_a_value=always_a_value))


# --- Authorization headers ------------------------------------------------------------------------

_HEADER = rb"(?i:authorization)[\"']?[ \t]*[:=][ \t]*[\"']?\[?"
_AUTHORIZATION_SCHEMES = frozenset(
    b"bearer token basic negotiate ntlm apikey api-key key oauth dpop hmac sso-key ssws".split()
)


def _shaped_bearer(rule: BuiltinRule, data: bytes, match: Re2Match) -> Sequence[Span]:
    """After an Authorization header anything is the token; elsewhere only a word that looks
    like one, so ``missing bearer token`` survives."""
    start, end = rule.secret_span(match)
    if start == end:
        return []
    if rule.group_span(match, b"loose")[0] < 0:
        return [(start, end)]
    shape = data[slice(*rule.group_span(match, b"shape"))]
    return [(start, end)] if looks_like_token(shape) else []


def _authorization_value(rule: BuiltinRule, data: bytes, match: Re2Match) -> Sequence[Span]:
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


def _cookie_values(rule: BuiltinRule, data: bytes, match: Re2Match) -> Sequence[Span]:
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


def _registry_auth(rule: BuiltinRule, data: bytes, match: Re2Match) -> Sequence[Span]:
    start, end = rule.secret_span(match)
    value = data[start:end]
    return [(start, end)] if looks_like_token(value) or _has_any(value, b"+/=") else []


def _long_url_user(rule: BuiltinRule, data: bytes, match: Re2Match) -> Sequence[Span]:
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


def _base64_private_key(rule: BuiltinRule, data: bytes, match: Re2Match) -> Sequence[Span]:
    start, end = match.span()
    return [(start, end)] if is_base64_private_key(data[start:end]) else []


# --- The rules, in the order they run; an earlier rule's mask wins where two overlap ---------

_PEM_LABEL = rb"[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
PEM_BEGIN = rb"-----BEGIN " + _PEM_LABEL
PEM_END = rb"-----END " + _PEM_LABEL

# A token starts where a word does, or after a %XX escape (``id_token%3DeyJ…``).
_TOKEN_START = rb"(?:^|[^A-Za-z0-9]|%[0-9A-Fa-f]{2})"
JWT_PART = rb"[A-Za-z0-9_\-]"
JWT_SEPARATOR = rb"(?:\.|%2[Ee])"
# header.payload.signature, the signature perhaps cut off; header.eyJ… whatever follows.
_JWT = (
    rb"eyJ" + JWT_PART + rb"{8,}" + JWT_SEPARATOR + rb"(?:eyJ" + JWT_PART + rb"{5,}(?:"
    rb""
    + JWT_SEPARATOR
    + JWT_PART
    + rb"*)?|"
    + JWT_PART
    + rb"{8,}"
    + JWT_SEPARATOR
    + JWT_PART
    + rb"*)"
)

_URL_SIGNATURE_KEYS = (
    rb"sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature"
)
_MYSQL_CLIENTS = rb"mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlsh|mariadb"
_GITLAB_PREFIXES = rb"glpat|gldt|glrt|glptt|glft|glcbt|glimt|glagent|gloas|glsoat|glffct"

BUILTIN_RULES: tuple[BuiltinRule, ...] = (
    # The whole block on one line, or from BEGIN to the end of the text when END is missing.
    _rule("private-key", PEM_BEGIN + rb"(?s:.*?)(?:" + PEM_END + rb"|\z)", "private key"),
    _rule(
        "private-key-base64",
        BASE64_PEM_START + rb"[A-Za-z0-9+/]*={0,2}",
        BASE64_PEM_START.lower().decode(),
        find=_base64_private_key,
    ),
    _rule("jwt", _TOKEN_START + rb"(?P<secret>" + _JWT + rb")", "eyj"),
    _rule(
        "slack-token",
        rb"\b(?:xoxe\.xox[abeprs]|xox[abeprs]|xapp)-[A-Za-z0-9\-]{10,}",
        *("xox", "xapp-"),
    ),
    _rule(
        "slack-webhook",
        rb"hooks\.slack\.com/(?:services|workflows|triggers)/"
        rb"(?P<secret>[A-Za-z0-9]+/[A-Za-z0-9/_\-]+)",
        "hooks.slack.com",
    ),
    _rule(
        "github-token",
        rb"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})",
        *("ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"),
    ),
    _rule(
        "gitlab-token",
        rb"\b(?:" + _GITLAB_PREFIXES + rb")-[A-Za-z0-9_\-]{20,}",
        *(prefix + "-" for prefix in _GITLAB_PREFIXES.decode().split("|")),
    ),
    # Signed URLs (AWS, GCS, Azure SAS): the signature, the credential and the session token.
    _rule(
        "url-signature",
        rb"(?:^|[?&;\s\"',])(?i:" + _URL_SIGNATURE_KEYS + rb")=(?P<secret>[^\s&\"'<>#]+)",
        *("sig", "x-amz-"),
    ),
    _rule(
        "aws-access-key",
        rb"(?:^|[^A-Z0-9])(?P<secret>(?:AKIA|ASIA)[A-Z0-9]{16,})",
        *("akia", "asia"),
    ),
    _rule("gcp-api-key", rb"\bAIza[A-Za-z0-9_\-]{35,}", "aiza"),
    _rule("google-oauth", rb"\bya29\.[A-Za-z0-9_\-]{20,}", "ya29."),
    _rule(
        "aws-secret-key",
        rb"(?i:aws_?secret_?(?:access_?)?key|secret_?access_?key)"
        rb"" + _QUOTE + rb"?[ \t]*[:=][ \t]*" + _QUOTE + rb"?(?P<secret>[A-Za-z0-9/+=]{16,})",
        "secret",
    ),
    _rule(
        "azure-key",
        rb"(?i:AccountKey|SharedAccessKey)=(?P<secret>[A-Za-z0-9+/=]{16,})",
        *("accountkey", "sharedaccesskey"),
    ),
    _rule(
        "bearer",
        rb"(?:" + _HEADER + rb"(?i:bearer)[ \t]+|(?P<loose>^|[^A-Za-z0-9])(?i:bearer)[ \t]+)"
        rb"(?P<secret>(?P<shape>[A-Za-z0-9._~+/\-]*)[^\s\"'\],;]*)",
        "bearer",
        find=_shaped_bearer,
    ),
    _rule("basic-auth", _HEADER + rb"(?i:basic)[ \t]+(?P<secret>[A-Za-z0-9+/]{4,}=*)", "basic"),
    _rule(
        "authorization",
        _HEADER + rb"(?:(?P<scheme>[A-Za-z][A-Za-z0-9._\-]*)[ \t]+)?(?P<secret>[^\s\"'\],;]+)",
        "authorization",
        find=_authorization_value,
    ),
    _rule(
        "cookie",
        rb"\b(?i:set-cookie|cookie)\\?[\"']?[ \t]*:[ \t]*\[?\\?[\"']?"
        rb"(?P<secret>[^\r\n\"'\]\\]*)",
        "cookie",
        find=_cookie_values,
    ),
    # docker's config.json: "auth": base64 of user:password.
    _rule(
        "registry-auth",
        rb"\b(?i:auth)" + _QUOTE + rb"?[ \t]*[:=][ \t]*" + _QUOTE + rb"?"
        rb"(?P<secret>[A-Za-z0-9+/]{8,}={0,2})",
        "auth",
        find=_registry_auth,
    ),
    _rule(
        "url-credentials",
        rb"[A-Za-z][A-Za-z0-9+.\-]*://(?:[^\s:/@?#\"'<>]*:(?P<secret>[^\s/?#\"'<>]+)"
        rb"|(?P<secret_user>[^\s:/@?#\"'<>]+))@",
        "@",
        find=_long_url_user,
    ),
    _rule(
        "mysql-password",
        rb"\b(?:" + _MYSQL_CLIENTS + rb")\b[^\n]*?[ \t]-p(?P<secret>[^\s\"']+)",
        *("mysql", "mariadb"),
    ),
    _labelled(
        "password",
        rb"passw(?:or)?d|passphrase|pwd",
        *("pass", "pwd"),
        short_key=b"pass",
        always_a_value=True,
    ),
    _labelled("token", rb"token", "token"),
    _labelled("api-key", rb"api[_\-]?key", *("apikey", "api_key", "api-key")),
    _labelled(
        "secret",
        rb"secret(?:[_\-]?key)?|private[_\-]?key|credentials?",
        *("secret", "private", "credential"),
    ),
)
