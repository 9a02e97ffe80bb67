"""Tokens cut off at the end of a log line, whose rest starts the next line.

A terminal, a logger or a log shipper that wraps at a fixed width cuts a JWT or a base64 key
wherever the column ends. Pod logs reach the worker one line at a time, so each line alone
shows only part of the token: the header and payload of a JWT here, its signature on the
next line. :meth:`core.redaction.Redactor.redact_lines` keeps the :class:`WrappedToken` a line
ended with and masks the rest of it on the lines that follow.

A JWT is taken to go on unless its signature has one of the lengths JWS signatures come in
(HS256 43 characters, ES256 86, RS256 342, …), so a complete token at the end of a line costs
the next line nothing. A token without a signature (``alg: none``) or with an odd one costs
the next line its first word, which tests/unit/test_redaction.py shows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.redaction_rules import JWT_PART, JWT_SEPARATOR
from core.secret_finders import BASE64_PEM_START, decoded_prefix, is_base64_private_key
from core.secret_rule import Span, compile_re2

# base64url lengths of HS256/384/512, ES256/384/512, Ed25519/Ed448 and RSA 1024 to 8192.
COMPLETE_JWT_SIGNATURES = frozenset({43, 64, 86, 128, 152, 171, 176, 342, 512, 683, 1366})
MAX_WRAPPED_LINES = 200  # a JWT of 12 KB wrapped at 64 columns

_JWT_AT_END = compile_re2(
    rb"eyJ" + JWT_PART + rb"{8,}(?:" + JWT_SEPARATOR + JWT_PART + rb"*){1,2}\z"
)
_JWT_GOES_ON = compile_re2(rb"(?:" + JWT_PART + rb"|" + JWT_SEPARATOR + rb")+")
_BASE64_KEY_AT_END = compile_re2(BASE64_PEM_START + rb"[A-Za-z0-9+/]*\z")
_BASE64_LINE = compile_re2(rb"[ \t]*([A-Za-z0-9+/]+={0,2})[ \t]*")


@dataclass(frozen=True)
class WrappedToken:
    """A token that reached the end of its line unfinished: which rule's, for a JWT how many
    of its dots and how much of its signature have been seen, and on how many lines."""

    rule: str
    dots: int = 0
    signature: int = 0
    lines: int = 0

    @property
    def mask(self) -> str:
        return f"[REDACTED:{self.rule}]"

    def continued_on(self, line: str) -> tuple[Span | None, WrappedToken | None]:
        """The part of ``line`` that belongs to the token, and the token if it goes on after.

        The rest of a JWT is the run of token characters the line starts with (a line that
        starts with a blank is not its continuation); the rest of a base64 key is a line of
        nothing but base64.
        """
        if self.lines >= MAX_WRAPPED_LINES:
            return None, None
        data = line.encode("utf-8", "surrogatepass")
        if self.rule == "jwt":
            run = _JWT_GOES_ON.match(data)
            if run is None:
                return None, None
            end = run.span()[1]  # the run is ASCII, so this is also the offset in ``line``
            return (0, end), self._after(data[:end]) if end == len(data) else None
        body = _BASE64_LINE.fullmatch(data)
        if body is None:
            return None, None
        start, end = body.span(1)
        padded = data[end - 1 : end] == b"="
        return (start, end), None if padded else replace(self, lines=self.lines + 1)

    def _after(self, run: bytes) -> WrappedToken | None:
        parts = run.replace(b"%2E", b".").replace(b"%2e", b".").split(b".")
        dots = self.dots + len(parts) - 1
        signature = len(parts[-1]) if len(parts) > 1 else self.signature + len(run)
        if dots >= 2 and signature in COMPLETE_JWT_SIGNATURES:
            return None
        return WrappedToken(self.rule, dots, signature, self.lines + 1)


def wrapped_token_at_end(line: str, rules: frozenset[str]) -> WrappedToken | None:
    """The JWT or base64 private key that ``line`` ends with, if it may go on next line;
    only for the rules in ``rules``."""
    if "jwt" in rules and "eyJ" in line:
        data = line.encode("utf-8", "surrogatepass")
        tail = _JWT_AT_END.search(data)
        if tail is not None:
            return WrappedToken("jwt")._after(data[tail.span()[0] :])
    if "private-key-base64" in rules and BASE64_PEM_START.decode() in line:
        data = line.encode("utf-8", "surrogatepass")
        tail = _BASE64_KEY_AT_END.search(data)
        if tail is not None:
            blob = data[tail.span()[0] :]
            if is_base64_private_key(blob) and b"-----END" not in decoded_prefix(blob):
                return WrappedToken("private-key-base64")
    return None
