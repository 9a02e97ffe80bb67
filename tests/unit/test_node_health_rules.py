"""``get nodes --problems``: each rule on its own, their thresholds, and the words shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.commands.verbs.nodes import (
    node_thread_parts,
    parse_get_nodes,
    problem_text,
    render_node_table,
)
from core.errors import CommandError
from handlers.models import GetNodes, NodeProblem, NodeTable
from handlers.node_health import node_problems
from handlers.nodes import node_row

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def node(
    *,
    ready: str | None = "True",
    reason: str = "KubeletReady",
    conditions: dict[str, str] | None = None,
    unschedulable: bool = False,
    taint_added: str | None = None,
    pods: str | None = "110",
) -> dict[str, Any]:
    listed = []
    if ready is not None:
        listed.append(
            {"type": "Ready", "status": ready, "reason": reason, "lastTransitionTime": ago(600)}
        )
    for kind, status in (conditions or {}).items():
        listed.append({"type": kind, "status": status, "lastTransitionTime": ago(120)})
    spec: dict[str, Any] = {}
    if unschedulable:
        spec["unschedulable"] = True
        taint = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
        if taint_added:
            taint["timeAdded"] = taint_added
        spec["taints"] = [taint]
    status: dict[str, Any] = {"conditions": listed}
    if pods is not None:
        status["allocatable"] = {"cpu": "4", "pods": pods}
    return {
        "metadata": {"name": "n1", "creationTimestamp": ago(86400)},
        "spec": spec,
        "status": status,
    }


def lease(renewed_seconds_ago: float) -> dict[str, Any]:
    return {"metadata": {"name": "n1"}, "spec": {"renewTime": ago(renewed_seconds_ago)}}


def kinds(found: list[NodeProblem]) -> list[str]:
    return [p.kind for p in found]


def check(n: dict[str, Any], *, renewed: float | None = 5, pods: int = 3, **kw: Any) -> list[str]:
    return kinds(
        node_problems(
            n,
            lease=None if renewed is None else lease(renewed),
            pod_count=pods,
            now=NOW,
            **kw,
        )
    )


def test_a_healthy_node_has_no_problem() -> None:
    assert check(node(conditions={"MemoryPressure": "False", "DiskPressure": "False"})) == []


def test_not_ready_and_unknown() -> None:
    found = node_problems(node(ready="False", reason="KubeletNotReady"), lease=lease(5),
                          pod_count=0, now=NOW)  # fmt: skip
    assert found == [NodeProblem(kind="not_ready", detail="KubeletNotReady", seconds=600)]
    assert check(node(ready="Unknown", reason="NodeStatusUnknown")) == ["unknown"]
    assert check(node(ready=None)) == ["unknown"]


@pytest.mark.parametrize("kind", ["MemoryPressure", "DiskPressure", "PIDPressure",
                                  "NetworkUnavailable"])  # fmt: skip
def test_pressure_conditions(kind: str) -> None:
    found = node_problems(node(conditions={kind: "True"}), lease=lease(5), pod_count=0, now=NOW)
    assert found == [NodeProblem(kind="pressure", detail=kind, seconds=120)]
    assert check(node(conditions={kind: "Unknown"})) == []


def test_heartbeat_late_against_the_grace_period() -> None:
    assert check(node(), renewed=50) == []
    assert check(node(), renewed=51) == ["heartbeat_late"]
    assert check(node(), renewed=30, lease_grace=20) == ["heartbeat_late"]
    assert check(node(), renewed=None) == ["no_lease"]


def test_cordoned_longer_than_the_threshold_by_the_taint_time() -> None:
    assert check(node(unschedulable=True, taint_added=ago(3599))) == []
    assert check(node(unschedulable=True, taint_added=ago(3600))) == ["cordoned"]
    assert check(node(unschedulable=True, taint_added=ago(120)), cordoned_for=60) == ["cordoned"]
    # No timeAdded (the controller has not stamped it yet): listed, since unknown.
    found = node_problems(node(unschedulable=True), lease=lease(5), pod_count=0, now=NOW)
    assert found == [NodeProblem(kind="cordoned", seconds=None)]
    # A stale taint without spec.unschedulable is not a cordon.
    stale = node(unschedulable=True, taint_added=ago(9999))
    del stale["spec"]["unschedulable"]
    assert check(stale) == []


def test_no_room_for_pods() -> None:
    assert check(node(pods="4"), pods=3) == []
    assert check(node(pods="4"), pods=4) == ["full"]
    assert check(node(pods="4"), pods=5) == ["full"]
    assert check(node(pods=None), pods=500) == []
    assert check(node(pods="1k"), pods=999) == []


def test_every_rule_at_once_in_a_fixed_order() -> None:
    sick = node(ready="False", conditions={"DiskPressure": "True"}, unschedulable=True,
                taint_added=ago(7200), pods="2")  # fmt: skip
    assert check(sick, renewed=300, pods=2) == [
        "not_ready",
        "pressure",
        "heartbeat_late",
        "cordoned",
        "full",
    ]


def test_reasons_in_a_few_words() -> None:
    assert problem_text(NodeProblem(kind="not_ready", detail="KubeletNotReady", seconds=600)) == (
        "NotReady for 10m (KubeletNotReady)"
    )
    assert (
        problem_text(NodeProblem(kind="unknown")) == "Unknown for an unknown time (no reason given)"
    )
    assert problem_text(NodeProblem(kind="pressure", detail="DiskPressure", seconds=90)) == (
        "DiskPressure for 90s"
    )
    assert problem_text(NodeProblem(kind="heartbeat_late", seconds=300, limit=50)) == (
        "heartbeat late: Lease renewed 5m ago (grace 50s)"
    )
    assert problem_text(NodeProblem(kind="cordoned", seconds=14400)) == "cordoned for 4h"
    assert problem_text(NodeProblem(kind="full", count=110, limit=110)) == (
        "no room for pods: 110/110"
    )


def test_problems_table_has_a_summary_and_a_problems_column() -> None:
    sick = node(ready="False", reason="KubeletNotReady")
    row = node_row(sick, node_problems(sick, lease=lease(5), pod_count=0, now=NOW))
    shown = render_node_table(NodeTable(rows=[row], problems=True, checked=500), now=NOW)
    lines = shown.splitlines()
    assert lines[0] == "1 of 500 nodes need a look."
    assert lines[1].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "PROBLEMS"]
    assert lines[2].endswith("NotReady for 10m (KubeletNotReady)")
    empty = render_node_table(NodeTable(rows=[], problems=True, checked=500), now=NOW)
    assert empty == "No problems on 500 nodes."


def test_parsing_the_flags() -> None:
    assert parse_get_nodes([]) == GetNodes()
    request = parse_get_nodes(["-o", "wide", "-l", "zone in (a,b)", "--problems",
                               "--cordoned-for", "2d", "--lease-grace=40s"])  # fmt: skip
    assert request == GetNodes(wide=True, selector="zone in (a,b)", problems=True,
                               cordoned_for=172800.0, lease_grace=40.0)  # fmt: skip
    assert request.command_text() == (
        "get nodes -o wide -l 'zone in (a,b)' --problems --cordoned-for 172800s --lease-grace 40s"
    )
    for bad, said in (
        (["--lease-grace", "1h"], "only means something with `--problems`"),
        (["--problems", "--lease-grace", "0s"], "at least"),
        (["--problems", "--cordoned-for", "soon"], "--cordoned-for=soon"),
        (["-l", "a=(b"], "label selector"),
        (["-o", "yaml"], "must be one of wide"),
        (["k8s-node1"], "takes no more arguments"),
    ):
        with pytest.raises(CommandError) as raised:
            parse_get_nodes(bad)
        assert said in raised.value.user_message, (bad, raised.value.user_message)


def test_a_long_list_goes_to_the_thread_with_a_summary() -> None:
    rows = []
    for index in range(40):
        sick = node(ready="False" if index < 3 else "True", unschedulable=index == 5,
                    taint_added=ago(10))  # fmt: skip
        sick["metadata"]["name"] = f"n{index:02d}"
        rows.append(node_row(sick))
    parts = node_thread_parts(NodeTable(rows=rows), "j1")
    assert parts is not None
    assert parts.summary == "40 nodes: 3 NotReady; 36 Ready; 1 Ready,SchedulingDisabled."
    assert len(parts.body.splitlines()) == 41
    assert parts.file_name == "nodes-job-j1.txt"
    assert node_thread_parts(NodeTable(rows=rows[:30]), "j1") is None
