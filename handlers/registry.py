"""Which function performs which request: the single table a new command is added to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handlers import drain, logs, nodes
from handlers.control import Control
from handlers.drain_models import DrainNode
from handlers.kube import KubeClient
from handlers.logs_models import NodeLogs, PodLogs
from handlers.models import CordonNode, GetNodes, Request, Result, UncordonNode

Handler = Callable[[Any, KubeClient, Control], Result]

HANDLERS: dict[type[Any], Handler] = {
    GetNodes: nodes.get_nodes,
    CordonNode: nodes.cordon,
    UncordonNode: nodes.uncordon,
    DrainNode: drain.drain,
    PodLogs: logs.pod_logs,
    NodeLogs: logs.node_logs,
}


def perform(request: Request, kube: KubeClient, control: Control) -> Result:
    return HANDLERS[type(request)](request, kube, control)
