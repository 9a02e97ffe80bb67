"""The node requests and results: ``get nodes``, ``cordon``, ``uncordon``.

Every request knows its policy verb and its target; its ``kind`` lets a job record in Redis
parse back into the exact type (:mod:`handlers.base`).
"""

from __future__ import annotations

import shlex
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from core.names import NodeName
from handlers.base import RequestBase, ResultBase


class GetNodes(RequestBase):
    kind: Literal["get_nodes"] = "get_nodes"
    #: ``-o wide``: kubectl's extra columns.
    wide: bool = False
    #: ``-l``: a label selector, checked by the parser and sent to the API server.
    selector: str = ""
    #: ``--problems``: only the nodes that need a look, each with its reasons.
    problems: bool = False
    #: ``--cordoned-for``: how long a cordon may last before it is a problem (seconds).
    cordoned_for: float = 3600.0
    #: ``--lease-grace``: how old a Lease may be (kube-controller-manager's grace period).
    lease_grace: float = 50.0

    @property
    def verb(self) -> str:
        return "get"

    @property
    def target(self) -> str:
        return "nodes"

    def command_text(self) -> str:
        words = ["get nodes"]
        if self.wide:
            words.append("-o wide")
        if self.selector:
            words.append(f"-l {shlex.quote(self.selector)}")
        if self.problems:
            words.append("--problems")
            if self.cordoned_for != 3600.0:
                words.append(f"--cordoned-for {self.cordoned_for:g}s")
            if self.lease_grace != 50.0:
                words.append(f"--lease-grace {self.lease_grace:g}s")
        return " ".join(words)


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


class NodeProblem(BaseModel):
    """One reason ``get nodes --problems`` lists a node; the words are chosen when shown.

    ``kind``: ``not_ready``, ``unknown``, ``pressure`` (``detail`` names the condition),
    ``heartbeat_late``, ``no_lease``, ``cordoned``, ``full``."""

    model_config = ConfigDict(frozen=True)

    kind: Literal[
        "not_ready", "unknown", "pressure", "heartbeat_late", "no_lease", "cordoned", "full"
    ]
    #: The condition's reason (``not_ready``/``unknown``) or type (``pressure``).
    detail: str = ""
    #: How long it has been so (since the transition, the renewal, the cordon), if known.
    seconds: float | None = None
    #: ``full``: the pods on the node; ``heartbeat_late``/``full``: the limit crossed.
    count: int = 0
    limit: int = 0


class NodeRow(BaseModel):
    """One line of ``kubectl get nodes``; the age is rendered when shown."""

    model_config = ConfigDict(frozen=True)

    name: str
    status: str
    roles: str
    created: datetime
    version: str
    #: ``-o wide``'s columns, as kubectl prints them (``<none>``, ``<unknown>``).
    internal_ip: str = "<none>"
    external_ip: str = "<none>"
    os_image: str = "<unknown>"
    kernel_version: str = "<unknown>"
    container_runtime: str = "<unknown>"
    #: ``--problems``: why the node is listed.
    problems: list[NodeProblem] = []


class NodeTable(ResultBase):
    kind: Literal["node_table"] = "node_table"
    rows: list[NodeRow]
    wide: bool = False
    problems: bool = False
    #: With ``--problems``: how many nodes were looked at (the rows are those with problems).
    checked: int = 0


class NodeChange(ResultBase):
    kind: Literal["node_change"] = "node_change"
    node: str
    changed: bool
    message: str
