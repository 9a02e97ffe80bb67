"""Log fetch wall time: ours against ``stern --no-follow`` on the same pods, same run.

Puts P pods (default 50) in namespace ``bench-logs``, each with a 1000-line CRI log file
served by kwok, and fetches the last T lines (default 200) of every container:

- stern, the binary built from its Go module, as people run it: a process per fetch;
- ours, the handler in process, as a worker runs it (a worker is long-lived), including
  masking every line and rendering the reply text.

Both run at the same concurrency (``--max-log-requests``, ours' default 10); stern is also
timed at its own ``--no-follow`` default (5). Rounds alternate which goes first. Prints the
median of each and the ratio ours / stern; the goal is <= 0.5.

    .venv/bin/python bench/logs_vs_stern.py [--pods 50] [--tail 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.commands.render_logs import render_logs
from handlers.control import Control, OutputCaps
from handlers.kube import KubeClient, KubeNotFound, resource_for
from handlers.logs import pod_logs
from handlers.logs_models import PodLogs
from sandbox import build, cluster

NAMESPACE = "bench-logs"
LINES_PER_POD = 1000


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def prepare(kube: KubeClient, pods: int, workdir: Path) -> None:
    namespaces = resource_for("Namespace")
    try:
        kube.get(namespaces.path(name=NAMESPACE))
    except KubeNotFound:
        kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    now = datetime.now(UTC)
    for index in range(pods):
        name = f"bench-{index:03d}"
        log_file = workdir / f"{name}.log"
        with log_file.open("w") as out:
            for line in range(LINES_PER_POD):
                moment = now - timedelta(seconds=(LINES_PER_POD - line) * 0.5, microseconds=index)
                out.write(
                    f"{_stamp(moment)} stdout F level=info pod={name} line={line} "
                    f'msg="GET /api/v1/orders/{line} 200 in 3ms" user=alice\n'
                )
        kube.apply(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": "bench"}},
                "spec": {
                    "nodeName": "k8s-node1",
                    "containers": [{"name": "app", "image": "busybox"}],
                },
            },
            field_manager="bench",
        )
        kube.apply(
            {
                "apiVersion": "kwok.x-k8s.io/v1alpha1",
                "kind": "Logs",
                "metadata": {"name": name, "namespace": NAMESPACE},
                "spec": {"logs": [{"containers": ["app"], "logsFile": str(log_file)}]},
            },
            field_manager="bench",
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        running = [
            p
            for p in kube.list_pages(resource_for("Pod").path(NAMESPACE))
            if p["status"].get("containerStatuses")
            and p["status"]["containerStatuses"][0].get("containerID")
        ]
        if len(running) == pods:
            return
        time.sleep(0.2)
    raise SystemExit("bench pods did not all start")


def run_stern(binary: Path, kubeconfig: Path, tail: int, requests: int) -> tuple[float, int]:
    command = [str(binary), f"--kubeconfig={kubeconfig}", "--no-follow", "--color=never"]
    command += ["--only-log-lines", "--output=raw", f"--namespace={NAMESPACE}", f"--tail={tail}"]
    command += ["--since=2h", f"--max-log-requests={requests}", "bench-"]
    started = time.perf_counter()
    finished = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if finished.returncode != 0:
        raise SystemExit(f"stern failed: {finished.stderr[-500:]}")
    return elapsed, len(finished.stdout.splitlines())


def run_ours(kube: KubeClient, tail: int, requests: int) -> tuple[float, int]:
    request = PodLogs(
        query="bench-",
        namespaces=(NAMESPACE,),
        tail=tail,
        since_seconds=7200,
        max_log_requests=requests,
    )
    control = Control(caps=OutputCaps(max_lines=100_000, max_bytes=50_000_000))
    started = time.perf_counter()
    result = pod_logs(request, kube, control)
    render_logs(result)
    elapsed = time.perf_counter() - started
    if result.failures:
        raise SystemExit(f"our fetch failed: {result.failures[:3]}")
    return elapsed, len(result.lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=50)
    parser.add_argument("--tail", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not cluster.is_running():
        print("The sandbox is not running: `make sandbox-up` first.", file=sys.stderr)
        return 2
    stern = build.build_stern()
    kubeconfig = cluster.paths().admin_kubeconfig
    ours_requests = PodLogs.model_fields["max_log_requests"].default
    kube = KubeClient.connect(str(kubeconfig), pool_size=32)
    expected = args.pods * args.tail
    with tempfile.TemporaryDirectory(prefix="bench-logs-") as workdir:
        try:
            prepare(kube, args.pods, Path(workdir))
            run_ours(kube, args.tail, ours_requests)  # warm the connection pool, as a worker is
            times: dict[str, list[float]] = {"ours": [], "stern": [], "stern-default": []}
            for round_number in range(args.rounds):
                runs = [
                    ("ours", lambda: run_ours(kube, args.tail, ours_requests)),
                    ("stern", lambda: run_stern(stern, kubeconfig, args.tail, ours_requests)),
                    ("stern-default", lambda: run_stern(stern, kubeconfig, args.tail, 5)),
                ]
                if round_number % 2:
                    runs.reverse()
                for name, run in runs:
                    elapsed, lines = run()
                    if lines != expected:
                        raise SystemExit(f"{name} returned {lines} lines, expected {expected}")
                    times[name].append(elapsed)
        finally:
            kube.delete(resource_for("Namespace").path(name=NAMESPACE))
            kube.close()
    ours = statistics.median(times["ours"])
    theirs = statistics.median(times["stern"])
    default = statistics.median(times["stern-default"])
    print(f"logs: {args.pods} pods x tail {args.tail} ({expected} lines), {args.rounds} rounds")
    print(f"  ours (handler, masked + rendered)     median {ours * 1000:7.1f} ms")
    print(f"  stern --no-follow, {ours_requests} requests       median {theirs * 1000:7.1f} ms")
    print(f"  stern --no-follow, its default (5)    median {default * 1000:7.1f} ms")
    print(f"  ratio ours / stern (same concurrency) {ours / theirs:.2f}  (goal <= 0.5)")
    print(f"  ratio ours / stern (its default)      {ours / default:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
