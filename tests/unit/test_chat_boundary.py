"""Whatever a workspace member types ends as a typed request or a sentence, never a crash.

The grammar is the first thing every message meets, before the policy, so anyone in the
workspace can send it anything. Hypothesis builds commands that start like real ones (a verb,
its flags from the grammar's own tables) and end in junk: unicode, huge and non-ASCII numbers,
2,000-character arguments, unbalanced quotes. Each must parse or raise ``CommandError``; any
other exception is what becomes "something went wrong" for a user. The dispatcher-level twin,
with Redis and the policy in the loop, is ``tests/integration/test_hostile_records.py``.
"""

from __future__ import annotations

import contextlib
import shlex

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands import grammar
from bot.commands.registry import registry
from core import limits
from core.errors import CommandError

_COMMANDS = registry().commands
_FLAGS = sorted(
    {f"--{flag.name}" for command in _COMMANDS for flag in command.flags}
    | {f"-{flag.short}" for command in _COMMANDS for flag in command.flags if flag.short}
)
_VERBS = [
    *sorted(word for command in _COMMANDS for word in (command.verb, *command.aliases)),
    "/k8s",
    "nodes",
    "node/k8s-node1",
    "deploy/web",
]

_numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["9" * 400, "1e309", "inf", "-inf", "nan", "²", "١٢", "1_000", "0x10", "-0"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
_durations = st.builds(
    lambda n, unit: f"{n}{unit}", _numbers, st.sampled_from(["s", "m", "h", "ms", "µs", "", "d"])
)
_junk = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=2000),
    st.sampled_from(
        [
            "a in" + " " * 1975 + "!",
            "(" * 500,
            "'",
            '"',
            "`<!channel>`",
            "<@U123>",
            "a!=b,c in (d,e),!f",
            ",",
            ",,,",
            "=",
            "x" * 2000,
            "\x00",
            "\u202e",
        ]
    ),
)
_word = st.one_of(_junk, _numbers, _durations, st.sampled_from(_FLAGS))
_flag_with_value = st.builds(
    lambda flag, value, attached: f"{flag}={value}" if attached else f"{flag} {shlex.quote(value)}",
    st.sampled_from(_FLAGS),
    st.one_of(_numbers, _durations, _junk),
    st.booleans(),
)


@st.composite
def commands(draw: st.DrawFn) -> str:
    parts = [draw(st.sampled_from(_VERBS))]
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        parts.append(draw(st.one_of(_flag_with_value, _word.map(shlex.quote), _word)))
    return " ".join(parts)


@settings(
    max_examples=10_000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(commands())
def test_every_command_parses_or_gets_a_sentence(text: str) -> None:
    try:
        parsed = grammar.parse(text)
    except CommandError as error:
        assert error.user_message.strip()
        assert "Traceback" not in error.user_message
        # A refusal quotes what was typed, but never all of a huge argument.
        assert len(error.user_message) < limits.MAX_COMMAND_CHARS + 1000
        return
    # What parses is a request the models accept again: nothing unbounded got through.
    assert type(parsed).model_validate(parsed.model_dump()) == parsed


@settings(max_examples=2_000, deadline=None)
@given(st.text(max_size=3000))
def test_pure_junk_parses_or_gets_a_sentence(text: str) -> None:
    with contextlib.suppress(CommandError):
        grammar.parse(text)
