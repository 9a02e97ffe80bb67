"""``sandbox up --nodes N --pods-per-node M`` and paged lists on a larger simulated cluster."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from handlers.control import Control
from handlers.kube import KubeClient, resource_for
from handlers.models import GetNodes
from handlers.nodes import get_nodes
from sandbox import seed

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NODES = 300


def test_scaled_cluster_is_ready_and_listed_in_pages(kube: KubeClient) -> None:
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "sandbox.commands",
                "up",
                "--nodes",
                str(NODES),
                "--pods-per-node",
                "2",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        nodes_path = resource_for("Node").path()

        def ready_count() -> int:
            return sum(
                1
                for node in kube.list_pages(nodes_path, page_size=50)
                for c in node.get("status", {}).get("conditions") or []
                if c["type"] == "Ready" and c["status"] == "True"
            )

        deadline = time.monotonic() + 120
        while ready_count() < NODES + 2 and time.monotonic() < deadline:
            time.sleep(1)
        assert ready_count() == NODES + 2
        fillers = list(
            kube.list_pages(resource_for("Pod").path(seed.SCALE_NAMESPACE), page_size=100)
        )
        assert len(fillers) == NODES * 2
        assert len({pod["spec"]["nodeName"] for pod in fillers}) == NODES
        table = get_nodes(GetNodes(), kube, Control())
        assert len(table.rows) == NODES + 2
        assert [row.name for row in table.rows] == sorted(row.name for row in table.rows)
    finally:
        seed.reset(kube)
    assert sum(1 for _ in kube.list_pages(resource_for("Node").path())) == 2
