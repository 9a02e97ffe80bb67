"""Small helpers shared by the integration tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from handlers.kube import KubeClient, resource_for

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 30.0, interval: float = 0.2) -> T:
    """Poll ``condition`` until it returns something truthy; return that, or fail the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"condition not met within {timeout}s"
        time.sleep(interval)


def block_hellok8s_evictions(kube: KubeClient, min_available: int = 2) -> None:
    """A PDB over the seed's hellok8s Deployment, computed by the disruption controller."""
    kube.create(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "hellok8s", "namespace": "default"},
            "spec": {
                "minAvailable": min_available,
                "selector": {"matchLabels": {"app": "hellok8s"}},
            },
        }
    )
    path = resource_for("PodDisruptionBudget").path("default", "hellok8s")
    wait_for(lambda: kube.get(path).get("status", {}).get("currentHealthy") == 2)
