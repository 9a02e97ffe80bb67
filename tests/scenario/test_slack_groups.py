"""Policy groups backed by Slack user groups, resolved through the Web API and cached."""

from __future__ import annotations

from slack_emulator import SlackEmulator
from slack_sdk import WebClient

from bot.surfaces.slack_app import SlackGroups
from policies.engine import evaluate, roles_of
from policies.loader import parse_policy
from policies.model import Action, Subject

POLICY = parse_policy(
    "groups: {oncall: {slack_usergroup: S0ONCALL}, gone: {slack_usergroup: S0GONE}}\n"
    "roles: {op: {verbs: [cordon]}}\n"
    "bindings: [{role: op, groups: [oncall]}]\n",
    "inline",
)


def test_slack_usergroup_members_get_the_role_and_answers_are_cached() -> None:
    with SlackEmulator(valid_tokens=["xoxb-test"]) as slack:
        slack.set_usergroup("S0ONCALL", ["U1", "U2"])
        groups = SlackGroups(WebClient(token="xoxb-test", base_url=slack.base_url), ttl=60)
        assert groups("U1", POLICY) == frozenset({"oncall"})
        assert groups("U9", POLICY) == frozenset()
        subject = Subject(user_id="U1", groups=groups("U1", POLICY))
        assert roles_of(POLICY, subject) == ("op",)
        assert evaluate(POLICY, subject, Action(verb="cordon", target="node/n")).allowed
        asked = [c.args["usergroup"] for c in slack.calls_to("usergroups.users.list")]
        assert sorted(asked) == ["S0GONE", "S0ONCALL"]  # once each, then from the cache


def test_slack_outage_keeps_the_last_answer_and_never_grants() -> None:
    with SlackEmulator(valid_tokens=["xoxb-test"]) as slack:
        slack.set_usergroup("S0ONCALL", ["U1"])
        groups = SlackGroups(WebClient(token="xoxb-test", base_url=slack.base_url), ttl=0)
        assert groups("U1", POLICY) == frozenset({"oncall"})
        slack.fail_next("usergroups.users.list", 500, times=10)
        assert groups("U1", POLICY) == frozenset({"oncall"})  # last known members
        fresh = SlackGroups(WebClient(token="xoxb-test", base_url=slack.base_url), ttl=0)
        assert fresh("U1", POLICY) == frozenset()  # nothing known yet: no group, no role
