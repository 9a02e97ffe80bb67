"""Pods held in the states a real kubelet reports when something is wrong, for tests of how
the bot shows pods (``get pods``, ``describe pod``).

The states come from kwok's stages in ``stages/pod-states.yaml``, asked for with the
annotation :data:`STATE_ANNOTATION`; a Pending pod is one no node fits, and a Terminating one
is held by a finalizer that :func:`release` removes. They live in a namespace of their own, so
``sandbox reset`` (which removes every namespace a test created) takes them away; they are
not part of the seed, whose pods the drain walkthrough and its tests count.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from core import messages
from core.errors import ConfigurationError
from handlers.kube import JSON, KubeClient, KubeNotFound, resource_for

STATE_ANNOTATION = "k8s-chatops.io/sandbox-pod-state"
#: A finalizer only :func:`release` removes, so a deleted pod stays Terminating.
HOLD_FINALIZER = "k8s-chatops.io/sandbox-hold"
#: On the namespace :func:`create` makes, so ``sandbox reset`` knows to let its pods go.
NAMESPACE_LABEL = "k8s-chatops.io/sandbox-pod-states"
IMAGE = "registry.k8s.io/pause:3.10"
#: Pod name → (annotation value, or None) and the STATUS kubectl shows for it.
STATES: dict[str, tuple[str | None, str]] = {
    "crashloop": ("CrashLoopBackOff", "CrashLoopBackOff"),
    "failed": ("Error", "Error"),
    "done": ("Completed", "Completed"),
    "creating": ("ContainerCreating", "ContainerCreating"),
    "initializing": ("Init", "Init:0/1"),
    "unplaceable": (None, "Pending"),
    "held": (None, "Terminating"),
}


def pod(namespace: str, name: str, state: str | None, *, node: str = "k8s-node1") -> JSON:
    """A one-container pod bound to ``node`` that asks kwok for ``state``."""
    spec: dict[str, Any] = {"nodeName": node, "containers": [{"name": "app", "image": IMAGE}]}
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": {"app": name}}
    if state:
        meta["annotations"] = {STATE_ANNOTATION: state}
    if state == "Init":
        spec["initContainers"] = [{"name": "setup", "image": IMAGE}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def _wait(ready: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise ConfigurationError(messages.SANDBOX_TIMEOUT.format(what=what))
        time.sleep(0.2)


def create(kube: KubeClient, namespace: str, *, node: str = "k8s-node1") -> None:
    """A namespace with one pod per entry of :data:`STATES`; returns once each pod is in its
    state as the API reports it (kwok has acted, the held pod is being deleted)."""
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": namespace, "labels": {NAMESPACE_LABEL: "true"}},
        }
    )
    account = resource_for("ServiceAccount").path(namespace, "default")

    def has_account() -> bool:
        try:
            return bool(kube.get(account))
        except KubeNotFound:
            return False

    _wait(has_account, f"service account {namespace}/default")
    pods = resource_for("Pod")
    for name, (state, _) in STATES.items():
        obj = pod(namespace, name, state, node=node)
        if name == "unplaceable":
            del obj["spec"]["nodeName"]
            obj["spec"]["nodeSelector"] = {"k8s-chatops.io/nowhere": "true"}
        if name == "held":
            obj["metadata"]["finalizers"] = [HOLD_FINALIZER]
        kube.create(obj)

    def phase(name: str) -> str:
        return str(kube.get(pods.path(namespace, name)).get("status", {}).get("phase", ""))

    _wait(lambda: phase("held") == "Running", f"pod {namespace}/held to run")
    kube.delete(pods.path(namespace, "held"))


def let_go(kube: KubeClient, namespace: str) -> None:
    """Remove the hold from every pod of ``namespace`` that has it (a test that stopped
    half-way leaves one), so the namespace can be deleted."""
    pods = resource_for("Pod")
    for obj in kube.list_pages(pods.path(namespace)):
        if HOLD_FINALIZER in (obj["metadata"].get("finalizers") or []):
            with contextlib.suppress(KubeNotFound):
                kube.patch_merge(
                    pods.path(namespace, obj["metadata"]["name"]),
                    {"metadata": {"finalizers": None}},
                )


def release(kube: KubeClient, namespace: str) -> None:
    """Let the held pod go and remove the namespace with its pods."""
    pods = resource_for("Pod")
    let_go(kube, namespace)
    kube.delete_collection(pods.path(namespace), grace_period_seconds=0)
    with contextlib.suppress(KubeNotFound):
        kube.delete(resource_for("Namespace").path(name=namespace))
