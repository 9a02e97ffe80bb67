"""The node requests and results: ``get nodes``, ``cordon``, ``uncordon``.

Every request knows its policy verb and its target; its ``kind`` lets a job record in Redis
parse back into the exact type (:mod:`handlers.base`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from core.names import NodeName
from handlers.base import RequestBase, ResultBase


class GetNodes(RequestBase):
    kind: Literal["get_nodes"] = "get_nodes"

    @property
    def verb(self) -> str:
        return "get"

    @property
    def target(self) -> str:
        return "nodes"

    def command_text(self) -> str:
        return "get nodes"


class CordonNode(RequestBase):
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
