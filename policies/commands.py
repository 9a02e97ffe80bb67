"""``k8s-chatops policy validate FILE`` and ``policy check``: for reviews and policy CI."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from core.errors import ConfigurationError
from policies.engine import Facts, evaluate, groups_of, roles_of
from policies.loader import load_policy
from policies.model import VERBS, Action, Subject

_DISRUPTING = {"cordon", "drain"}


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
    check.add_argument("--command", required=True, help='e.g. "drain k8s-master --force"')
    check.add_argument("--node-labels", default=None, help="k=v,k2=v2 (omit: unknown)")
    check.add_argument("--unschedulable", type=int, default=None, help="nodes unschedulable now")
    check.add_argument("--nodes", type=int, default=None, help="nodes in the cluster")
    check.add_argument("--at", default=None, help="ISO time to decide at (default: now)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        policy = load_policy(args.file)
    except ConfigurationError as error:
        print(error.user_message, file=sys.stderr)
        return 1
    if args.policy_action == "validate":
        print(
            f"{args.file}: valid ({len(policy.roles)} roles, {len(policy.bindings)} bindings, "
            f"{len(policy.rules)} rules)"
        )
        return 0
    words = args.command.removeprefix("/k8s ").split()
    if not words or words[0] not in VERBS:
        print(
            f"unknown command {args.command!r}; verbs: {', '.join(sorted(VERBS))}", file=sys.stderr
        )
        return 2
    verb = words[0]
    node = words[1] if len(words) > 1 and not words[1].startswith("-") else None
    flags = frozenset(w.lstrip("-").split("=")[0] for w in words[1:] if w.startswith("--"))
    labels = None
    if args.node_labels is not None:
        labels = dict(pair.split("=", 1) for pair in args.node_labels.split(",") if pair)
    groups = frozenset(g for g in args.groups.split(",") if g) | groups_of(policy, args.user)
    subject = Subject(user_id=args.user, groups=groups, channel=args.channel)
    action = Action(
        verb=verb,
        target=f"node/{node}" if node else verb,
        node=node,
        node_labels=labels,
        flags=flags,
        disrupts=verb in _DISRUPTING and "dry-run" not in flags,
    )
    facts = Facts(unschedulable_nodes=args.unschedulable, total_nodes=args.nodes)
    if args.at:
        facts = Facts(
            now=datetime.fromisoformat(args.at),
            unschedulable_nodes=args.unschedulable,
            total_nodes=args.nodes,
        )
    decision = evaluate(policy, subject, action, facts)
    print(f"decision: {decision.outcome.value}")
    print(f"rule:     {decision.rule or '-'}")
    print(f"roles:    {', '.join(roles_of(policy, subject)) or 'none'}")
    print(f"reason:   {decision.reason}")
    if decision.requirement:
        print(f"needs:    {decision.requirement.describe()}")
    return 0
