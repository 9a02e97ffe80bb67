"""``k8s-chatops-sandbox node NODE --not-ready | --unknown | --disk-pressure | --memory-pressure
| --healthy``: a kwok node made sick, and well again, on demand.

- ``--not-ready``, ``--disk-pressure``, ``--memory-pressure`` set the annotation
  :data:`HEALTH_ANNOTATION`; the stages in ``stages/node-health.yaml`` rewrite the node's
  conditions as a kubelet reports them, and the ordinary node stages leave it alone. The Lease
  keeps being renewed, as a real kubelet that reports a bad condition still heartbeats.
- ``--unknown`` stops the heartbeat: the node's Lease is taken over by a holder that is not
  kwok, for a day, so kwok no longer renews it (it renews only a Lease it holds or one that has
  expired) and no longer touches the node. The renewal time stays where it was; the node
  lifecycle controller marks the node ``Unknown`` once the grace period (50 s by default)
  has passed, and taints it unreachable, as for a kubelet that died.
- ``--healthy`` undoes both: the annotation goes, the Lease is handed back (no holder, kwok
  takes it on its next pass), and the conditions are cleared so the ``sandbox-node-ready``
  stage writes healthy ones. ``sandbox reset`` does this for every node.
"""

from __future__ import annotations

import time
from typing import Any

from core import messages
from core.errors import ConfigurationError
from handlers.kube import JSON, KubeClient, KubeNotFound, resource_for

HEALTH_ANNOTATION = "sandbox.k8s-chatops.io/health"
#: Who holds a stopped node's Lease (not kwok, so kwok leaves it alone).
STOPPED_HOLDER = "k8s-chatops-sandbox/heartbeat-stopped"
#: kwok's own ``--node-lease-duration-seconds`` (sandbox/argv.py), restored with the holder.
KWOK_LEASE_SECONDS = 40
LEASE_NAMESPACE = "kube-node-lease"
#: The states and what the node's conditions show once the stage has run.
STATES = ("not-ready", "unknown", "disk-pressure", "memory-pressure", "healthy")
_WANTED_CONDITION = {
    "not-ready": ("Ready", "False"),
    "disk-pressure": ("DiskPressure", "True"),
    "memory-pressure": ("MemoryPressure", "True"),
}
_NODES = resource_for("Node")
_LEASES = resource_for("Lease")


def _conditions(node: JSON) -> dict[str, str]:
    return {
        str(c.get("type")): str(c.get("status"))
        for c in node.get("status", {}).get("conditions") or []
    }


def _healthy(node: JSON) -> bool:
    conditions = _conditions(node)
    return conditions.get("Ready") == "True" and not any(
        conditions.get(kind) == "True"
        for kind in ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")
    )


def _wait(kube: KubeClient, name: str, done: Any, *, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if done(kube.get(_NODES.path(name=name))):
            return
        if time.monotonic() > deadline:
            raise ConfigurationError(messages.SANDBOX_TIMEOUT.format(what=what))
        time.sleep(0.2)


def _stop_heartbeat(kube: KubeClient, name: str) -> None:
    kube.patch_merge(
        _LEASES.path(LEASE_NAMESPACE, name),
        {"spec": {"holderIdentity": STOPPED_HOLDER, "leaseDurationSeconds": 86400}},
    )


def _resume_heartbeat(kube: KubeClient, name: str) -> None:
    try:
        lease = kube.get(_LEASES.path(LEASE_NAMESPACE, name))
    except KubeNotFound:
        return  # kwok creates it
    if lease.get("spec", {}).get("holderIdentity") == STOPPED_HOLDER:
        kube.patch_merge(
            _LEASES.path(LEASE_NAMESPACE, name),
            {"spec": {"holderIdentity": None, "leaseDurationSeconds": KWOK_LEASE_SECONDS}},
        )


def set_health(kube: KubeClient, name: str, state: str, *, timeout: float = 60.0) -> None:
    """Make node ``name`` ``state`` (one of :data:`STATES`); waits until the conditions show
    it, except for ``unknown``, which the node lifecycle controller shows after its grace
    period."""
    if state not in STATES:
        raise ValueError(state)
    try:
        node = kube.get(_NODES.path(name=name))
    except KubeNotFound:
        raise ConfigurationError(messages.NODE_NOT_FOUND.format(name=name)) from None
    if state == "healthy":
        _heal(kube, node, always=True)
        _wait(kube, name, _healthy, what=f"node {name} to be Ready", timeout=timeout)
        return
    if state == "unknown":
        _stop_heartbeat(kube, name)
        return
    kube.patch_merge(
        _NODES.path(name=name), {"metadata": {"annotations": {HEALTH_ANNOTATION: state}}}
    )
    kind, status = _WANTED_CONDITION[state]
    _wait(
        kube,
        name,
        lambda n: _conditions(n).get(kind) == status,
        what=f"node {name} to show {kind}={status}",
        timeout=timeout,
    )


def _heal(kube: KubeClient, node: JSON, *, always: bool = False) -> bool:
    """Undo every change this module makes to one node; False if there was none. ``always``
    also clears the conditions of a node this module did not touch (``--healthy``)."""
    name = node["metadata"]["name"]
    annotated = HEALTH_ANNOTATION in (node["metadata"].get("annotations") or {})
    try:
        lease = kube.get(_LEASES.path(LEASE_NAMESPACE, name))
        stopped = lease.get("spec", {}).get("holderIdentity") == STOPPED_HOLDER
    except KubeNotFound:
        stopped = False
    if not annotated and not stopped and not always:
        return False
    if annotated:
        kube.patch_merge(
            _NODES.path(name=name), {"metadata": {"annotations": {HEALTH_ANNOTATION: None}}}
        )
    if stopped:
        _resume_heartbeat(kube, name)
    # No conditions: sandbox-node-ready (Ready not True) writes healthy ones.
    kube.request(
        "PATCH",
        _NODES.path(name=name) + "/status",
        body={"status": {"conditions": None}},
        content_type="application/merge-patch+json",
    )
    return True


def heal_all(kube: KubeClient, *, timeout: float = 60.0) -> int:
    """``sandbox reset``: every node made sick here made healthy again; how many there were."""
    healed = [
        node["metadata"]["name"] for node in kube.list_pages(_NODES.path()) if _heal(kube, node)
    ]
    for name in healed:
        _wait(kube, name, _healthy, what=f"node {name} to be Ready", timeout=timeout)
    return len(healed)
