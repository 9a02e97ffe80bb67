"""What the bot says back right away."""

from __future__ import annotations

from dataclasses import dataclass

from bot.jobs.model import Job


@dataclass(frozen=True)
class Reply:
    """The immediate answer; ``job`` is set when a job was created or changed, and
    ``created`` only when this request made it (a new job gets a card; a changed one has
    one already)."""

    text: str
    job: Job | None = None
    ok: bool = True
    duplicate: bool = False
    created: bool = False
    #: The job went to a cluster no live worker serves: it waits in the queue until one starts.
    no_worker: bool = False
    #: What decided it: a policy rule's name, ``default deny``, ``limits``, ``approvers``…
    #: (empty for answers no policy decision produced, such as a command that did not parse).
    rule: str = ""
