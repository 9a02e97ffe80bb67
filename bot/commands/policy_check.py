"""``k8s-chatops policy validate FILE`` and ``policy check``: for reviews and policy CI.

``check`` parses the command with the bot's own grammar and decides through the bot's own
:class:`~bot.commands.decider.Decider`, so it gives exactly the decision and rule the bot would.
A CI job has no cluster to ask, so the facts rules may need (a node's labels, how many nodes
are unschedulable, how many requests someone made lately, which cluster) come from flags; when
a rule would need one that was not given, ``check`` says which flag supplies it instead of
guessing. The cluster is routed as the bot routes it, as far as the file can tell: ``-C`` in
the command or ``--cluster``, else the channel's default, else the file's only cluster.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from bot.commands import grammar
from bot.commands.decider import Decider
from bot.commands.registry import Parsed, registry
from bot.jobs.facts import NodeFacts
from core.errors import ChatOpsError, ConfigurationError
from policies.engine import groups_of, roles_of
from policies.loader import load_policy
from policies.model import Action, PolicyDocument, Subject


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("policy", help="validate a policy file, or ask it a question")
    actions = parser.add_subparsers(dest="policy_action", required=True)
    validate = actions.add_parser("validate", help="check a policy file; exit 1 if invalid")
    validate.add_argument("file", type=Path)
    check = actions.add_parser("check", help="print the decision for one request and why")
    check.add_argument("--file", type=Path, required=True)
    check.add_argument("--user", required=True)
    check.add_argument("--groups", default="", help="comma-separated group names")
    check.add_argument("--channel")
    check.add_argument("--cluster", help="the cluster the command is for (or -C in --command)")
    check.add_argument("--command", required=True, help='e.g. "drain k8s-master --force"')
    check.add_argument("--node-labels", default=None, help="the target node's labels: k=v,k2=v2")
    check.add_argument("--unschedulable", type=int, default=None, help="nodes unschedulable now")
    check.add_argument("--nodes", type=int, default=None, help="nodes in the cluster")
    check.add_argument(
        "--target-unschedulable", action="store_true", help="the target node is already cordoned"
    )
    check.add_argument(
        "--recent", type=int, default=None, help="changes this user asked for in the rate window"
    )
    check.add_argument("--at", default=None, help="ISO time to decide at (default: now)")
    parser.set_defaults(run=run)


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
        parsed = grammar.parse_command(args.command)
    except ChatOpsError as error:
        print(error.user_message, file=sys.stderr)
        return 2
    if args.cluster and parsed.cluster and args.cluster != parsed.cluster:
        print(f"--cluster {args.cluster} and -C {parsed.cluster} disagree", file=sys.stderr)
        return 2
    cluster = _cluster(policy, parsed, args)
    actions = parsed.command.actions(parsed.request)
    missing = missing_facts(policy, parsed, actions, args, cluster)
    if missing:
        print(
            "this decision needs facts that were not given: " + "; ".join(missing),
            file=sys.stderr,
        )
        return 2
    groups = frozenset(g for g in args.groups.split(",") if g) | groups_of(policy, args.user)
    subject = Subject(user_id=args.user, groups=groups, channel=args.channel)
    labels = _labels(args.node_labels)
    given = NodeFacts(
        labels=labels,
        unschedulable=args.target_unschedulable,
        total_nodes=args.nodes,
        unschedulable_nodes=args.unschedulable,
    )
    decider = Decider(
        lambda: policy,
        registry(),
        lambda node, cluster: given,
        lambda user, window, cluster: args.recent or 0,
    )
    at = datetime.fromisoformat(args.at) if args.at else None
    decision = decider.decide(subject, parsed, now=at, cluster=cluster)
    print(f"decision: {decision.outcome.value}")
    print(f"rule:     {decision.rule or '-'}")
    print(f"roles:    {', '.join(roles_of(policy, subject)) or 'none'}")
    print(f"cluster:  {cluster or '-'}")
    print(f"reason:   {decision.reason}")
    if decision.requirement:
        print(f"needs:    {decision.requirement.describe()}")
    return 0


def _cluster(policy: PolicyDocument, parsed: Parsed, args: argparse.Namespace) -> str | None:
    """The cluster the bot would route to, as far as the file knows (it cannot see which
    clusters have workers, nor the bot's own default)."""
    named: str | None = parsed.cluster or args.cluster
    if named or parsed.command.perform is None:
        return named
    only = policy.clusters[0] if len(policy.clusters) == 1 else None
    return policy.default_cluster(args.channel) or only


def _scoped_to_clusters(policy: PolicyDocument, verbs: set[str]) -> bool:
    rules = any(
        rule.clusters and ("*" in rule.verbs or verbs & set(rule.verbs)) for rule in policy.rules
    )
    return rules or bool(policy.protected.clusters or policy.limits.per_cluster)


def _labels(text: str | None) -> dict[str, str] | None:
    if text is None:
        return None
    return dict(pair.split("=", 1) for pair in text.split(",") if "=" in pair)


def missing_facts(
    policy: PolicyDocument,
    parsed: Parsed,
    actions: list[Action],
    args: argparse.Namespace,
    cluster: str | None = None,
) -> list[str]:
    """Which flags this decision needs that were not given (the bot would know the answer from
    its workers; a reviewer must state it)."""
    verbs = {action.verb for action in actions}
    changes = any(not action.read_only for action in actions)
    on_node = any(action.node for action in actions)
    needs: list[str] = []
    if (
        cluster is None
        and parsed.command.perform is not None
        and _scoped_to_clusters(policy, verbs)
    ):
        needs.append("the policy scopes rules or limits to clusters: give --cluster")
    label_rules = [
        rule
        for rule in policy.rules
        if rule.nodes is not None
        and rule.nodes.selector
        and ("*" in rule.verbs or verbs & set(rule.verbs))
    ]
    protected_by_label = policy.protected.nodes is not None and bool(
        policy.protected.nodes.selector
    )
    if on_node and args.node_labels is None and (label_rules or (changes and protected_by_label)):
        needs.append("a rule selects nodes by label: give the node's labels with --node-labels")
    limits = policy.limits.for_cluster(cluster)
    limit = limits.max_unschedulable
    disrupts = any(action.disrupts for action in actions)
    if disrupts and limit is not None:
        if args.unschedulable is None:
            needs.append("max_unschedulable applies: give --unschedulable (nodes cordoned now)")
        if isinstance(limit, str) and args.nodes is None:
            needs.append(f"max_unschedulable is {limit}: give --nodes (nodes in the cluster)")
    if changes and limits.rate is not None and args.recent is None:
        needs.append("a rate limit applies: give --recent (changes this user asked for lately)")
    return needs
