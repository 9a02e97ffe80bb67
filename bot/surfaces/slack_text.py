"""Text on its way to Slack: escaped once, by the rules Slack gives, and cut to fit.

Slack reads ``<…>`` as a mention, a link or a command (``<!channel>``, ``<@U…>``), and ``&`` as
the start of an entity; it asks for exactly ``&amp;``, ``&lt;`` and ``&gt;`` and nothing else.
Every sentence the bot builds from the catalogue is plain text (the shell prints it as is), so
it is escaped here, at the edge, as a whole. Slack-only text (cards, captions) is built from
escaped parts around the bot's own markup (``<@{requester}>``, ``*bold*``); ``code_span`` is the
one way a value goes into backticks there.
"""

from __future__ import annotations

from core.text import verbatim

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: str) -> str:
    """``text`` as Slack shows it literally (mrkdwn and plain text alike)."""
    return text.translate(_ESCAPES)


def code_span(text: object, limit: int | None = None) -> str:
    """``text`` in backticks, escaped, at most ``limit`` characters in all; a backtick in it
    cannot close the span (it shows as U+02CB, as ``core.text.code`` does)."""
    inner = escape(verbatim(text))
    if limit is not None:
        inner = shorten(inner, limit - 2)
    return f"`{inner}`"


def code_block(text: str) -> str:
    """Lines in a fixed-width block. Their backticks show as U+02CB, so none can end the
    block; a file keeps the exact text."""
    return f"```{escape(verbatim(text))}```"


def shorten(escaped: str, limit: int) -> str:
    """Already escaped text cut to ``limit`` characters, never through an entity."""
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&", max(0, len(cut) - 4))
    if amp >= 0 and ";" not in cut[amp:]:
        cut = cut[:amp]  # an entity (&amp; &lt; &gt;) that the cut would split
    return cut + "…"


def fit(text: str, limit: int) -> str:
    """Escape ``text`` and cut it to ``limit`` characters (Slack counts the escaped form)."""
    return shorten(escape(text), limit)
