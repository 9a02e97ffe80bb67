"""``k8s-chatops policy validate FILE`` and ``policy check``: for reviews and policy CI.

``check`` parses the command with the bot's own grammar and decides through the bot's own
:class:`~bot.commands.decider.Decider`, so it gives exactly the decision and rule the bot would;
an ``approve`` or ``deny`` then meets the same approver rules and, for ``approve``, the same
second decision of the job's own request (:mod:`bot.commands.approvals`). A CI job has no
cluster or Slack to ask, so the facts a decision may need (a node's labels, how many nodes are
unschedulable, how many requests someone made lately, Slack user-group membership, who asked
for the job an answer names) come from flags; when the decision would need one that was not
given, ``check`` names the flag that supplies it instead of guessing. The time is the one fact
with a default: now, or ``--at``. The cluster is routed as the bot routes it, as far as the file
can tell: ``-C`` in the command (or in ``--job-command``, for an answer to a job) or
``--cluster``, else the channel's default, else the file's only cluster; when rules or limits
scoped to clusters could decide and none of these names one, ``check`` asks for ``--cluster``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from bot.commands import grammar
from bot.commands.approvals import ApproveRequest, answer_refusal, still_refused
from bot.commands.decider import DEFAULT_DENY, Decider, rate_applies
from bot.commands.registry import Parsed, registry
from bot.jobs.facts import UNKNOWN, NodeFacts
from core.errors import ChatOpsError, ConfigurationError
from policies.engine import groups_of, roles_of, unschedulable_limit
from policies.loader import load_policy
from policies.model import Decision, NodeMatch, Outcome, PolicyDocument, Subject


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("policy", help="validate a policy file, or ask it a question")
    actions = parser.add_subparsers(dest="policy_action", required=True)
    validate = actions.add_parser("validate", help="check a policy file; exit 1 if invalid")
    validate.add_argument("file", type=Path)
    check = actions.add_parser("check", help="print the decision for one request and why")
    check.add_argument("--file", type=Path, required=True)
    check.add_argument("--user", required=True)
    check.add_argument(
        "--groups",
        default=None,
        help="the user's groups, comma-separated ('' for none); needed when the policy takes "
        "members from Slack user groups",
    )
    check.add_argument(
        "--channel",
        default=None,
        help="the Slack channel id it is asked in ('' for the terminal shell); needed when a "
        "binding holds only in some channels",
    )
    check.add_argument(
        "--cluster",
        default=None,
        help="the cluster the command is for, or the job's for an answer (or -C in --command); "
        "needed when rules or limits are scoped to clusters",
    )
    check.add_argument("--command", required=True, help='e.g. "drain k8s-master --force"')
    check.add_argument("--node-labels", default=None, help="the target node's labels: k=v,k2=v2")
    check.add_argument("--unschedulable", type=int, default=None, help="nodes unschedulable now")
    check.add_argument("--nodes", type=int, default=None, help="nodes in the cluster")
    check.add_argument(
        "--target-unschedulable",
        nargs="?",
        const="yes",
        choices=("yes", "no"),
        default=None,
        help="whether the target node is already cordoned (alone: yes)",
    )
    check.add_argument(
        "--recent", type=int, default=None, help="changes this user asked for in the rate window"
    )
    check.add_argument(
        "--requester",
        default=None,
        help="who asked for the job the command names (approve, deny, cancel)",
    )
    check.add_argument(
        "--requester-groups",
        default=None,
        help="the requester's groups, comma-separated, like --groups",
    )
    check.add_argument(
        "--job-command",
        default=None,
        help='what that job asks for, e.g. "drain k8s-node1" (approve, deny)',
    )
    check.add_argument("--at", default=None, help="ISO time to decide at (default: now)")
    parser.set_defaults(run=run)


@dataclass(frozen=True)
class _Question:
    """What ``check`` was asked, parsed: the command, and the job it answers if any."""

    parsed: Parsed
    job: Parsed | None

    @property
    def answer(self) -> ApproveRequest | None:
        if not self.parsed.command.answers_approval:
            return None
        return cast(ApproveRequest, self.parsed.request)

    @property
    def routed(self) -> bool:
        """The bot sends it to one cluster: a job, or a command naming a job (its cluster)."""
        command = self.parsed.command
        return command.perform is not None or command.names_a_job

    @property
    def verbs(self) -> set[str]:
        """The verbs decided: the command's, and for an answer the job's own request's."""
        asked = [self.parsed, *([self.job] if self.job is not None else [])]
        return {a.verb for p in asked for a in p.command.actions(p.request)}


def run(args: argparse.Namespace) -> int:
    vocabulary = registry().vocabulary()
    try:
        policy = load_policy(args.file, vocabulary)
    except ConfigurationError as error:
        print(error.user_message, file=sys.stderr)
        return 1
    if args.policy_action == "validate":
        print(
            f"{args.file}: valid ({len(policy.roles)} roles, {len(policy.bindings)} bindings, "
            f"{len(policy.rules)} rules)"
        )
        return 0
    try:
        question = _Question(
            grammar.parse_command(args.command),
            grammar.parse_command(args.job_command) if args.job_command else None,
        )
    except ChatOpsError as error:
        print(error.user_message, file=sys.stderr)
        return 2
    named = _named_clusters(question, args)
    if len(set(named.values())) > 1:
        print(" and ".join(f"{k} {v}" for k, v in named.items()) + " disagree", file=sys.stderr)
        return 2
    cluster = _cluster(policy, question, args, next(iter(named.values()), None))
    missing = missing_facts(policy, question, args, cluster)
    if missing:
        print(
            "this decision needs facts that were not given: " + "; ".join(missing),
            file=sys.stderr,
        )
        return 2
    subject = _subject(policy, args.user, args.groups, args.channel)
    given = NodeFacts(
        labels=_labels(args.node_labels),
        unschedulable=None
        if args.target_unschedulable is None
        else args.target_unschedulable == "yes",
        total_nodes=args.nodes,
        unschedulable_nodes=args.unschedulable,
    )
    decider = Decider(
        lambda: policy,
        registry(),
        lambda node, cluster: given,
        lambda user, window, cluster: args.recent or 0,
    )
    at = datetime.fromisoformat(args.at) if args.at else datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    decision = decider.decide(
        subject, question.parsed, owner=args.requester, now=at, cluster=cluster
    )
    if decision.outcome is not Outcome.DENY and question.answer is not None:
        try:
            answered = _answered(policy, decider, subject, question, args, at=at, cluster=cluster)
            decision = answered or decision
        except _NothingToAnswer as error:
            print(str(error), file=sys.stderr)
            return 2
    print(f"decision: {decision.outcome.value}")
    print(f"rule:     {decision.rule or '-'}")
    print(f"roles:    {', '.join(roles_of(policy, subject)) or 'none'}")
    print(f"cluster:  {cluster or '-'}")
    print(f"reason:   {decision.reason}")
    if decision.requirement:
        print(f"needs:    {decision.requirement.describe()}")
    if policy.limits.for_cluster(cluster).change_windows:
        when = "given by --at" if args.at else "now; --at decides at another time"
        print(f"at:       {at.isoformat(timespec='minutes')} ({when}; change windows use it)")
    return 0


def _named_clusters(question: _Question, args: argparse.Namespace) -> dict[str, str]:
    """The clusters the question names, by where (they must agree)."""
    named = {
        "--cluster": args.cluster,
        "-C in --command": question.parsed.cluster,
        "-C in --job-command": question.job.cluster if question.job is not None else None,
    }
    return {where: cluster for where, cluster in named.items() if cluster}


def _cluster(
    policy: PolicyDocument, question: _Question, args: argparse.Namespace, named: str | None
) -> str | None:
    """The cluster the bot would route to, as far as the file knows (it cannot see which
    clusters have workers, nor the bot's own default): the one named; for a command the bot
    answers itself, none (about every cluster); else — a job, or the job an answer names — the
    channel's default, else the file's only cluster."""
    if named or not question.routed:
        return named
    only = policy.clusters[0] if len(policy.clusters) == 1 else None
    return policy.default_cluster(args.channel or None) or only


class _NothingToAnswer(Exception):
    """The job command would not wait for approval under this policy."""


def _answered(
    policy: PolicyDocument,
    decider: Decider,
    subject: Subject,
    question: _Question,
    args: argparse.Namespace,
    *,
    at: datetime,
    cluster: str | None,
) -> Decision | None:
    """What :class:`~bot.commands.approvals.Approvals` adds once the verb is allowed, in the
    same order: the job's request decided again now on its ``cluster`` (``approve`` only), then
    the approver rules. The approvals the job needs are those its command needs under this
    policy (as if it had arrived under it). None: nothing refuses the answer."""
    answer, job, requester = question.answer, question.job, args.requester
    assert answer is not None
    if job is None:  # withdrawing one's own request: no approver rules
        return None
    owner = _subject(policy, requester, args.requester_groups, args.channel)
    requirement = decider.approvals_needed(owner, job, cluster)
    if requirement is None:
        raise _NothingToAnswer(
            f"under this policy `{job.request.command_text()}` asked by {requester} does not "
            f"wait for approval, so there is no job of it to "
            f"{'approve' if answer.approve else 'deny'}"
        )
    if answer.approve:
        again = decider.decide(owner, job, now=at, counted=True, cluster=cluster)
        refusal = still_refused(again, answer, requester)
        if refusal is not None:
            return _denial(refusal.sentence, refusal.rule, subject, policy)
    refusal = answer_refusal(policy, subject, answer, requirement, requester)
    if refusal is not None:
        return _denial(refusal.sentence, refusal.rule, subject, policy)
    return None


def _denial(reason: str, rule: str, subject: Subject, policy: PolicyDocument) -> Decision:
    return Decision(outcome=Outcome.DENY, reason=reason, rule=rule, roles=roles_of(policy, subject))


def _subject(policy: PolicyDocument, user: str, groups: str | None, channel: str | None) -> Subject:
    """As the bot builds it: listed groups plus the user groups given, and the channel
    (none for the terminal shell)."""
    named = frozenset(g for g in (groups or "").split(",") if g)
    return Subject(user_id=user, groups=named | groups_of(policy, user), channel=channel or None)


def _labels(text: str | None) -> dict[str, str] | None:
    if text is None:
        return None
    return dict(pair.split("=", 1) for pair in text.split(",") if "=" in pair)


def missing_facts(
    policy: PolicyDocument,
    question: _Question,
    args: argparse.Namespace,
    cluster: str | None = None,
) -> list[str]:
    """The flags this decision needs that were not given (the bot knows the answer from its
    workers, Slack, the job and its routing; a reviewer must state it). Asks only for facts
    that can change the answer: none about the cluster when nothing grants the verb anyway,
    which cluster only when rules or limits scoped to clusters could decide, labels only for
    rules whose selector could decide (a node named by a rule's ``names`` needs none), counts
    only for changes that take a node out of service."""
    needs: list[str] = []
    command, answer = question.parsed.command, question.answer
    if command.names_a_job and args.requester is None:
        needs.append(f"`{command.verb}` names a job: give --requester (who asked for it)")
    if (
        answer is not None
        and question.job is None
        and (answer.approve or args.requester != args.user)
    ):
        needs.append(
            "an answer to a job depends on what it asks for: give --job-command "
            '(e.g. "drain k8s-node1")'
        )
    who: list[str] = []
    from_slack = sorted(name for name, group in policy.groups.items() if group.slack_usergroup)
    if from_slack and args.groups is None:
        who.append(
            f"group(s) {', '.join(from_slack)} take members from Slack: give --groups "
            "(the user's groups, comma-separated; '' for none)"
        )
    if args.channel is None and any(binding.channels for binding in policy.bindings):
        who.append(
            "some bindings hold only in some channels: give --channel (the channel id; '' for "
            "the terminal shell)"
        )
    unrouted = cluster is None and question.routed
    if who or not _refused_whatever_the_facts(policy, question.parsed, args, cluster, unrouted):
        if unrouted and _scoped_to_clusters(policy, question.verbs):
            needs.append("the policy scopes rules or limits to clusters: give --cluster")
        needs += _node_facts(
            policy, question.parsed, args, cluster, counted=False, unrouted=unrouted
        )
        if question.job is not None and answer is not None:
            needs += _node_facts(
                policy, question.job, args, cluster, counted=True, unrouted=unrouted
            )
            if from_slack and args.requester_groups is None:
                needs.append(
                    f"group(s) {', '.join(from_slack)} take members from Slack: give "
                    "--requester-groups (the requester's groups; '' for none)"
                )
    return list(dict.fromkeys(needs + who))


def _scoped_to_clusters(policy: PolicyDocument, verbs: set[str]) -> bool:
    rules = any(
        rule.clusters and ("*" in rule.verbs or verbs & set(rule.verbs)) for rule in policy.rules
    )
    return rules or bool(policy.protected.clusters or policy.limits.per_cluster)


def _applies_on(rule_clusters: list[str], cluster: str | None, unrouted: bool) -> bool:
    """Whether something scoped to ``rule_clusters`` may apply on ``cluster`` (any of them,
    while the cluster is still to be given)."""
    return not rule_clusters or unrouted or cluster in rule_clusters


def _refused_whatever_the_facts(
    policy: PolicyDocument,
    parsed: Parsed,
    args: argparse.Namespace,
    cluster: str | None,
    unrouted: bool,
) -> bool:
    """Nothing grants the verb to this person, and no grant depends on a node's labels or
    (while it is still to be given) on the cluster: the default deny comes before any limit,
    so no fact about the cluster can change it."""
    subject = _subject(policy, args.user, args.groups, args.channel)
    decider = Decider(lambda: policy, registry(), lambda node, c: UNKNOWN, lambda u, w, c: 0)
    decision = decider.decide(subject, parsed, owner=args.requester, cluster=cluster)
    grants = [
        rule
        for rule in policy.rules
        if rule.effect == "allow" and _applies_on(rule.clusters, cluster, unrouted)
    ]
    grants_by_label = any(rule.nodes is not None and rule.nodes.selector for rule in grants)
    grants_by_cluster = unrouted and any(rule.clusters for rule in grants)
    return decision.rule == DEFAULT_DENY and not grants_by_label and not grants_by_cluster


def _node_facts(
    policy: PolicyDocument,
    parsed: Parsed,
    args: argparse.Namespace,
    cluster: str | None,
    *,
    counted: bool,
    unrouted: bool,
) -> list[str]:
    """The facts about ``cluster`` (its nodes, and this person's recent changes there) the
    decision of ``parsed`` needs that were not given (``unrouted``: the cluster is still to
    be given, so rules scoped to any cluster may decide)."""
    needs: list[str] = []
    actions = parsed.command.actions(parsed.request)
    for action in actions:
        if action.node is None or args.node_labels is not None:
            continue
        selectors: list[NodeMatch] = [
            rule.nodes
            for rule in policy.rules
            if rule.nodes is not None
            and ("*" in rule.verbs or action.verb in rule.verbs)
            and _applies_on(rule.clusters, cluster, unrouted)
        ]
        guard = policy.protected
        if (
            not action.read_only
            and guard.nodes is not None
            and _applies_on(guard.clusters, cluster, unrouted)
        ):
            selectors.append(guard.nodes)
        if any(m.selector and not m.names_match(action.node) for m in selectors):
            needs.append("a rule selects nodes by label: give the node's labels with --node-labels")
    limits = policy.limits.for_cluster(cluster)
    limit = limits.max_unschedulable
    if limit is not None and any(action.disrupts for action in actions):
        if args.unschedulable is None:
            needs.append("max_unschedulable applies: give --unschedulable (nodes cordoned now)")
        if isinstance(limit, str) and args.nodes is None:
            needs.append(f"max_unschedulable is {limit}: give --nodes (nodes in the cluster)")
        cap = unschedulable_limit(policy, args.nodes, cluster)
        if (
            cap is not None
            and args.unschedulable is not None
            and args.unschedulable + 1 > cap
            and args.target_unschedulable is None
        ):
            needs.append(
                f"{args.unschedulable} node(s) are unschedulable and the limit is {cap}, so it "
                "depends on the target: give --target-unschedulable yes|no (already cordoned?)"
            )
    rate = limits.rate
    if (
        rate is not None
        and not counted
        and args.recent is None
        and any(rate_applies(parsed.command, action) for action in actions)
    ):
        needs.append("a rate limit applies: give --recent (changes this user asked for lately)")
    return needs
