"""kubectl-style flags for chat commands: ``--force``, ``--timeout=5m``, ``--grace-period 30``.

A flag table maps each flag to a kind (switch, integer, duration, choice, text); values are
checked here, so a bad value gets a sentence naming the flag before anything is queued.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from core import limits, messages
from core.errors import CommandError
from core.text import code

#: Longer text is refused unread: a real duration is a few characters (``1h30m``).
MAX_DURATION_TEXT = 64
#: The longest Go duration (int64 nanoseconds, about 292 years); kubectl refuses more too.
MAX_DURATION_SECONDS = (2**63 - 1) / 1e9
_DIGITS = frozenset("0123456789")
#: Two-letter units first, so ``ms`` is not read as ``m`` then junk. Go takes both micro signs.
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
#: Days, for the flags that take them (``prune images --older-than 7d``); Go has no such unit,
#: so kubectl's own flags (``drain --timeout``) do not.
_DAY_SECONDS = 86400.0


def _digits_end(text: str, position: int) -> int:
    while position < len(text) and text[position] in _DIGITS:
        position += 1
    return position


def parse_duration(text: str, *, days: bool = False) -> float:
    """A Go duration (``0``, ``90s``, ``1h30m``, ``1.5s``) in seconds; ValueError otherwise.
    With ``days``, ``d`` is a unit too (``7d``, ``1d12h``).

    Read left to right, one character at a time, ASCII digits only (``float`` alone would take
    ``inf`` or other scripts' digits); the result is finite and at most MAX_DURATION_SECONDS.
    """
    units = _UNIT_SECONDS | {"d": _DAY_SECONDS} if days else _UNIT_SECONDS
    if text == "0":
        return 0.0
    if not text or len(text) > MAX_DURATION_TEXT:
        raise ValueError(text)
    position, total = 0, 0.0
    while position < len(text):
        start = position
        position = _digits_end(text, position)
        if position == start:
            raise ValueError(text)
        if text.startswith(".", position):
            fraction = position + 1
            position = _digits_end(text, fraction)
            if position == fraction:
                raise ValueError(text)
        number = text[start:position]
        unit = next((u for u in units if text.startswith(u, position)), None)
        if unit is None:
            raise ValueError(text)
        position += len(unit)
        total += float(number) * units[unit]
    if not 0 <= total <= MAX_DURATION_SECONDS:
        raise ValueError(text)
    return total


@dataclass(frozen=True)
class Flag:
    name: str
    field: str
    kind: str  # "switch" | "int" | "duration" | "choice" | "text"
    example: str = ""
    choices: tuple[str, ...] = ()
    #: Bounds of an ``int`` (the number) or a ``duration`` (in seconds); for ``text``, the
    #: longest value in characters (default ``limits.MAX_VALUE_CHARS``). Every numeric flag
    #: has a maximum (``core.limits``): a typed number must never become ``inf`` or a
    #: 300-digit integer in a stored record.
    minimum: int | None = None
    maximum: int | None = None
    #: A one-letter alias, typed with one dash (``-n``), as kubectl and stern have.
    short: str = ""
    #: May be given more than once; the values collect in a tuple. ``split`` also splits
    #: each value at commas (``-n a,b``).
    repeat: bool = False
    split: bool = False
    #: A ``duration`` that also takes days (``7d``).
    days: bool = False


def _bad_value(flag: str, value: str, detail: str) -> CommandError:
    return CommandError(
        messages.INVALID_FLAG_VALUE.format(setting=code(f"{flag}={value[:40]}"), detail=detail)
    )


def parse_integer(text: str) -> int:
    """An optionally signed run of ASCII digits, at most ``MAX_INTEGER_DIGITS`` long.

    ``int()`` alone would take ``١٢`` (Arabic-Indic digits), ``1_000``, surrounding spaces and
    a 4000-digit number that costs quadratic time to convert; none of those is what someone
    meant by a grace period.
    """
    digits = text[1:] if text[:1] in "+-" else text
    if not digits or len(digits) > limits.MAX_INTEGER_DIGITS:
        raise ValueError(text)
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(text)
    return int(text)


def _check_bounds(flag: Flag, shown: str, value: str, number: float, unit: str = "") -> None:
    def say(bound: int) -> str:
        if flag.kind == "duration":
            return limits.duration_text(bound, days=flag.days)
        return f"{bound}{unit}"

    if flag.minimum is not None and number < flag.minimum:
        raise _bad_value(shown, value, messages.FLAG_AT_LEAST.format(bound=say(flag.minimum)))
    if flag.maximum is not None and number > flag.maximum:
        raise _bad_value(shown, value, messages.FLAG_AT_MOST.format(bound=say(flag.maximum)))


def _convert(flag: Flag, value: str) -> Any:
    shown = f"--{flag.name}"
    if flag.kind == "switch":
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise CommandError(
            messages.FLAG_TAKES_NO_VALUE.format(flag=code(shown), forms=code(f"{shown}=true|false"))
        )
    longest = flag.maximum if flag.kind == "text" and flag.maximum else limits.MAX_VALUE_CHARS
    if len(value) > longest:
        raise _bad_value(shown, value, messages.FLAG_TOO_LONG.format(limit=longest))
    if flag.kind == "int":
        try:
            number = parse_integer(value)
        except ValueError:
            raise _bad_value(shown, value, messages.FLAG_NOT_A_NUMBER.format()) from None
        _check_bounds(flag, shown, value, number)
        return number
    if flag.kind == "duration":
        try:
            seconds = parse_duration(value, days=flag.days)
        except ValueError:
            setting = code(f"{shown}={value[:40]}")
            raise CommandError(
                messages.INVALID_AGE.format(setting=setting)
                if flag.days
                else messages.INVALID_DURATION.format(setting=setting)
            ) from None
        if not math.isfinite(seconds):
            raise _bad_value(shown, value, messages.FLAG_NOT_FINITE.format())
        _check_bounds(flag, shown, value, seconds)
        return seconds
    if flag.kind == "choice" and value not in flag.choices:
        raise _bad_value(shown, value, messages.FLAG_ONE_OF.format(choices=", ".join(flag.choices)))
    return value


def parse_flags(
    usage: str, args: list[str], table: tuple[Flag, ...], suggest: Any
) -> tuple[list[str], dict[str, Any]]:
    """Split ``args`` into positional words and flag values (by field name)."""
    by_name = {flag.name: flag for flag in table}
    by_name |= {flag.short: flag for flag in table if flag.short}
    positional: list[str] = []
    values: dict[str, Any] = {}
    words = iter(args)
    for word in words:
        if not word.startswith("-") or word == "-":
            positional.append(word)
            continue
        name, has_value, value = word.lstrip("-").partition("=")
        flag = by_name.get(name)
        if flag is None or (flag.short == name) != (not word.startswith("--")):
            raise CommandError(
                messages.UNKNOWN_FLAG.format(command=code(usage), flag=code(word.split("=")[0]))
                + suggest(name, sorted(f.name for f in table))
            )
        if flag.kind == "switch":
            values[flag.field] = _convert(flag, value) if has_value else True
            continue
        if not has_value:
            value = next(words, "")
            if not value or value.startswith("--"):
                raise CommandError(
                    messages.FLAG_NEEDS_VALUE.format(
                        flag=code(f"--{flag.name}"), example=code(f"--{flag.name}={flag.example}")
                    )
                )
        if flag.repeat:
            parts = value.split(",") if flag.split else [value]
            if not any(parts):
                raise CommandError(
                    messages.FLAG_NEEDS_VALUE.format(
                        flag=code(f"--{flag.name}"), example=code(f"--{flag.name}={flag.example}")
                    )
                )
            values[flag.field] = (
                *values.get(flag.field, ()),
                *(_convert(flag, part) for part in parts if part),
            )
        else:
            values[flag.field] = _convert(flag, value)
    return positional, values
