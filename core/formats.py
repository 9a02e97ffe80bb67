"""Times, durations, counts and lists, said the way the request's language says them.

Each is a catalogue sentence (``CLOCK_UTC``, ``TOOK_SECONDS``, ``DURATION_*``…), so a time on a
card reads ``14:05 UTC`` in English and ``UTC 14:05`` in Chinese, and a value made here can be
said again in another language like any other :class:`core.i18n.Text`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from core import messages
from core.i18n import joined

_UNITS = (
    (86400, messages.DURATION_DAYS),
    (3600, messages.DURATION_HOURS),
    (60, messages.DURATION_MINUTES),
)


def clock(moment: datetime) -> str:
    """A time of day in UTC: ``14:05 UTC`` / ``UTC 14:05``."""
    return messages.CLOCK_UTC.format(time=f"{moment:%H:%M}")


def took(seconds: float) -> str:
    """How long something took: ``0.4s`` / ``0.4 秒``."""
    return messages.TOOK_SECONDS.format(seconds=seconds)


def duration(seconds: float) -> str:
    """A whole duration in its largest exact unit, as the policy file writes them: ``30m``,
    ``1h``, ``2d`` / ``30 分钟``, ``1 小时``, ``2 天``."""
    whole = int(seconds)
    for size, message in _UNITS:
        if whole >= size and whole % size == 0:
            return message.format(count=whole // size)
    return messages.DURATION_SECONDS.format(count=whole)


def listing(items: Iterable[str]) -> str:
    """``a, b, c`` / ``a、b、c``."""
    return joined(items, messages.LIST_SEPARATOR)
