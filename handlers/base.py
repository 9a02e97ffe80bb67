"""The shapes every request and result share, and how a stored one finds its type again.

A job record in Redis holds its request and result as JSON with a ``kind``. Each request or
result class registers its ``kind`` as it is defined, so the job layer reads any of them back
without a hand-kept union that every new command would have to extend: adding a command adds
its classes, and nothing else changes here.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

_REQUESTS: dict[str, type[RequestBase]] = {}
_RESULTS: dict[str, type[ResultBase]] = {}


def _kind_of(cls: type[BaseModel]) -> str | None:
    field = cls.model_fields.get("kind")
    default = field.default if field is not None else None
    return default if isinstance(default, str) else None


def _register(table: dict[str, Any], cls: type[BaseModel]) -> None:
    kind = _kind_of(cls)
    if kind is None:
        return
    known = table.get(kind)
    if known is not None and known.__qualname__ != cls.__qualname__:
        raise TypeError(f"kind {kind!r} is declared by both {known.__name__} and {cls.__name__}")
    table[kind] = cls


class RequestBase(BaseModel):
    """What a worker is asked to do: typed, frozen, and able to describe itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Subclasses declare ``kind: Literal["…"] = "…"``; the record stores it.
    kind: str

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        _register(_REQUESTS, cls)

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
        """The kubectl-style flags used (names without dashes), for policy rules."""
        return frozenset()

    #: Whether approvers are shown a plan a worker computes before the job may run.
    plans_for_approval: ClassVar[bool] = False

    @property
    def runs_within_plan(self) -> bool:
        """Whether, once approved, it does no more than the plan its approvers saw — so it
        cannot be approved before that plan is on its card."""
        return False

    def as_approved(self, plan: BaseModel) -> RequestBase:
        """The request to run once approved, ``plan`` being the plan its approvers saw (a
        drain compares with it; a prune is held to it)."""
        del plan
        return self

    def command_text(self) -> str:
        raise NotImplementedError


class ResultBase(BaseModel):
    """What every handler result tells the worker about how the job ended."""

    kind: str

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        _register(_RESULTS, cls)

    @property
    def failure(self) -> str | None:
        """Why the operation did not do what was asked (None when it did)."""
        return None

    @property
    def was_cancelled(self) -> bool:
        return False


def _load_all_handlers() -> None:
    """Import every handlers module once, so every kind is registered before a lookup fails."""
    package = importlib.import_module("handlers")
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"handlers.{module.name}")


def _lookup(table: dict[str, Any], kind: object, what: str) -> Any:
    if not isinstance(kind, str):
        raise ValueError(f"a stored {what} has no kind")
    if kind not in table:
        _load_all_handlers()
    if kind not in table:
        raise ValueError(f"no {what} of kind {kind!r} is known to this version")
    return table[kind]


def request_type(kind: object) -> type[RequestBase]:
    found: type[RequestBase] = _lookup(_REQUESTS, kind, "request")
    return found


def result_type(kind: object) -> type[ResultBase]:
    found: type[ResultBase] = _lookup(_RESULTS, kind, "result")
    return found


def as_request(value: object) -> object:
    """A pydantic ``before`` validator: a stored dict becomes its own request type."""
    if isinstance(value, dict):
        return request_type(value.get("kind")).model_validate(value)
    return value


def as_result(value: object) -> object:
    if isinstance(value, dict):
        return result_type(value.get("kind")).model_validate(value)
    return value
