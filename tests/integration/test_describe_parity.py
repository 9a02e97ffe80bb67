"""``describe node`` / ``describe pod`` against the real ``kubectl describe`` on the sandbox.

The layout is ours; the facts must be kubectl's. kubectl's text is read back into values
(conditions, taints, versions, addresses, capacity, per-pod and total requests and limits with
their percentages, pod counts, the Lease, events, and a pod's fields) and compared with what our
handler read, field by field. Scenarios cover a cordoned, tainted node carrying a pod with an
init container, a sidecar and limits; a sick node (Ready False, MemoryPressure, a NoExecute
taint, a stale Lease, no kubelet); and bad input through the dispatcher and a worker.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import Kubectl
from helpers import make_worker, wait_for

from bot.commands.dispatcher import Dispatcher
from bot.commands.registry import registry
from bot.jobs.model import JobState, Origin
from bot.jobs.store import JobStore
from handlers.control import Control
from handlers.describe import describe_node
from handlers.describe_models import DescribeNode, DescribePod, NodeDescription, PodDescription
from handlers.describe_pod import describe_pod
from handlers.kube import KubeClient, resource_for
from handlers.pod_resources import percent
from handlers.quantity import cpu_millis, memory_bytes
from policies.model import PolicyDocument

pytestmark = pytest.mark.integration

NODES = resource_for("Node")
PODS = resource_for("Pod")
LEASES = resource_for("Lease")
SICK = "describe-sick"
_ROW = re.compile(r"\s{2,}")
_STAMP = "%a, %d %b %Y %H:%M:%S %z"


# --- kubectl's text, read back into values ---------------------------------------------------
def top_fields(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line[0].isspace() and ":" in line:
            key, _, value = line.partition(":")
            fields.setdefault(key, value.strip())
    return fields


def section(text: str, title: str, *, keep_indent: bool = False) -> list[str]:
    """The indented lines under ``Title:`` (its own value first, if it has one)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f"{title}:"):
            own = line[len(title) + 1 :].strip()
            body = [own] if own else []
            for more in lines[i + 1 :]:
                if more and not more[0].isspace():
                    break
                body.append(more.rstrip() if keep_indent else more.strip())
            return [b for b in body if b.strip()]
    return []


def table_rows(lines: list[str]) -> list[list[str]]:
    """A kubectl table's rows (header and ``----`` lines dropped)."""
    rows = [_ROW.split(line.strip()) for line in lines]
    return [r for r in rows[1:] if not r[0].startswith("--")] if rows else []


def share(text: str, cpu: bool) -> tuple[int, int]:
    """``550m (13%)`` → (550, 13); memory in bytes."""
    value, _, percent = text.partition(" (")
    return (cpu_millis(value) if cpu else memory_bytes(value), int(percent.rstrip("%)")))


def stamp(text: str) -> datetime:
    return datetime.strptime(text, _STAMP)


def kubectl_describe(kubectl: Kubectl, *args: str) -> str:
    done = kubectl("describe", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


# --- comparisons ---------------------------------------------------------------------------
def assert_node_matches(theirs: str, ours: NodeDescription) -> None:
    fields = top_fields(theirs)
    assert fields["Name"] == ours.name
    assert fields["Roles"] == ours.roles
    assert fields["Unschedulable"] == str(ours.unschedulable).lower()
    taints = section(theirs, "Taints")
    assert (taints if taints != ["<none>"] else []) == [str(t) for t in ours.taints]

    conditions = [
        (row[0], row[1], row[4] if len(row) > 4 else "")
        for row in table_rows(section(theirs, "Conditions"))
    ]
    assert conditions == [(c.type, c.status, c.reason) for c in ours.conditions]
    transitions = [stamp(row[3]) for row in table_rows(section(theirs, "Conditions"))]
    assert transitions == [c.last_transition for c in ours.conditions]

    addresses = [tuple(line.split(":", 1)) for line in section(theirs, "Addresses")]
    assert [(t.strip(), a.strip()) for t, a in addresses] == list(ours.addresses)
    for title, values in (("Capacity", ours.capacity), ("Allocatable", ours.allocatable)):
        listed = dict(line.split(":", 1) for line in section(theirs, title))
        assert {k.strip(): v.strip() for k, v in listed.items()} == values

    info = {
        k.strip(): v.strip()
        for k, _, v in (x.partition(":") for x in section(theirs, "System Info"))
    }
    assert info["Kernel Version"] == ours.kernel_version
    assert info["OS Image"] == ours.os_image
    assert info["Container Runtime Version"] == ours.container_runtime
    assert info["Kubelet Version"] == ours.kubelet_version
    assert info["Architecture"] == ours.architecture

    lease = {
        k.strip(): v.strip() for k, _, v in (x.partition(":") for x in section(theirs, "Lease"))
    }
    if ours.lease_missing:
        assert "Failed to get lease" in fields["Lease"]
    else:
        assert lease["HolderIdentity"] == (ours.lease_holder or "<unset>")
        assert stamp(lease["RenewTime"]) == ours.lease_renewed.replace(microsecond=0)  # type: ignore[union-attr]

    count = re.search(r"\((\d+) in total\)", fields["Non-terminated Pods"])
    assert count is not None and int(count.group(1)) == len(ours.pods)
    assert int(ours.allocatable["pods"]) == ours.max_pods
    theirs_pods = {
        (row[0], row[1]): (
            share(row[2], True),
            share(row[3], True),
            share(row[4], False),
            share(row[5], False),
        )
        for row in table_rows(section(theirs, "Non-terminated Pods")[1:])
    }
    ours_pods = {
        (p.namespace, p.name): (
            (p.cpu_requests, percent(p.cpu_requests, ours.offered_cpu)),
            (p.cpu_limits, percent(p.cpu_limits, ours.offered_cpu)),
            (p.memory_requests, percent(p.memory_requests, ours.offered_memory)),
            (p.memory_limits, percent(p.memory_limits, ours.offered_memory)),
        )
        for p in ours.pods
    }
    assert theirs_pods == ours_pods

    allocated_lines = [
        line for line in section(theirs, "Allocated resources") if not line.startswith("(")
    ]
    theirs_allocated = {}
    for row in table_rows(allocated_lines):
        resource, requests, limits = row
        if "(" in requests:
            cpu = resource == "cpu"
            theirs_allocated[resource] = (share(requests, cpu), share(limits, cpu))
        else:
            theirs_allocated[resource] = ((int(requests), None), (int(limits), None))
    ours_allocated = {
        a.resource: ((a.requests, a.requests_percent), (a.limits, a.limits_percent))
        for a in ours.allocated
    }
    assert theirs_allocated == ours_allocated
    assert_events_match(theirs, ours.events)


def assert_events_match(theirs: str, ours: Any) -> None:
    rows = table_rows(section(theirs, "Events"))
    if section(theirs, "Events") == ["<none>"]:
        rows = []
    theirs_events = [(r[0], r[1], r[3], r[4] if len(r) > 4 else "") for r in rows]
    counts = [re.search(r"\(x(\d+) over", r[2]) for r in rows]
    assert theirs_events == [(e.type, e.reason, e.source, e.message) for e in ours]
    assert [int(c.group(1)) if c else 1 for c in counts] == [e.count for e in ours]


def assert_pod_matches(theirs: str, ours: PodDescription) -> None:
    fields = top_fields(theirs)
    assert fields["Name"] == ours.name and fields["Namespace"] == ours.namespace
    assert fields["Node"] == (f"{ours.node}/{ours.node_ip}" if ours.node else "<none>")
    if ours.start_time:
        assert stamp(fields["Start Time"]) == ours.start_time
    labels = section(theirs, "Labels")
    assert (labels if labels != ["<none>"] else []) == [
        f"{k}={v}" for k, v in sorted(ours.labels.items())
    ]
    assert fields["Status"].split(" ")[0] == ours.status
    assert fields["IP"] == ours.ip
    assert fields.get("Controlled By", "") == ours.controlled_by
    assert fields["QoS Class"] == ours.qos_class
    tolerations = section(theirs, "Tolerations")
    assert (tolerations if tolerations != ["<none>"] else []) == [str(t) for t in ours.tolerations]
    conditions = table_rows(section(theirs, "Conditions"))
    assert [(r[0], r[1]) for r in conditions] == [(c.type, c.status) for c in ours.conditions]
    for init in (True, False):
        lines = section(theirs, "Init Containers" if init else "Containers", keep_indent=True)
        containers = [c for c in ours.containers if c.init is init]
        names = [line.strip()[:-1] for line in lines if re.fullmatch(r"  [^ ].*:", line)]
        assert names == [c.name for c in containers]
        blocks = _container_blocks(lines)
        for container in containers:
            block = blocks[container.name]
            assert block["Image"] == container.image
            assert block["State"] == (container.state.state if container.state else "Waiting")
            assert block["Ready"] == str(container.ready)
            assert int(block["Restart Count"]) == container.restart_count
            if container.state and container.state.reason:
                assert block["Reason"] == container.state.reason
            assert block.get("Last State") == (
                container.last_state.state if container.last_state else None
            )
            if container.last_state and container.last_state.exit_code is not None:
                assert int(block["Exit Code"]) == container.last_state.exit_code
            for title, values in (("Limits", container.limits), ("Requests", container.requests)):
                assert block.get(title, {}) == values
    assert_events_match(theirs, ours.events)


def _container_blocks(lines: list[str]) -> dict[str, dict[str, Any]]:
    """A container section's fields by container; Limits/Requests as dicts."""
    blocks: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] = {}
    nested: str | None = None
    for raw in lines:
        if re.fullmatch(r"  [^ ].*:", raw):
            current, nested = blocks.setdefault(raw.strip()[:-1], {}), None
            continue
        line = raw.strip()
        key, _, value = line.partition(":")
        value = value.strip()
        if line.endswith(":") and ":" not in line[:-1]:
            nested = key
            current[key] = {}
            continue
        if nested in ("Limits", "Requests") and key in ("cpu", "memory", "ephemeral-storage"):
            current[nested][key] = value
            continue
        nested = None if key in ("Image", "State", "Ready", "Restart Count") else nested
        current.setdefault(key, value)
    return blocks


# --- scenarios -------------------------------------------------------------------------------
def _busy_pod(node: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "describe-busy", "namespace": "default", "labels": {"app": "busy"}},
        "spec": {
            "nodeName": node,
            "initContainers": [
                {
                    "name": "proxy",
                    "image": "registry.k8s.io/pause:3.10",
                    "restartPolicy": "Always",
                    "resources": {"requests": {"cpu": "150m", "memory": "32Mi"}},
                },
                {
                    "name": "migrate",
                    "image": "registry.k8s.io/pause:3.10",
                    "resources": {"requests": {"cpu": "1200m", "memory": "100Mi"}},
                },
            ],
            "containers": [
                {
                    "name": "app",
                    "image": "registry.k8s.io/pause:3.10",
                    "resources": {
                        "requests": {"cpu": "333m", "memory": "0.5Gi"},
                        "limits": {"cpu": "1500m", "memory": "1Gi"},
                    },
                }
            ],
        },
    }


def _node_event(kube: KubeClient, node: str, uid: str) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    kube.request(
        "POST",
        "/api/v1/namespaces/default/events",
        body={
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{node}.describe-test-", "namespace": "default"},
            "involvedObject": {"kind": "Node", "name": node, "uid": uid},
            "reason": "DescribeTestWarning",
            "message": "disk is slow",
            "type": "Warning",
            "count": 3,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "source": {"component": "describe-test"},
        },
    )


def test_node_matches_kubectl_on_a_cordoned_tainted_busy_node(
    pristine: KubeClient, kubectl: Kubectl
) -> None:
    kube = pristine
    node = "k8s-node1"
    kube.patch_strategic(
        NODES.path(name=node),
        {
            "spec": {
                "unschedulable": True,
                "taints": [
                    {"key": "example.com/maintenance", "value": "disk", "effect": "NoSchedule"}
                ],
            }
        },
    )
    kube.create(_busy_pod(node))
    _node_event(kube, node, node)  # kubelet-style: uid is the node's name
    wait_for(
        lambda: (
            kube.get(PODS.path("default", "describe-busy")).get("status", {}).get("phase")
            == "Running"
        )
    )
    ours = describe_node(DescribeNode(node=node), kube, Control())
    theirs = kubectl_describe(kubectl, "node", node)
    assert_node_matches(theirs, ours)
    # the arithmetic was exercised: sidecar + init max + sum, 0.5Gi app memory
    busy = next(p for p in ours.pods if p.name == "describe-busy")
    assert (busy.cpu_requests, busy.memory_requests) == (
        1350,
        544 * 2**20,  # app 0.5Gi + sidecar 32Mi > init 100Mi + 32Mi
    )
    assert ours.unschedulable and "example.com/maintenance" in [t.key for t in ours.taints]
    assert any(e.reason == "DescribeTestWarning" and e.count == 3 for e in ours.events)

    for name in ("k8s-master",):
        assert_node_matches(
            kubectl_describe(kubectl, "node", name),
            describe_node(DescribeNode(node=name), kube, Control()),
        )


def test_pod_matches_kubectl(pristine: KubeClient, kubectl: Kubectl) -> None:
    kube = pristine
    kube.create(_busy_pod("k8s-node1"))
    wait_for(
        lambda: (
            kube.get(PODS.path("default", "describe-busy")).get("status", {}).get("phase")
            == "Running"
        )
    )
    for namespace, name in [("default", "describe-busy"), *_seed_pods(kube)]:
        ours = describe_pod(DescribePod(name=name, namespace=namespace), kube, Control())
        assert_pod_matches(kubectl_describe(kubectl, "pod", name, "-n", namespace), ours)


def _seed_pods(kube: KubeClient) -> list[tuple[str, str]]:
    pods = list(kube.list_pages(PODS.path(namespace="kube-system")))
    wanted = [
        p for p in pods if p["metadata"]["name"].startswith(("coredns", "calico-node", "etcd"))
    ]
    return [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in wanted]


def _sick_node(kube: KubeClient, stale: timedelta, added: datetime) -> None:
    """A node no kwok manages (no annotation): nothing renews its Lease or its status."""
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": SICK, "labels": {"kubernetes.io/hostname": SICK}},
            "spec": {
                "taints": [
                    {
                        "key": "node.kubernetes.io/not-ready",
                        "effect": "NoExecute",
                        "timeAdded": added.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                ]
            },
        }
    )
    then = (datetime.now(UTC) - stale).strftime("%Y-%m-%dT%H:%M:%SZ")
    kube.request(
        "PATCH",
        NODES.path(name=SICK) + "/status",
        body={
            "status": {
                "capacity": {"cpu": "2", "memory": "4Gi", "pods": "10"},
                "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "10"},
                "conditions": [
                    {
                        "type": "Ready",
                        "status": "False",
                        "reason": "KubeletNotReady",
                        "message": "PLEG is not healthy",
                        "lastHeartbeatTime": then,
                        "lastTransitionTime": then,
                    },
                    {
                        "type": "MemoryPressure",
                        "status": "True",
                        "reason": "KubeletHasInsufficientMemory",
                        "message": "low",
                        "lastHeartbeatTime": then,
                        "lastTransitionTime": then,
                    },
                ],
                "nodeInfo": {
                    "kubeletVersion": "v1.37.2",
                    "kernelVersion": "6.1.0",
                    "osImage": "Debian 12",
                    "containerRuntimeVersion": "containerd://2.0.0",
                    "architecture": "amd64",
                    "operatingSystem": "linux",
                },
            }
        },
        content_type="application/merge-patch+json",
    )
    kube.create(
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": SICK, "namespace": "kube-node-lease"},
            "spec": {
                "holderIdentity": SICK,
                "leaseDurationSeconds": 40,
                "renewTime": (datetime.now(UTC) - stale).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            },
        }
    )


def _crash_loop(kube: KubeClient, name: str) -> None:
    """What a kubelet reports of a container in CrashLoopBackOff (no kubelet runs on the sick
    node, so nothing overwrites it)."""
    then = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    done = {
        "terminated": {"exitCode": 0, "reason": "Completed", "startedAt": then, "finishedAt": then}
    }
    image = "registry.k8s.io/pause:3.10"
    kube.request(
        "PATCH",
        PODS.path("default", name) + "/status",
        body={
            "status": {
                "phase": "Running",
                "hostIP": "10.9.9.9",
                "podIP": "10.244.9.9",
                "startTime": then,
                "initContainerStatuses": [
                    {
                        "name": "proxy",
                        "image": image,
                        "imageID": "",
                        "ready": True,
                        "restartCount": 0,
                        "started": True,
                        "state": {"running": {"startedAt": then}},
                    },
                    {
                        "name": "migrate",
                        "image": image,
                        "imageID": "",
                        "ready": True,
                        "restartCount": 0,
                        "state": done,
                    },
                ],
                "containerStatuses": [
                    {
                        "name": "app",
                        "image": image,
                        "imageID": "",
                        "ready": False,
                        "restartCount": 5,
                        "state": {
                            "waiting": {"reason": "CrashLoopBackOff", "message": "back-off 2m40s"}
                        },
                        "lastState": {
                            "terminated": {
                                "exitCode": 1,
                                "reason": "Error",
                                "startedAt": then,
                                "finishedAt": then,
                            }
                        },
                    }
                ],
            }
        },
        content_type="application/merge-patch+json",
    )


def test_sick_node_is_late_and_says_when_its_pods_go(
    pristine: KubeClient, kubectl: Kubectl
) -> None:
    kube = pristine
    added = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    _sick_node(kube, timedelta(minutes=2), added)
    try:
        pod = _busy_pod(SICK) | {"metadata": {"name": "describe-stranded", "namespace": "default"}}
        kube.create(pod)  # the DefaultTolerationSeconds plugin adds 300 s tolerations
        settled = {"node.kubernetes.io/not-ready", "node.kubernetes.io/memory-pressure"}

        def scheduling_taints() -> bool:
            node = kube.get(NODES.path(name=SICK))
            keys = {t["key"] for t in node["spec"].get("taints", []) if t["effect"] == "NoSchedule"}
            return settled <= keys

        wait_for(scheduling_taints)  # the node lifecycle controller's, before both reads
        ours = describe_node(DescribeNode(node=SICK), kube, Control())
        theirs = kubectl_describe(kubectl, "node", SICK)
        assert_node_matches(theirs, ours)
        assert ours.eviction is not None
        assert ours.eviction.taint == "node.kubernetes.io/not-ready:NoExecute"
        assert ours.eviction.added == added
        _crash_loop(kube, "describe-stranded")
        crashing = describe_pod(DescribePod(name="describe-stranded"), kube, Control())
        assert_pod_matches(kubectl_describe(kubectl, "pod", "describe-stranded"), crashing)
        assert "`app`: 5 restarts, Waiting (CrashLoopBackOff)." in registry().for_request(
            DescribePod(name="describe-stranded")
        ).render(crashing)
        [stranded] = [p for p in ours.eviction.pods if p.name == "describe-stranded"]
        assert stranded.seconds == 300
        assert stranded.at(ours.eviction.added) == added + timedelta(seconds=300)
        summary = registry().for_request(DescribeNode(node=SICK)).render(ours)
        assert "Heartbeat late" in summary and "50s" in summary
        assert "is NotReady" in summary and "MemoryPressure is True" in summary
        assert "1 pod is evicted at" in summary
        lease = kube.get(LEASES.path(namespace="kube-node-lease", name=SICK))
        assert lease["spec"]["renewTime"].startswith(
            ours.lease_renewed.strftime("%Y-%m-%dT%H:%M:%S")
        )  # type: ignore[union-attr]
    finally:
        kube.delete(PODS.path("default", "describe-stranded"), grace_period_seconds=0)
        kube.delete(LEASES.path(namespace="kube-node-lease", name=SICK))
        kube.delete(NODES.path(name=SICK))


def _run(store: JobStore, kube: KubeClient, policy: PolicyDocument, text: str):
    reply = Dispatcher(policy, store).submit(text, user="U_SOMEONE", origin=Origin(surface="shell"))
    assert reply.ok and reply.job is not None, reply.text
    assert make_worker(store, kube, name="w").run(burst=True) == 1
    return store.get(reply.job.id)


def test_through_a_worker_with_bad_input_as_sentences(
    store: JobStore, kube: KubeClient, policy: PolicyDocument
) -> None:
    job = _run(store, kube, policy, "describe node k8s-node1")
    assert job.state is JobState.SUCCEEDED, job.error
    parts = registry().thread_parts(job)
    assert parts is not None and parts.summary.startswith("Node `k8s-node1` is Ready")
    assert "Allocated resources:" in parts.body and "Kubelet Version: v1.37.2" in parts.body

    job = _run(store, kube, policy, "describe pod stateful-nginx-0 -n default")
    assert job.state is JobState.SUCCEEDED, job.error
    assert "Controlled By: StatefulSet/stateful-nginx" in registry().render_job(job)

    for text, said in [
        ("describe node no-such-node", 'nodes "no-such-node" not found'),
        (
            "describe pod no-such-pod -n default",
            "There is no pod no-such-pod in namespace default.",
        ),
        ("describe pod web -n no-such-ns", "There is no namespace no-such-ns in this cluster."),
    ]:
        job = _run(store, kube, policy, text)
        assert job.state is JobState.FAILED and job.error is not None
        assert said in job.error and "Traceback" not in job.error, job.error
