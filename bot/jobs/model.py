"""Jobs: what was asked, by whom, where it came from, and every state it went through.

The lifecycle (``docs/jobs.md``)::

    awaiting_approval ─▶ queued ─▶ running ─▶ succeeded | failed | cancelled
           │               │
           ├─▶ denied      └─▶ cancelled
           ├─▶ expired
           └─▶ cancelled

A running job may be taken over by another worker after its worker stopped renewing its
claim (``running ─▶ running``, recorded with both workers' names). Every transition is kept
in ``history`` with who made it, when and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, SerializeAsAny

from core import messages
from core.i18n import ENGLISH
from handlers.base import RequestBase, ResultBase, as_request, as_result
from policies.model import Requirement

PREFIX = "k8s-chatops"


class JobState(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DENIED = "denied"
    EXPIRED = "expired"

    @property
    def finished(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset(
    {
        JobState.SUCCEEDED,
        JobState.FAILED,
        JobState.CANCELLED,
        JobState.DENIED,
        JobState.EXPIRED,
    }
)

_STATE_NAMES = {
    JobState.AWAITING_APPROVAL: messages.STATE_AWAITING_APPROVAL,
    JobState.QUEUED: messages.STATE_QUEUED,
    JobState.RUNNING: messages.STATE_RUNNING,
    JobState.SUCCEEDED: messages.STATE_SUCCEEDED,
    JobState.FAILED: messages.STATE_FAILED,
    JobState.CANCELLED: messages.STATE_CANCELLED,
    JobState.DENIED: messages.STATE_DENIED,
    JobState.EXPIRED: messages.STATE_EXPIRED,
}


def state_name(state: JobState) -> str:
    """A state as a sentence says it, in the request's language ("it is expired")."""
    return _STATE_NAMES[state].format()


#: Which state may follow which. Anything else is refused by the store.
TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.AWAITING_APPROVAL: frozenset(
        {
            JobState.AWAITING_APPROVAL,
            JobState.QUEUED,
            JobState.DENIED,
            JobState.EXPIRED,
            JobState.CANCELLED,
        }
    ),
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.CANCELLED}),
    JobState.RUNNING: frozenset(
        {
            JobState.RUNNING,
            JobState.SUCCEEDED,
            JobState.FAILED,
            JobState.CANCELLED,
        }
    ),
}


class Origin(BaseModel):
    """Where the request came from, so the result goes back to the same place, in the
    language people read there (a Slack channel's, or the shell's ``--lang``)."""

    surface: Literal["slack", "shell"]
    channel: str | None = None
    thread_ts: str | None = None
    response_url: str | None = None
    language: str = ENGLISH


class Transition(BaseModel):
    """One step of a job's life, kept for the audit and for people asking "what happened"."""

    state: JobState
    by: str
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    reason: str = ""


class Approval(BaseModel):
    by: str
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    reason: str = ""


class ApprovalState(BaseModel):
    """What a job needs before it may run, and who has approved so far."""

    requirement: Requirement
    expires_at: datetime
    approvals: list[Approval] = Field(default_factory=list)

    def approved_by(self, user: str) -> bool:
        return any(a.by == user for a in self.approvals)

    @property
    def complete(self) -> bool:
        return len(self.approvals) >= self.requirement.count


class Job(BaseModel):
    id: str
    cluster: str
    request: Annotated[SerializeAsAny[RequestBase], BeforeValidator(as_request)]
    requester: str
    origin: Origin
    state: JobState = JobState.QUEUED
    version: int = 0
    decision: str = ""
    #: The requester's roles when the policy decided; used to impersonate them in the cluster.
    roles: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    started_at: datetime | None = None
    finished_at: datetime | None = None
    worker: str | None = None
    attempts: int = 0
    result: Annotated[SerializeAsAny[ResultBase] | None, BeforeValidator(as_result)] = None
    error: str | None = None
    history: list[Transition] = Field(default_factory=list)
    approval: ApprovalState | None = None
    #: The end of the change window the job was queued in (when approved, or on arrival when
    #: it needed no approval): workers, which do not load the policy, refuse to start it
    #: later. None: no change windows, or a read.
    run_before: datetime | None = None

    @property
    def target(self) -> str:
        return self.request.target


class EventType(StrEnum):
    """The kinds of entry on a job's own event stream (``k8s-chatops:job:{id}:events``)."""

    PROGRESS = "progress"
    FINISHED = "finished"


class JobEvent(BaseModel):
    """One entry of a job's event stream: coalesced progress lines, or the final state."""

    type: EventType
    job_id: str
    message: str = ""
    state: JobState | None = None


class QueueKind(StrEnum):
    """What a queue entry asks a worker for. ``RUN`` is written without a ``kind`` field."""

    RUN = "run"
    PLAN = "plan"


class NotifyKind(StrEnum):
    """What a ``k8s-chatops:notify`` entry asks the Slack notifier for.

    ``RESULT`` (a finished job's result, posted once) is written without a ``kind`` field;
    the others refresh the job's card and may be dropped.
    """

    RESULT = "result"
    PROGRESS = "progress"
    PLAN = "plan"
    STATE = "state"


class Notification(BaseModel, frozen=True):
    """One entry of the notify stream, parsed: a kind the notifier does not know is refused
    here rather than mistaken for a result."""

    entry_id: str
    job_id: str
    kind: NotifyKind = NotifyKind.RESULT
    #: The last progress line, for ``PROGRESS``.
    line: str = ""


class CardLocation(BaseModel, frozen=True):
    """Where a job's Slack card was posted: its thread and the message to update."""

    channel: str
    ts: str


@dataclass(frozen=True)
class Outcome:
    """How a worker's run of a job ended: the final state and what to store with it."""

    state: JobState
    result: ResultBase | None = None
    error: str | None = None

    @property
    def reason(self) -> str:
        """What the history says about the final step."""
        return self.error or "done"

    def changes(self) -> dict[str, Any]:
        """The job fields this outcome sets, as ``JobStore.transition``'s keyword arguments (a
        field it leaves unset is not touched)."""
        fields: dict[str, Any] = {}
        if self.result is not None:
            fields["result"] = self.result
        if self.error is not None:
            fields["error"] = self.error
        return fields


def job_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}"


def events_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:events"


def cancel_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}:cancel"


def queue_key(cluster: str) -> str:
    return f"{PREFIX}:{cluster}:queue"


def lock_key(cluster: str, target: str) -> str:
    return f"{PREFIX}:{cluster}:lock:{target}"


def node_facts_key(cluster: str) -> str:
    return f"{PREFIX}:{cluster}:nodes"


def rate_key(cluster: str, user: str) -> str:
    return f"{PREFIX}:{cluster}:rate:{user}"


def refusal_count_key(user: str, minute: int) -> str:
    """How many of ``user``'s refusals were audited in one minute (the audit's flood guard)."""
    return f"{PREFIX}:refusals:{user}:{minute}"


def disrupted_key(cluster: str) -> str:
    return f"{PREFIX}:{cluster}:disrupted"


def idempotency_key(key: str) -> str:
    """A chat request's own id → its job: global, so a redelivery finds its job whichever
    cluster the first delivery was routed to."""
    return f"{PREFIX}:idem:{key}"


def worker_key(cluster: str, worker: str) -> str:
    """A worker's heartbeat: what it serves, expiring unless renewed."""
    return f"{PREFIX}:{cluster}:worker:{worker}"


def workers_key(cluster: str) -> str:
    """The cluster's workers by the time their heartbeat expires (a sorted set)."""
    return f"{PREFIX}:{cluster}:workers"


SEQUENCE_KEY = f"{PREFIX}:job-seq"
#: Job ids by creation time, for every cluster (ids are global; ``jobs`` filters by cluster).
INDEX_KEY = f"{PREFIX}:jobs"
#: Clusters by the time a worker last reported from them (a sorted set).
CLUSTERS_KEY = f"{PREFIX}:clusters"
NOTIFY_STREAM = f"{PREFIX}:notify"
AUDIT_STREAM = f"{PREFIX}:audit"
WORKER_GROUP = "workers"
NOTIFY_GROUP = "notifiers"
