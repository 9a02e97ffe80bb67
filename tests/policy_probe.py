"""The bot's decision path without Redis or a cluster: the registry's grammar and actions, the
:class:`~bot.commands.decider.Decider`, and unknown node facts — what unit tests of the policy
as the bot applies it need."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from bot.commands.decider import Decider
from bot.commands.registry import Context, Parsed, registry
from bot.commands.verbs.logs import leave_out_refused
from bot.jobs.facts import NodeFacts
from policies.engine import groups_of
from policies.model import Decision, PolicyDocument, Subject

UNKNOWN = NodeFacts(labels=None, unschedulable=None, total_nodes=None, unschedulable_nodes=None)


def _no_groups(user: str, policy: PolicyDocument) -> frozenset[str]:
    del user, policy
    return frozenset()


class Probe:
    def __init__(
        self,
        policy: PolicyDocument,
        *,
        resolve_groups: Callable[[str, PolicyDocument], frozenset[str]] = _no_groups,
    ) -> None:
        self.policy = policy
        self.resolve_groups = resolve_groups
        self.decider = Decider(
            lambda: policy, registry(), lambda node, cluster: UNKNOWN, lambda u, w, c: 0
        )

    def subject(self, user: str, channel: str | None) -> Subject:
        groups = groups_of(self.policy, user) | self.resolve_groups(user, self.policy)
        return Subject(user_id=user, groups=groups, channel=channel)

    def decide(self, subject: Subject, request: Any) -> Decision:
        command = registry().for_request(request)
        return self.decider.decide(subject, Parsed(command, request))

    def _logs_exclusions(self, subject: Subject, request: Any) -> Any:
        context = Context(
            store=cast(Any, None),
            policy=self.policy,
            subject=subject,
            origin=cast(Any, None),
            decision=cast(Any, None),
            commands=registry(),
            reaches=lambda channel: True,
            now=datetime.now(UTC),
            decide_job=lambda job, now: cast(Any, None),
        )
        return leave_out_refused(context, request)
