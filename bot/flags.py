"""kubectl-style flags for chat commands: ``--force``, ``--timeout=5m``, ``--grace-period 30``.

A flag table maps each flag to a kind (switch, integer, duration, choice, text); values are
checked here, so a bad value gets a sentence naming the flag before anything is queued.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from core import messages
from core.errors import CommandError
from core.text import code

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """A Go duration (``0``, ``90s``, ``1h30m``, ``1.5s``) in seconds; ValueError otherwise."""
    if text == "0":
        return 0.0
    position, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(text) or not text:
        raise ValueError(text)
    return total


@dataclass(frozen=True)
class Flag:
    name: str
    field: str
    kind: str  # "switch" | "int" | "duration" | "choice" | "text"
    example: str = ""
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    #: A one-letter alias, typed with one dash (``-n``), as kubectl and stern have.
    short: str = ""
    #: May be given more than once; the values collect in a tuple. ``split`` also splits
    #: each value at commas (``-n a,b``).
    repeat: bool = False
    split: bool = False


def _convert(flag: Flag, value: str) -> Any:
    shown = f"--{flag.name}"
    if flag.kind == "switch":
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise CommandError(
            messages.FLAG_TAKES_NO_VALUE.format(flag=code(shown), forms=code(f"{shown}=true|false"))
        )
    if flag.kind == "int":
        try:
            number = int(value)
        except ValueError:
            raise CommandError(
                messages.INVALID_FLAG_VALUE.format(
                    setting=code(f"{shown}={value}"), detail="not a whole number"
                )
            ) from None
        if flag.minimum is not None and number < flag.minimum:
            raise CommandError(
                messages.INVALID_FLAG_VALUE.format(
                    setting=code(f"{shown}={value}"), detail=f"must be at least {flag.minimum}"
                )
            )
        if flag.maximum is not None and number > flag.maximum:
            raise CommandError(
                messages.INVALID_FLAG_VALUE.format(
                    setting=code(f"{shown}={value}"), detail=f"must be at most {flag.maximum}"
                )
            )
        return number
    if flag.kind == "duration":
        try:
            return parse_duration(value)
        except ValueError:
            raise CommandError(
                messages.INVALID_DURATION.format(setting=code(f"{shown}={value}"))
            ) from None
    if flag.kind == "choice" and value not in flag.choices:
        raise CommandError(
            messages.INVALID_FLAG_VALUE.format(
                setting=code(f"{shown}={value}"), detail="must be one of " + ", ".join(flag.choices)
            )
        )
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
            values[flag.field] = (
                *values.get(flag.field, ()),
                *(_convert(flag, part) for part in parts if part),
            )
        else:
            values[flag.field] = _convert(flag, value)
    return positional, values
