"""``get nodes -o wide`` and ``-l SELECTOR`` against the real kubectl on the sandbox, column by
column, with a cordoned node and a NotReady one (``sandbox node --not-ready``)."""

from __future__ import annotations

import re

import pytest

from bot.commands.verbs.nodes import parse_get_nodes, render_node_table
from handlers.control import Control
from handlers.kube import KubeClient
from handlers.nodes import get_nodes
from sandbox import node_health, seed

pytestmark = pytest.mark.integration

_COLUMNS = re.compile(r"\s{3,}")


def cells(text: str) -> list[list[str]]:
    return [_COLUMNS.split(line.strip()) for line in text.strip().splitlines()]


def without_age(rows: list[list[str]]) -> list[list[str]]:
    return [row[:3] + row[4:] for row in rows]


def ours(kube: KubeClient, words: list[str]) -> str:
    return render_node_table(get_nodes(parse_get_nodes(words), kube, Control()))


@pytest.mark.parametrize(
    "words",
    [
        ["-o", "wide"],
        ["-l", "node-role.kubernetes.io/control-plane"],
        ["-l", "kubernetes.io/hostname in (k8s-node1, nowhere)", "-o", "wide"],
        ["-l", "!node-role.kubernetes.io/control-plane"],
    ],
)
def test_columns_match_kubectl(pristine: KubeClient, kubectl, words: list[str]) -> None:
    kube = pristine
    kube.patch_merge("/api/v1/nodes/k8s-node1", {"spec": {"unschedulable": True}})
    node_health.set_health(kube, "k8s-master", "not-ready")
    try:
        theirs = kubectl("get", "nodes", *words)
        assert theirs.returncode == 0, theirs.stderr
        mine = ours(kube, words)
        expected, got = cells(theirs.stdout), cells(mine)
        assert without_age(got) == without_age(expected)
        assert [row[3] for row in got[1:]] in (
            [row[3] for row in expected[1:]],
            # A second may pass between the two reads.
            [row[3] for row in cells(kubectl("get", "nodes", *words).stdout)[1:]],
        )
        statuses = {row[0]: row[1] for row in got[1:]}
        assert statuses.get("k8s-master", "NotReady") == "NotReady"
        assert statuses.get("k8s-node1", "Ready,SchedulingDisabled") == "Ready,SchedulingDisabled"
    finally:
        seed.reset(kube)


def test_a_selector_that_matches_nothing(kube: KubeClient, kubectl) -> None:
    theirs = kubectl("get", "nodes", "-l", "team=nobody")
    assert theirs.returncode == 0
    assert theirs.stderr.strip() == "No resources found"
    assert ours(kube, ["-l", "team=nobody"]) == "No resources found"
    assert ours(kube, ["-l", "team=nobody", "--problems"]) == "No problems on 0 nodes."


def test_wide_columns_when_the_kubelet_reports_none(pristine: KubeClient, kubectl) -> None:
    """kubectl's placeholders: ``<none>`` without an address, ``<unknown>`` without node info."""
    kube = pristine
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "bare-node", "labels": {seed.SEED_LABEL: "test"}},
    }
    kube.create(node)
    try:
        theirs = cells(kubectl("get", "nodes", "bare-node", "-o", "wide").stdout)
        mine = cells(ours(kube, ["-o", "wide", "-l", "kubernetes.io/hostname!=x"]))
        row = next(r for r in mine if r[0] == "bare-node")
        assert without_age([row]) == without_age(theirs[1:])
        assert row[-5:] == ["<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"]
    finally:
        seed.reset(kube)
