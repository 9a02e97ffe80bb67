"""What a handler may ask of the node agents: who is alive, and "do this on that node".

Handlers do not know Redis; the worker gives them a :class:`NodeAgents` (``control.agents``,
built by ``bot.jobs.agents``) that carries tasks to the agents and their answers back
(protocol: :mod:`core.nodework`). A call either returns the agent's reply or raises one of the
:class:`AgentProblem` errors below, each naming what a person should check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from core import messages
from core.errors import ChatOpsError
from core.nodework import AgentBeat, Op, Reply, TaskEvent

#: Seconds a whole-node task may take, by operation (a prune of thousands of images is the
#: long one); a call's own ``timeout`` overrides.
TASK_TIMEOUTS: dict[str, float] = {
    "images": 60.0,
    "ps": 30.0,
    "logs": 30.0,
    "rmi": 60.0,
    "rmi-approved": 60.0,
    "prune": 15 * 60.0,
    "prune-approved": 15 * 60.0,
}


class AgentProblem(ChatOpsError):
    """A node's agent could not do the task. ``reason`` is a ``NodeProblem`` reason; ``done``
    holds the events of items the agent finished before it stopped (a prune's removals)."""

    reason = "no-agent"

    def __init__(self, node: str, user_message: str, detail: str = "") -> None:
        super().__init__(user_message)
        self.node, self.detail = node, detail
        self.done: list[TaskEvent] = []


class NoAgent(AgentProblem):
    """No live heartbeat from the node's agent (not scheduled there, or not running)."""

    reason = "no-agent"

    def __init__(self, node: str) -> None:
        super().__init__(node, messages.AGENT_NONE.format(node=node))


class AgentLost(AgentProblem):
    """The agent took the task and stopped answering before it finished."""

    reason = "agent-lost"

    def __init__(self, node: str, detail: str = "") -> None:
        super().__init__(node, messages.AGENT_LOST.format(node=node), detail)


class RuntimeUnreachable(AgentProblem):
    """The agent runs but cannot reach its container runtime's socket."""

    reason = "runtime-unreachable"

    def __init__(self, node: str, detail: str = "") -> None:
        super().__init__(node, messages.AGENT_RUNTIME_UNREACHABLE.format(node=node), detail)


class AgentTimeout(AgentProblem):
    reason = "timeout"

    def __init__(self, node: str, seconds: float, detail: str = "") -> None:
        super().__init__(
            node, messages.AGENT_TIMEOUT.format(node=node, seconds=round(seconds)), detail
        )


class AgentRefused(AgentProblem):
    """The agent answered that the task cannot be done: ``reason`` is the agent's
    (``container-not-found``, ``ambiguous-container``, ``bad-task``, ``stale``, ``error``)."""

    def __init__(self, node: str, reason: str, detail: str = "") -> None:
        super().__init__(node, messages.AGENT_REFUSED.format(node=node, reason=reason), detail)
        self.reason = reason


class NodeAgents(Protocol):
    """The node agents of the worker's cluster."""

    def live(self) -> dict[str, AgentBeat]:
        """Node → the latest heartbeat, for every agent whose heartbeat has not expired."""
        ...

    def call(
        self,
        node: str,
        work: Op,
        *,
        timeout: float | None = None,
        on_event: Callable[[TaskEvent], None] | None = None,
        exclusive: bool = False,
    ) -> Reply:
        """Run ``work`` on ``node``'s agent and return its reply, within ``timeout`` seconds
        (:data:`TASK_TIMEOUTS` by default); ``on_event`` sees each event as it arrives.
        ``exclusive`` holds the node's lock (``node/NAME``, as every mutating job does) for
        the call. Raises an :class:`AgentProblem`."""
        ...
