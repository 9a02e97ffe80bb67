"""The policy's view of a read that spans namespaces (``logs``, ``get pods``, ``get events``,
``describe pod``): one action per namespace named, so a rule denying a namespace applies, and
for ``-A`` the namespaces a rule would refuse left out instead of refusing the whole read."""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands.registry import Context
from core import messages
from core.text import code
from policies.engine import evaluate
from policies.model import Action, Outcome


def namespace_actions(
    verb: str,
    target: str,
    flags: frozenset[str],
    namespaces: Sequence[str],
    *,
    all_namespaces: bool = False,
) -> list[Action]:
    """Each namespace named must be allowed; ``-A`` is decided for "any namespace"."""
    chosen: list[str | None] = [None] if all_namespaces else [*namespaces]
    return [
        Action(verb=verb, target=target, namespace=namespace, flags=flags, read_only=True)
        for namespace in chosen
    ]


def explain_denial(action: Action, reason: str) -> str:
    if action.namespace:
        return messages.LOGS_DENIED_IN.format(namespace=code(action.namespace), reason=reason)
    return messages.LOGS_DENIED_EVERYWHERE.format(reason=reason)


def refused_namespaces(
    context: Context, verb: str, target: str, flags: frozenset[str]
) -> tuple[str, ...]:
    """The namespaces the policy's rules name that this person may not read on the command's
    cluster: what ``-A`` leaves out, so one restricted namespace does not refuse the rest."""
    policy = context.policy
    named = {namespace for rule in policy.rules for namespace in rule.namespaces}
    return tuple(
        sorted(
            namespace
            for namespace in named
            if evaluate(
                policy,
                context.subject,
                Action(
                    verb=verb,
                    target=target,
                    cluster=context.cluster,
                    namespace=namespace,
                    flags=flags,
                    read_only=True,
                ),
            ).outcome
            is not Outcome.ALLOW
        )
    )
