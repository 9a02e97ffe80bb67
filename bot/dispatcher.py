"""The one path every chat surface uses: text in, a reply (and maybe a queued job) out.

Parsing, the policy check and queueing happen here, and so does the one ``except`` that turns
errors into replies: a :class:`ChatOpsError` shows its sentence; anything else is logged with
an incident id and the person gets a short generic answer, never a traceback.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from bot import grammar
from bot.jobs import Job, JobStore, Origin
from core import messages
from core.errors import ChatOpsError, PolicyDenied
from policies.engine import evaluate
from policies.model import Action, PolicyDocument, Subject

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """What to tell the person right away; ``job`` is set when work was queued."""

    text: str
    job: Job | None = None
    ok: bool = True


class Dispatcher:
    def __init__(self, policy: PolicyDocument, store: JobStore) -> None:
        self.policy = policy
        self.store = store

    def submit(self, text: str, *, user: str, origin: Origin) -> Reply:
        try:
            return self._submit(text, user=user, origin=origin)
        except ChatOpsError as error:
            log.info("refused %r from %s: %s", text[:200], user, error.user_message)
            return Reply(error.user_message, ok=False)
        except Exception:
            incident = uuid.uuid4().hex[:8]
            log.exception("dispatching %r for %s failed (incident %s)", text[:200], user, incident)
            return Reply(messages.INTERNAL_ERROR.format(incident=incident), ok=False)

    def _submit(self, text: str, *, user: str, origin: Origin) -> Reply:
        command = grammar.parse(text)
        decision = evaluate(
            self.policy, Subject(user_id=user), Action(verb=command.verb, target=command.target)
        )
        if not decision.allowed:
            raise PolicyDenied(
                messages.DENIED.format(user=user, verb=command.verb, reason=decision.reason)
            )
        if isinstance(command, grammar.HelpRequest):
            return Reply(grammar.help_text(command.topic))
        job = self.store.submit(command, requester=user, origin=origin, decision=decision.reason)
        log.info(
            "job %s queued for %s: %s (%s)", job.id, user, command.command_text(), decision.reason
        )
        return Reply(messages.QUEUED.format(job_id=job.id, command=command.command_text()), job=job)
