"""``get nodes``, ``cordon`` and ``uncordon``, with kubectl's columns and messages."""

from __future__ import annotations

from datetime import UTC, datetime

from core import messages
from handlers import node_health
from handlers.control import Control
from handlers.kube import JSON, KubeClient, KubeNotFound, resource_for
from handlers.models import (
    CordonNode,
    GetNodes,
    NodeChange,
    NodeProblem,
    NodeRow,
    NodeTable,
    UncordonNode,
)
from handlers.retry import retrying

_ROLE_PREFIX = "node-role.kubernetes.io/"
_NODES = resource_for("Node")


def node_status(node: JSON) -> str:
    """kubectl's STATUS column: Ready/NotReady/Unknown, plus SchedulingDisabled."""
    parts = []
    for condition in node.get("status", {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            parts = ["Ready" if condition.get("status") == "True" else "NotReady"]
    if not parts:
        parts = ["Unknown"]
    if node.get("spec", {}).get("unschedulable"):
        parts.append("SchedulingDisabled")
    return ",".join(parts)


def node_roles(node: JSON) -> str:
    """kubectl's ROLES column, from ``node-role.kubernetes.io/*`` and ``kubernetes.io/role``."""
    roles = set()
    for key, value in (node.get("metadata", {}).get("labels") or {}).items():
        if key.startswith(_ROLE_PREFIX) and key[len(_ROLE_PREFIX) :]:
            roles.add(key[len(_ROLE_PREFIX) :])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _address(node: JSON, kind: str) -> str:
    """The first address of a type, as kubectl's wide INTERNAL-IP/EXTERNAL-IP columns."""
    for address in node.get("status", {}).get("addresses") or []:
        if address.get("type") == kind:
            return str(address.get("address", ""))
    return "<none>"


def node_row(node: JSON, problems: list[NodeProblem] | None = None) -> NodeRow:
    meta = node["metadata"]
    info = node.get("status", {}).get("nodeInfo", {}) or {}
    kernel = info.get("kernelVersion") or "<unknown>"
    if info.get("architecture"):
        kernel += f" ({info['architecture']})"
    return NodeRow(
        name=meta["name"],
        status=node_status(node),
        roles=node_roles(node),
        created=datetime.fromisoformat(meta["creationTimestamp"].replace("Z", "+00:00")),
        version=info.get("kubeletVersion", ""),
        internal_ip=_address(node, "InternalIP"),
        external_ip=_address(node, "ExternalIP"),
        os_image=info.get("osImage") or "<unknown>",
        kernel_version=kernel,
        container_runtime=info.get("containerRuntimeVersion") or "<unknown>",
        problems=problems or [],
    )


def get_nodes(request: GetNodes, kube: KubeClient, control: Control) -> NodeTable:
    kube = retrying(kube, control, verb=request.verb)
    found = list(kube.list_pages(_NODES.path(), label_selector=request.selector or None))
    if not request.problems:
        rows = [node_row(node) for node in found]
    else:
        rows = _problem_rows(request, kube, found)
    rows.sort(key=lambda row: row.name)
    return NodeTable(rows=rows, wide=request.wide, problems=request.problems, checked=len(found))


def _problem_rows(request: GetNodes, kube: KubeClient, found: list[JSON]) -> list[NodeRow]:
    names = [node["metadata"]["name"] for node in found]
    leases = node_health.node_leases(kube, names)
    counts = node_health.pod_counts(kube, names)
    now = datetime.now(UTC)
    rows = []
    for node, name in zip(found, names, strict=True):
        problems = node_health.node_problems(
            node,
            lease=leases.get(name),
            pod_count=counts.get(name, 0),
            now=now,
            lease_grace=request.lease_grace,
            cordoned_for=request.cordoned_for,
        )
        if problems:
            rows.append(node_row(node, problems))
    return rows


def _set_unschedulable(kube: KubeClient, name: str, unschedulable: bool) -> bool:
    """Patch ``spec.unschedulable``; False if it already had that value (as kubectl skips).

    The patch sets a value rather than toggling one, so sending it again after a lost answer
    changes nothing more."""
    try:
        node = kube.get(_NODES.path(name=name))
    except KubeNotFound:
        raise KubeNotFound(messages.NODE_NOT_FOUND.format(name=name), status=404) from None
    if bool(node.get("spec", {}).get("unschedulable")) == unschedulable:
        return False
    kube.patch_strategic(
        _NODES.path(name=name), {"spec": {"unschedulable": True if unschedulable else None}}
    )
    return True


def cordon(request: CordonNode, kube: KubeClient, control: Control) -> NodeChange:
    kube = retrying(kube, control, verb=request.verb)
    changed = _set_unschedulable(kube, request.node, True)
    said = (messages.NODE_CORDONED if changed else messages.NODE_ALREADY_CORDONED).format(
        name=request.node
    )
    return NodeChange(node=request.node, changed=changed, message=said)


def uncordon(request: UncordonNode, kube: KubeClient, control: Control) -> NodeChange:
    kube = retrying(kube, control, verb=request.verb)
    changed = _set_unschedulable(kube, request.node, False)
    said = (messages.NODE_UNCORDONED if changed else messages.NODE_ALREADY_UNCORDONED).format(
        name=request.node
    )
    return NodeChange(node=request.node, changed=changed, message=said)
