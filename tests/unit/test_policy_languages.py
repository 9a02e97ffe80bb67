"""The policy file's ``languages``: a channel set's language and a person's, checked when the
file is loaded."""

from __future__ import annotations

import pytest

from core.errors import ConfigurationError
from core.i18n import CHINESE, english, language
from policies.engine import evaluate
from policies.loader import parse_policy
from policies.model import Action, Subject

BASE = """
channels:
  ops-cn: [C0CN1, C0CN2]
  ops: [C0OPS]
roles:
  op: {verbs: [cordon]}
bindings: [{role: op, users: [U1]}]
"""


def test_channels_and_people_get_the_language_the_file_gives_them() -> None:
    policy = parse_policy(
        BASE + "languages:\n  channels: {ops-cn: zh-CN, ops: en}\n  users: {U1: zh-CN}\n", "p"
    )
    assert [policy.channel_language(c) for c in ("C0CN2", "C0OPS", "C0ELSE", None)] == [
        "zh-CN",
        "en",
        None,
        None,
    ]
    assert (policy.user_language("U1"), policy.user_language("U2")) == ("zh-CN", None)


def test_a_file_without_languages_speaks_english_everywhere() -> None:
    policy = parse_policy(BASE, "p")
    assert policy.channel_language("C0CN1") is None
    assert policy.user_language("U1") is None


@pytest.mark.parametrize(
    ("languages", "said"),
    [
        ("{channels: {ops-cn: fr}}", "languages.channels: unknown language(s) fr; use en, zh-CN"),
        ("{users: {U1: zh}}", "languages.users: unknown language(s) zh; use en, zh-CN"),
        ("{channels: {nowhere: zh-CN}}", "languages.channels names undefined channel(s) nowhere"),
        ("{rooms: {ops: zh-CN}}", "languages.rooms: Extra inputs are not permitted"),
    ],
)
def test_a_wrong_language_or_channel_set_is_refused(languages: str, said: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        parse_policy(BASE + f"languages: {languages}\n", "p.yaml")
    assert said in refused.value.user_message


def test_a_decision_keeps_its_sentence_for_another_language() -> None:
    """The card shows the decision in its channel's language, the audit in English: the
    reason is kept as the catalogue made it, not copied into a plain string."""
    policy = parse_policy(BASE, "p")
    with language(CHINESE):
        decision = evaluate(policy, Subject(user_id="U1"), Action(verb="cordon", target="node/n"))
    assert decision.reason == "由角色 op 允许"
    assert english(decision.reason) == "allowed by role op"
