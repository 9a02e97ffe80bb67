"""Which language a sentence is said in, and saying it.

Every sentence lives in two catalogues keyed by the same names: ``core/messages.py`` (English,
the source, and the fallback) and ``core/messages_zh.py`` (简体中文). Code keeps writing
``messages.NAME.format(...)``: each English entry is a :class:`Message`, a ``str`` (its English
template) that knows its name, and its ``format`` renders the sentence in the language of the
current context. A surface sets that language around each request or delivery::

    with language("zh-CN"):
        reply = dispatcher.submit(...)

The language is a :class:`contextvars.ContextVar`, so threads (waitress, the notifier) and
requests never see each other's. Nothing here reads Slack or the policy: the surfaces decide
who reads which language (``docs/architecture.md``, "Languages").

A rendered sentence is a :class:`Text`: a ``str`` in the current language that can be said
again in another (:func:`in_language`). That is what keeps the audit trail in English while the
person who was refused reads Chinese, and what lets a decision made while one person typed
be shown on a card in the channel's language.
"""

from __future__ import annotations

import functools
import importlib
import string
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

ENGLISH = "en"
CHINESE = "zh-CN"
#: Every language the bot speaks; the first is the default and the fallback.
LANGUAGES = (ENGLISH, CHINESE)
#: Where each language's catalogue lives (the English one is also the list of names).
CATALOGUES = {ENGLISH: "core.messages", CHINESE: "core.messages_zh"}

_current: ContextVar[str] = ContextVar("k8s_chatops_language", default=ENGLISH)


def current_language() -> str:
    return _current.get()


@contextmanager
def language(code: str | None) -> Iterator[str]:
    """Say everything inside in ``code`` (anything this build does not speak: English)."""
    chosen = supported_language(code) or ENGLISH
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def supported_language(code: str | None) -> str | None:
    """``code`` as one of :data:`LANGUAGES` if it names one exactly (any case, ``_`` or
    ``-``), else None."""
    if not code:
        return None
    wanted = code.strip().replace("_", "-").lower()
    return next((known for known in LANGUAGES if known.lower() == wanted), None)


#: Locales read as Simplified Chinese; Traditional ones (zh-TW, zh-HK, zh-Hant) are not, so
#: their readers get the channel's language or English rather than another script.
_SIMPLIFIED_CHINESE = frozenset({"zh", "zh-cn", "zh-sg", "zh-hans", "zh-hans-cn"})


def from_locale(locale: str | None) -> str | None:
    """A person's locale (Slack's ``users.info`` says ``en-US``, ``zh-CN``…) → a language
    this build speaks, or None."""
    if not locale:
        return None
    wanted = locale.strip().replace("_", "-").lower()
    if wanted in _SIMPLIFIED_CHINESE:
        return CHINESE
    if wanted.split("-")[0] == "en":
        return ENGLISH
    return None


# --- Plurals -----------------------------------------------------------------------------------

#: CLDR plural categories, for the two languages (Chinese has no grammatical plural).
_PLURAL_RULES: dict[str, Callable[[float], str]] = {
    ENGLISH: lambda n: "one" if n == 1 else "other",
    CHINESE: lambda n: "other",
}


@dataclass(frozen=True)
class Forms:
    """A sentence whose words follow a number (``{count} approval`` / ``{count} approvals``):
    one template per CLDR plural category, chosen by the value named ``by``."""

    other: str
    one: str | None = None
    by: str = "count"

    def choose(self, language_code: str, values: Mapping[str, object]) -> str:
        number = values.get(self.by)
        if not isinstance(number, int | float):
            raise TypeError(f"a plural needs a number for {{{self.by}}}, got {number!r}")
        category = _PLURAL_RULES.get(language_code, _PLURAL_RULES[ENGLISH])(number)
        return self.one if category == "one" and self.one is not None else self.other

    def templates(self) -> tuple[str, ...]:
        return (self.other,) if self.one is None else (self.one, self.other)


def plural(*, other: str, one: str | None = None, by: str = "count") -> Message:
    """A catalogue entry with plural forms (``NODES = plural(one=…, other=…)``); it is named
    when its catalogue is registered."""
    return Message(Forms(other=other, one=one, by=by), key="")


Entry = str | Forms


# --- Catalogue entries and what they render to -------------------------------------------------


class Message(str):
    """One entry of the English catalogue: its template (so it still reads as the ``str`` it
    was) and its name, which is its key in every other catalogue."""

    key: str
    forms: Forms | None

    def __new__(cls, entry: Entry, key: str) -> Message:
        made = super().__new__(cls, entry.other if isinstance(entry, Forms) else entry)
        made.key = key
        made.forms = entry if isinstance(entry, Forms) else None
        return made

    def format(self, *args: object, **values: Any) -> Text:
        """This sentence in the current language, with ``values`` filled in; a value that is
        itself a :class:`Text` or :class:`Message` is said in the same language."""
        if args:
            raise TypeError(f"{self.key}: catalogue sentences take named values only")
        return Text(_render(self.key, values, current_language()), key=self.key, values=values)

    def __repr__(self) -> str:
        return f"messages.{self.key}"


class Text(str):
    """A sentence as rendered in the language current when it was made, that can be said
    again in another (:func:`in_language`). Adding plain text to it keeps that ability (the
    parts are remembered); anything else that builds a new ``str`` (``join``, f-strings) fixes
    the language."""

    key: str
    values: Mapping[str, Any]
    parts: tuple[str, ...]

    def __new__(
        cls,
        rendered: str,
        *,
        key: str = "",
        values: Mapping[str, Any] | None = None,
        parts: tuple[str, ...] = (),
    ) -> Text:
        made = super().__new__(cls, rendered)
        made.key = key
        made.values = dict(values or {})
        made.parts = parts
        return made

    def in_language(self, language_code: str) -> str:
        if self.parts:
            return "".join(in_language(part, language_code) for part in self.parts)
        if not self.key:
            return str.__str__(self)
        return _render(self.key, self.values, language_code)

    def __add__(self, other: str, /) -> Text:
        if not isinstance(other, str):
            return NotImplemented
        return joined((self, other))

    def __radd__(self, other: str, /) -> Text:
        if not isinstance(other, str):
            return NotImplemented
        return joined((other, self))


def joined(parts: Iterable[str], separator: str = "") -> Text:
    """``parts`` joined by ``separator`` (a :class:`Message` separator is said in each
    language too), as a :class:`Text` that can still be said in another language."""
    items: list[str] = []
    for index, part in enumerate(parts):
        if index and separator:
            items.append(separator)
        items.append(part)
    language_code = current_language()
    return Text("".join(in_language(p, language_code) for p in items), parts=tuple(items))


def in_language(text: str, language_code: str) -> str:
    """``text`` said in ``language_code``: a :class:`Text` or :class:`Message` again from the
    catalogue, anything else (what people typed, what the cluster said) as it is."""
    if isinstance(text, Text):
        return text.in_language(language_code)
    if isinstance(text, Message):
        try:
            return _render(text.key, {}, language_code)
        except (KeyError, IndexError, TypeError):  # a template used as it is, unfilled
            entry = catalogue(language_code).get(text.key) or catalogue(ENGLISH)[text.key]
            return templates(entry)[-1]
    return text


def said(text: str) -> str:
    """``text`` in the current language (a catalogue entry kept for later, such as a
    command's summary, is said when it is shown)."""
    return in_language(text, current_language())


def english(text: str) -> str:
    """For the audit trail and logs, which stay in English whoever was answered."""
    return in_language(text, ENGLISH)


def _said(value: Any, language_code: str) -> Any:
    if isinstance(value, Text | Message):
        return in_language(value, language_code)
    if isinstance(value, Exception) and len(value.args) == 1 and isinstance(value.args[0], Text):
        return value.args[0].in_language(language_code)  # ``detail=error`` of a parser's refusal
    return value


def _render(key: str, values: Mapping[str, Any], language_code: str) -> str:
    entry = catalogue(language_code).get(key) or catalogue(ENGLISH)[key]
    template = entry.choose(language_code, values) if isinstance(entry, Forms) else entry
    filled = {name: _said(value, language_code) for name, value in values.items()}
    return template.format(**filled)


# --- The catalogues ----------------------------------------------------------------------------


def _is_entry(name: str, value: object) -> bool:
    return name.isupper() and not name.startswith("_") and isinstance(value, str)


def register(namespace: MutableMapping[str, Any]) -> None:
    """Make every entry of the English catalogue module a :class:`Message` named after it
    (called once, at the end of ``core/messages.py``)."""
    for name, value in list(namespace.items()):
        if not _is_entry(name, value):
            continue
        if isinstance(value, Message):
            value.key = value.key or name
        else:
            namespace[name] = Message(value, name)


@functools.cache
def catalogue(language_code: str) -> dict[str, Entry]:
    """Every entry of one language's catalogue, by name (templates and plural forms)."""
    module = importlib.import_module(CATALOGUES[language_code])
    entries: dict[str, Entry] = {}
    for name, value in vars(module).items():
        if not _is_entry(name, value):
            continue
        if isinstance(value, Message):
            entries[name] = value.forms or str.__str__(value)
        else:
            entries[name] = value
    return entries


def templates(entry: Entry) -> tuple[str, ...]:
    """Each template of an entry (one, or one per plural form)."""
    return entry.templates() if isinstance(entry, Forms) else (str(entry),)


def placeholders(entry: Entry) -> frozenset[str]:
    """The names an entry fills in (format specs aside), across its plural forms."""
    return frozenset(
        field.split(".")[0].split("[")[0]
        for template in templates(entry)
        for _, field, _, _ in string.Formatter().parse(template)
        if field
    )
