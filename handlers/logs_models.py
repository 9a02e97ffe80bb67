"""Typed shapes of a log fetch: the requests (stern's selection, kubectl's ``--previous``,
the node log query) and the result the chat surfaces render.

Regexes arrive as text and are compiled where they are used; the grammar has already checked
that each one compiles, so a request in Redis is always one a worker can run.
"""

from __future__ import annotations

import shlex
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core import limits, messages
from core.names import NodeName
from handlers.base import RequestBase, ResultBase

OutputFormat = Literal["default", "raw", "json"]
ContainerState = Literal["running", "waiting", "terminated", "all"]

#: stern's resource words (and kubectl's short names) → the kind whose pods a query selects.
RESOURCE_KINDS: dict[str, str] = {
    **dict.fromkeys(("pod", "pods", "po"), "Pod"),
    **dict.fromkeys(("deployment", "deployments", "deploy"), "Deployment"),
    **dict.fromkeys(("statefulset", "statefulsets", "sts"), "StatefulSet"),
    **dict.fromkeys(("daemonset", "daemonsets", "ds"), "DaemonSet"),
    **dict.fromkeys(("replicaset", "replicasets", "rs"), "ReplicaSet"),
    **dict.fromkeys(("job", "jobs"), "Job"),
    **dict.fromkeys(("service", "services", "svc"), "Service"),
    **dict.fromkeys(
        ("replicationcontroller", "replicationcontrollers", "rc"), "ReplicationController"
    ),
}

#: How long back a fetch looks when no ``--since`` is given: chat wants the recent past.
DEFAULT_SINCE_SECONDS = 600
_DEFAULT_MAX_LOG_REQUESTS = 10


def _option(flag: str, value: str) -> str:
    """``flag value``, or ``flag=value`` when the value starts with a dash (the grammar reads
    ``-e --debug`` as a flag missing its value)."""
    quoted = shlex.quote(value)
    return f"{flag}={quoted}" if value.startswith("-") else f"{flag} {quoted}"


def _duration_text(seconds: int) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class _LogsBase(RequestBase):
    model_config = ConfigDict(frozen=True, extra="forbid")

    since_seconds: int | None = Field(
        default=DEFAULT_SINCE_SECONDS, ge=1, le=limits.MAX_LOGS_SINCE_SECONDS
    )
    #: Lines from the end of each container's log (``-1``: all within ``--since``).
    tail: int = Field(default=-1, ge=-1, le=limits.MAX_LOGS_TAIL)
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    timestamps: bool = False
    output: OutputFormat = "default"

    @property
    def since_text(self) -> str:
        return _duration_text(self.since_seconds) if self.since_seconds else "the start"

    def _common_flags(self) -> list[str]:
        words = []
        if self.since_seconds != DEFAULT_SINCE_SECONDS:
            words.append(f"--since={self.since_text if self.since_seconds else '0'}")
        if self.tail >= 0:
            words.append(f"--tail={self.tail}")
        words += [_option("-i", p) for p in self.include]
        words += [_option("-e", p) for p in self.exclude]
        if self.timestamps:
            words.append("-t")
        if self.output != "default":
            words.append(f"-o {self.output}")
        return words


class PodLogs(_LogsBase):
    """``logs QUERY``: stern's selection (a pod-name regex or ``kind/name``), one shot."""

    kind: Literal["logs"] = "logs"
    query: str = ".*"
    #: Set for ``kind/name`` queries: the canonical kind and the object's name.
    resource_kind: str | None = None
    resource_name: str | None = None
    namespaces: tuple[str, ...] = Field(default=("default",), min_length=1)
    all_namespaces: bool = False
    #: Namespaces policy keeps out of an ``-A`` fetch, with the rule that does.
    excluded_namespaces: tuple[str, ...] = ()
    selector: str | None = None
    field_selector: str | None = None
    node: str | None = None
    container: str = ".*"
    exclude_container: tuple[str, ...] = ()
    exclude_pod: tuple[str, ...] = ()
    init_containers: bool = True
    ephemeral_containers: bool = True
    container_states: tuple[ContainerState, ...] = ("all",)
    max_log_requests: int = Field(
        default=_DEFAULT_MAX_LOG_REQUESTS, ge=1, le=limits.MAX_LOG_REQUESTS
    )
    previous: bool = False

    @property
    def verb(self) -> str:
        return "logs"

    @property
    def target(self) -> str:
        where = "*" if self.all_namespaces else ",".join(self.namespaces)
        if self.resource_kind:
            return f"{self.resource_kind.lower()}/{self.resource_name} in {where}"
        return f"pods/{self.query} in {where}"

    @property
    def flags(self) -> frozenset[str]:
        used = {"all-namespaces"} if self.all_namespaces else set()
        if self.previous:
            used.add("previous")
        return frozenset(used)

    def command_text(self) -> str:
        query = (
            f"{self.resource_kind.lower()}/{self.resource_name}"
            if self.resource_kind
            else self.query
        )
        words = ["logs", shlex.quote(query)]
        if self.all_namespaces:
            words.append("-A")
        elif self.namespaces != ("default",):
            words += [f"-n {ns}" for ns in self.namespaces]
        for flag, value in (
            ("-l", self.selector),
            ("--field-selector", self.field_selector),
            ("--node", self.node),
        ):
            if value:
                words.append(_option(flag, value))
        if self.container != ".*":
            words.append(_option("-c", self.container))
        words += [_option("-E", p) for p in self.exclude_container]
        words += [_option("--exclude-pod", p) for p in self.exclude_pod]
        if not self.init_containers:
            words.append("--init-containers=false")
        if not self.ephemeral_containers:
            words.append("--ephemeral-containers=false")
        if self.container_states != ("all",):
            words.append(f"--container-state {','.join(self.container_states)}")
        if self.max_log_requests != _DEFAULT_MAX_LOG_REQUESTS:
            words.append(f"--max-log-requests={self.max_log_requests}")
        if self.previous:
            words.append("-p")
        return " ".join(words + self._common_flags())


class NodeLogs(_LogsBase):
    """``logs node/NODE --query SERVICE``: the kubelet's node log query API."""

    kind: Literal["node_logs"] = "node_logs"
    node: NodeName
    services: tuple[str, ...] = ("kubelet",)

    @property
    def verb(self) -> str:
        return "node-logs"

    @property
    def target(self) -> str:
        return f"node/{self.node}"

    @property
    def flags(self) -> frozenset[str]:
        return frozenset()

    def command_text(self) -> str:
        words = ["logs", f"node/{self.node}"] + [_option("--query", s) for s in self.services]
        return " ".join(words + self._common_flags())


class LogLine(BaseModel):
    """One line as fetched: the kubelet's RFC 3339 timestamp, where it came from, the text."""

    model_config = ConfigDict(frozen=True)

    time: str
    namespace: str
    pod: str
    container: str
    node: str = ""
    text: str


class LogsResult(ResultBase):
    kind: Literal["logs"] = "logs"
    source: str
    lines: list[LogLine]
    pods: int = 0
    containers: int = 0
    #: Lines the cluster returned, and those left after ``-i``/``-e``.
    fetched: int = 0
    matched: int = 0
    redactions: int = 0
    #: Why lines were left out ("lines" or "bytes" cap), and the caps in force.
    truncated: Literal["lines", "bytes"] | None = None
    max_lines: int = 0
    max_bytes: int = 0
    since: str = ""
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    output: OutputFormat = "default"
    timestamps: bool = False
    #: Show the namespace in each line's prefix (more than one namespace was read).
    show_namespace: bool = False
    #: Containers that could not be read, as ``ns/pod/container: why``.
    failures: list[str] = Field(default_factory=list)
    #: Namespaces policy kept out, and what the selection found nothing in.
    excluded_namespaces: tuple[str, ...] = ()

    @property
    def failure(self) -> str | None:
        if self.containers and len(self.failures) == self.containers:
            detail = self.failures[0].partition(": ")[2]
            return messages.LOGS_ALL_FAILED.format(count=self.containers, detail=detail)
        return None
