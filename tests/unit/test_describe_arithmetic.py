"""``describe``'s pure parts: kubectl's "Allocated resources" arithmetic, toleration seconds,
the grammar, and the summary's judgements (late Lease, eviction times)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.commands.render_describe import amount, node_summary
from bot.commands.render_describe_pod import pod_summary
from bot.commands.verbs.describe import actions, parse_describe
from core.errors import CommandError
from handlers import pod_resources
from handlers.describe import (
    _eviction,
    allocated,
    eviction_after,
    taints,
    tolerations,
)
from handlers.describe_models import (
    Allocation,
    Condition,
    ContainerFacts,
    ContainerState,
    DescribeNode,
    DescribePod,
    NodeDescription,
    PodDescription,
    Taint,
    Toleration,
)

NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


def _container(name: str, requests: dict | None = None, limits: dict | None = None, **more):
    return {"name": name, "resources": {"requests": requests or {}, "limits": limits or {}}, **more}


def _pod(containers, init=(), **spec):
    return {
        "metadata": {"name": "p", "namespace": "ns"},
        "spec": {"containers": list(containers), "initContainers": list(init), **spec},
    }


def test_requests_sum_containers_and_take_the_largest_init_container() -> None:
    pod = _pod(
        [_container("a", {"cpu": "100m", "memory": "64Mi"}), _container("b", {"cpu": "0.2"})],
        init=[_container("setup", {"cpu": "1", "memory": "10Mi"})],
    )
    requests = pod_resources.pod_requests(pod)
    assert pod_resources.in_units("cpu", requests["cpu"]) == 1000  # init 1 > 300m
    assert pod_resources.in_units("memory", requests["memory"]) == 64 * 2**20


def test_sidecars_add_to_the_sum_and_to_later_init_containers() -> None:
    pod = _pod(
        [_container("app", {"cpu": "500m"})],
        init=[
            _container("proxy", {"cpu": "200m"}, restartPolicy="Always"),
            _container("migrate", {"cpu": "600m"}),
        ],
    )
    # running: app 500m + sidecar 200m = 700m; init phase: migrate 600m + sidecar 200m = 800m
    assert pod_resources.in_units("cpu", pod_resources.pod_requests(pod)["cpu"]) == 800


def test_overhead_is_added_to_requests_and_only_to_limits_that_are_set() -> None:
    pod = _pod(
        [_container("app", {"cpu": "100m", "memory": "1Mi"}, {"memory": "2Mi"})],
        overhead={"cpu": "50m", "memory": "1Mi"},
    )
    assert pod_resources.in_units("cpu", pod_resources.pod_requests(pod)["cpu"]) == 150
    limits = pod_resources.pod_limits(pod)
    assert "cpu" not in limits
    assert pod_resources.in_units("memory", limits["memory"]) == 3 * 2**20


def test_pod_level_resources_replace_the_container_sum() -> None:
    pod = _pod([_container("app", {"cpu": "100m"})], resources={"requests": {"cpu": "2"}})
    assert pod_resources.in_units("cpu", pod_resources.pod_requests(pod)["cpu"]) == 2000


def test_sums_are_exact_and_rounded_up_once() -> None:
    halves = [pod_resources.pod_requests(_pod([_container("a", {"memory": "0.5"})]))] * 2
    assert pod_resources.in_units("memory", pod_resources.total(halves)["memory"]) == 1
    assert pod_resources.in_units("cpu", Decimal("0.0001")) == 1  # 0.1m → 1m, as MilliValue


@pytest.mark.parametrize(
    ("used", "offered", "share"),
    [(550, 4000, 13), (207618048, 8241807360, 2), (1, 3, 33), (3000, 3000, 100), (5, 0, 0)],
)
def test_percentages_truncate_like_kubectl(used: int, offered: int, share: int) -> None:
    assert pod_resources.percent(used, offered) == share


def test_allocated_rows_follow_kubectl_order_and_units() -> None:
    node = {
        "status": {
            "capacity": {"cpu": "4", "memory": "8Gi"},
            "allocatable": {
                "cpu": "3500m",
                "memory": "7860Mi",
                "ephemeral-storage": "92Gi",
                "pods": "110",
                "hugepages-2Mi": "1Gi",
                "example.com/gpu": "2",
            },
        }
    }
    pods = [
        _pod(
            [
                _container(
                    "a",
                    {"cpu": "250m", "memory": "70Mi", "example.com/gpu": "1"},
                    {"memory": "170Mi"},
                )
            ]
        ),
        _pod([_container("b", {"cpu": "100m", "hugepages-2Mi": "512Mi"})]),
    ]
    rows = {row.resource: row for row in allocated(node, pods)}
    assert [r.resource for r in allocated(node, pods)] == [
        "cpu",
        "memory",
        "ephemeral-storage",
        "hugepages-2Mi",
        "example.com/gpu",
    ]
    assert rows["cpu"] == Allocation(
        resource="cpu", requests=350, limits=0, requests_percent=10, limits_percent=0
    )
    assert rows["memory"].requests_percent == 0 and rows["memory"].limits_percent == 2
    assert rows["hugepages-2Mi"].requests_percent == 50
    assert rows["example.com/gpu"] == Allocation(resource="example.com/gpu", requests=1, limits=0)
    assert amount("memory", rows["memory"].limits) == "170Mi"
    assert amount("cpu", rows["cpu"].requests) == "350m"


def test_toleration_seconds_decide_eviction() -> None:
    default = tolerations(
        {
            "tolerations": [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 60,
                },
            ]
        }
    )
    assert eviction_after(default, "node.kubernetes.io/not-ready") == 300
    assert eviction_after(default, "node.kubernetes.io/unreachable") == 60
    assert eviction_after((), "node.kubernetes.io/not-ready") == 0
    forever = tolerations({"tolerations": [{"operator": "Exists"}]})
    assert eviction_after(forever, "node.kubernetes.io/not-ready") is None
    no_schedule_only = (
        Toleration(key="node.kubernetes.io/not-ready", operator="Exists", effect="NoSchedule"),
    )
    assert eviction_after(no_schedule_only, "node.kubernetes.io/not-ready") == 0


def test_toleration_and_taint_lines_are_kubectls() -> None:
    assert (
        str(Toleration(key="k", operator="Exists", effect="NoExecute", seconds=300))
        == "k:NoExecute op=Exists for 300s"
    )
    assert str(Toleration(operator="Exists")) == "op=Exists"
    assert (
        str(Toleration(key="k", operator="Equal", value="v", effect="NoSchedule"))
        == "k=v:NoSchedule"
    )
    assert (
        str(Taint(key="node.kubernetes.io/unschedulable", effect="NoSchedule"))
        == "node.kubernetes.io/unschedulable:NoSchedule"
    )


def _node(**facts) -> NodeDescription:
    base = {
        "name": "n1",
        "roles": "<none>",
        "grace_seconds": 50,
        "read_at": NOW,
        "max_pods": 110,
        "conditions": (
            Condition(
                type="Ready",
                status="True",
                reason="KubeletReady",
                last_transition=NOW - timedelta(hours=1),
            ),
        ),
        "lease_renewed": NOW - timedelta(seconds=5),
    }
    return NodeDescription(**(base | facts))


def test_lease_is_late_only_past_the_grace_period() -> None:
    assert "within the 50s" in node_summary(_node(), NOW)
    within = node_summary(_node(lease_renewed=NOW - timedelta(seconds=49)), NOW)
    assert "Heartbeat late" not in within
    late = node_summary(_node(lease_renewed=NOW - timedelta(seconds=51)), NOW)
    assert "Heartbeat late" in late and "51s ago" in late
    assert "no Lease" in node_summary(_node(lease_renewed=None, lease_missing=True), NOW)


def test_not_ready_node_says_when_its_pods_go() -> None:
    added = NOW - timedelta(seconds=100)
    node_taints = taints(
        {
            "taints": [
                {
                    "key": "node.kubernetes.io/unreachable",
                    "effect": "NoExecute",
                    "timeAdded": added.isoformat(),
                }
            ]
        }
    )
    ready = Condition(
        type="Ready", status="Unknown", reason="NodeStatusUnknown", last_transition=added
    )
    pods = [
        _pod(
            [],
            tolerations=[
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                }
            ],
        ),
        _pod(
            [],
            tolerations=[
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                }
            ],
        ),
        _pod([], tolerations=[{"operator": "Exists"}]),
    ]
    eviction = _eviction(node_taints, ready, pods)
    assert eviction is not None and eviction.taint == "node.kubernetes.io/unreachable:NoExecute"
    text = node_summary(_node(conditions=(ready,), taints=node_taints, eviction=eviction), NOW)
    assert "is Unknown for 100s" in text
    assert "2 pods are evicted at 14:03 UTC" in text  # 100 s ago + 300 s
    assert "1 pod tolerates" in text
    assert _eviction(node_taints, Condition(type="Ready", status="True"), pods) is None


def test_grammar() -> None:
    assert parse_describe(["node", "k8s-node1"]) == DescribeNode(node="k8s-node1")
    assert parse_describe(["no/k8s-node1"]) == DescribeNode(node="k8s-node1")
    assert parse_describe(["pod", "web-1", "-n", "prod"]) == DescribePod(
        name="web-1", namespace="prod"
    )
    assert parse_describe(["po", "web-1"]) == DescribePod(name="web-1", namespace="default")
    for words, said in [
        (["deploy", "x"], "not `deploy`"),
        (["pod"], "NAME is missing"),
        (["node", "a", "b"], "no more arguments"),
        (["node", "a", "-n", "x"], "has no flag"),
        (["pod", "a", "-n", "Bad_NS"], "Bad_NS"),
        (["node", "UPPER"], "not a valid"),
    ]:
        with pytest.raises(CommandError) as raised:
            parse_describe(words)
        assert said in str(raised.value), (words, str(raised.value))


def test_a_pod_is_decided_in_its_namespace_under_get() -> None:
    [action] = actions(DescribePod(name="web-1", namespace="prod"))
    assert (action.verb, action.target, action.namespace, action.read_only) == (
        "get",
        "pod/web-1",
        "prod",
        True,
    )
    [node_action] = actions(DescribeNode(node="n1"))
    assert (node_action.verb, node_action.node, node_action.read_only) == ("get", "n1", True)


def test_pod_summary_names_what_is_wrong() -> None:
    crashing = PodDescription(
        name="web-1",
        namespace="prod",
        node="n1",
        status="Running",
        ip="10.0.0.5",
        controlled_by="ReplicaSet/web-abc",
        start_time=NOW - timedelta(minutes=5),
        containers=(
            ContainerFacts(
                name="init",
                init=True,
                state=ContainerState(state="Terminated", reason="Completed", exit_code=0),
            ),
            ContainerFacts(
                name="app",
                ready=False,
                restart_count=4,
                state=ContainerState(state="Waiting", reason="CrashLoopBackOff"),
            ),
            ContainerFacts(name="proxy", ready=True, state=ContainerState(state="Running")),
        ),
        read_at=NOW,
    )
    text = pod_summary(crashing, NOW)
    assert "is Running on `n1`, 1/2 containers ready" in text
    assert "`app`: 4 restarts, Waiting (CrashLoopBackOff)." in text
    assert "`init`" not in text and "`proxy`" not in text
    assert "Started 5m ago; IP 10.0.0.5; controlled by `ReplicaSet/web-abc`." in text
    pending = crashing.model_copy(update={"node": "", "status": "Pending", "containers": ()})
    assert "is Pending on no node yet, 0/0 containers ready" in pod_summary(pending, NOW)
