"""The seed scenario of the maintenance guide, and a way back to it in seconds.

``seed`` creates the guide's two nodes and their workloads (``sandbox/seed/*.yaml``) plus the
control-plane mirror pods, then waits until every pod runs and each workload has a pod on
``k8s-node1`` (the drain walkthrough needs that). ``reset`` removes whatever tests added and
converges the rest back with server-side apply, without restarting any process.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from core import messages
from core.errors import ConfigurationError
from handlers.kube import JSON, KubeClient, KubeConflict, KubeNotFound, resource_for
from sandbox import node_health, pod_states, versions

SEED_DIR = Path(__file__).resolve().parent / "seed"
FIELD_MANAGER = "k8s-chatops-sandbox"
SEED_NODES = ("k8s-master", "k8s-node1")
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
MIRROR_COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
SCALE_NAMESPACE = "sandbox-scale"
#: 2 hellok8s + go-http + 2 stateful-nginx + 2 coredns + 2 x 2 DaemonSet pods + 4 mirror pods.
SEED_POD_COUNT = 15
SEED_LABEL = "k8s-chatops.io/sandbox"
# Workload kinds that reset clears from the seed namespaces before re-applying the seed.
_WORKLOAD_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "PodDisruptionBudget",
)


def manifests() -> list[JSON]:
    documents: list[JSON] = []
    for path in sorted(SEED_DIR.glob("*.yaml")):
        text = path.read_text().replace("@KUBERNETES_VERSION@", versions.KUBERNETES)
        documents.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return documents


def apply_crds(kubeconfig: Path, crd_dir: Path) -> None:
    kube = KubeClient.connect(str(kubeconfig))
    try:
        for path in sorted(crd_dir.glob("*.yaml")):
            kube.apply(yaml.safe_load(path.read_text()), field_manager=FIELD_MANAGER)
        for path in sorted(crd_dir.glob("*.yaml")):
            name = yaml.safe_load(path.read_text())["metadata"]["name"]
            _wait(lambda n=name: _crd_established(kube, n), what=f"CRD {name}")
    finally:
        kube.close()


def _crd_established(kube: KubeClient, name: str) -> bool:
    crd = kube.get(resource_for("CustomResourceDefinition").path(name=name))
    # A CRD just created can carry ``status: {conditions: null}`` for a moment.
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def _wait(ready: Any, *, what: str, timeout: float = 60.0, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except KubeNotFound:
            pass
        time.sleep(interval)
    raise ConfigurationError(messages.SANDBOX_TIMEOUT.format(what=what))


def _mirror_pod(component: str, node: JSON) -> JSON:
    """What the kubelet posts for a static pod: annotated, owned by its node, host network."""
    name = node["metadata"]["name"]
    digest = hashlib.sha256(f"{component}/{name}".encode()).hexdigest()[:32]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{component}-{name}",
            "namespace": "kube-system",
            "labels": {"component": component, "tier": "control-plane"},
            "annotations": {
                "kubernetes.io/config.mirror": digest,
                "kubernetes.io/config.hash": digest,
                "kubernetes.io/config.source": "file",
            },
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "name": name,
                    "uid": node["metadata"]["uid"],
                    "controller": True,
                }
            ],
        },
        "spec": {
            "nodeName": name,
            "hostNetwork": True,
            "priorityClassName": "system-node-critical",
            "tolerations": [{"operator": "Exists", "effect": "NoExecute"}],
            "containers": [
                {"name": component, "image": f"registry.k8s.io/{component}:{versions.KUBERNETES}"}
            ],
        },
    }


def _apply_all(kube: KubeClient, objects: Iterable[JSON]) -> None:
    for obj in objects:
        if obj["kind"] == "Pod":
            _create_pod(kube, obj)
        else:
            kube.apply(obj, field_manager=FIELD_MANAGER)


def _create_pod(kube: KubeClient, pod: JSON) -> None:
    """Pods are immutable in most fields, so an existing one is left as it is."""
    with contextlib.suppress(KubeConflict):
        kube.create(pod)


def _wait_for_service_accounts(kube: KubeClient) -> None:
    for namespace in ("default", "kube-system"):
        path = resource_for("ServiceAccount").path(namespace, "default")
        _wait(lambda p=path: bool(kube.get(p)), what=f"service account {namespace}/default")


def _pods(kube: KubeClient, namespace: str | None = None) -> list[JSON]:
    path = resource_for("Pod").path(namespace)
    return list(kube.list_pages(path))


def _owner_key(pod: JSON) -> str:
    """Workload name of a pod: its controller's name without the ReplicaSet hash."""
    meta = pod["metadata"]
    owners = meta.get("ownerReferences") or []
    if not owners:
        return f"{meta['namespace']}/{meta['name']}"
    owner = owners[0]
    kind, name = owner["kind"], owner["name"]
    if kind == "ReplicaSet":
        kind, name = "Deployment", name.rsplit("-", 1)[0]
    return f"{meta['namespace']}/{kind}/{name}"


def _seed_settled(kube: KubeClient) -> bool:
    """Every seed workload complete, running, and present on k8s-node1."""
    workloads = {
        ("default", "deployment-hellok8s-go-http"): 2,
        ("kube-system", "coredns"): 2,
        ("default", "stateful-nginx"): 2,
    }
    for (namespace, name), replicas in workloads.items():
        kind = "StatefulSet" if name == "stateful-nginx" else "Deployment"
        status = kube.get(resource_for(kind).path(namespace, name)).get("status", {})
        if status.get("readyReplicas", 0) != replicas or status.get("replicas", 0) != replicas:
            return False
    for name in ("calico-node", "kube-proxy"):
        status = kube.get(resource_for("DaemonSet").path("kube-system", name)).get("status", {})
        if status.get("numberReady", 0) != len(SEED_NODES) or status.get(
            "desiredNumberScheduled"
        ) != len(SEED_NODES):
            return False
    pods = [p for p in _pods(kube) if p["metadata"]["namespace"] in ("default", "kube-system")]
    if any(p.get("status", {}).get("phase") != "Running" for p in pods):
        return False
    # Exactly the seed's pods: nothing left over from a test, nothing still terminating.
    if len(pods) != SEED_POD_COUNT or any(p["metadata"].get("deletionTimestamp") for p in pods):
        return False
    names = {p["metadata"]["name"] for p in pods}
    if any(f"{component}-k8s-master" not in names for component in MIRROR_COMPONENTS):
        return False
    # One replica on each node, as in the guide (a workload all on one node is re-spread).
    if any(_on_one_node(members) for members in _replicated(pods).values()):
        return False
    on_node1 = {_owner_key(p) for p in pods if p["spec"].get("nodeName") == "k8s-node1"}
    wanted = {
        "default/Deployment/deployment-hellok8s-go-http",
        "default/StatefulSet/stateful-nginx",
        "kube-system/Deployment/coredns",
        "default/go-http",
    }
    return wanted <= on_node1


#: Owners whose pods are replicas the scheduler places (``_owner_key`` names a ReplicaSet's
#: pods after its Deployment). A DaemonSet's pods are one per node by design; the mirror pods
#: are owned by their Node and all sit on k8s-master, as a kubelet's static pods do.
_REPLICATED_KINDS = ("Deployment", "StatefulSet")


def _replicated(pods: list[JSON]) -> dict[str, list[JSON]]:
    """The pods of each workload with more than one replica, by workload."""
    by_workload: dict[str, list[JSON]] = {}
    for pod in pods:
        key = _owner_key(pod)
        if key.count("/") == 2 and key.split("/")[1] in _REPLICATED_KINDS:
            by_workload.setdefault(key, []).append(pod)
    return {key: members for key, members in by_workload.items() if len(members) > 1}


def _on_one_node(members: list[JSON]) -> bool:
    """Every replica bound, and all to the same node."""
    nodes = {p["spec"].get("nodeName") for p in members}
    return len(nodes) == 1 and None not in nodes


def _rebalance(kube: KubeClient) -> None:
    """If the scheduler put every replica of a workload on one node, move one (as in the guide).

    Only replicated workloads: the four mirror pods (owned by k8s-master) were once taken for
    one, so every unsettled look deleted etcd-k8s-master, the next look re-created it, and the
    seed settled only if kwok marked it Running between that create and the pod list a few
    milliseconds later: on a loaded machine it never did, and ``seed`` timed out."""
    pods = [p for p in _pods(kube) if p["metadata"]["namespace"] in ("default", "kube-system")]
    for members in _replicated(pods).values():
        if _on_one_node(members) and not any(
            p["metadata"].get("deletionTimestamp") for p in members
        ):
            victim = members[0]["metadata"]
            kube.delete(
                resource_for("Pod").path(victim["namespace"], victim["name"]),
                grace_period_seconds=0,
            )


def seed(kube: KubeClient) -> None:
    """Create the seed scenario (idempotent) and wait until it has settled."""
    _wait_for_service_accounts(kube)
    documents = manifests()
    nodes = [d for d in documents if d["kind"] == "Node"]
    _apply_all(kube, nodes)
    for node in nodes:
        name = node["metadata"]["name"]
        kube.request(
            "PATCH",
            resource_for("Node").path(name=name) + "/status",
            body={"status": node["status"]},
            content_type="application/merge-patch+json",
        )
    _apply_all(kube, (d for d in documents if d["kind"] != "Node"))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        master = kube.get(resource_for("Node").path(name="k8s-master"))
        _apply_all(kube, (_mirror_pod(c, master) for c in MIRROR_COMPONENTS))
        if _seed_settled(kube):
            return
        _rebalance(kube)
        time.sleep(0.5)
    raise ConfigurationError(messages.SANDBOX_TIMEOUT.format(what="the seed workloads"))


def reset(kube: KubeClient) -> None:
    """Back to the seed: drop what tests added, uncordon and re-create what they removed."""
    seed_names = {
        (d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]) for d in manifests()
    }
    for ns in kube.list_pages(resource_for("Namespace").path()):
        ns_name = ns["metadata"]["name"]
        if ns_name in SYSTEM_NAMESPACES:
            continue
        if (ns["metadata"].get("labels") or {}).get(pod_states.NAMESPACE_LABEL):
            pod_states.let_go(kube, ns_name)  # a held Terminating pod would keep it forever
        # Force the pods out first: one on a node that is also going has no kubelet to finish
        # its graceful deletion, and would hold the namespace until the pod GC comes by.
        kube.delete_collection(resource_for("Pod").path(ns_name), grace_period_seconds=0)
        if not ns["metadata"].get("deletionTimestamp"):
            kube.delete(resource_for("Namespace").path(name=ns_name))
    # Nodes first, so DaemonSets stop re-creating pods for them; one request for thousands.
    kube.delete_collection(resource_for("Node").path(), label_selector=f"{SEED_LABEL}!=seed")
    for node in kube.list_pages(resource_for("Node").path()):
        name = node["metadata"]["name"]
        if name in SEED_NODES and (node["spec"].get("unschedulable") or node["spec"].get("taints")):
            kube.patch_merge(
                resource_for("Node").path(name=name),
                {"spec": {"unschedulable": None, "taints": None}},
            )
    node_health.heal_all(kube)
    for kind in ("Logs", "ClusterLogs"):
        for obj in kube.list_pages(resource_for(kind).path()):
            meta = obj["metadata"]
            _delete_quietly(kube, resource_for(kind).path(meta.get("namespace"), meta["name"]))
    old_pods: set[str] = set()
    for namespace in ("default", "kube-system"):
        for kind in _WORKLOAD_KINDS:
            for obj in kube.list_pages(resource_for(kind).path(namespace)):
                meta = obj["metadata"]
                if (kind, namespace, meta["name"]) not in seed_names:
                    _delete_quietly(kube, resource_for(kind).path(namespace, meta["name"]))
        # Every pod goes: controllers re-create theirs fresh and evenly spread.
        old_pods |= {p["metadata"]["uid"] for p in _pods(kube, namespace)}
        kube.delete_collection(resource_for("Pod").path(namespace), grace_period_seconds=0)
    _wait(
        lambda: not old_pods & {p["metadata"]["uid"] for p in _pods(kube)},
        what="old pods to go",
    )
    _wait(
        lambda: all(
            ns["metadata"]["name"] in SYSTEM_NAMESPACES
            for ns in kube.list_pages(resource_for("Namespace").path())
        ),
        what="namespaces created by tests to go",
    )
    seed(kube)


def _delete_quietly(kube: KubeClient, path: str) -> None:
    with contextlib.suppress(KubeNotFound):
        kube.delete(path, grace_period_seconds=0)


def _scale_nodes(count: int) -> Iterator[JSON]:
    for index in range(count):
        name = f"kwok-node-{index:05d}"
        yield {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "annotations": {"kwok.x-k8s.io/node": "fake"},
                "labels": {"kubernetes.io/hostname": name, SEED_LABEL: "scale"},
            },
            "status": {
                "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110"},
                "allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"},
                "nodeInfo": {"kubeletVersion": versions.KUBERNETES},
            },
        }


def _scale_pod(node: str, index: int) -> JSON:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"filler-{node}-{index}",
            "namespace": SCALE_NAMESPACE,
            "labels": {"app": "filler", SEED_LABEL: "scale"},
        },
        "spec": {
            "nodeName": node,
            "containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}],
        },
    }


def scale(kube: KubeClient, *, nodes: int, pods_per_node: int, workers: int = 16) -> None:
    """Add ``nodes`` simulated nodes with ``pods_per_node`` pods each, in parallel."""
    if nodes <= 0:
        return
    kube.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": SCALE_NAMESPACE}},
        field_manager=FIELD_MANAGER,
    )
    _wait_for_service_account(kube, SCALE_NAMESPACE)
    node_objects = list(_scale_nodes(nodes))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda n: _create_quietly(kube, n), node_objects))
        pods = (
            _scale_pod(n["metadata"]["name"], i) for n in node_objects for i in range(pods_per_node)
        )
        list(pool.map(lambda p: _create_quietly(kube, p), pods))


def _wait_for_service_account(kube: KubeClient, namespace: str) -> None:
    path = resource_for("ServiceAccount").path(namespace, "default")
    _wait(lambda: bool(kube.get(path)), what=f"service account {namespace}/default")


def _create_quietly(kube: KubeClient, obj: JSON) -> None:
    with contextlib.suppress(KubeConflict):
        kube.create(obj)


_DEMO_LINES = (
    "GET /api/v1/orders 200 in 4ms",
    "GET /healthz 200 in 0ms",
    "POST /api/v1/orders 201 in 12ms",
    "GET /api/v1/orders/7731 404 in 2ms",
    "WARN slow query on orders: 812ms",
    "ERROR upstream payments timed out after 5s",
    "GET /api/v1/orders 200 in 5ms",
    "login ok user=alice password=demo-not-a-real-secret",
    "calling payments with Authorization: Bearer demo0fake0token0123456789",
)


def demo_logs(kube: KubeClient, *, now: datetime | None = None) -> Path:
    """Give every pod in ``default`` a log of the last 30 minutes, so ``/k8s logs`` has
    something to show in the demo (secrets included, to be masked). Tests' ``reset`` removes
    it; ``sandbox up`` writes it afresh."""
    moment = now or datetime.now(UTC)
    log_file = versions.run_dir() / "demo-logs" / "app.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for index in range(90):
        stamp = moment - timedelta(seconds=(90 - index) * 20)
        text = _DEMO_LINES[index % len(_DEMO_LINES)]
        lines.append(f"{stamp.strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z stdout F {text}\n")
    log_file.write_text("".join(lines))
    kube.apply(
        {
            "apiVersion": "kwok.x-k8s.io/v1alpha1",
            "kind": "ClusterLogs",
            "metadata": {"name": "sandbox-demo-logs"},
            "spec": {
                "selector": {"matchNamespaces": ["default"]},
                "logs": [{"logsFile": str(log_file)}],
            },
        },
        field_manager=FIELD_MANAGER,
    )
    return log_file
