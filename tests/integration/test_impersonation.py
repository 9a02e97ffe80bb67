"""Workers act as the requester, so the cluster's own RBAC applies as well as our policy."""

from __future__ import annotations

import re

import pytest
from helpers import make_worker

from bot.commands.dispatcher import Dispatcher
from bot.jobs.model import JobState, Origin
from bot.jobs.store import JobStore
from handlers.kube import KubeClient, resource_for
from policies.model import PolicyDocument

pytestmark = pytest.mark.integration

READS = ["get", "list", "watch"]


@pytest.fixture
def operators_without_eviction(pristine: KubeClient) -> None:
    """Cluster RBAC for the k8s-chatops:admin group: everything drain needs except eviction."""
    pristine.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "chatops-test-no-eviction"},
            "rules": [
                {"apiGroups": [""], "resources": ["nodes"], "verbs": [*READS, "patch"]},
                {"apiGroups": [""], "resources": ["pods"], "verbs": READS},
                {
                    "apiGroups": ["apps"],
                    "resources": ["daemonsets", "deployments", "statefulsets"],
                    "verbs": READS,
                },
                {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": READS},
            ],
        },
        field_manager="tests",
    )
    pristine.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "chatops-test-no-eviction"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "chatops-test-no-eviction",
            },
            "subjects": [
                {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Group",
                    "name": "k8s-chatops:admin",
                }
            ],
        },
        field_manager="tests",
    )


def drain_as(store: JobStore, policy: PolicyDocument, kube: KubeClient, impersonate: str):  # type: ignore[no-untyped-def]
    reply = Dispatcher(policy, store).submit(
        "drain k8s-node1 --ignore-daemonsets --force",
        user="U_ADMIN",
        origin=Origin(surface="shell"),
    )
    assert reply.job is not None, reply.text
    make_worker(store, kube, name="w", impersonate=impersonate).run(burst=True)  # type: ignore[arg-type]
    return store.get(reply.job.id)


def test_cluster_rbac_forbids_what_the_worker_itself_could_do(
    store: JobStore,
    policy: PolicyDocument,
    pristine: KubeClient,
    operators_without_eviction: None,
) -> None:
    job = drain_as(store, policy, pristine, "user-and-roles")
    assert job.roles == ["viewer", "admin"]
    assert job.state is JobState.FAILED
    assert job.error is not None
    # Evictions run in no fixed order: the first refusal shown may be any pod's namespace.
    refused = "your identity in the cluster (slack:U_ADMIN) is not allowed to evict pods in "
    assert any(f"{refused}namespace {ns}" in job.error for ns in ("default", "kube-system"))
    # The cordon was allowed by the cluster role, so the node is cordoned; nothing was evicted.
    assert pristine.get(resource_for("Node").path(name="k8s-node1"))["spec"]["unschedulable"]
    assert pristine.get(resource_for("Pod").path("default", "go-http"))

    store.redis.flushdb()
    pristine.patch_merge(
        resource_for("Node").path(name="k8s-node1"), {"spec": {"unschedulable": None}}
    )
    as_itself = drain_as(store, policy, pristine, "none")
    assert as_itself.state is JobState.SUCCEEDED


def test_forbidden_cordon_names_the_missing_permission(
    store: JobStore, policy: PolicyDocument, pristine: KubeClient
) -> None:
    reply = Dispatcher(policy, store).submit(
        "cordon k8s-node1", user="U_OPS", origin=Origin(surface="shell")
    )
    assert reply.job is not None
    make_worker(store, pristine, name="w", impersonate="user").run(burst=True)
    job = store.get(reply.job.id)
    assert job.state is JobState.FAILED
    assert job.error is not None
    assert re.fullmatch(
        r"The cluster refused this: your identity in the cluster \(slack:U_OPS\) is not allowed "
        r"to get nodes\. The cluster's own RBAC applies to chat requests; ask a cluster admin for "
        r"that permission \(logged as [0-9a-f]{8}\)\.",
        job.error,
    )
