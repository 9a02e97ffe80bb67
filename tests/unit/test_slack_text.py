"""Text from users reaches Slack escaped, and never closes a code span it is shown in."""

from __future__ import annotations

import re

import pytest

from bot.surfaces.slack_text import code_block, code_span, escape, fit
from core.i18n import LANGUAGES, catalogue, templates
from core.text import BACKTICK_STAND_IN, code


def test_escape_follows_slacks_three_rules_and_nothing_more() -> None:
    assert escape("<!channel> & <@U0EVIL> said \"hi\" 'x' *b*") == (
        "&lt;!channel&gt; &amp; &lt;@U0EVIL&gt; said \"hi\" 'x' *b*"
    )
    assert escape("&lt;") == "&amp;lt;"  # escaped exactly once, by whoever sends it


def test_a_backtick_in_user_text_cannot_close_the_span() -> None:
    assert BACKTICK_STAND_IN == "\u02cb"
    assert code("zz`<!channel> prod is down`") == "`zz\u02cb<!channel> prod is down\u02cb`"
    assert code_span("zz`<!channel> prod is down`") == (
        "`zz\u02cb&lt;!channel&gt; prod is down\u02cb`"
    )


@pytest.mark.parametrize(
    "hostile", ["`", "``", "```", "a```<!here>```b", "<@U0EVIL>`&`", "\u02cb`"]
)
def test_spans_have_exactly_two_backticks_and_no_live_markup(hostile: str) -> None:
    span = code_span(hostile)
    assert span.count("`") == 2 and span.startswith("`") and span.endswith("`")
    assert "<" not in span and ">" not in span


def test_a_code_block_has_only_its_own_fences() -> None:
    block = code_block("line ```\n<!channel> `x` & done```")
    assert block.startswith("```") and block.endswith("```")
    assert block.count("`") == 6
    tick = "\u02cb"
    assert block == f"```line {tick * 3}\n&lt;!channel&gt; {tick}x{tick} &amp; done{tick * 3}```"


def test_fit_escapes_then_cuts_without_leaving_half_an_entity() -> None:
    assert fit("a < b", 100) == "a &lt; b"
    for limit in range(4, 20):
        cut = fit("<<<<<<<<<<<<", limit)
        assert len(cut) <= limit and cut.endswith("…")
        assert re.fullmatch(r"(&lt;)*…", cut), cut


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_catalogue_sentence_puts_a_placeholder_inside_backticks(language: str) -> None:
    """User text is put in backticks by ``code()``, never by a template, so nobody can forget
    it, in any language. Job ids are the bot's own digits."""
    offenders = {}
    for name, entry in catalogue(language).items():
        for template in templates(entry):
            for span in re.findall(r"`([^`]*)`", template):
                fields = set(re.findall(r"\{(\w+)", span)) - {"job_id"}
                if fields:
                    offenders[name] = span
    assert offenders == {}
    assert "QUEUED" in catalogue(language)  # the catalogue was read
