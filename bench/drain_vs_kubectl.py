"""Drain wall time: ours against ``kubectl drain`` on the same node and pods, same run.

Each round resets the sandbox, puts N extra pods on k8s-node1 (pinned with a nodeSelector)
and drains k8s-node1 with ``--ignore-daemonsets --force``: once with the sandbox's kubectl,
once with our handler (in process, as a worker runs it). Rounds alternate which goes first.
Prints each time and the median ratio ours / kubectl; the goal is <= 1.0.

    .venv/bin/python bench/drain_vs_kubectl.py [--pods 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from handlers.control import Control
from handlers.drain import drain
from handlers.drain_models import DrainNode
from handlers.kube import KubeClient, resource_for
from sandbox import cluster, seed, versions

NODE = "k8s-node1"


def prepare(kube: KubeClient, pods: int) -> None:
    seed.reset(kube)
    kube.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "bench", "namespace": "default"},
            "spec": {
                "replicas": pods,
                "selector": {"matchLabels": {"app": "bench"}},
                "template": {
                    "metadata": {"labels": {"app": "bench"}},
                    "spec": {
                        # Pinned, so every replica starts on the node; evicted ones wait Pending.
                        "nodeSelector": {"kubernetes.io/hostname": NODE},
                        "containers": [{"name": "app", "image": "busybox"}],
                    },
                },
            },
        }
    )
    path = resource_for("Pod").path("default")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        on_node = [
            p
            for p in kube.list_pages(path, label_selector="app=bench")
            if p["spec"].get("nodeName") == NODE and p["status"].get("phase") == "Running"
        ]
        if len(on_node) == pods:
            return
        time.sleep(0.2)
    raise SystemExit("bench pods did not all land on k8s-node1")


def time_kubectl(kubeconfig: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [
            str(versions.bin_dir() / "kubectl"),
            f"--kubeconfig={kubeconfig}",
            "drain",
            NODE,
            "--ignore-daemonsets",
            "--force",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"kubectl drain failed: {result.stderr}")
    return elapsed


def time_ours(kube: KubeClient) -> float:
    started = time.perf_counter()
    result = drain(DrainNode(node=NODE, ignore_daemonsets=True, force=True), kube, Control())
    elapsed = time.perf_counter() - started
    if not result.drained:
        raise SystemExit(f"our drain failed: {result.errors}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not cluster.is_running():
        print("start the sandbox first: k8s-chatops-sandbox up", file=sys.stderr)
        return 1
    kubeconfig = str(cluster.paths().admin_kubeconfig)
    kube = KubeClient.connect(kubeconfig, pool_size=64)
    ratios = []
    try:
        for round_number in range(args.rounds):
            order = ("kubectl", "ours") if round_number % 2 == 0 else ("ours", "kubectl")
            times = {}
            for who in order:
                prepare(kube, args.pods)
                times[who] = time_kubectl(kubeconfig) if who == "kubectl" else time_ours(kube)
            ratios.append(times["ours"] / times["kubectl"])
            print(
                f"round {round_number + 1}: kubectl {times['kubectl']:.2f}s  "
                f"ours {times['ours']:.2f}s  ratio {ratios[-1]:.2f}"
            )
    finally:
        seed.reset(kube)
        kube.close()
    pods_total = args.pods + 4  # plus the seed's pods on k8s-node1 that get evicted
    print(
        f"drain of {NODE} with {pods_total} evicted pods: median ratio ours/kubectl "
        f"{statistics.median(ratios):.2f} (goal <= 1.0)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
