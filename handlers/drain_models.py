"""Typed shapes of a drain: the request (kubectl's flags), the plan, and the result."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from core import limits, messages
from core.names import NodeName
from handlers.base import RequestBase, ResultBase

DryRun = Literal["none", "client", "server"]


class DrainNode(RequestBase):
    """``kubectl drain NODE`` with the same flags and defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["drain"] = "drain"
    node: NodeName
    plans_for_approval: ClassVar[bool] = True
    ignore_daemonsets: bool = False
    force: bool = False
    delete_emptydir_data: bool = False
    grace_period: int = Field(default=-1, ge=-1, le=limits.MAX_GRACE_PERIOD_SECONDS)
    timeout_seconds: float = Field(
        default=0.0, ge=0, le=limits.MAX_DRAIN_TIMEOUT_SECONDS, allow_inf_nan=False
    )
    pod_selector: str | None = None
    disable_eviction: bool = False
    skip_wait_for_delete_timeout: int = Field(default=0, ge=0, le=limits.MAX_SKIP_WAIT_SECONDS)
    dry_run: DryRun = "none"
    chunk_size: int = Field(default=500, ge=0, le=limits.MAX_CHUNK_SIZE)
    #: The plan people saw before approving; execution reports what changed since.
    expected_plan: DrainPlan | None = None

    @property
    def verb(self) -> str:
        return "drain"

    def as_approved(self, plan: BaseModel) -> DrainNode:
        """Run as planned: the result will say what changed since the approvers looked."""
        if not isinstance(plan, DrainPlan):
            return self
        return self.model_copy(update={"expected_plan": plan})

    @property
    def target(self) -> str:
        return f"node/{self.node}"

    @property
    def mutating(self) -> bool:
        return self.dry_run == "none"

    @property
    def disrupts(self) -> str | None:
        return self.node if self.mutating else None

    @property
    def restores(self) -> str | None:
        return None

    @property
    def flags(self) -> frozenset[str]:
        used = {
            "ignore-daemonsets": self.ignore_daemonsets,
            "force": self.force,
            "delete-emptydir-data": self.delete_emptydir_data,
            "disable-eviction": self.disable_eviction,
            "grace-period": self.grace_period != -1,
            "timeout": bool(self.timeout_seconds),
            "pod-selector": bool(self.pod_selector),
            "dry-run": self.dry_run != "none",
        }
        return frozenset(flag for flag, on in used.items() if on)

    def command_text(self) -> str:
        words = ["drain", self.node]
        for flag in ("ignore_daemonsets", "force", "delete_emptydir_data", "disable_eviction"):
            if getattr(self, flag):
                words.append("--" + flag.replace("_", "-"))
        if self.grace_period != -1:
            words.append(f"--grace-period={self.grace_period}")
        if self.timeout_seconds:
            words.append(f"--timeout={self.timeout_seconds:g}s")
        if self.pod_selector:
            words.append(f"--pod-selector={self.pod_selector}")
        if self.skip_wait_for_delete_timeout:
            words.append(f"--skip-wait-for-delete-timeout={self.skip_wait_for_delete_timeout}")
        if self.dry_run != "none":
            words.append(f"--dry-run={self.dry_run}")
        if self.chunk_size != 500:
            words.append(f"--chunk-size={self.chunk_size}")
        return " ".join(words)


class Fate(StrEnum):
    """What the drain does to one pod."""

    EVICT = "evict"
    DELETE = "delete"
    IGNORED = "ignored"
    SKIPPED = "skipped"
    BLOCKED = "blocked"


_FATE_NAMES = {
    Fate.EVICT: messages.PLAN_FATE_EVICT,
    Fate.DELETE: messages.PLAN_FATE_DELETE,
    Fate.IGNORED: messages.PLAN_FATE_IGNORED,
    Fate.SKIPPED: messages.PLAN_FATE_SKIPPED,
    Fate.BLOCKED: messages.PLAN_FATE_BLOCKED,
}


def fate_name(fate: Fate) -> str:
    """A pod's fate in the request's language (``evict`` / ``驱逐``)."""
    return _FATE_NAMES[fate].format()


class PodFate(BaseModel):
    model_config = ConfigDict(frozen=True)

    namespace: str
    name: str
    uid: str
    fate: Fate
    #: kubectl's wording for a warning or error ("" when it has none).
    message: str = ""
    workload: str = ""
    data_loss: str = ""
    cpu_millis: int = 0
    memory_bytes: int = 0

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def removed(self) -> bool:
        return self.fate in (Fate.EVICT, Fate.DELETE)


class Capacity(StrEnum):
    FITS = "fits"
    TIGHT = "tight"
    DOES_NOT_FIT = "does not fit"


_CAPACITY_NAMES = {
    Capacity.FITS: messages.PLAN_CAPACITY_FITS,
    Capacity.TIGHT: messages.PLAN_CAPACITY_TIGHT,
    Capacity.DOES_NOT_FIT: messages.PLAN_CAPACITY_DOES_NOT_FIT,
}


def capacity_name(capacity: Capacity) -> str:
    """Whether the pods fit elsewhere, in the request's language (``fits`` / ``足够``)."""
    return _CAPACITY_NAMES[capacity].format()


class DrainPlan(BaseModel):
    """What a drain would do, computed from the cluster before anything changes."""

    kind: Literal["drain_plan"] = "drain_plan"
    node: str
    cordoned: bool
    pods: list[PodFate]
    errors: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    pdb_blocked: list[str] = Field(default_factory=list)
    capacity: Capacity = Capacity.FITS
    capacity_detail: str = ""
    unplaceable: list[str] = Field(default_factory=list)
    risks: list[str] = Field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return bool(self.errors)

    def removed(self) -> list[PodFate]:
        return [p for p in self.pods if p.removed]


class PodOutcome(StrEnum):
    EVICTED = "evicted"
    DELETED = "deleted"
    GONE = "already gone"
    DRY_RUN = "dry run"
    FAILED = "failed"
    PENDING = "pending"


class DrainResult(ResultBase):
    kind: Literal["drain_result"] = "drain_result"
    node: str
    dry_run: DryRun = "none"
    drained: bool
    #: kubectl's output lines, in order, so people recognise what happened.
    lines: list[str]
    outcomes: dict[str, PodOutcome] = Field(default_factory=dict)
    errors: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    plan: DrainPlan
    changes_since_plan: list[str] = Field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0

    def count(self, outcome: PodOutcome) -> int:
        return sum(1 for o in self.outcomes.values() if o is outcome)

    @property
    def failure(self) -> str | None:
        if self.drained or self.cancelled:
            return None
        first = self.errors[0] if self.errors else "unknown error"
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        return f'unable to drain node "{self.node}": {first}{more}'

    @property
    def was_cancelled(self) -> bool:
        return self.cancelled


DrainNode.model_rebuild()
