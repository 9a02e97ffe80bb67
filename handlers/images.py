"""The perform and plan functions of the node-runtime commands.

# placeholder — replaced by the agent branch at merge

The agent engineer writes the real functions (per-node work for the node agents over Redis);
the chat commands (``bot/commands/verbs/images.py`` and ``runtime.py``) register them by these
names. Nothing in the cmds branch's tests calls them.
"""

from __future__ import annotations

from handlers.control import Control
from handlers.images_models import (
    FleetImages,
    ListImages,
    NodeImages,
    NodeUnreached,
    PruneImages,
    PrunePlan,
    PruneResult,
    RemoveImage,
    RemoveImageResult,
    RuntimeContainers,
    RuntimeLogLines,
    RuntimeLogs,
    RuntimePs,
)
from handlers.kube import KubeClient

_PLACEHOLDER = "placeholder — replaced by the agent branch at merge"


def list_images(
    request: ListImages, kube: KubeClient, control: Control
) -> NodeImages | FleetImages | NodeUnreached:
    raise NotImplementedError(_PLACEHOLDER)


def plan_prune(
    kube: KubeClient, request: PruneImages | RemoveImage, control: Control | None = None
) -> PrunePlan:
    raise NotImplementedError(_PLACEHOLDER)


def prune_images(request: PruneImages, kube: KubeClient, control: Control) -> PruneResult:
    raise NotImplementedError(_PLACEHOLDER)


def remove_image(request: RemoveImage, kube: KubeClient, control: Control) -> RemoveImageResult:
    raise NotImplementedError(_PLACEHOLDER)


def runtime_ps(
    request: RuntimePs, kube: KubeClient, control: Control
) -> RuntimeContainers | NodeUnreached:
    raise NotImplementedError(_PLACEHOLDER)


def runtime_logs(
    request: RuntimeLogs, kube: KubeClient, control: Control
) -> RuntimeLogLines | NodeUnreached:
    raise NotImplementedError(_PLACEHOLDER)
