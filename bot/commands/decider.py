"""The one decision path: a parsed command, who asks, and the facts → allow, deny, or needs
approval, with the rule that decided.

The bot (:class:`bot.commands.dispatcher.Dispatcher`) and ``k8s-chatops policy check`` both
decide here, with the same grammar, the same per-namespace actions and the same facts model;
only where the facts come from differs (Redis, or the reviewer's flags).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from bot.commands.registry import Command, Parsed, Registry
from bot.jobs.facts import NodeFacts
from core import messages
from core.text import code
from policies.engine import Facts, approvals_needed, changes_allowed_until, evaluate
from policies.model import (
    Action,
    Decision,
    Outcome,
    PolicyDocument,
    Requirement,
    Subject,
    parse_duration,
)

if TYPE_CHECKING:
    from bot.jobs.model import Job
    from handlers.base import RequestBase

#: The rule a decision names when only being the job's own requester allowed it.
OWN_JOB = "own job"
#: The rule a decision names when nothing granted the verb.
DEFAULT_DENY = "default deny"


class FactsSource(Protocol):
    """What ``cluster`` looks like (None: no one cluster), for rules on node labels and
    counts."""

    def __call__(self, node: str | None, cluster: str | None) -> NodeFacts: ...


def run_before(
    policy: PolicyDocument, request: RequestBase, now: datetime, cluster: str | None
) -> datetime | None:
    """What a change queued at ``now`` on ``cluster`` keeps of that cluster's change windows,
    since workers do not load the policy: the latest moment it may start (the end of the open
    window). None for reads, and when the cluster has no windows."""
    return changes_allowed_until(policy, now, cluster) if request.mutating else None


def rate_applies(command: Command, action: Action) -> bool:
    """The rate limit counts the changes a person asks for: requests that become jobs and
    change something. ``approve``, ``deny`` and ``cancel`` answer a job someone already asked
    for (and that was counted then), so they are neither counted nor limited."""
    return command.perform is not None and not action.read_only


def flags_used(command: Command, request: RequestBase) -> frozenset[str]:
    """Every flag of ``command`` the request sets to something other than its default, so a
    policy rule can single out any of them (``logs --previous``, ``drain --force``)."""
    fields = type(request).model_fields
    used = set(request.flags)
    for flag in command.flags:
        field = fields.get(flag.field)
        if field is not None and getattr(request, flag.field, None) != field.get_default(
            call_default_factory=True
        ):
            used.add(flag.name)
    return frozenset(used)


class Decider:
    def __init__(
        self,
        policy: Callable[[], PolicyDocument],
        commands: Registry,
        facts_source: FactsSource,
        recent_requests: Callable[[str, float, str | None], int],
    ) -> None:
        self.policy = policy
        self.commands = commands
        self.facts_source = facts_source
        #: (user, window in seconds, cluster) → changes that person asked for there lately.
        self.recent_requests = recent_requests

    # --- The decision ------------------------------------------------------------------------

    def decide(
        self,
        subject: Subject,
        parsed: Parsed,
        *,
        owner: str | None = None,
        now: datetime | None = None,
        counted: bool = False,
        cluster: str | None = None,
    ) -> Decision:
        """What the policy says of this command on ``cluster``, with every flag it uses and
        the facts it needs; every action the command names must be allowed (a ``logs`` over
        two namespaces is two). ``owner``: who asked for the job a command like ``cancel``
        names. ``counted``: the request was already counted against its requester's rate (a
        job decided again when it is approved), so the rate is not checked again."""
        command = parsed.command
        policy = self.policy()
        decided: list[tuple[Action, Decision]] = []
        for complete, known in self._actions(parsed, cluster):
            recent = 0
            rate = policy.limits.for_cluster(cluster).rate
            if rate and not counted and rate_applies(command, complete):
                window = parse_duration(rate.per).total_seconds()
                recent = self.recent_requests(subject.user_id, window, cluster)
            decision = evaluate(
                policy,
                subject,
                complete,
                Facts(
                    now=now or datetime.now(UTC),
                    unschedulable_nodes=known.unschedulable_nodes,
                    total_nodes=known.total_nodes,
                    target_unschedulable=known.unschedulable,
                    recent_requests=recent,
                ),
            )
            decided.append((complete, self._own_job(command, complete, decision, subject, owner)))
        return _combine(command, decided)

    def approvals_needed(
        self, subject: Subject, parsed: Parsed, cluster: str | None = None
    ) -> Requirement | None:
        """The approvals this command would wait for on ``cluster``, whatever the limits say
        now (what a job was given when it arrived; ``policy check`` asks it for the job an
        answer names)."""
        policy = self.policy()
        needed = (
            approvals_needed(policy, subject, action)
            for action, _ in self._actions(parsed, cluster)
        )
        return next((requirement for requirement in needed if requirement is not None), None)

    def _actions(self, parsed: Parsed, cluster: str | None) -> list[tuple[Action, NodeFacts]]:
        """The command's actions on ``cluster`` with every flag it uses and its node's labels,
        and the node facts (that cluster's) they were completed from."""
        used = flags_used(parsed.command, parsed.request)
        completed = []
        for action in parsed.command.actions(parsed.request):
            known = self.facts_source(action.node, cluster)
            update = {"flags": action.flags | used, "node_labels": known.labels, "cluster": cluster}
            completed.append((action.model_copy(update=update), known))
        return completed

    def decide_job(self, requester: Subject, job: Job, *, now: datetime) -> Decision:
        """A job's own request decided again, for its requester, at ``now``, on the job's own
        cluster: the rules, roles, change windows and published node facts as they are now.
        Its rate was checked and counted when it arrived, and the approvals it needs were fixed
        then."""
        parsed = Parsed(self.commands.for_request(job.request), job.request, job.cluster)
        return self.decide(requester, parsed, now=now, counted=True, cluster=job.cluster)

    @staticmethod
    def _own_job(
        command: Command, action: Action, decision: Decision, subject: Subject, owner: str | None
    ) -> Decision:
        """A requester may withdraw (cancel, deny) their own job without a role that grants
        the verb; an explicit rule still refuses them. Anyone else is told whose job it is."""
        if not (
            command.owner_may
            and owner is not None
            and decision.outcome is Outcome.DENY
            and decision.rule == DEFAULT_DENY
        ):
            return decision
        if owner != subject.user_id:
            reason = messages.NOT_YOUR_JOB.format(
                job_id=action.target.removeprefix("job/"), requester=owner, verb=code(action.verb)
            )
            return decision.model_copy(update={"reason": reason})
        return Decision(
            outcome=Outcome.ALLOW,
            reason=messages.POLICY_OWN_JOB.format(),
            rule=OWN_JOB,
            roles=decision.roles,
        )


def _combine(command: Command, decided: list[tuple[Action, Decision]]) -> Decision:
    """Every action must be allowed: the first denial wins (in the command's words, when it
    has its own, such as the namespace a ``logs`` was refused in), then the first that needs
    approval, else the first allowance."""
    for action, decision in decided:
        if decision.outcome is Outcome.DENY:
            if command.explain_denial is None:
                return decision
            reason = command.explain_denial(action, decision.reason)
            return decision.model_copy(update={"reason": reason})
    pending = [d for _, d in decided if d.outcome is Outcome.NEEDS_APPROVAL]
    return pending[0] if pending else decided[0][1]
