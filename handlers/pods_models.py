"""Typed shapes of ``get pods`` and ``get events``: the requests (namespaces, selectors, the
node, the event filters) and the rows kubectl prints, with times kept as times so ages are
computed when shown, as kubectl does."""

from __future__ import annotations

import shlex
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from handlers.base import RequestBase, ResultBase

EventType = Literal["Normal", "Warning"]


def _option(flag: str, value: str) -> str:
    quoted = shlex.quote(value)
    return f"{flag}={quoted}" if value.startswith("-") else f"{flag} {quoted}"


class _NamespacedRead(RequestBase):
    """A read over one or more namespaces (``-n``), or all of them (``-A``)."""

    namespaces: tuple[str, ...] = Field(default=("default",), min_length=1)
    all_namespaces: bool = False
    #: Namespaces policy keeps out of an ``-A`` read.
    excluded_namespaces: tuple[str, ...] = ()

    @property
    def verb(self) -> str:
        return "get"

    @property
    def flags(self) -> frozenset[str]:
        """The flags given (long names), so a rule's ``flags`` can single a read out."""
        return frozenset(name for name, used in self._flags_used().items() if used)

    def _flags_used(self) -> dict[str, bool]:
        return {
            "all-namespaces": self.all_namespaces,
            "namespace": not self.all_namespaces and self.namespaces != ("default",),
        }

    def _where(self) -> str:
        return "*" if self.all_namespaces else ",".join(self.namespaces)

    def _namespace_words(self) -> list[str]:
        if self.all_namespaces:
            return ["-A"]
        if self.namespaces != ("default",):
            return [f"-n {ns}" for ns in self.namespaces]
        return []


class GetPods(_NamespacedRead):
    """``get pods [-n NS | -A] [-o wide] [-l SELECTOR] [--field-selector F] [--node NODE]``."""

    kind: Literal["get_pods"] = "get_pods"
    wide: bool = False
    selector: str | None = None
    field_selector: str | None = None
    node: str | None = None

    @property
    def target(self) -> str:
        return f"pods in {self._where()}"

    def _flags_used(self) -> dict[str, bool]:
        return super()._flags_used() | {
            "output": self.wide,
            "selector": bool(self.selector),
            "field-selector": bool(self.field_selector),
            "node": bool(self.node),
        }

    def command_text(self) -> str:
        words = ["get pods", *self._namespace_words()]
        if self.wide:
            words.append("-o wide")
        for flag, value in (
            ("-l", self.selector),
            ("--field-selector", self.field_selector),
            ("--node", self.node),
        ):
            if value:
                words.append(_option(flag, value))
        return " ".join(words)


class GetEvents(_NamespacedRead):
    """``get events [-n NS | -A] [--for KIND/NAME] [--types Warning]`` (``kubectl events``)."""

    kind: Literal["get_events"] = "get_events"
    #: ``--for``: the involved object's kind (canonical), API version and name.
    for_kind: str | None = None
    for_api_version: str | None = None
    for_name: str | None = None
    types: tuple[EventType, ...] = ()

    @property
    def target(self) -> str:
        return f"events in {self._where()}"

    def _flags_used(self) -> dict[str, bool]:
        return super()._flags_used() | {"for": bool(self.for_name), "types": bool(self.types)}

    def command_text(self) -> str:
        words = ["get events", *self._namespace_words()]
        if self.for_kind and self.for_name:
            words.append(_option("--for", f"{self.for_kind.lower()}/{self.for_name}"))
        if self.types:
            words.append(f"--types {','.join(self.types)}")
        return " ".join(words)


class PodRow(BaseModel):
    """One line of ``kubectl get pods``; ages are rendered when shown."""

    model_config = ConfigDict(frozen=True)

    namespace: str
    name: str
    ready: str
    status: str
    restarts: int
    #: When the newest restart counted in RESTARTS ended (kubectl's "(5m ago)").
    last_restart: datetime | None = None
    created: datetime | None = None
    ip: str = "<none>"
    node: str = "<none>"
    nominated_node: str = "<none>"
    readiness_gates: str = "<none>"


class PodTable(ResultBase):
    kind: Literal["pod_table"] = "pod_table"
    rows: list[PodRow]
    wide: bool = False
    all_namespaces: bool = False
    #: The namespace named when not ``-A`` (kubectl's "No resources found in NS namespace.").
    namespaces: tuple[str, ...] = ()
    excluded_namespaces: tuple[str, ...] = ()


class EventRow(BaseModel):
    """One line of ``kubectl events``; its times are kept, LAST SEEN is rendered when shown."""

    model_config = ConfigDict(frozen=True)

    namespace: str
    type: str
    reason: str
    object: str
    message: str
    count: int = 0
    event_time: datetime | None = None
    first_timestamp: datetime | None = None
    last_timestamp: datetime | None = None
    series_count: int | None = None
    series_last: datetime | None = None


class EventTable(ResultBase):
    kind: Literal["event_table"] = "event_table"
    rows: list[EventRow]
    all_namespaces: bool = False
    namespaces: tuple[str, ...] = ()
    excluded_namespaces: tuple[str, ...] = ()
