"""Image prune and listing on one node: ours (worker → Redis → node agent → CRI) against
``crictl rmi --prune`` / ``crictl images`` on the same containerd, in the same run.

- prune: N unused images (default 200) are imported into ``k8s-node1``'s containerd; ours
  (the handler, as a worker runs it, through a real ``k8s-chatops node-agent`` process and a
  private redis-server) and crictl each prune them, rounds alternating which goes first, the
  images imported again before every run. Ours does more per image — it lists the
  containers again right before each removal and reports each one as an event — so the
  ratio shows what that care costs. The check→remove windows are printed too.
- listing: M images (default 1000) present; ``images NODE`` (ours: use, pins, sandbox image
  and each image's config creation time) against ``crictl images -o json``.

Needs the sandbox's node runtimes (``k8s-chatops-sandbox up``).

    .venv/bin/python bench/prune_vs_crictl.py [--images 200] [--list 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from bot.jobs.agents import RedisNodeAgents
from core.nodework import agent_key
from handlers import images
from handlers.control import Control
from handlers.images_models import ListImages, NodeImages, PruneImages
from sandbox import cluster, runtime

NODE = "k8s-node1"
CLUSTER = "bench"


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = cluster.free_port()
    server = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return server, url


def start_agent(url: str, workdir: Path) -> subprocess.Popen[bytes]:
    node = runtime.node(NODE)
    env = {
        **os.environ,
        "K8S_CHATOPS_REDIS_URL": url,
        "K8S_CHATOPS_NODE_NAME": NODE,
        "K8S_CHATOPS_CLUSTER": CLUSTER,
        "K8S_CHATOPS_RUNTIME_ENDPOINT": node.endpoint,
        "K8S_CHATOPS_POD_LOG_DIR": str(node.log_dir),
        "K8S_CHATOPS_LOG_LEVEL": "WARNING",
        # Removal speed against crictl's: no wait for containerd's next image-fs measure.
        "K8S_CHATOPS_IMAGE_FS_RESAMPLE_SECONDS": "0",
    }
    log = (workdir / "agent.log").open("ab")
    agent = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "node-agent"], env=env, stdout=log, stderr=log
    )
    client = redis.Redis.from_url(url)
    for _ in range(200):
        if client.exists(agent_key(CLUSTER, NODE)):
            break
        time.sleep(0.05)
    return agent


def add_and_settle(count: int, size: int) -> int:
    """Import ``count`` images and wait until the CRI lists them all: its image store follows
    containerd's with a short delay, and a prune started before would see only some."""
    expected = len(runtime.images(NODE)) + count
    runtime.add_images(NODE, count, size)
    deadline = time.monotonic() + 60
    while (seen := len(runtime.images(NODE))) < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return seen


def timed_ours(control: Control) -> tuple[float, int, int | None, int | None]:
    started = time.perf_counter()
    result = images.prune_images(PruneImages(node=NODE), None, control)  # type: ignore[arg-type]
    took = time.perf_counter() - started
    (outcome,) = result.nodes
    return took, len(outcome.removed), outcome.window_median_us, outcome.window_max_us


def timed_crictl() -> tuple[float, int]:
    before = len(runtime.images(NODE))
    started = time.perf_counter()
    runtime.crictl(NODE, "rmi", "--prune", timeout=600)
    took = time.perf_counter() - started
    return took, before - len(runtime.images(NODE))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--list", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    runtime.up()
    workdir = Path(tempfile.mkdtemp(prefix="bench-prune-"))
    server, url = start_redis(workdir)
    agent = start_agent(url, workdir)
    control = Control(
        agents=RedisNodeAgents(redis.Redis.from_url(url, decode_responses=True), CLUSTER)
    )
    ours, theirs, windows = [], [], []
    try:
        for round_ in range(args.rounds):
            order = ("ours", "crictl") if round_ % 2 == 0 else ("crictl", "ours")
            for who in order:
                runtime.reset()
                add_and_settle(args.images, 4096)
                if who == "ours":
                    took, removed, median, most = timed_ours(control)
                    ours.append(took)
                    windows.append((median, most))
                else:
                    took, removed = timed_crictl()
                    theirs.append(took)
                print(
                    f"round {round_ + 1} {who:6}: removed {removed} images in {took:.2f} s",
                    flush=True,
                )
        runtime.reset()
        add_and_settle(args.list - len(runtime.images(NODE)), 1024)
        listed, crictl_listed = [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            result = images.list_images(ListImages(node=NODE), None, control)  # type: ignore[arg-type]
            listed.append(time.perf_counter() - started)
            assert isinstance(result, NodeImages)
            started = time.perf_counter()
            count = len(runtime.images(NODE))
            crictl_listed.append(time.perf_counter() - started)
        print(
            f"listing {count} images: ours (first, then cached creation times) "
            + ", ".join(f"{t:.2f}" for t in listed)
            + " s; crictl images -o json "
            + ", ".join(f"{t:.2f}" for t in crictl_listed)
            + " s"
        )
    finally:
        agent.terminate()
        agent.wait(timeout=15)
        server.terminate()
        server.wait(timeout=10)
        runtime.reset()
        shutil.rmtree(workdir, ignore_errors=True)
    o, c = statistics.median(ours), statistics.median(theirs)
    print(
        f"prune {args.images} unused images: ours {o:.2f} s, crictl rmi --prune {c:.2f} s, "
        f"ratio ours/crictl {o / c:.2f}"
    )
    medians = [m for m, _ in windows if m is not None]
    maxima = [m for _, m in windows if m is not None]
    if medians:
        print(
            f"check→remove window per image: median {statistics.median(medians) / 1000:.2f} ms, "
            f"max {max(maxima) / 1000:.2f} ms"
        )
    o_list, c_list = statistics.median(listed), statistics.median(crictl_listed)
    print(
        f"list {args.list} images: ours {o_list:.2f} s (first listing {listed[0]:.2f} s), "
        f"crictl {c_list:.2f} s, ratio {o_list / c_list:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
