"""Requests and results of the node-runtime commands: ``images``, ``prune images``, ``rmi``,
``runtime ps`` and ``runtime logs``.

The Kubernetes API cannot see a node's images; a node agent on each node answers over CRI
(:mod:`nodeagent`). A worker turns one request into per-node work for the agents and gathers
their answers into one of these results (:mod:`handlers.images`). Results hold data, never
sentences: the command module renders them in the reader's language.
"""

from __future__ import annotations

import shlex
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from core import formats, limits, messages
from core.limits import duration_text
from core.names import NodeName
from handlers.base import RequestBase, ResultBase

#: Patterns one ``--keep`` list may hold, and the length of one.
MAX_KEEP_PATTERNS = limits.MAX_KEEP_PATTERNS
MAX_KEEP_PATTERN = limits.MAX_KEEP_PATTERN_CHARS
#: The longest image reference ``rmi`` accepts (a registry, a path, a tag and a digest).
MAX_IMAGE_REFERENCE = 512


KeepPattern = Annotated[str, Field(min_length=1, max_length=MAX_KEEP_PATTERN)]
#: The policy's keep list, put on a request by the bot once it is allowed (workers hold no
#: policy).
PolicyKeep = Annotated[tuple[KeepPattern, ...], Field(max_length=limits.MAX_POLICY_KEEP_PATTERNS)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ApprovedRemovals(_Frozen):
    """What the approvers of a prune or ``rmi`` saw on its card, as the run is held to it: per
    node of the plan, the ids of the images it would remove. A node not in it is not touched;
    an image not in it is not removed (``not-approved``)."""

    nodes: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, plan: PrunePlan) -> ApprovedRemovals:
        return cls(
            nodes={
                node.node: tuple(sorted({image.image_id for image in node.remove}))
                for node in plan.nodes
            }
        )


class NodeScope(RequestBase):
    """One node, every node with a live agent (``--all``), or the nodes a label selector
    picks (``-l``); exactly one of them."""

    node: NodeName | None = None
    all_nodes: bool = False
    selector: str | None = None

    @property
    def target(self) -> str:
        if self.node is not None:
            return f"node/{self.node}"
        return "nodes"

    def scope_flags(self) -> set[str]:
        flags: set[str] = set()
        if self.all_nodes:
            flags.add("all")
        if self.selector is not None:
            flags.add("selector")  # ``-l``, by its long name as rules write flags
        return flags

    def scope_text(self) -> str:
        if self.node is not None:
            return self.node
        if self.selector is not None:
            return f"-l {self.selector}"
        return "--all"


class ListImages(NodeScope):
    kind: Literal["images"] = "images"
    #: The policy's keep list, so that a fleet listing's RECLAIMABLE is what a prune under
    #: this policy could free (images it keeps are not counted).
    policy_keep: PolicyKeep = ()

    @property
    def verb(self) -> str:
        return "images"

    @property
    def flags(self) -> frozenset[str]:
        return frozenset(self.scope_flags())

    def command_text(self) -> str:
        return f"images {self.scope_text()}"


class PruneImages(NodeScope):
    """Remove the images no container uses, never a pinned one, the runtime's sandbox image,
    or one the keep list (policy's and ``--keep``) matches."""

    kind: Literal["prune_images"] = "prune_images"
    dry_run: bool = False
    #: Only images whose config says they were built at least this long ago (docs/images.md).
    older_than_seconds: int | None = None
    #: ``--keep`` patterns (RE2, matched against every reference of an image).
    keep: tuple[KeepPattern, ...] = Field(default=(), max_length=MAX_KEEP_PATTERNS)
    #: The policy's keep list, added by the bot once the request is allowed (the worker
    #: holds no policy); a ``keep`` reason says which list matched.
    policy_keep: PolicyKeep = ()
    #: Set when the prune was approved: what the approvers saw, the most it may remove.
    approved: ApprovedRemovals | None = None

    plans_for_approval: ClassVar[bool] = True

    @property
    def verb(self) -> str:
        return "prune-images"

    @property
    def mutating(self) -> bool:
        return not self.dry_run

    @property
    def runs_within_plan(self) -> bool:
        return not self.dry_run  # a dry run removes nothing: there is nothing to hold

    def as_approved(self, plan: BaseModel) -> PruneImages:
        if not self.runs_within_plan or not isinstance(plan, PrunePlan):
            return self
        return self.model_copy(update={"approved": ApprovedRemovals.of(plan)})

    @property
    def flags(self) -> frozenset[str]:
        flags = self.scope_flags()
        if self.dry_run:
            flags.add("dry-run")
        if self.older_than_seconds is not None:
            flags.add("older-than")
        if self.keep:
            flags.add("keep")
        return frozenset(flags)

    def command_text(self) -> str:
        words = ["prune images", self.scope_text()]
        if self.dry_run:
            words.append("--dry-run")
        if self.older_than_seconds is not None:
            words.append(f"--older-than {duration_text(self.older_than_seconds, days=True)}")
        words += [f"--keep {shlex.quote(pattern)}" for pattern in self.keep]
        return " ".join(words)


class RemoveImage(RequestBase):
    """``rmi NODE IMAGE``: one named image, refused while any container uses it."""

    kind: Literal["rmi"] = "rmi"
    node: NodeName
    image: str = Field(min_length=1, max_length=MAX_IMAGE_REFERENCE)
    #: Set when the removal was approved: the image the approvers saw (by id), if any.
    approved: ApprovedRemovals | None = None

    plans_for_approval: ClassVar[bool] = True

    @property
    def verb(self) -> str:
        return "prune-images"

    @property
    def target(self) -> str:
        return f"node/{self.node}"

    @property
    def mutating(self) -> bool:
        return True

    @property
    def runs_within_plan(self) -> bool:
        return True

    def as_approved(self, plan: BaseModel) -> RemoveImage:
        if not isinstance(plan, PrunePlan):
            return self
        return self.model_copy(update={"approved": ApprovedRemovals.of(plan)})

    def command_text(self) -> str:
        return f"rmi {self.node} {self.image}"


class RuntimePs(RequestBase):
    """``runtime ps NODE``: the node's pod sandboxes and containers, from CRI alone."""

    kind: Literal["runtime_ps"] = "runtime_ps"
    node: NodeName

    @property
    def verb(self) -> str:
        return "runtime"

    @property
    def target(self) -> str:
        return f"node/{self.node}"

    def command_text(self) -> str:
        return f"runtime ps {self.node}"


class RuntimeLogs(RequestBase):
    """``runtime logs NODE CONTAINER [--tail N]``: a container's log file, read by the agent
    and masked as ``logs`` masks."""

    kind: Literal["runtime_logs"] = "runtime_logs"
    node: NodeName
    #: A container id (or a unique prefix of one, as crictl takes) or a container name.
    container: str = Field(min_length=1, max_length=128)
    tail: int | None = None

    @property
    def verb(self) -> str:
        return "runtime"

    @property
    def target(self) -> str:
        return f"node/{self.node}"

    @property
    def flags(self) -> frozenset[str]:
        return frozenset({"tail"} if self.tail is not None else set())

    def command_text(self) -> str:
        tail = f" --tail {self.tail}" if self.tail is not None else ""
        return f"runtime logs {self.node} {self.container}{tail}"


# --- What the agents report ---------------------------------------------------------------


class ImageFs(_Frozen):
    """The image filesystem as CRI's ``ImageFsInfo`` reports it; capacity only when the agent
    can see the filesystem itself (``None``: it cannot, and the reply says so)."""

    mountpoint: str
    used_bytes: int
    inodes_used: int | None = None
    capacity_bytes: int | None = None
    available_bytes: int | None = None


class ImageRow(_Frozen):
    """One line of ``crictl images``, plus what crictl does not show."""

    repository: str
    tag: str
    image_id: str
    size_bytes: int
    pinned: bool = False
    #: The runtime's pod sandbox (pause) image.
    sandbox_image: bool = False
    #: ``namespace/pod/container`` (or the container id when no pod is known) using it.
    used_by: tuple[str, ...] = ()
    #: From the image config; CRI itself carries no timestamps.
    created: datetime | None = None


class AgentInfo(_Frozen):
    node: str
    runtime_name: str
    runtime_version: str
    seen_at: datetime
    #: When the agent started (its age), from its heartbeat.
    started_at: datetime | None = None


class NodeImages(ResultBase):
    kind: Literal["node_images"] = "node_images"
    agent: AgentInfo
    rows: list[ImageRow]
    fs: list[ImageFs]


class FleetImageRow(_Frozen):
    node: str
    images: int
    bytes: int
    reclaimable_bytes: int
    agent_seen_at: datetime
    #: When the node's agent started (its age).
    agent_started_at: datetime | None = None


class NodeProblem(_Frozen):
    """A node the work did not reach. ``reason``: ``no-agent`` (no live heartbeat),
    ``runtime-unreachable`` (the agent cannot reach its CRI socket), ``agent-lost`` (its
    heartbeat stopped mid-work), ``node-gone`` (the node left the cluster), ``timeout``,
    ``agent-outdated`` (the agent did not understand the task: it is older than the worker)."""

    node: str
    reason: Literal[
        "no-agent", "runtime-unreachable", "agent-lost", "node-gone", "timeout", "agent-outdated"
    ]
    detail: str = ""


class FleetImages(ResultBase):
    kind: Literal["fleet_images"] = "fleet_images"
    rows: list[FleetImageRow]
    problems: list[NodeProblem] = Field(default_factory=list)


class ImageRef(_Frozen):
    """An image named as a user knows it (its first tag, or its id) with its id and size."""

    reference: str
    image_id: str
    size_bytes: int


class KeptImage(_Frozen):
    """An unused image a prune leaves, and why: ``pinned``, ``sandbox-image``, ``keep`` (a
    keep pattern, named in ``detail``), ``too-new`` (``--older-than``), ``in-use-now`` (a
    container started using it after the plan), ``in-use``, ``not-approved`` (removable now,
    but not in the plan the approvers of this prune saw)."""

    image: ImageRef
    reason: Literal[
        "pinned", "sandbox-image", "keep", "too-new", "in-use-now", "in-use", "not-approved"
    ]
    detail: str = ""


class FailedImage(_Frozen):
    image: ImageRef
    error: str


class NodePrunePlan(_Frozen):
    node: str
    remove: list[ImageRef]
    kept: list[KeptImage] = Field(default_factory=list)

    @property
    def bytes_to_free(self) -> int:
        return sum(image.size_bytes for image in self.remove)


class PrunePlan(_Frozen):
    """What approvers see: per node, the images a prune would remove and the bytes it frees."""

    nodes: list[NodePrunePlan]
    problems: list[NodeProblem] = Field(default_factory=list)


class NodePruneOutcome(_Frozen):
    node: str
    removed: list[ImageRef] = Field(default_factory=list)
    kept: list[KeptImage] = Field(default_factory=list)
    failed: list[FailedImage] = Field(default_factory=list)
    fs_before: list[ImageFs] = Field(default_factory=list)
    fs_after: list[ImageFs] = Field(default_factory=list)
    #: Set when the node's work stopped part-way (what was removed before is in ``removed``).
    problem: NodeProblem | None = None
    #: The time between the last "is it in use?" check and the runtime's answer to the
    #: removal, over this node's removals (µs): the window in which a new container could
    #: still take an image being removed (docs/images.md).
    window_median_us: int | None = None
    window_max_us: int | None = None

    @property
    def bytes_freed(self) -> int:
        return sum(image.size_bytes for image in self.removed)


class PruneResult(ResultBase):
    kind: Literal["prune_result"] = "prune_result"
    dry_run: bool
    nodes: list[NodePruneOutcome]
    problems: list[NodeProblem] = Field(default_factory=list)
    #: Nodes the prune names now that the approved plan did not include: left untouched.
    not_in_plan: list[str] = Field(default_factory=list)

    @property
    def failure(self) -> str | None:
        unfinished = [o.node for o in self.nodes if o.problem is not None or o.failed]
        unreached = [p.node for p in self.problems]
        if not unfinished and not unreached:
            return None
        return messages.IMAGES_PRUNE_UNFINISHED.format(
            nodes=formats.listing(unfinished + unreached)
        )


class RemoveImageResult(ResultBase):
    kind: Literal["rmi_result"] = "rmi_result"
    node: str
    image: ImageRef | None
    removed: bool
    #: Why not: ``not-found``, ``in-use`` (with ``used_by``), ``pinned``, ``sandbox-image``,
    #: ``not-approved`` (not the image the approvers saw), ``runtime-unreachable``,
    #: ``no-agent``, ``agent-lost``.
    reason: str | None = None
    used_by: tuple[str, ...] = ()
    fs_before: list[ImageFs] = Field(default_factory=list)
    fs_after: list[ImageFs] = Field(default_factory=list)
    #: Check→remove window of the removal (µs), as for a prune.
    window_us: int | None = None

    @property
    def failure(self) -> str | None:
        if self.removed:
            return None
        return messages.IMAGES_RMI_NOT_REMOVED.format(node=self.node, reason=self.reason or "")


class PodSandboxRow(_Frozen):
    pod_id: str
    name: str
    namespace: str
    state: str
    created: datetime
    attempt: int = 0


class ContainerRow(_Frozen):
    """``crictl ps -a``'s columns."""

    container_id: str
    image: str
    created: datetime
    state: str
    name: str
    attempt: int
    pod_id: str
    pod_name: str = ""
    pod_namespace: str = ""


class RuntimeContainers(ResultBase):
    kind: Literal["runtime_containers"] = "runtime_containers"
    agent: AgentInfo
    pods: list[PodSandboxRow]
    containers: list[ContainerRow]


class RuntimeLogLines(ResultBase):
    kind: Literal["runtime_log_lines"] = "runtime_log_lines"
    node: str
    container_id: str
    container_name: str
    lines: list[str]
    #: Lines left out because of ``--tail`` or the output caps.
    omitted: int = 0
    #: Secrets masked on the agent before the lines left the node.
    masked: int = 0


class NodeUnreached(ResultBase):
    """A one-node command that got no answer: the node and why (a :class:`NodeProblem`
    reason), or ``container-not-found`` / ``ambiguous-container`` for ``runtime logs``."""

    kind: Literal["node_unreached"] = "node_unreached"
    node: str
    reason: str
    detail: str = ""

    @property
    def failure(self) -> str | None:
        return messages.IMAGES_NODE_UNANSWERED.format(node=self.node, reason=self.reason)
