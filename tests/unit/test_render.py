"""Rendering matches kubectl: its age format, its column layout, its STATUS and ROLES."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.commands.render import human_duration, table
from bot.commands.verbs.nodes import render_node_change, render_node_table
from handlers.models import NodeChange, NodeRow, NodeTable
from handlers.nodes import node_roles, node_status


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (-5, "<invalid>"),
        (-0.5, "0s"),
        (0, "0s"),
        (119, "119s"),
        (120, "2m"),
        (125, "2m5s"),
        (600, "10m"),
        (179 * 60, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 120, "3h2m"),
        (8 * 3600, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (50 * 3600, "2d2h"),
        (8 * 86400, "8d"),
        (729 * 86400, "729d"),
        (730 * 86400, "2y"),
        (731 * 86400, "2y1d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_human_duration_matches_kubectl(seconds: float, expected: str) -> None:
    assert human_duration(seconds) == expected


def test_table_pads_like_kubectl_tabwriter() -> None:
    text = table(("NAME", "STATUS", "AGE"), [("a", "Ready,SchedulingDisabled", "5d")])
    assert text.splitlines() == [
        "NAME   STATUS                     AGE",
        "a      Ready,SchedulingDisabled   5d",
    ]


def _node(conditions: list[dict[str, str]], unschedulable: bool = False, **labels: str) -> dict:
    return {
        "metadata": {"name": "n", "labels": labels, "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"unschedulable": unschedulable},
        "status": {"conditions": conditions},
    }


@pytest.mark.parametrize(
    ("conditions", "unschedulable", "expected"),
    [
        ([{"type": "Ready", "status": "True"}], False, "Ready"),
        ([{"type": "Ready", "status": "True"}], True, "Ready,SchedulingDisabled"),
        ([{"type": "Ready", "status": "False"}], False, "NotReady"),
        ([{"type": "Ready", "status": "Unknown"}], True, "NotReady,SchedulingDisabled"),
        ([{"type": "MemoryPressure", "status": "False"}], False, "Unknown"),
        ([], False, "Unknown"),
    ],
)
def test_node_status_column(
    conditions: list[dict[str, str]], unschedulable: bool, expected: str
) -> None:
    assert node_status(_node(conditions, unschedulable)) == expected


def test_node_roles_column() -> None:
    labelled = {
        "node-role.kubernetes.io/control-plane": "",
        "node-role.kubernetes.io/infra": "",
        "kubernetes.io/role": "edge",
        "node-role.kubernetes.io/": "x",
    }
    assert node_roles(_node([], **labelled)) == "control-plane,edge,infra"
    assert node_roles(_node([])) == "<none>"


def test_node_table_and_change_rendering() -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    rows = [
        NodeRow(
            name="k8s-master",
            status="Ready",
            roles="control-plane",
            created=now - timedelta(days=16),
            version="v1.37.2",
        ),
        NodeRow(
            name="k8s-node1",
            status="Ready,SchedulingDisabled",
            roles="<none>",
            created=now - timedelta(days=15, hours=1),
            version="v1.37.2",
        ),
    ]
    assert render_node_table(NodeTable(rows=rows), now=now).splitlines() == [
        "NAME         STATUS                     ROLES           AGE   VERSION",
        "k8s-master   Ready                      control-plane   16d   v1.37.2",
        "k8s-node1    Ready,SchedulingDisabled   <none>          15d   v1.37.2",
    ]
    assert render_node_table(NodeTable(rows=[])) == "No resources found"
    change = NodeChange(node="n", changed=False, message="node/n already cordoned")
    assert render_node_change(change) == "node/n already cordoned"
