"""The built-in redaction rules, in the order they run: what counts as a secret in a log line.

Each is an RE2 pattern on the line's bytes (:mod:`core.secret_rule`), with a finder in
Python where the pattern alone cannot tell (:mod:`core.secret_finders`). An earlier rule's
mask wins where two overlap, so the specific rules (a JWT, a Slack token) come before the
generic ones (``token=``).
"""

from __future__ import annotations

from core.secret_finders import (
    BASE64_PEM_START,
    authorization_value,
    base64_private_key,
    cookie_values,
    labelled_value,
    long_url_user,
    registry_auth,
    shaped_bearer,
)
from core.secret_rule import BuiltinRule, SecretFinder, compile_re2


def _rule(
    name: str, pattern: bytes, *anchors: str, find: SecretFinder | None = None
) -> BuiltinRule:
    return BuiltinRule(name, compile_re2(pattern), tuple(a.encode() for a in anchors), find)


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


def _labelled(
    name: str, keys: bytes, *anchors: str, short_key: bytes = b"", always_a_value: bool = False
) -> BuiltinRule:
    pattern = _labelled_pattern(keys, short_key=short_key)
    return _rule(name, pattern, *anchors, find=labelled_value(always_a_value=always_a_value))


# An Authorization header up to its value: ``Authorization: ``, ``'Authorization': '``,
# Go's ``Authorization:[``.
_HEADER = rb"(?i:authorization)[\"']?[ \t]*[:=][ \t]*[\"']?\[?"

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
        find=base64_private_key,
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
        find=shaped_bearer,
    ),
    _rule("basic-auth", _HEADER + rb"(?i:basic)[ \t]+(?P<secret>[A-Za-z0-9+/]{4,}=*)", "basic"),
    _rule(
        "authorization",
        _HEADER + rb"(?:(?P<scheme>[A-Za-z][A-Za-z0-9._\-]*)[ \t]+)?(?P<secret>[^\s\"'\],;]+)",
        "authorization",
        find=authorization_value,
    ),
    _rule(
        "cookie",
        rb"\b(?i:set-cookie|cookie)\\?[\"']?[ \t]*:[ \t]*\[?\\?[\"']?"
        rb"(?P<secret>[^\r\n\"'\]\\]*)",
        "cookie",
        find=cookie_values,
    ),
    # docker's config.json: "auth": base64 of user:password.
    _rule(
        "registry-auth",
        rb"\b(?i:auth)" + _QUOTE + rb"?[ \t]*[:=][ \t]*" + _QUOTE + rb"?"
        rb"(?P<secret>[A-Za-z0-9+/]{8,}={0,2})",
        "auth",
        find=registry_auth,
    ),
    _rule(
        "url-credentials",
        rb"[A-Za-z][A-Za-z0-9+.\-]*://(?:[^\s:/@?#\"'<>]*:(?P<secret>[^\s/?#\"'<>]+)"
        rb"|(?P<secret_user>[^\s:/@?#\"'<>]+))@",
        "@",
        find=long_url_user,
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
