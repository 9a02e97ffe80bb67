"""Which function performs which request: the single table a new command is added to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handlers import nodes
from handlers.kube import KubeClient
from handlers.models import CordonNode, GetNodes, Request, Result, UncordonNode

Handler = Callable[[Any, KubeClient, Callable[[str], None]], Result]

HANDLERS: dict[type[Any], Handler] = {
    GetNodes: nodes.get_nodes,
    CordonNode: nodes.cordon,
    UncordonNode: nodes.uncordon,
}


def perform(request: Request, kube: KubeClient, progress: Callable[[str], None]) -> Result:
    return HANDLERS[type(request)](request, kube, progress)
