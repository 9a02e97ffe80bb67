"""What a running handler may ask of whoever runs it: report progress, check for cancel, and
the output rules the operator configured (secret masking and the caps on what is posted)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.redaction import Redactor, build_redactor
from handlers.lines import MAX_LINE_BYTES

if TYPE_CHECKING:
    from handlers.agents import NodeAgents


def _ignore(message: str) -> None:
    del message


def _never() -> bool:
    return False


@dataclass(frozen=True)
class OutputCaps:
    """How much log text one reply may carry; the newest lines are kept."""

    max_lines: int = 2000
    max_bytes: int = 1_000_000
    #: Bytes kept of one line; the rest is read, dropped, and the cut marked.
    max_line_bytes: int = MAX_LINE_BYTES


@dataclass(frozen=True)
class Control:
    """Passed to every handler; the worker wires it to the job's events and cancel flag."""

    progress: Callable[[str], None] = field(default=_ignore)
    cancelled: Callable[[], bool] = field(default=_never)
    redactor: Redactor = field(default_factory=build_redactor)
    caps: OutputCaps = field(default_factory=OutputCaps)
    #: The cluster's node agents (image and runtime commands); None where there are none.
    agents: NodeAgents | None = None
