"""Label and field selectors: parsed as the API server parses them, matched in Python.

Selectors arrive from chat (``-l``, ``--pod-selector``, ``--field-selector``) and from the
policy file, so they are read by a hand-written tokenizer and parser that look at each
character once: no input can make them backtrack (a regex with adjacent ``\\s*`` once held
the bot for seconds on one selector). The grammar and checks are those of
``k8s.io/apimachinery/pkg/labels`` and ``pkg/fields``, so a selector the API server would
refuse is refused here, before anything is queued, with a sentence naming the problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from core import messages
from core.names import label_key_problem, label_value_problem
from core.text import code

#: The longest selector accepted, label or field. Real selectors are a few dozen characters;
#: the cap keeps a pasted blob from reaching the parser, the policy engine or the API server.
MAX_SELECTOR_LENGTH = 1024

_WHITESPACE = frozenset(" \t\r\n")
_SYMBOLS = frozenset("=!(),<>")
_TWO_CHARACTER_SYMBOLS = frozenset(("==", "!="))
_SET_OPERATORS = {"in": "In", "notin": "NotIn"}
_SHOWN = 60


def _shown(text: str) -> str:
    """User text cut short enough to quote in a sentence."""
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _check_length(text: str) -> None:
    if len(text) > MAX_SELECTOR_LENGTH:
        raise ValueError(
            messages.SELECTOR_TOO_LONG.format(length=len(text), limit=MAX_SELECTOR_LENGTH)
        )


# --- Label selectors ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    #: ``word`` (a key, value or ``in``/``notin``), ``symbol`` or ``end``.
    kind: Literal["word", "symbol", "end"]
    text: str
    start: int


def _tokens(text: str) -> list[_Token]:
    """Kubernetes' lexer: words run up to whitespace or a symbol; ``==`` and ``!=`` are one."""
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char in _WHITESPACE:
            position += 1
        elif char in _SYMBOLS:
            width = 2 if text[position : position + 2] in _TWO_CHARACTER_SYMBOLS else 1
            tokens.append(_Token("symbol", text[position : position + width], position))
            position += width
        else:
            end = position
            while end < len(text) and text[end] not in _WHITESPACE and text[end] not in _SYMBOLS:
                end += 1
            tokens.append(_Token("word", text[position:end], position))
            position = end
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _LabelParser:
    """One pass over the tokens; each refusal names what should have come instead."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._tokens = _tokens(text)
        self._next = 0

    def _peek(self) -> _Token:
        return self._tokens[self._next]

    def _take(self) -> _Token:
        """The next token; nothing reads on after taking the end, so this stays in range."""
        token = self._tokens[self._next]
        self._next += 1
        return token

    def _unexpected(self, token: _Token, expected: str) -> ValueError:
        found = (
            messages.SELECTOR_THE_END.format() if token.kind == "end" else code(_shown(token.text))
        )
        before = self._text[: token.start].strip()
        if not before:
            return ValueError(
                messages.SELECTOR_EXPECTED_FIRST.format(expected=expected, found=found)
            )
        after = before if len(before) <= _SHOWN else "…" + before[1 - _SHOWN :]
        return ValueError(
            messages.SELECTOR_EXPECTED.format(expected=expected, after=code(after), found=found)
        )

    def requirements(self) -> Iterator[tuple[str, str, list[str]]]:
        """``(key, operator, values)``: ``Equals`` for ``=``/``==``, else the LabelSelector's
        operator names (``!=`` is ``NotIn`` of one value)."""
        if self._peek().kind == "end":
            return
        while True:
            yield self._requirement()
            token = self._take()
            if token.kind == "end":
                return
            if token.text != ",":
                raise self._unexpected(token, messages.SELECTOR_COMMA_OR_END.format())

    def _key(self) -> str:
        token = self._take()
        if token.kind != "word":
            raise self._unexpected(token, messages.SELECTOR_A_KEY.format())
        problem = label_key_problem(token.text)
        if problem:
            raise ValueError(
                messages.SELECTOR_BAD_KEY.format(key=code(_shown(token.text)), reason=problem)
            )
        return token.text

    def _requirement(self) -> tuple[str, str, list[str]]:
        if self._peek().text == "!":
            self._take()
            return self._key(), "DoesNotExist", []
        key = self._key()
        following = self._peek()
        if following.kind == "end" or following.text == ",":
            return key, "Exists", []
        operator = self._take()
        if operator.text in ("=", "=="):
            return key, "Equals", [self._exact_value()]
        if operator.text == "!=":
            return key, "NotIn", [self._exact_value()]
        if operator.kind == "word" and operator.text in _SET_OPERATORS:
            return key, _SET_OPERATORS[operator.text], self._value_set()
        if operator.text in ("<", ">"):
            raise ValueError(messages.SELECTOR_NO_COMPARISON.format(operator=code(operator.text)))
        raise self._unexpected(operator, messages.SELECTOR_AN_OPERATOR.format())

    def _value(self, token: _Token) -> str:
        problem = label_value_problem(token.text)
        if problem:
            raise ValueError(
                messages.SELECTOR_BAD_VALUE.format(value=code(_shown(token.text)), reason=problem)
            )
        return token.text

    def _exact_value(self) -> str:
        """``key=`` alone means the empty value, as in Kubernetes."""
        token = self._peek()
        if token.kind == "end" or token.text == ",":
            return ""
        if token.kind != "word":
            raise self._unexpected(token, messages.SELECTOR_A_VALUE_OR_END.format())
        return self._value(self._take())

    def _value_set(self) -> list[str]:
        """``(a,b)``; an empty item (``()``, ``(a,)``) is the empty value, as in Kubernetes."""
        token = self._take()
        if token.text != "(":
            raise self._unexpected(token, messages.SELECTOR_OPEN_PARENTHESIS.format())
        values: set[str] = set()
        while True:
            token = self._take()
            if token.kind == "word":
                values.add(self._value(token))
                token = self._take()
                if token.text not in (",", ")"):
                    raise self._unexpected(token, messages.SELECTOR_COMMA_OR_CLOSE.format())
            elif token.text in (",", ")"):
                values.add("")
            else:
                raise self._unexpected(token, messages.SELECTOR_A_VALUE.format())
            if token.text == ")":
                return sorted(values)


def parse_selector(text: str) -> dict[str, Any]:
    """The string form (``app=web,tier!=db,env in (a,b),!legacy``) as a LabelSelector.

    ``key=value`` goes to ``matchLabels`` unless the key is already there with another value
    (``a=1,a=2`` matches nothing, as in Kubernetes); then it is an ``In`` expression. Values
    of ``in``/``notin`` are sorted and unique, so equal selectors give equal objects.
    Raises ValueError with the sentence naming the problem.
    """
    _check_length(text)
    match_labels: dict[str, str] = {}
    expressions: list[dict[str, Any]] = []
    for key, operator, values in _LabelParser(text).requirements():
        if operator == "Equals" and match_labels.get(key, values[0]) == values[0]:
            match_labels[key] = values[0]
        elif operator in ("Equals", "In", "NotIn"):
            named = "In" if operator == "Equals" else operator
            expressions.append({"key": key, "operator": named, "values": values})
        else:
            expressions.append({"key": key, "operator": operator})
    return {"matchLabels": match_labels, "matchExpressions": expressions}


def selector_string(selector: Mapping[str, Any]) -> str:
    """A ``LabelSelector`` object in the string form the API's ``labelSelector`` takes."""
    terms = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = ",".join(sorted(expression.get("values") or []))
        terms.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": key,
                "DoesNotExist": f"!{key}",
            }[operator]
        )
    return ",".join(terms)


def matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A ``LabelSelector`` object. An empty selector matches everything, as in a PDB."""
    if not selector:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = set(expression.get("values") or [])
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


# --- Field selectors ---------------------------------------------------------------------------

_FIELD_OPERATORS = ("!=", "==", "=")  # Kubernetes tries them in this order at each position
_FIELD_PATH_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_FIELD_ESCAPES = frozenset("\\,=")


@dataclass(frozen=True)
class FieldRequirement:
    """One ``path=value`` or ``path!=value`` term, the value unescaped."""

    path: str
    operator: Literal["=", "!="]
    value: str


def _field_terms(text: str) -> Iterator[str]:
    """The text split at commas that no backslash escapes; empty terms are skipped."""
    start, escaped = 0, False
    for position, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            if position > start:
                yield text[start:position]
            start = position + 1
    if start < len(text):
        yield text[start:]


def _split_field_term(term: str) -> tuple[str, str, str]:
    for position in range(len(term)):
        for operator in _FIELD_OPERATORS:
            if term.startswith(operator, position):
                return term[:position], operator, term[position + len(operator) :]
    raise ValueError(messages.FIELD_SELECTOR_NO_OPERATOR.format(term=code(_shown(term))))


def _unescape_field_value(term: str, value: str) -> str:
    kept: list[str] = []
    escaped = False
    for char in value:
        if escaped:
            if char not in _FIELD_ESCAPES:
                raise ValueError(
                    messages.FIELD_SELECTOR_BAD_ESCAPE.format(
                        term=code(_shown(term)), sequence=code("\\" + char)
                    )
                )
            kept.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            raise ValueError(
                messages.FIELD_SELECTOR_UNESCAPED.format(
                    term=code(_shown(term)), char=code(char), escaped=code("\\" + char)
                )
            )
        else:
            kept.append(char)
    if escaped:
        raise ValueError(
            messages.FIELD_SELECTOR_BAD_ESCAPE.format(term=code(_shown(term)), sequence=code("\\"))
        )
    return "".join(kept)


def _is_field_path(path: str) -> bool:
    return all(part and set(part) <= _FIELD_PATH_CHARACTERS for part in path.split("."))


def parse_field_selector(text: str) -> tuple[FieldRequirement, ...]:
    """``status.phase=Running,spec.nodeName!=n1`` as terms; ``==`` is ``=``, as in Kubernetes.

    Which paths a resource supports is the API server's to say; a path here must only look
    like one (``status.phase``), so a typo with a space or a stray symbol is caught early.
    Raises ValueError with the sentence naming the problem.
    """
    _check_length(text)
    requirements = []
    for term in _field_terms(text):
        path, operator, raw_value = _split_field_term(term)
        if not _is_field_path(path):
            raise ValueError(messages.FIELD_SELECTOR_BAD_PATH.format(path=code(_shown(path))))
        value = _unescape_field_value(term, raw_value)
        requirements.append(FieldRequirement(path, "!=" if operator == "!=" else "=", value))
    return tuple(requirements)


def _escape_field_value(value: str) -> str:
    return "".join("\\" + char if char in _FIELD_ESCAPES else char for char in value)


def field_selector_string(requirements: Iterable[FieldRequirement]) -> str:
    """Terms back in the form the API's ``fieldSelector`` takes, values escaped."""
    return ",".join(f"{r.path}{r.operator}{_escape_field_value(r.value)}" for r in requirements)
