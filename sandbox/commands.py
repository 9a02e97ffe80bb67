"""``k8s-chatops-sandbox up | down | reset | status | kubeconfig | build``, for one
component ``stop | start | restart | pause | resume COMPONENT``, and for one node's health
``node NODE --not-ready | --unknown | --disk-pressure | --memory-pressure | --healthy``.

Its own console script, not a subcommand of ``k8s-chatops``: the sandbox is a development
tool, and the product (bot, worker, shell) must not import it at run time.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from core import messages
from core.errors import ConfigurationError
from handlers.kube import KubeClient, KubeError, resource_for
from sandbox import build, cluster, node_health, runtime, seed


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="k8s-chatops-sandbox",
        description=(
            "local Kubernetes control plane (etcd, apiserver, kcm, scheduler, kwok) and a real"
            " containerd per seed node"
        ),
    )
    actions = parser.add_subparsers(dest="sandbox_action", required=True)
    start = actions.add_parser("up", help="build (first time) and start; seed the scenario")
    start.add_argument("--nodes", type=int, default=0, help="extra simulated nodes for scale")
    start.add_argument("--pods-per-node", type=int, default=0, help="pods on each extra node")
    actions.add_parser("build", help="build the binaries into the cache (no start)")
    image_action = actions.add_parser(
        "image", help="build the k8s-chatops container image without Docker (needs root)"
    )
    image_action.add_argument("-o", "--output", type=Path, default=None, help="image tarball")
    actions.add_parser("down", help="stop every sandbox process (node runtimes included)")
    actions.add_parser(
        "reset", help="restore the seed scenario (and the nodes' images) without restarting"
    )
    actions.add_parser("status", help="what runs, versions, ports, node and pod counts")
    actions.add_parser("kubeconfig", help="print the admin kubeconfig path")
    health = actions.add_parser(
        "node", help="make a node sick or healthy (kwok stages, or its Lease not renewed)"
    )
    health.add_argument("node", help="the node's name")
    states = health.add_mutually_exclusive_group(required=True)
    for state, text in {
        "not-ready": "Ready=False (KubeletNotReady); the Lease is still renewed",
        "unknown": "stop renewing its Lease: Unknown after the node-monitor grace period",
        "disk-pressure": "DiskPressure=True",
        "memory-pressure": "MemoryPressure=True",
        "healthy": "undo all of these and wait until it is Ready",
    }.items():
        states.add_argument(
            f"--{state}", dest="health", action="store_const", const=state, help=text
        )
    one = {
        "stop": "stop one component (SIGTERM), leaving the others running",
        "start": "start a stopped component again (same flags, ports and data)",
        "restart": "a new process for one component: stop, then start",
        "pause": "freeze one component (SIGSTOP): connections stay open, nothing answers",
        "resume": "continue a paused component (SIGCONT)",
    }
    for action, text in one.items():
        sub = actions.add_parser(action, help=text)
        sub.add_argument("component", choices=cluster.COMPONENTS)
        if action in ("stop", "restart"):
            sub.add_argument(
                "--grace",
                type=float,
                default=10.0,
                metavar="SECONDS",
                help="SIGKILL if it has not exited this long after SIGTERM (default 10)",
            )
        if action == "restart":
            sub.add_argument(
                "--down-for",
                type=float,
                default=0.0,
                metavar="SECONDS",
                help="how long to stay stopped before starting again",
            )
    return parser


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


def _admin_client() -> KubeClient:
    return KubeClient.connect(str(cluster.paths().admin_kubeconfig))


def run(args: argparse.Namespace) -> int:
    action = args.sandbox_action
    if action == "up":
        return _up(args.nodes, args.pods_per_node)
    if action == "image":
        from sandbox import image  # noqa: PLC0415 - only this action needs it

        try:
            print(image.build_image(args.output).path)
        except ConfigurationError as error:
            print(error.user_message, file=sys.stderr)
            return 1
        return 0
    if action == "build":
        print(build.build())
        print(build.build_stern())
        print(build.build_runtime())
        print(build.build_helm())
        return 0
    if action == "down":
        stopped = cluster.down()
        print(
            messages.SANDBOX_STOPPED.format(names=", ".join(stopped))
            if stopped
            else messages.SANDBOX_NOTHING_TO_STOP.format()
        )
        return 0
    if action in ("stop", "start", "restart", "pause", "resume"):
        return _one_component(action, args)
    if not cluster.is_running():
        print(messages.SANDBOX_NOT_RUNNING.format(), file=sys.stderr)
        return 1
    if action == "kubeconfig":
        print(cluster.paths().admin_kubeconfig)
        return 0
    if action == "node":
        return _node_health(args.node, args.health)
    if action == "reset":
        started = time.monotonic()
        kube = _admin_client()
        try:
            seed.reset(kube)
        finally:
            kube.close()
        if runtime.running():
            runtime.reset()
        print(messages.SANDBOX_RESET_DONE.format(seconds=time.monotonic() - started))
        return 0
    return _status()


def _node_health(name: str, state: str) -> int:
    kube = _admin_client()
    try:
        node_health.set_health(kube, name, state)
    except ConfigurationError as error:
        print(error.user_message, file=sys.stderr)
        return 1
    finally:
        kube.close()
    print(messages.SANDBOX_NODE_HEALTH_SET.format(name=name, state=state))
    return 0


def _one_component(action: str, args: argparse.Namespace) -> int:
    name = args.component
    try:
        if action == "stop":
            stopped = cluster.stop_component(name, grace=args.grace)
            print(
                (
                    messages.SANDBOX_COMPONENT_STOPPED
                    if stopped
                    else messages.SANDBOX_COMPONENT_WAS_STOPPED
                ).format(name=name)
            )
        elif action == "start":
            pid = cluster.start_component(name)
            print(messages.SANDBOX_COMPONENT_STARTED.format(name=name, pid=pid))
        elif action == "restart":
            seconds = cluster.restart_component(name, down_for=args.down_for, grace=args.grace)
            pid = cluster.start_component(name)  # already running: just its pid
            print(messages.SANDBOX_COMPONENT_RESTARTED.format(name=name, pid=pid, seconds=seconds))
        elif action == "pause":
            pid = cluster.pause_component(name)
            print(messages.SANDBOX_COMPONENT_PAUSED.format(name=name, pid=pid))
        else:
            pid = cluster.resume_component(name)
            print(messages.SANDBOX_COMPONENT_RESUMED.format(name=name, pid=pid))
    except ConfigurationError as error:
        print(error.user_message, file=sys.stderr)
        return 1
    return 0


def _up(nodes: int, pods_per_node: int) -> int:
    already = cluster.is_running()
    state = cluster.up()
    kube = _admin_client()
    try:
        if already:
            print(messages.SANDBOX_ALREADY_RUNNING.format(server=state.server))
        else:
            seed.seed(kube)
        seed.scale(kube, nodes=nodes, pods_per_node=pods_per_node)
        seed.demo_logs(kube)
    finally:
        kube.close()
    runtime_was_up = runtime.is_running()
    started = runtime.up()
    if not runtime_was_up:
        print(
            messages.SANDBOX_RUNTIME_STARTED.format(
                nodes=", ".join(f"{one.name} {one.endpoint}" for one in started)
            )
        )
    if not already:
        print(
            messages.SANDBOX_STARTED.format(
                server=state.server, kubeconfig=cluster.paths().admin_kubeconfig
            )
        )
    return 0


def _status() -> int:
    state = cluster.load_state()
    assert state is not None  # is_running() checked it
    states = cluster.component_states(state)
    print(f"API server  {state.server}")
    print(f"kubeconfig  {cluster.paths().admin_kubeconfig}")
    print("versions    " + ", ".join(f"{k} {v}" for k, v in state.versions.items()))
    for name, pid in state.pids.items():
        port = state.ports.get(name)
        where = f"127.0.0.1:{port}" if port else "-"
        shown = states[name] if states[name] != "stopped" else "STOPPED"
        print(f"  {name:<24} pid {pid:<8} {where:<16} {shown}")
    for line in runtime.status_lines():
        print(line)
    kube = _admin_client()
    try:
        nodes = sum(1 for _ in kube.list_pages(resource_for("Node").path()))
        pods = sum(1 for _ in kube.list_pages(resource_for("Pod").path()))
        print(f"nodes {nodes}, pods {pods}")
    except KubeError as error:
        print(error.user_message, file=sys.stderr)
        return 1
    finally:
        kube.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
