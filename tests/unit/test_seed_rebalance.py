"""``seed`` re-spreads a replicated workload the scheduler put on one node, and nothing else:
not the mirror pods (owned by k8s-master, where they all belong), not a DaemonSet's pods."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from handlers.kube import JSON
from sandbox import seed


def pod(name: str, node: str | None, owner: tuple[str, str] | None = None, **meta: Any) -> JSON:
    namespace = meta.pop("namespace", "default")
    metadata: JSON = {"name": name, "namespace": namespace, **meta}
    if owner is not None:
        metadata["ownerReferences"] = [{"kind": owner[0], "name": owner[1]}]
    return {"metadata": metadata, "spec": {"nodeName": node} if node else {}}


def mirror_pods() -> list[JSON]:
    return [
        pod(f"{c}-k8s-master", "k8s-master", ("Node", "k8s-master"), namespace="kube-system")
        for c in seed.MIRROR_COMPONENTS
    ]


class FakeKube:
    def __init__(self, pods: list[JSON]) -> None:
        self.pods = pods
        self.deleted: list[str] = []

    def list_pages(self, path: str, **_: Any) -> Iterator[JSON]:
        _before, found, rest = path.partition("/namespaces/")
        namespace = rest.partition("/")[0] if found else None
        yield from (p for p in self.pods if namespace in (None, p["metadata"]["namespace"]))

    def delete(self, path: str, **_: Any) -> JSON:
        self.deleted.append(path.rsplit("/", 1)[-1])
        return {}


def rebalanced(pods: list[JSON]) -> list[str]:
    kube = FakeKube(pods)
    seed._rebalance(kube)  # type: ignore[arg-type]
    return kube.deleted


def spread_seed() -> list[JSON]:
    return [
        *mirror_pods(),
        pod("hello-a", "k8s-master", ("ReplicaSet", "hello-5d8f")),
        pod("hello-b", "k8s-node1", ("ReplicaSet", "hello-5d8f")),
        pod("nginx-0", "k8s-master", ("StatefulSet", "nginx")),
        pod("nginx-1", "k8s-node1", ("StatefulSet", "nginx")),
        pod("go-http", "k8s-node1"),
        pod("calico-a", "k8s-master", ("DaemonSet", "calico"), namespace="kube-system"),
        pod("calico-b", "k8s-node1", ("DaemonSet", "calico"), namespace="kube-system"),
    ]


def test_the_mirror_pods_all_on_k8s_master_are_left_alone() -> None:
    assert rebalanced(spread_seed()) == []


def test_a_deployment_all_on_one_node_loses_one_replica() -> None:
    pods = [p for p in spread_seed() if p["metadata"]["name"] != "hello-b"]
    pods.append(pod("hello-c", "k8s-master", ("ReplicaSet", "hello-5d8f")))
    assert rebalanced(pods) == ["hello-a"]


def test_a_statefulset_all_on_one_node_loses_one_replica() -> None:
    pods = [p for p in spread_seed() if p["metadata"]["name"] != "nginx-1"]
    pods.append(pod("nginx-1", "k8s-master", ("StatefulSet", "nginx")))
    assert rebalanced(pods) == ["nginx-0"]


def test_replicas_not_yet_bound_or_already_going_are_not_moved() -> None:
    unbound = [
        pod("hello-a", None, ("ReplicaSet", "hello-5d8f")),
        pod("hello-b", None, ("ReplicaSet", "hello-5d8f")),
    ]
    going = [
        pod("nginx-0", "k8s-master", ("StatefulSet", "nginx")),
        pod("nginx-1", "k8s-master", ("StatefulSet", "nginx"), deletionTimestamp="2026-01-01"),
    ]
    assert rebalanced([*mirror_pods(), *unbound, *going]) == []
