"""Typed requests and results that travel between the bot, the queue and the handlers.

Requests are a discriminated union on ``kind`` so a job record in Redis parses back into the
exact request type; every request knows its policy verb and its target.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.names import NodeName
from handlers.drain_models import DrainNode, DrainResult, ResultBase
from handlers.logs_models import LogsResult, NodeLogs, PodLogs


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @property
    def verb(self) -> str:
        raise NotImplementedError

    @property
    def target(self) -> str:
        """What the request acts on, as ``kind/name`` (``nodes`` for a list)."""
        raise NotImplementedError

    @property
    def mutating(self) -> bool:
        return False

    @property
    def disrupts(self) -> str | None:
        """The node this request takes out of service (counted against the cap), if any."""
        return None

    @property
    def restores(self) -> str | None:
        """The node this request puts back into service, if any."""
        return None

    @property
    def flags(self) -> frozenset[str]:
        """The kubectl-style flags used, for policy rules that single them out."""
        return frozenset()

    def command_text(self) -> str:
        raise NotImplementedError


class GetNodes(_Request):
    kind: Literal["get_nodes"] = "get_nodes"

    @property
    def verb(self) -> str:
        return "get"

    @property
    def target(self) -> str:
        return "nodes"

    def command_text(self) -> str:
        return "get nodes"


class CordonNode(_Request):
    kind: Literal["cordon"] = "cordon"
    node: NodeName

    @property
    def verb(self) -> str:
        return "cordon"

    @property
    def target(self) -> str:
        return f"node/{self.node}"

    @property
    def mutating(self) -> bool:
        return True

    @property
    def disrupts(self) -> str | None:
        return self.node

    def command_text(self) -> str:
        return f"cordon {self.node}"


class UncordonNode(CordonNode):
    kind: Literal["uncordon"] = "uncordon"  # type: ignore[assignment]

    @property
    def verb(self) -> str:
        return "uncordon"

    @property
    def disrupts(self) -> str | None:
        return None

    @property
    def restores(self) -> str | None:
        return self.node

    def command_text(self) -> str:
        return f"uncordon {self.node}"


Request = Annotated[
    GetNodes | CordonNode | UncordonNode | DrainNode | PodLogs | NodeLogs,
    Field(discriminator="kind"),
]


class NodeRow(BaseModel):
    """One line of ``kubectl get nodes``; the age is rendered when shown."""

    model_config = ConfigDict(frozen=True)

    name: str
    status: str
    roles: str
    created: datetime
    version: str


class NodeTable(ResultBase):
    kind: Literal["node_table"] = "node_table"
    rows: list[NodeRow]


class NodeChange(ResultBase):
    kind: Literal["node_change"] = "node_change"
    node: str
    changed: bool
    message: str


Result = Annotated[NodeTable | NodeChange | DrainResult | LogsResult, Field(discriminator="kind")]


class Progress(BaseModel):
    """A step a handler reports while it works."""

    message: str
