"""The drain plan on the sandbox: capacity, PDB headroom, risks, re-checks, cancellation."""

from __future__ import annotations

import pytest
from helpers import make_worker, wait_for

from bot.commands.dispatcher import Dispatcher
from bot.commands.render_drain import render_plan
from bot.jobs.model import JobState, Origin
from bot.jobs.store import JobStore
from handlers.control import Control
from handlers.drain import drain
from handlers.drain_models import Capacity, DrainNode, Fate, PodOutcome
from handlers.drain_plan import make_plan
from handlers.kube import KubeClient, resource_for
from policies.model import PolicyDocument

pytestmark = pytest.mark.integration

NODE = "k8s-node1"


def deployment_on_node1(
    kube: KubeClient,
    name: str,
    *,
    cpu: str = "10m",
    replicas: int = 1,
    extra_spec: dict | None = None,
) -> None:
    """A Deployment the scheduler prefers to put on k8s-node1 (but could run elsewhere)."""
    affinity = {
        "nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "preference": {
                        "matchExpressions": [
                            {"key": "kubernetes.io/hostname", "operator": "In", "values": [NODE]}
                        ]
                    },
                }
            ]
        }
    }
    kube.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "affinity": affinity,
                        "containers": [
                            {
                                "name": name,
                                "image": "busybox",
                                "resources": {"requests": {"cpu": cpu}},
                            }
                        ],
                        **(extra_spec or {}),
                    },
                },
            },
        }
    )
    pods = resource_for("Pod").path("default")
    wait_for(
        lambda: (
            sum(
                1
                for p in kube.list_pages(pods, label_selector=f"app={name}")
                if p["spec"].get("nodeName") == NODE and p["status"].get("phase") == "Running"
            )
            == replicas
        )
    )


def test_pods_that_do_not_fit_elsewhere_are_reported(pristine: KubeClient) -> None:
    # Both seed nodes have 3450m CPU free; take 500m on k8s-master, then fill k8s-node1.
    pristine.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "ballast", "namespace": "kube-system"},
            "spec": {
                "nodeName": "k8s-master",
                "containers": [
                    {"name": "x", "image": "busybox", "resources": {"requests": {"cpu": "500m"}}}
                ],
            },
        }
    )
    deployment_on_node1(pristine, "big", cpu="3400m")
    plan = make_plan(pristine, DrainNode(node=NODE, ignore_daemonsets=True, force=True))
    assert plan.capacity is Capacity.DOES_NOT_FIT
    assert plan.unplaceable == ["Deployment default/big"]
    assert "capacity: does not fit" in render_plan(plan)
    assert "no room for Deployment default/big" in render_plan(plan)


def test_nearly_full_target_is_tight(pristine: KubeClient) -> None:
    deployment_on_node1(pristine, "large", cpu="3")
    plan = make_plan(pristine, DrainNode(node=NODE, ignore_daemonsets=True, force=True))
    assert plan.capacity is Capacity.TIGHT
    # 550m already requested on k8s-master + 3300m re-created = 3850m of 4 CPU.
    assert plan.capacity_detail == (
        "4 pods need 3300m CPU, 198Mi memory; k8s-master would be at 96% CPU, 5% memory"
    )


def test_seed_fits_and_names_every_fate(pristine: KubeClient) -> None:
    plan = make_plan(pristine, DrainNode(node=NODE, ignore_daemonsets=True))
    assert plan.capacity is Capacity.FITS
    fates = {p.workload: p.fate for p in plan.pods}
    assert fates["Pod default/go-http"] is Fate.BLOCKED
    assert fates["DaemonSet kube-system/kube-proxy"] is Fate.IGNORED
    assert fates["StatefulSet default/stateful-nginx"] is Fate.EVICT
    assert plan.errors == [
        "cannot delete Pods that declare no controller (use --force to override): default/go-http"
    ]
    assert not pristine.get(resource_for("Node").path(name=NODE))["spec"].get("unschedulable")


def test_pdb_with_no_disruptions_allowed_is_named(pristine: KubeClient) -> None:
    pristine.create(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "hellok8s", "namespace": "default"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "hellok8s"}}},
        }
    )
    path = resource_for("PodDisruptionBudget").path("default", "hellok8s")
    wait_for(lambda: pristine.get(path).get("status", {}).get("currentHealthy") == 2)
    plan = make_plan(pristine, DrainNode(node=NODE, ignore_daemonsets=True, force=True))
    assert len(plan.pdb_blocked) == 1
    assert plan.pdb_blocked[0].startswith(
        "PodDisruptionBudget default/hellok8s allows 0 disruptions now, so 1 eviction will wait"
    )


def test_workloads_that_may_come_back_are_warned_about(pristine: KubeClient) -> None:
    deployment_on_node1(
        pristine,
        "sticky",
        extra_spec={
            "tolerations": [
                {
                    "key": "node.kubernetes.io/unschedulable",
                    "operator": "Exists",
                    "effect": "NoSchedule",
                }
            ]
        },
    )
    pristine.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "pinned", "namespace": "default"},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "pinned"}},
                "template": {
                    "metadata": {"labels": {"app": "pinned"}},
                    "spec": {"nodeName": NODE, "containers": [{"name": "x", "image": "busybox"}]},
                },
            },
        }
    )
    plan = make_plan(pristine, DrainNode(node=NODE, ignore_daemonsets=True, force=True))
    assert (
        "Deployment default/sticky tolerates node.kubernetes.io/unschedulable: its new pods "
        "may land back on k8s-node1"
    ) in plan.risks
    assert (
        "Deployment default/pinned pins its pods to k8s-node1 with spec.nodeName: new pods "
        "bypass the cordon"
    ) in plan.risks


def test_execution_reports_what_changed_since_the_plan(pristine: KubeClient) -> None:
    request = DrainNode(node=NODE, ignore_daemonsets=True, force=True)
    shown = make_plan(pristine, request)
    deployment_on_node1(pristine, "latecomer")
    result = drain(request.model_copy(update={"expected_plan": shown}), pristine, Control())
    assert result.drained
    assert any(
        "appeared on the node since the plan" in c and "latecomer" in c
        for c in result.changes_since_plan
    )


def test_cancel_between_steps_leaves_the_node_cordoned(pristine: KubeClient) -> None:
    said: list[str] = []
    control = Control(
        progress=said.append, cancelled=lambda: any(s.startswith("Warning") for s in said)
    )
    result = drain(DrainNode(node=NODE, ignore_daemonsets=True, force=True), pristine, control)
    assert result.cancelled and not result.drained
    assert set(result.outcomes.values()) == {PodOutcome.PENDING}
    assert len(result.outcomes) == 4
    assert pristine.get(resource_for("Node").path(name=NODE))["spec"]["unschedulable"]


def test_drain_through_the_queue(
    store: JobStore, pristine: KubeClient, policy: PolicyDocument
) -> None:
    reply = Dispatcher(policy, store).submit(
        "/k8s drain k8s-node1 --ignore-daemonsets --force",
        user="U_ADMIN",
        origin=Origin(surface="shell"),
    )
    assert reply.job is not None, reply.text
    make_worker(store, pristine, name="w").run(burst=True)
    job = store.get(reply.job.id)
    assert job.state is JobState.SUCCEEDED
    assert job.result is not None and job.result.kind == "drain_result"
    events = store.redis.xrange(f"k8s-chatops:job:{job.id}:events")
    assert any("evicting pod default/go-http" in fields["event"] for _, fields in events)
