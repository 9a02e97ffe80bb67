"""Our drain against the real ``kubectl drain``, on identical fresh scenarios.

Each case resets the sandbox, prepares the scenario, runs kubectl; then resets, prepares the
same scenario and runs ours. Pod names of controller-made pods differ between the two runs, so
output is compared as facts about workloads: which were removed, which stayed, what was said
about each (warnings, errors, evictions, PDB retries, timeouts), and the node's final state.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from conftest import Kubectl
from helpers import block_hellok8s_evictions, wait_for

from bot.commands import grammar
from bot.commands.render_drain import render_drain
from handlers.control import Control
from handlers.drain import drain
from handlers.drain_models import DrainNode
from handlers.drain_plan import workload_of
from handlers.kube import KubeClient, resource_for
from sandbox import seed

pytestmark = pytest.mark.integration

NODE = "k8s-node1"
PODS = resource_for("Pod")

Setup = Callable[[KubeClient], None]


@dataclass
class Outcome:
    facts: set[tuple[str, ...]]
    removed: Counter[str]
    remaining: Counter[str]
    unschedulable: bool


def node_pods(kube: KubeClient) -> dict[str, dict]:
    return {
        pod["metadata"]["uid"]: pod
        for pod in kube.list_pages(PODS.path(), field_selector=f"spec.nodeName={NODE}")
    }


def facts(lines: list[str], names: dict[str, str]) -> set[tuple[str, ...]]:
    """kubectl-style output lines → facts about workloads (order and pod names dropped)."""

    def who(pod: str) -> str:
        pod = pod.strip().strip('"')
        return names.get(pod, names.get(pod.split("/")[-1], pod))

    found: set[tuple[str, ...]] = set()
    for raw in lines:
        line = raw.strip()
        if match := re.fullmatch(r"node/\S+ (already cordoned|cordoned|drained)(.*)", line):
            found.add(("node", match.group(1), match.group(2)))
        elif line.startswith("Warning: "):
            for part in line.removeprefix("Warning: ").split("; "):
                reason, pods = part.rsplit(": ", 1)
                found |= {("warning", reason, who(p)) for p in pods.split(", ")}
        elif match := re.fullmatch(r"cannot delete (.+): (\S+(?:, \S+)*)", line):
            found |= {("error", match.group(1), who(p)) for p in match.group(2).split(", ")}
        elif match := re.fullmatch(r"evicting pod (\S+)(.*)", line):
            found.add(("evicting", who(match.group(1)), match.group(2)))
        elif match := re.fullmatch(r"pod/(\S+) (evicted|deleted)", line):
            found.add((match.group(2), who(match.group(1))))
        elif match := re.match(
            r'error when evicting pods/"([^"]+)" -n "([^"]+)" \(will retry', line
        ):
            found.add(("retry", who(f"{match.group(2)}/{match.group(1)}")))
        elif match := re.match(r'error when evicting pods/"([^"]+)" -n "([^"]+)": (.*)', line):
            found.add(("evict-failed", who(f"{match.group(2)}/{match.group(1)}"), match.group(3)))
        elif line.startswith("There are pending nodes"):
            found.add(("pending-nodes",))
    return found


def run_case(kube: KubeClient, setup: Setup, runner: Callable[[], list[str]]) -> Outcome:
    seed.reset(kube)
    setup(kube)
    before = node_pods(kube)
    names = {}
    for pod in before.values():
        meta = pod["metadata"]
        names[f"{meta['namespace']}/{meta['name']}"] = workload_of(pod)
        names[meta["name"]] = workload_of(pod)
    lines = runner()
    after = node_pods(kube)
    node = kube.get(resource_for("Node").path(name=NODE))
    return Outcome(
        facts=facts(lines, names),
        removed=Counter(workload_of(p) for uid, p in before.items() if uid not in after),
        remaining=Counter(workload_of(p) for uid, p in before.items() if uid in after),
        unschedulable=bool(node["spec"].get("unschedulable")),
    )


def compare(kube: KubeClient, kubectl: Kubectl, setup: Setup, flags: str) -> Outcome:
    def theirs() -> list[str]:
        result = kubectl("drain", NODE, *flags.split())
        return (result.stdout + result.stderr).splitlines()

    def ours() -> list[str]:
        request = grammar.parse(f"drain {NODE} {flags}")
        assert isinstance(request, DrainNode)
        text = render_drain(drain(request, kube, Control()))
        return text.split("\n\n", 1)[0].splitlines()

    reference = run_case(kube, setup, theirs)
    candidate = run_case(kube, setup, ours)
    assert candidate.removed == reference.removed
    assert candidate.remaining == reference.remaining
    assert candidate.unschedulable == reference.unschedulable
    assert candidate.facts == reference.facts
    return candidate


def nothing(kube: KubeClient) -> None:
    del kube


def test_seed_walkthrough_without_force(kube: KubeClient, kubectl: Kubectl) -> None:
    outcome = compare(kube, kubectl, nothing, "--ignore-daemonsets")
    assert not outcome.removed
    assert (
        "error",
        "Pods that declare no controller (use --force to override)",
        "Pod default/go-http",
    ) in outcome.facts


def test_seed_walkthrough_with_force(kube: KubeClient, kubectl: Kubectl) -> None:
    outcome = compare(kube, kubectl, nothing, "--ignore-daemonsets --force")
    assert outcome.removed["Pod default/go-http"] == 1
    assert set(outcome.remaining) == {
        "DaemonSet kube-system/calico-node",
        "DaemonSet kube-system/kube-proxy",
    }


def test_daemonsets_without_ignore_daemonsets(kube: KubeClient, kubectl: Kubectl) -> None:
    outcome = compare(kube, kubectl, nothing, "")
    assert (
        "error",
        "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)",
        "DaemonSet kube-system/calico-node",
    ) in outcome.facts


def emptydir_workload(kube: KubeClient) -> None:
    kube.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "cache", "namespace": "default"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "cache"}},
                "template": {
                    "metadata": {"labels": {"app": "cache"}},
                    "spec": {
                        "nodeSelector": {"kubernetes.io/hostname": NODE},
                        "containers": [{"name": "cache", "image": "redis:7"}],
                        "volumes": [{"name": "scratch", "emptyDir": {}}],
                    },
                },
            },
        }
    )
    wait_for(
        lambda: any(
            p["metadata"]["name"].startswith("cache-") and p["status"].get("phase") == "Running"
            for p in node_pods(kube).values()
        )
    )


def test_emptydir_without_delete_emptydir_data(kube: KubeClient, kubectl: Kubectl) -> None:
    outcome = compare(kube, kubectl, emptydir_workload, "--ignore-daemonsets --force")
    assert (
        "error",
        "Pods with local storage (use --delete-emptydir-data to override)",
        "Deployment default/cache",
    ) in outcome.facts


def test_emptydir_with_delete_emptydir_data(kube: KubeClient, kubectl: Kubectl) -> None:
    outcome = compare(
        kube, kubectl, emptydir_workload, "--ignore-daemonsets --force --delete-emptydir-data"
    )
    assert outcome.removed["Deployment default/cache"] == 1
    # As in kubectl, a later filter's "okay" replaces the local-storage warning for a pod that
    # has a controller: only bare pods with emptyDir get that warning printed.
    assert not any(fact[0] == "error" for fact in outcome.facts)


def test_pod_selector(kube: KubeClient, kubectl: Kubectl) -> None:
    outcome = compare(kube, kubectl, nothing, "--pod-selector=app=hellok8s")
    assert set(outcome.removed) == {"Deployment default/deployment-hellok8s-go-http"}


def test_server_dry_run_changes_nothing(kube: KubeClient, kubectl: Kubectl) -> None:
    outcome = compare(kube, kubectl, nothing, "--ignore-daemonsets --force --dry-run=server")
    assert not outcome.removed and not outcome.unschedulable
    assert ("node", "drained", " (server dry run)") in outcome.facts


def finished_bare_pod(kube: KubeClient) -> None:
    kube.delete(PODS.path("default", "go-http"), grace_period_seconds=0)
    kube.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "one-off", "namespace": "default"},
            "spec": {
                "nodeName": NODE,
                "restartPolicy": "Never",
                "containers": [{"name": "task", "image": "busybox"}],
            },
        }
    )
    wait_for(lambda: kube.get(PODS.path("default", "one-off"))["status"].get("phase") == "Running")
    kube.request(
        "PATCH",
        PODS.path("default", "one-off") + "/status",
        body={"status": {"phase": "Succeeded"}},
        content_type="application/merge-patch+json",
    )
    wait_for(lambda: "go-http" not in {p["metadata"]["name"] for p in node_pods(kube).values()})


def test_finished_bare_pod_needs_no_force(kube: KubeClient, kubectl: Kubectl) -> None:
    outcome = compare(kube, kubectl, finished_bare_pod, "--ignore-daemonsets")
    assert outcome.removed["Pod default/one-off"] == 1


def test_pdb_blocks_until_timeout(kube: KubeClient, kubectl: Kubectl) -> None:
    outcome = compare(
        kube, kubectl, block_hellok8s_evictions, "--ignore-daemonsets --force --timeout=6s"
    )
    assert outcome.remaining["Deployment default/deployment-hellok8s-go-http"] == 1
    assert ("retry", "Deployment default/deployment-hellok8s-go-http") in outcome.facts
    assert (
        "evict-failed",
        "Deployment default/deployment-hellok8s-go-http",
        "global timeout reached: 6s",
    ) in outcome.facts
    assert outcome.unschedulable
