"""Label and field selectors: Kubernetes' grammar and checks, refusals that name the problem,
and parsing in time linear in the text (a regex with adjacent ``\\s*`` once took seconds)."""

from __future__ import annotations

import shlex
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import grammar
from core.errors import CommandError
from core.selectors import (
    MAX_SELECTOR_LENGTH,
    FieldRequirement,
    field_selector_string,
    matches,
    parse_field_selector,
    parse_selector,
    selector_string,
)
from handlers.drain_models import DrainNode
from handlers.logs_models import PodLogs


def refusal(text: str) -> str:
    with pytest.raises(CommandError) as caught:
        grammar.parse(text)
    return caught.value.user_message


def refused(text: str) -> str:
    with pytest.raises(ValueError) as caught:
        parse_selector(text)
    return str(caught.value)


# --- The selector that froze the bot -----------------------------------------------------------


def test_a_selector_that_made_the_old_regex_backtrack_is_refused_with_its_reason() -> None:
    with pytest.raises(ValueError, match=r"expected `\(` after `a in` but found `!`"):
        parse_selector("a in" + " " * 1000 + "!")


def test_a_selector_over_the_length_cap_is_refused_for_its_length() -> None:
    sentence = refusal('logs x -l "a in' + " " * 1975 + '!"')
    # Every flag value is capped at the same length before the selector parser sees it.
    assert "longer than 1024 characters" in sentence
    assert MAX_SELECTOR_LENGTH == 1024


def test_the_cap_applies_to_field_selectors_and_drain_too() -> None:
    long_value = "x" * MAX_SELECTOR_LENGTH
    assert "1024 characters" in refusal(f"logs x --field-selector status.phase={long_value}")
    assert "1024 characters" in refusal(f"drain n1 --pod-selector app={long_value}")


# --- Kubernetes' grammar -----------------------------------------------------------------------


def selector(labels: dict[str, str] | None = None, *expressions: dict[str, Any]) -> dict[str, Any]:
    return {"matchLabels": labels or {}, "matchExpressions": list(expressions)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", selector()),
        ("   ", selector()),
        ("app=web", selector({"app": "web"})),
        ("app==web", selector({"app": "web"})),
        (" app = web ", selector({"app": "web"})),
        ("app=", selector({"app": ""})),
        ("app=,tier=db", selector({"app": "", "tier": "db"})),
        ("app!=web", selector(None, {"key": "app", "operator": "NotIn", "values": ["web"]})),
        ("app!=", selector(None, {"key": "app", "operator": "NotIn", "values": [""]})),
        ("app", selector(None, {"key": "app", "operator": "Exists"})),
        ("!app", selector(None, {"key": "app", "operator": "DoesNotExist"})),
        ("! app", selector(None, {"key": "app", "operator": "DoesNotExist"})),
        (
            "env in (prod, dev,prod)",
            selector(None, {"key": "env", "operator": "In", "values": ["dev", "prod"]}),
        ),
        ("env in(a)", selector(None, {"key": "env", "operator": "In", "values": ["a"]})),
        ("env notin (a)", selector(None, {"key": "env", "operator": "NotIn", "values": ["a"]})),
        ("env in ()", selector(None, {"key": "env", "operator": "In", "values": [""]})),
        ("env in (a,)", selector(None, {"key": "env", "operator": "In", "values": ["", "a"]})),
        ("env in (,,a)", selector(None, {"key": "env", "operator": "In", "values": ["", "a"]})),
        # Keywords are plain words where a key or a value goes, as in Kubernetes.
        ("in=notin", selector({"in": "notin"})),
        (
            "x in (in,notin)",
            selector(None, {"key": "x", "operator": "In", "values": ["in", "notin"]}),
        ),
        ("example.com/tier=db", selector({"example.com/tier": "db"})),
        ("app.kubernetes.io/name=api", selector({"app.kubernetes.io/name": "api"})),
        ("A_b.c-9=X.y_z-0", selector({"A_b.c-9": "X.y_z-0"})),
        # a=1,a=2 matches nothing in Kubernetes; the second term must not replace the first.
        (
            "a=1,a=2",
            selector({"a": "1"}, {"key": "a", "operator": "In", "values": ["2"]}),
        ),
        ("a=1,a=1", selector({"a": "1"})),
        (
            "app=web,tier!=db,env in (a,b),!legacy",
            selector(
                {"app": "web"},
                {"key": "tier", "operator": "NotIn", "values": ["db"]},
                {"key": "env", "operator": "In", "values": ["a", "b"]},
                {"key": "legacy", "operator": "DoesNotExist"},
            ),
        ),
    ],
)
def test_parses_what_kubernetes_parses(text: str, expected: dict[str, Any]) -> None:
    assert parse_selector(text) == expected


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("app in web", "expected `(` after `app in` but found `web`"),
        ("app in (web", "expected `,` or `)` after `app in (web` but found the end"),
        ("app in (web api)", "expected `,` or `)` after `app in (web` but found `api`"),
        ("app in (!)", "expected a value, `,` or `)` after `app in (` but found `!`"),
        ("app web", "expected `=`, `==`, `!=`, `in` or `notin` after `app` but found `web`"),
        ("app=web tier=db", "expected `,` or the end after `app=web` but found `tier`"),
        ("app=web=x", "expected `,` or the end after `app=web` but found `=`"),
        ("app===web", "expected a value, `,` or the end after `app==` but found `=`"),
        ("!app=web", "expected `,` or the end after `!app` but found `=`"),
        ("app=web,", "expected a label key or `!KEY` after `app=web,` but found the end"),
        ("app=web,,tier", "expected a label key or `!KEY` after `app=web,` but found `,`"),
        (",app", "expected a label key or `!KEY` at the start but found `,`"),
        ("=web", "expected a label key or `!KEY` at the start but found `=`"),
        ("!", "expected a label key or `!KEY` after `!` but found the end"),
        ("app > 5", "`>` compares numbers"),
        ("app<5", "`<` compares numbers"),
        ("-app=web", "`-app` is not a valid label key: it must start and end with a letter"),
        ("app_=web", "`app_` is not a valid label key: it must start and end with a letter"),
        ("ápp=web", "`ápp` is not a valid label key: it contains 'á'"),
        ("a/b/c=web", "`a/b/c` is not a valid label key: it has more than one '/'"),
        ("/app=web", "`/app` is not a valid label key: the prefix before '/' is empty"),
        ("Example.com/app", "the prefix `Example.com` is not a DNS subdomain"),
        ("example.com/=web", "the name after '/' is empty"),
        ("example.com/-a", "the name after '/' must start and end with a letter or digit"),
        ("a" * 64, "is 64 characters long (the limit is 63)"),
        ("app=-web", "`-web` is not a valid label value: it must start and end with a letter"),
        ("app=web/x", "`web/x` is not a valid label value: it contains '/'"),
        ("app in (ok,b@d)", "`b@d` is not a valid label value: it contains '@'"),
        ("app=" + "v" * 64, "is 64 characters long (the limit is 63)"),
    ],
)
def test_refuses_what_kubernetes_refuses_saying_why(text: str, sentence: str) -> None:
    assert sentence in refused(text)


def test_a_long_term_is_quoted_short() -> None:
    sentence = refused("app=" + "v" * 60 + " " + "w" * 200)
    assert "found `" + "w" * 59 + "…`" in sentence
    assert len(sentence) < 300


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        (
            "logs -l 'app in web'",
            "`--selector=app in web` must be a valid label selector: expected `(` after "
            "`app in` but found `web`.",
        ),
        (
            "drain n1 --pod-selector='app=web,'",
            "`--pod-selector=app=web,` must be a valid label selector: expected a label key or "
            "`!KEY` after `app=web,` but found the end.",
        ),
        (
            "logs x --field-selector 'status.phase Running'",
            "`--field-selector=status.phase Running` must be a valid field selector: "
            "`status.phase Running` has no operator",
        ),
    ],
)
def test_the_grammar_refuses_a_bad_selector_before_anything_is_queued(
    text: str, sentence: str
) -> None:
    assert sentence in refusal(text)


def test_the_grammar_keeps_the_selector_as_typed() -> None:
    request = grammar.parse("logs -l 'app in (web, api)' --field-selector status.phase==Running")
    assert isinstance(request, PodLogs)
    assert request.selector == "app in (web, api)"
    assert request.field_selector == "status.phase==Running"
    drain = grammar.parse("drain n1 --pod-selector '!legacy'")
    assert isinstance(drain, DrainNode) and drain.pod_selector == "!legacy"


# --- Field selectors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ()),
        ("status.phase=Running", (FieldRequirement("status.phase", "=", "Running"),)),
        ("status.phase==Running", (FieldRequirement("status.phase", "=", "Running"),)),
        ("spec.nodeName!=n1", (FieldRequirement("spec.nodeName", "!=", "n1"),)),
        ("metadata.name=", (FieldRequirement("metadata.name", "=", ""),)),
        ("metadata.name=!x", (FieldRequirement("metadata.name", "=", "!x"),)),
        (
            "a=1,,b!=2,",
            (FieldRequirement("a", "=", "1"), FieldRequirement("b", "!=", "2")),
        ),
        (r"a=x\,y\=z\\", (FieldRequirement("a", "=", "x,y=z\\"),)),
    ],
)
def test_parses_field_selectors_as_kubernetes_does(
    text: str, expected: tuple[FieldRequirement, ...]
) -> None:
    assert parse_field_selector(text) == expected


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("status.phase", "`status.phase` has no operator"),
        ("status.phase in (Running)", "has no operator"),
        ("status.phase =Running", "`status.phase ` is not a field path"),
        ("=Running", "`` is not a field path"),
        ("status..phase=x", "`status..phase` is not a field path"),
        ("status.phase===x", "in `status.phase===x`, a `=` inside the value must be written `\\=`"),
        (r"a=x\y", r"in `a=x\y`, `\y` is not an escape"),
        ("a=x\\", r"`\` is not an escape"),
    ],
)
def test_refuses_bad_field_selectors_saying_why(text: str, sentence: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_field_selector(text)
    assert sentence in str(caught.value)


# --- Properties -------------------------------------------------------------------------------

_name = st.from_regex(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,8}[A-Za-z0-9])?", fullmatch=True)
_prefix = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,6}[a-z0-9])?(\.[a-z0-9]{1,5}){0,2}", fullmatch=True)
keys = st.one_of(_name, st.tuples(_prefix, _name).map("/".join), st.sampled_from(["in", "notin"]))
values = st.one_of(st.just(""), _name, st.sampled_from(["in", "notin"]))
spaces = st.sampled_from(["", " ", "  ", "\t"])
#: (operator as typed, the LabelSelector operator it means, its values)
_requirements = st.one_of(
    st.tuples(st.sampled_from(["=", "==", "!="]), values.map(lambda v: [v])),
    st.tuples(st.sampled_from(["in", "notin"]), st.lists(values, max_size=3)),
    st.tuples(st.sampled_from(["", "!"]), st.just([])),
)
requirements = st.tuples(keys, _requirements).map(lambda r: (r[0], *r[1]))


@st.composite
def typed_selectors(draw: st.DrawFn) -> tuple[str, list[tuple[str, str, list[str]]]]:
    """A valid selector as someone might type it, and what it says."""
    chosen = draw(st.lists(requirements, max_size=5))
    terms = []
    for key, operator, given_values in chosen:
        gap = draw(spaces)
        if operator in ("", "!"):
            terms.append(f"{gap}{operator}{key}{draw(spaces)}")
        elif operator in ("in", "notin"):
            inner = ",".join(f"{draw(spaces)}{v}{draw(spaces)}" for v in given_values)
            terms.append(f"{gap}{key} {operator}{draw(spaces)}({inner}){draw(spaces)}")
        else:
            terms.append(f"{gap}{key}{draw(spaces)}{operator}{draw(spaces)}{given_values[0]}")
    return ",".join(terms), chosen


def _holds(requirement: tuple[str, str, list[str]], labels: dict[str, str]) -> bool:
    """What Kubernetes' ``Requirement.Matches`` says, written from its definition."""
    key, operator, given_values = requirement
    present, value = key in labels, labels.get(key)
    allowed = set(given_values) or {""}
    if operator in ("=", "==", "in"):
        return present and value in allowed
    if operator in ("!=", "notin"):
        return not present or value not in allowed
    return present if operator == "" else not present


@settings(max_examples=400, deadline=None)
@given(typed=typed_selectors(), data=st.data())
def test_a_valid_selector_means_what_it_says_and_survives_the_string_form(
    typed: tuple[str, list[tuple[str, str, list[str]]]], data: st.DataObject
) -> None:
    text, chosen = typed
    parsed = parse_selector(text)
    assert parse_selector(selector_string(parsed)) == parsed
    keys_used = [key for key, _, _ in chosen] or ["app"]
    labels = data.draw(st.dictionaries(st.sampled_from(keys_used), values, max_size=4))
    assert matches(parsed, labels) == all(_holds(r, labels) for r in chosen)


_selector_characters = st.sampled_from([*"ab.-_/ =!(),<>\t\\", "in", "notin", "é", "\x00"])
junk = st.one_of(st.text(max_size=40), st.lists(_selector_characters, max_size=30).map("".join))


@settings(max_examples=1000, deadline=None)
@given(text=junk)
def test_junk_is_parsed_or_refused_with_a_value_error_and_nothing_else(text: str) -> None:
    for parse in (parse_selector, parse_field_selector):
        try:
            parse(text)
        except ValueError as error:
            assert str(error)


@settings(max_examples=300, deadline=None)
@given(text=junk)
def test_junk_in_a_command_is_a_command_error_and_nothing_else(text: str) -> None:
    for command in ("logs x -l ", "logs x --field-selector ", "drain n1 --pod-selector "):
        try:
            grammar.parse(command + shlex.quote(text))
        except CommandError as error:
            assert error.user_message


field_paths = st.from_regex(r"[a-zA-Z0-9]{1,6}(\.[a-zA-Z0-9]{1,6}){0,2}", fullmatch=True)
field_requirements = st.builds(
    FieldRequirement, field_paths, st.sampled_from(["=", "!="]), st.text(max_size=10)
)


@settings(max_examples=300, deadline=None)
@given(chosen=st.lists(field_requirements, max_size=4))
def test_field_selectors_survive_the_string_form(chosen: list[FieldRequirement]) -> None:
    assert parse_field_selector(field_selector_string(chosen)) == tuple(chosen)
