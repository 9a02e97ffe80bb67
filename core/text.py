"""Text from people and clusters inside the bot's own sentences.

A template never puts a value between backticks itself: it takes ``code(value)``. A backtick in
the value would otherwise close the code span early, and whatever followed would be read as
the bot's own markup (in Slack, a live ``@channel``). Backticks inside a span become U+02CB
MODIFIER LETTER GRAVE ACCENT: it looks like a backtick, so what was typed can still be read,
but no renderer treats it as one. Escaping for a particular surface (Slack's ``&``,
``<``, ``>``) happens where the text leaves for that surface, once: see
``bot/surfaces/slack_text.py``.
"""

from __future__ import annotations

#: What a backtick inside a code span is shown as.
BACKTICK_STAND_IN = "\u02cb"


def verbatim(value: object) -> str:
    """``value`` with its backticks replaced, for text shown inside a code span or block."""
    return str(value).replace("`", BACKTICK_STAND_IN)


def code(value: object) -> str:
    """``value`` as an inline code span that nothing in it can close."""
    return f"`{verbatim(value)}`"
