"""The decision: (who, what, cluster facts) → allow, deny, or needs approval, and why.

Order, so that every answer can name what decided it:

1. Roles come from bindings (users, groups, everyone; optionally only in some channels).
2. A verb is permitted if a role grants it or an ``allow`` rule matches. Nothing else is:
   deny by default.
3. Any matching ``deny`` rule refuses, whatever allowed it (explicit deny wins).
4. For changes: outside every change window, over the per-user rate, or past the limit of
   unschedulable nodes → refused.
5. Matching ``require_approval`` rules and protected targets set the approvals needed; the
   strictest count wins, and the approvers of every such rule may approve.

Pure: no I/O. Facts (node labels, counts, the time) come in as arguments.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from core import messages
from core.selectors import matches, parse_selector
from core.text import code
from policies.model import (
    Action,
    ApprovalSpec,
    Approvers,
    ChangeWindow,
    ClusterLimits,
    Decision,
    NodeMatch,
    Outcome,
    PolicyDocument,
    Requirement,
    Rule,
    RuleSubjects,
    Subject,
    Vocabulary,
    parse_duration,
)


@dataclass(frozen=True)
class Facts:
    """What the decision may know about the world right now."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    unschedulable_nodes: int | None = None
    total_nodes: int | None = None
    target_unschedulable: bool | None = None
    recent_requests: int = 0


def roles_of(policy: PolicyDocument, subject: Subject) -> tuple[str, ...]:
    roles: list[str] = []
    for binding in policy.bindings:
        if binding.channels and not any(
            subject.channel in policy.channels[name] for name in binding.channels
        ):
            continue
        listed = (
            binding.everyone
            or subject.user_id in binding.users
            or subject.groups & set(binding.groups)
        )
        if listed and binding.role not in roles:
            roles.append(binding.role)
    return tuple(roles)


def groups_of(policy: PolicyDocument, user_id: str) -> frozenset[str]:
    """Groups the policy lists the user in (Slack user groups are resolved by the bot)."""
    return frozenset(name for name, group in policy.groups.items() if user_id in group.users)


def _node_match(match: NodeMatch, action: Action, *, restrictive: bool) -> bool:
    if action.node is None:
        return False
    if match.names_match(action.node):
        return True
    if match.selector is None:
        return False
    if action.node_labels is None:
        return restrictive  # unknown labels: restrictions apply, grants do not
    return matches(parse_selector(match.selector), action.node_labels)


def _rule_matches(rule: Rule, subject: Subject, roles: tuple[str, ...], action: Action) -> bool:
    if "*" not in rule.verbs and action.verb not in rule.verbs:
        return False
    if rule.clusters and action.cluster not in rule.clusters:
        return False
    restrictive = rule.effect != "allow"
    if rule.nodes is not None and not _node_match(rule.nodes, action, restrictive=restrictive):
        return False
    if rule.namespaces and action.namespace not in rule.namespaces:
        return False
    if rule.flags and not set(rule.flags) <= action.flags:
        return False
    if rule.subjects is not None and not _names(rule.subjects, subject, roles):
        return False
    return rule.unless is None or not _names(rule.unless, subject, roles)


def _names(who: RuleSubjects, subject: Subject, roles: tuple[str, ...]) -> bool:
    return bool(
        subject.user_id in who.users
        or set(roles) & set(who.roles)
        or subject.groups & set(who.groups)
    )


def _protected(policy: PolicyDocument, action: Action) -> bool:
    guard = policy.protected
    if guard.clusters and action.cluster not in guard.clusters:
        return False
    if guard.nodes is not None and _node_match(guard.nodes, action, restrictive=True):
        return True
    return bool(action.namespace and action.namespace in guard.namespaces)


def _deny(reason: str, rule: str, roles: tuple[str, ...]) -> Decision:
    return Decision(outcome=Outcome.DENY, reason=reason, rule=rule, roles=roles)


def _open_window_end(window: ChangeWindow, moment: datetime) -> datetime | None:
    """When ``window`` closes, if it is open at ``moment``."""
    local = moment.astimezone(ZoneInfo(window.timezone))
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[local.weekday()]
    if day in window.days and window.start <= local.time() < window.end:
        return datetime.combine(local.date(), window.end, tzinfo=ZoneInfo(window.timezone))
    return None


def _within_windows(limits: ClusterLimits, now: datetime) -> bool:
    windows = limits.change_windows
    return not windows or any(_open_window_end(w, now) is not None for w in windows)


def changes_allowed_until(
    policy: PolicyDocument, now: datetime, cluster: str | None = None
) -> datetime | None:
    """The last moment a change allowed at ``now`` on ``cluster`` may start: the end of the
    open change window there (followed through windows that open as it closes), ``now``
    itself when none is open, or None when that cluster has no windows (changes any time).

    The bot freezes this into a job when it is queued, because workers do not load the
    policy; a worker refuses to start the job after it.
    """
    windows = policy.limits.for_cluster(cluster).change_windows
    if not windows:
        return None
    until = now
    for _ in range(len(windows) * 8):  # each step moves to a later end; a week of windows
        ends = [end for w in windows if (end := _open_window_end(w, until)) is not None]
        if not ends:
            break
        until = max(ends).astimezone(UTC)
    return until


def unschedulable_limit(
    policy: PolicyDocument, total_nodes: int | None, cluster: str | None = None
) -> int | None:
    limit = policy.limits.for_cluster(cluster).max_unschedulable
    if limit is None:
        return None
    if isinstance(limit, int):
        return limit
    if total_nodes is None:
        return None
    return max(1, math.floor(int(limit.rstrip("%")) * total_nodes / 100))


def _limits(
    policy: PolicyDocument, action: Action, facts: Facts, roles: tuple[str, ...]
) -> Decision | None:
    if action.read_only:
        return None
    limits = policy.limits.for_cluster(action.cluster)
    if not _within_windows(limits, facts.now):
        described = [w.describe() for w in limits.change_windows]
        return _deny(
            messages.POLICY_OUTSIDE_WINDOW.format(
                windows="; ".join(described), count=len(described)
            ),
            "limits",
            roles,
        )
    rate = limits.rate
    if rate and facts.recent_requests >= rate.requests:
        return _deny(
            messages.POLICY_RATE.format(count=rate.requests, per=rate.per), "limits", roles
        )
    limit = unschedulable_limit(policy, facts.total_nodes, action.cluster)
    if (
        action.disrupts
        and limit is not None
        and facts.unschedulable_nodes is not None
        and not facts.target_unschedulable
        and facts.unschedulable_nodes + 1 > limit
    ):
        return _deny(
            messages.POLICY_UNSCHEDULABLE_LIMIT.format(limit=limit, now=facts.unschedulable_nodes),
            "limits",
            roles,
        )
    return None


def _requirement(specs: Iterable[tuple[str, ApprovalSpec]]) -> Requirement | None:
    collected = list(specs)
    if not collected:
        return None
    count = max(spec.count for _, spec in collected)
    approvers = Approvers(
        roles=sorted({r for _, s in collected for r in s.approvers.roles}),
        groups=sorted({g for _, s in collected for g in s.approvers.groups}),
        users=sorted({u for _, s in collected for u in s.approvers.users}),
    )
    shortest = min((spec.expires_in for _, spec in collected), key=parse_duration)
    return Requirement(
        count=count,
        approvers=approvers,
        expires_in=shortest,
        reason_required=any(spec.reason_required for _, spec in collected),
        because=tuple(name for name, _ in collected),
    )


def _approvals(policy: PolicyDocument, action: Action, matching: list[Rule]) -> Requirement | None:
    specs = [
        (r.name, r.approval) for r in matching if r.effect == "require_approval" and r.approval
    ]
    if not action.read_only and _protected(policy, action):
        guard = policy.protected.approval
        if guard is not None:
            specs.append(("protected target", guard))
    return _requirement((name, spec) for name, spec in specs if spec is not None)


def approvals_needed(
    policy: PolicyDocument, subject: Subject, action: Action
) -> Requirement | None:
    """The approvals ``action`` needs (step 5), whatever the limits say at this moment: what
    a job waiting for approval was given when it arrived."""
    roles = roles_of(policy, subject)
    matching = [r for r in policy.rules if _rule_matches(r, subject, roles, action)]
    return _approvals(policy, action, matching)


def evaluate(
    policy: PolicyDocument, subject: Subject, action: Action, facts: Facts | None = None
) -> Decision:
    facts = facts or Facts()
    roles = roles_of(policy, subject)
    matching = [r for r in policy.rules if _rule_matches(r, subject, roles, action)]
    granting_role = next((r for r in roles if policy.roles[r].allows(action.verb)), None)
    granting_rule = next((r for r in matching if r.effect == "allow"), None)
    if granting_role is None and granting_rule is None:
        if not roles:
            return _deny(messages.DENIED_NO_ROLE.format(), "default deny", roles)
        return _deny(
            messages.DENIED_NO_ROLE_ALLOWS.format(roles=", ".join(roles), verb=code(action.verb)),
            "default deny",
            roles,
        )
    denial = next((r for r in matching if r.effect == "deny"), None)
    if denial is not None:
        reason = denial.reason or messages.POLICY_RULE_DENIES.format(rule=code(denial.name))
        return _deny(reason, denial.name, roles)
    limited = _limits(policy, action, facts, roles)
    if limited is not None:
        return limited
    granted_by = f"role {granting_role}" if granting_role else f"rule {granting_rule.name}"  # type: ignore[union-attr]
    allowed = (
        messages.POLICY_ALLOWED_BY_ROLE.format(role=granting_role)
        if granting_role
        else messages.POLICY_ALLOWED_BY_RULE.format(rule=granting_rule.name)  # type: ignore[union-attr]
    )
    requirement = _approvals(policy, action, matching)
    if requirement is not None:
        return Decision(
            outcome=Outcome.NEEDS_APPROVAL,
            reason=messages.POLICY_ALLOWED_NEEDS.format(
                allowed=allowed, needed=requirement.describe()
            ),
            rule=", ".join(requirement.because),
            roles=roles,
            requirement=requirement,
        )
    return Decision(outcome=Outcome.ALLOW, reason=allowed, rule=granted_by, roles=roles)


def may_approve(
    policy: PolicyDocument, approver: Subject, requirement: Requirement, requester: str
) -> tuple[bool, str]:
    """Whether ``approver`` counts towards ``requirement``; the requester never does."""
    if approver.user_id == requester:
        return False, messages.APPROVE_OWN.format()
    who = requirement.approvers
    roles = roles_of(policy, approver)
    if (
        approver.user_id in who.users
        or set(roles) & set(who.roles)
        or approver.groups & set(who.groups)
    ):
        return True, ""
    return False, messages.APPROVE_NOT_ELIGIBLE.format(needed=requirement.describe())


def permitted_verbs(policy: PolicyDocument, subject: Subject, vocabulary: Vocabulary) -> list[str]:
    """Verbs the subject may use on some target (what ``help`` and ``whoami`` show)."""
    roles = roles_of(policy, subject)
    verbs = set()
    for verb in vocabulary.verbs:
        if any(policy.roles[r].allows(verb) for r in roles):
            verbs.add(verb)
    for rule in policy.rules:
        if rule.effect == "allow" and (
            rule.subjects is None
            or _rule_matches(
                rule.model_copy(
                    update={"nodes": None, "namespaces": [], "flags": [], "clusters": []}
                ),
                subject,
                roles,
                Action(verb=rule.verbs[0], target=""),
            )
        ):
            verbs |= set(vocabulary.verbs) if "*" in rule.verbs else set(rule.verbs)
    return sorted(verbs)
