"""The one decision path: a parsed command, who asks, and the facts → allow, deny, or needs
approval, with the rule that decided.

The bot (:class:`bot.commands.dispatcher.Dispatcher`) and ``k8s-chatops policy check`` both
decide here, with the same grammar, the same per-namespace actions and the same facts model;
only where the facts come from differs (Redis, or the reviewer's flags).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.commands.registry import Command, Parsed, Registry
from bot.jobs.facts import NodeFacts
from policies.engine import Facts, evaluate
from policies.model import Action, Decision, Outcome, PolicyDocument, Subject, parse_duration

if TYPE_CHECKING:
    from bot.jobs.model import Job

#: The rule a decision names when only being the job's own requester allowed it.
OWN_JOB = "own job"
#: The rule of a denial because no role or rule grants the verb at all.
DEFAULT_DENY = "default deny"


class FactsSource(Protocol):
    """What ``cluster`` looks like (None: no one cluster), for rules on node labels and
    counts."""

    def __call__(self, node: str | None, cluster: str | None) -> NodeFacts: ...


def flags_used(command: Command, request: Any) -> frozenset[str]:
    """Every flag of ``command`` the request sets to something other than its default, so a
    policy rule can single out any of them (``logs --previous``, ``drain --force``)."""
    fields = getattr(type(request), "model_fields", {})
    used = set(getattr(request, "flags", frozenset()))
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
        job: Job | None = None,
        now: datetime | None = None,
        cluster: str | None = None,
    ) -> Decision:
        """What the policy says of this command on ``cluster``, with every flag it uses and
        the facts it needs; every action the command names must be allowed (a ``logs`` over
        two namespaces is two). ``job``: the job a command like ``cancel`` names, for its
        requester."""
        command, request = parsed.command, parsed.request
        policy = self.policy()
        used = flags_used(command, request)
        decided: list[tuple[Action, Decision]] = []
        for action in command.actions(request):
            known = self.facts_source(action.node, cluster)
            recent = 0
            rate = policy.limits.for_cluster(cluster).rate
            if rate and not action.read_only:
                window = parse_duration(rate.per).total_seconds()
                recent = self.recent_requests(subject.user_id, window, cluster)
            complete = action.model_copy(
                update={
                    "flags": action.flags | used,
                    "node_labels": known.labels,
                    "cluster": cluster,
                }
            )
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
            decided.append((complete, self._own_job(command, decision, subject, job)))
        return _combine(command, decided)

    @staticmethod
    def _own_job(
        command: Command, decision: Decision, subject: Subject, job: Job | None
    ) -> Decision:
        """A requester may withdraw (cancel, deny) their own job without a role that grants
        the verb; an explicit rule, a change window or a rate limit still refuses them."""
        if (
            command.owner_may
            and job is not None
            and job.requester == subject.user_id
            and decision.outcome is Outcome.DENY
            and decision.rule == DEFAULT_DENY
        ):
            return Decision(
                outcome=Outcome.ALLOW, reason="your own job", rule=OWN_JOB, roles=decision.roles
            )
        return decision


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
