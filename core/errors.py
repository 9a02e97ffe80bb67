"""One error tree for the whole project.

Every expected failure carries the sentence a user should see (``user_message``); the
dispatcher catches :class:`ChatOpsError` once and shows that sentence. Anything else is a bug:
it is logged with its traceback and the user gets a short generic reply.
"""

from __future__ import annotations


class ChatOpsError(Exception):
    """An expected failure with a message that is safe to show to the person who asked."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class CommandError(ChatOpsError):
    """The command text could not be understood; nothing was done."""


class PolicyDenied(ChatOpsError):
    """Policy refused the request; nothing was done. ``rule`` names what decided (a rule's
    name, ``default deny``, ``limits``, ``approvers``), for the audit and for reviews."""

    def __init__(self, user_message: str, *, rule: str = "") -> None:
        super().__init__(user_message)
        self.rule = rule


class QueueUnavailable(ChatOpsError):
    """Redis could not be reached, so the request was not queued; nothing was done."""


class JobNotFound(ChatOpsError):
    """A job id that does not exist (or has expired) was named."""


class JobUnreadable(JobNotFound):
    """A job record exists but does not validate (written by a bug or an older version).

    It is treated like a missing job by every loop, so one bad record cannot stop ``jobs``,
    expiry, the notifier or a worker; the record itself is kept for a look and logged.
    """


class ConfigurationError(ChatOpsError):
    """A setting or file the process needs is missing or invalid."""
