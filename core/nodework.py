"""The Redis protocol between workers and node agents: heartbeats, tasks and task events.

A node agent (:mod:`nodeagent`) runs on each node next to the container runtime; the worker
that turns a chat command into work cannot reach the runtime's socket, so it leaves a
:class:`Task` on the node's task list and reads the agent's answers from the task's event
stream. Both sides import only this module, so the wire format lives in one place; the
worker converts the replies into the handlers' result types (``handlers.images``).

Keys (``{cluster}`` as the worker's, ``{node}`` the node's name; docs/jobs.md#node-agents):

- ``k8s-chatops:{cluster}:agent:{node}``: the agent's :class:`AgentBeat`, expiring after three
  heartbeat intervals; ``k8s-chatops:{cluster}:agents``: nodes by the time their beat expires.
- ``k8s-chatops:{cluster}:agent:{node}:tasks``: a list; the worker RPUSHes a task, the agent
  BLPOPs it. A task nobody took expires with the list (:data:`TASK_LIST_TTL`), and an agent
  that finds a task past its ``deadline`` skips it: a task never runs after the worker that
  asked for it has given up waiting.
- ``k8s-chatops:{cluster}:task:{id}:events``: a stream of :class:`TaskEvent` — ``accepted``
  once, an ``item`` per image a prune or ``rmi`` dealt with (so if the agent dies mid-prune,
  the worker still knows what was removed), then one ``done`` (with the reply) or ``failed``.
- ``k8s-chatops:{cluster}:task:{id}:lease``: held by the agent while it works on the task
  (:data:`LEASE_SECONDS`, renewed every second); when it lapses before ``done``, the agent
  died or lost Redis, and the worker reports ``agent-lost`` with the items it saw.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core import limits

PREFIX = "k8s-chatops"
#: Seconds between an agent's heartbeats; a beat lives three of them.
HEARTBEAT_INTERVAL = 5.0
#: How long an agent's claim on a task it is working on lasts without renewal.
LEASE_SECONDS = 3.0
#: A task list nobody reads (no agent on the node) is dropped after this long.
TASK_LIST_TTL = 3600
#: How long a task's events are kept after the last one.
EVENTS_TTL = 3600
#: The most image ids an approved prune carries for one node, and the length of one (CRI
#: ids are ``sha256:`` and 64 hex digits, or the bare digits).
MAX_APPROVED_IDS = 5000
MAX_ID_CHARS = 100
#: A task bigger than this is refused (``bad-task``) before it is parsed. No valid task comes
#: near it: every list and string in one is bounded, the largest (a full approved prune)
#: stays under 700 KB however its keep patterns are escaped (tests/unit/test_nodework.py).
#: Redis is the trust boundary (docs/images.md); this keeps a stray or hostile write from
#: costing an agent more than a bounded parse.
MAX_TASK_BYTES = 1024 * 1024


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


def _now() -> datetime:
    return datetime.now(UTC)


# --- Keys ------------------------------------------------------------------------------------


def agent_key(cluster: str, node: str) -> str:
    return f"{PREFIX}:{cluster}:agent:{node}"


def agents_key(cluster: str) -> str:
    return f"{PREFIX}:{cluster}:agents"


def tasks_key(cluster: str, node: str) -> str:
    return f"{PREFIX}:{cluster}:agent:{node}:tasks"


def task_events_key(cluster: str, task_id: str) -> str:
    return f"{PREFIX}:{cluster}:task:{task_id}:events"


def task_lease_key(cluster: str, task_id: str) -> str:
    return f"{PREFIX}:{cluster}:task:{task_id}:lease"


# --- What agents report ----------------------------------------------------------------------


class FsUsage(_Wire):
    """One image filesystem: CRI's ``ImageFsInfo`` entry, and its capacity when the agent can
    see the filesystem (``statvfs``)."""

    mountpoint: str
    used_bytes: int
    inodes_used: int | None = None
    capacity_bytes: int | None = None
    available_bytes: int | None = None


class AgentBeat(_Wire):
    """A node agent's heartbeat. ``runtime_error`` is set (and the runtime fields may be
    empty) while the agent cannot reach its runtime: the agent is alive, the runtime is not."""

    node: str
    cluster: str
    agent: str
    started_at: datetime
    at: datetime = Field(default_factory=_now)
    runtime_name: str = ""
    runtime_version: str = ""
    runtime_api_version: str = ""
    runtime_error: str | None = None
    image_fs: list[FsUsage] = Field(default_factory=list)


class WireImage(_Wire):
    """An image as the agent saw it: CRI's fields plus what the agent worked out."""

    id: str
    repo_tags: list[str] = Field(default_factory=list)
    repo_digests: list[str] = Field(default_factory=list)
    size_bytes: int
    pinned: bool = False
    sandbox_image: bool = False
    #: ``namespace/pod/container`` (or a container or pod sandbox id) using it.
    used_by: list[str] = Field(default_factory=list)
    #: The image config's ``created``; CRI carries no timestamps of its own.
    created: datetime | None = None

    @property
    def reference(self) -> str:
        """How people name it: its first tag, its first digest, or its id."""
        if self.repo_tags:
            return self.repo_tags[0]
        if self.repo_digests:
            return self.repo_digests[0]
        return self.id

    def ref(self) -> ImageName:
        return ImageName(reference=self.reference, image_id=self.id, size_bytes=self.size_bytes)


class ImageName(_Wire):
    reference: str
    image_id: str
    size_bytes: int


class KeptReason(StrEnum):
    SANDBOX_IMAGE = "sandbox-image"
    PINNED = "pinned"
    IN_USE = "in-use"
    KEEP = "keep"
    TOO_NEW = "too-new"
    IN_USE_NOW = "in-use-now"
    #: Removable now, but not among the images the approvers saw in the plan.
    NOT_APPROVED = "not-approved"


class ItemAction(StrEnum):
    REMOVED = "removed"
    KEPT = "kept"
    FAILED = "failed"


class PruneItem(_Wire):
    """What happened to one image. For ``removed``, ``window_us`` is the time between the last
    check that no container uses it and the runtime's answer to RemoveImage (docs/images.md)."""

    action: ItemAction
    image: ImageName
    reason: KeptReason | None = None
    detail: str = ""
    window_us: int | None = None


class PodRow(_Wire):
    id: str
    name: str
    namespace: str
    uid: str = ""
    state: str
    created: datetime
    attempt: int = 0


class ContainerInfo(_Wire):
    id: str
    name: str
    image: str
    image_id: str
    state: str
    created: datetime
    attempt: int = 0
    pod_id: str
    pod_name: str = ""
    pod_namespace: str = ""


class WindowStats(_Wire):
    """Check→remove windows of one prune, in microseconds."""

    count: int = 0
    median_us: int = 0
    max_us: int = 0


# --- Tasks -----------------------------------------------------------------------------------


KeepPattern = Annotated[str, Field(min_length=1, max_length=limits.MAX_KEEP_PATTERN_CHARS)]
ImageId = Annotated[
    str, Field(min_length=1, max_length=MAX_ID_CHARS, pattern=r"^[0-9A-Za-z][0-9A-Za-z:._-]*$")
]


class ListImagesOp(_Wire):
    op: Literal["images"] = "images"


class _HeldToApproval(_Wire):
    """A change that may carry the image ids its approvers saw (``approved_ids``): then it
    removes none but those. Such a task has its own ``op`` (``…-approved``), which an agent
    from before this protocol does not know: it answers ``bad-task`` and removes nothing,
    instead of ignoring the field it does not know and removing more than was approved."""

    #: The op of such a task (each subclass names its own).
    approved_op: ClassVar[str] = ""
    op: str
    approved_ids: list[ImageId] | None = Field(default=None, max_length=MAX_APPROVED_IDS)

    @model_validator(mode="after")
    def _approved_ids_travel_with_their_op(self) -> Self:
        held = self.op == self.approved_op
        if held != (self.approved_ids is not None):
            raise ValueError(f"approved_ids go with the op {self.approved_op!r}, and only with it")
        return self


class PruneOp(_HeldToApproval):
    """Remove what no container uses. The agent decides again at run time (what the plan
    showed may have changed), with :func:`core.image_prune.decide`, and checks use once more
    right before each removal. ``prune-approved``: only images among ``approved_ids``
    (:func:`core.image_prune.within_approved`)."""

    approved_op: ClassVar[str] = "prune-approved"
    op: Literal["prune", "prune-approved"] = "prune"
    dry_run: bool = False
    keep: list[KeepPattern] = Field(default_factory=list, max_length=limits.MAX_KEEP_PATTERNS)
    policy_keep: list[KeepPattern] = Field(
        default_factory=list, max_length=limits.MAX_POLICY_KEEP_PATTERNS
    )
    older_than_seconds: int | None = Field(
        default=None, ge=0, le=limits.MAX_PRUNE_OLDER_THAN_SECONDS
    )


class RemoveImageOp(_HeldToApproval):
    """``rmi-approved``: refused (``not-approved``) unless the image is among ``approved_ids``."""

    approved_op: ClassVar[str] = "rmi-approved"
    op: Literal["rmi", "rmi-approved"] = "rmi"
    image: str = Field(min_length=1, max_length=512)
    #: Only say what would happen (the approval plan).
    dry_run: bool = False


class PsOp(_Wire):
    op: Literal["ps"] = "ps"


class LogsOp(_Wire):
    op: Literal["logs"] = "logs"
    container: str = Field(min_length=1, max_length=128)
    tail: int | None = Field(default=None, ge=0, le=limits.MAX_RUNTIME_LOGS_TAIL)
    max_lines: int = Field(default=2000, ge=1, le=limits.MAX_LOGS_LINES)
    max_bytes: int = Field(default=1_000_000, ge=1, le=limits.MAX_LOGS_BYTES)
    max_line_bytes: int = Field(default=16 * 1024, ge=64, le=limits.MAX_LOG_LINE_BYTES)


Op = Annotated[ListImagesOp | PruneOp | RemoveImageOp | PsOp | LogsOp, Field(discriminator="op")]


class Task(_Wire):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    issued_at: datetime = Field(default_factory=_now)
    #: Past this instant (UTC) nobody waits for the answer: the agent skips the task.
    deadline: datetime
    work: Op

    @classmethod
    def make(
        cls, work: ListImagesOp | PruneOp | RemoveImageOp | PsOp | LogsOp, timeout: float
    ) -> Task:
        return cls(deadline=_now() + timedelta(seconds=timeout), work=work)

    def stale(self, now: datetime | None = None) -> bool:
        return (now or _now()) >= self.deadline


# --- Replies ---------------------------------------------------------------------------------


class ImagesReply(_Wire):
    op: Literal["images"] = "images"
    images: list[WireImage]
    fs: list[FsUsage]
    sandbox_image: str | None = None


class PruneReply(_Wire):
    op: Literal["prune"] = "prune"
    dry_run: bool
    removed: list[ImageName] = Field(default_factory=list)
    kept: list[PruneItem] = Field(default_factory=list)
    failed: list[PruneItem] = Field(default_factory=list)
    fs_before: list[FsUsage] = Field(default_factory=list)
    fs_after: list[FsUsage] = Field(default_factory=list)
    window: WindowStats = Field(default_factory=WindowStats)


class RemoveImageReply(_Wire):
    op: Literal["rmi"] = "rmi"
    image: ImageName | None
    removed: bool
    dry_run: bool = False
    #: Why not: ``not-found``, ``in-use``, ``pinned``, ``sandbox-image``, or the runtime's error.
    reason: str | None = None
    used_by: list[str] = Field(default_factory=list)
    fs_before: list[FsUsage] = Field(default_factory=list)
    fs_after: list[FsUsage] = Field(default_factory=list)
    window_us: int | None = None


class PsReply(_Wire):
    op: Literal["ps"] = "ps"
    pods: list[PodRow]
    containers: list[ContainerInfo]


class LogsReply(_Wire):
    op: Literal["logs"] = "logs"
    container_id: str
    container_name: str
    lines: list[str]
    omitted: int = 0
    masked: int = 0


Reply = Annotated[
    ImagesReply | PruneReply | RemoveImageReply | PsReply | LogsReply,
    Field(discriminator="op"),
]


class EventKind(StrEnum):
    ACCEPTED = "accepted"
    ITEM = "item"
    DONE = "done"
    FAILED = "failed"


class FailReason(StrEnum):
    """Why an agent gave up on a task."""

    RUNTIME_UNREACHABLE = "runtime-unreachable"
    #: The task was past its deadline when the agent got to it; it did nothing.
    STALE = "stale"
    #: The task did not validate (a newer or broken worker); it did nothing.
    BAD_TASK = "bad-task"
    CONTAINER_NOT_FOUND = "container-not-found"
    AMBIGUOUS_CONTAINER = "ambiguous-container"
    #: Anything else: a bug, logged on the agent with the incident id in ``detail``.
    ERROR = "error"


class TaskEvent(_Wire):
    kind: EventKind
    task_id: str
    agent: str
    at: datetime = Field(default_factory=_now)
    item: PruneItem | None = None
    reply: Reply | None = None
    reason: FailReason | None = None
    detail: str = ""
