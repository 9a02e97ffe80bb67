"""``describe node`` / ``describe pod``: the requests, and the facts a worker reads back.

Both are decided under the policy verb ``get``: describing is reading (kubectl's describe needs
only get/list RBAC), so whoever may ``get`` may describe, and a rule scoped to a namespace
applies to ``describe pod`` in it. Times are kept as the API gave them; ages are computed when
shown, as kubectl does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.names import NodeName
from handlers.base import RequestBase, ResultBase


class DescribeNode(RequestBase):
    kind: Literal["describe_node"] = "describe_node"
    node: NodeName

    @property
    def verb(self) -> str:
        return "get"

    @property
    def target(self) -> str:
        return f"node/{self.node}"

    def command_text(self) -> str:
        return f"describe node {self.node}"


class DescribePod(RequestBase):
    kind: Literal["describe_pod"] = "describe_pod"
    name: str
    namespace: str = "default"

    @property
    def verb(self) -> str:
        return "get"

    @property
    def target(self) -> str:
        return f"pod/{self.name}"

    def command_text(self) -> str:
        return f"describe pod {self.name} -n {self.namespace}"


class _Fact(BaseModel):
    model_config = ConfigDict(frozen=True)


class Condition(_Fact):
    type: str
    status: str
    reason: str = ""
    message: str = ""
    last_transition: datetime | None = None
    last_heartbeat: datetime | None = None


class Taint(_Fact):
    key: str
    value: str = ""
    effect: str
    time_added: datetime | None = None

    def __str__(self) -> str:
        """kubectl's ``key=value:Effect`` (``key:Effect`` without a value)."""
        return (
            f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"
        )


class Toleration(_Fact):
    key: str = ""
    operator: str = ""
    value: str = ""
    effect: str = ""
    seconds: int | None = None

    def __str__(self) -> str:
        """kubectl's toleration line: ``key=value:Effect for 300s``, ``op=Exists`` alone."""
        text = self.key
        if self.value:
            text += f"={self.value}"
        if self.effect:
            text += f":{self.effect}"
        if self.operator == "Exists" and not self.value:
            text += " op=Exists" if self.key or self.effect else "op=Exists"
        if self.seconds is not None:
            text += f" for {self.seconds}s"
        return text


class EventRow(_Fact):
    type: str
    reason: str
    first: datetime | None = None
    last: datetime | None = None
    count: int = 1
    source: str = ""
    message: str = ""


class PodUsage(_Fact):
    """One non-terminated pod on the node, its requests and limits in kubectl's integers."""

    namespace: str
    name: str
    cpu_requests: int  # millicores
    cpu_limits: int
    memory_requests: int  # bytes
    memory_limits: int
    created: datetime | None = None


class Allocation(_Fact):
    """One "Allocated resources" row; cpu in millicores, the rest in base units; a percent
    is None where kubectl shows none (extended resources)."""

    resource: str
    requests: int
    limits: int
    requests_percent: int | None = None
    limits_percent: int | None = None


class PodEviction(_Fact):
    namespace: str
    name: str
    #: Seconds after the taint was added that the taint manager evicts it (0: at once);
    #: None: it tolerates the taint for ever.
    seconds: int | None

    def at(self, added: datetime | None) -> datetime | None:
        return (
            added + timedelta(seconds=self.seconds) if added and self.seconds is not None else None
        )


class Eviction(_Fact):
    """What the node's NoExecute not-ready/unreachable taint means for its pods."""

    taint: str
    #: When the taint was added (None: not yet — pods then go ``default_seconds`` after it is).
    added: datetime | None
    default_seconds: int
    pods: tuple[PodEviction, ...] = ()


class NodeDescription(ResultBase):
    kind: Literal["node_description"] = "node_description"
    name: str
    roles: str
    created: datetime | None = None
    addresses: tuple[tuple[str, str], ...] = ()
    os_image: str = ""
    operating_system: str = ""
    architecture: str = ""
    kernel_version: str = ""
    container_runtime: str = ""
    kubelet_version: str = ""
    conditions: tuple[Condition, ...] = ()
    taints: tuple[Taint, ...] = ()
    unschedulable: bool = False
    lease_holder: str | None = None
    lease_renewed: datetime | None = None
    lease_missing: bool = False
    #: The node-monitor grace period the lease is judged against (an assumption: the API does
    #: not publish kube-controller-manager's flags).
    grace_seconds: int
    capacity: dict[str, str] = Field(default_factory=dict)
    allocatable: dict[str, str] = Field(default_factory=dict)
    pods: tuple[PodUsage, ...] = ()
    pods_visible: bool = True
    allocated: tuple[Allocation, ...] = ()
    #: What per-pod percentages are of: allocatable cpu (millicores) and memory (bytes).
    offered_cpu: int = 0
    offered_memory: int = 0
    max_pods: int | None = None
    events: tuple[EventRow, ...] = ()
    eviction: Eviction | None = None
    read_at: datetime


class ContainerState(_Fact):
    state: str  # Running / Waiting / Terminated
    reason: str = ""
    message: str = ""
    exit_code: int | None = None
    started: datetime | None = None
    finished: datetime | None = None


class ContainerFacts(_Fact):
    name: str
    init: bool = False
    image: str = ""
    image_id: str = ""
    container_id: str = ""
    ports: tuple[str, ...] = ()
    state: ContainerState | None = None
    last_state: ContainerState | None = None
    ready: bool = False
    restart_count: int = 0
    requests: dict[str, str] = Field(default_factory=dict)
    limits: dict[str, str] = Field(default_factory=dict)


class PodDescription(ResultBase):
    kind: Literal["pod_description"] = "pod_description"
    name: str
    namespace: str
    node: str = ""
    node_ip: str = ""
    priority: int | None = None
    service_account: str = ""
    start_time: datetime | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    status: str = ""
    phase: str = ""
    reason: str = ""
    message: str = ""
    deleting_since: datetime | None = None
    ip: str = ""
    ips: tuple[str, ...] = ()
    controlled_by: str = ""
    containers: tuple[ContainerFacts, ...] = ()
    conditions: tuple[Condition, ...] = ()
    qos_class: str = ""
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: tuple[Toleration, ...] = ()
    events: tuple[EventRow, ...] = ()
    read_at: datetime
