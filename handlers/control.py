"""What a running handler may ask of whoever runs it: report progress, check for cancel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


def _ignore(message: str) -> None:
    del message


def _never() -> bool:
    return False


@dataclass(frozen=True)
class Control:
    """Passed to every handler; the worker wires it to the job's events and cancel flag."""

    progress: Callable[[str], None] = field(default=_ignore)
    cancelled: Callable[[], bool] = field(default=_never)
