"""The decision: which roles a subject holds, and whether any of them allows the verb.

Unknown users (not in ``users``) may only use the read verbs in ``unknown_users``. A denial
says which roles were considered, so the person knows whom to ask for what.
"""

from __future__ import annotations

from core import messages
from policies.model import Action, Decision, Outcome, PolicyDocument, Subject


def evaluate(policy: PolicyDocument, subject: Subject, action: Action) -> Decision:
    roles = tuple(policy.users.get(subject.user_id, ()))
    if not roles:
        if action.verb in policy.unknown_users:
            return Decision(outcome=Outcome.ALLOW, reason="read access for everyone")
        verbs = ", ".join(sorted(policy.unknown_users)) or "nothing"
        return Decision(
            outcome=Outcome.DENY, reason=messages.DENIED_UNKNOWN_USER.format(verbs=verbs)
        )
    granting = tuple(r for r in roles if policy.roles[r].allows(action.verb))
    if granting:
        return Decision(outcome=Outcome.ALLOW, reason=f"allowed by role {granting[0]}", roles=roles)
    return Decision(
        outcome=Outcome.DENY,
        reason=messages.DENIED_NO_ROLE_ALLOWS.format(roles=", ".join(roles), verb=action.verb),
        roles=roles,
    )
