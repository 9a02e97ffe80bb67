"""The job queue: enqueue→claim latency (p50, p99) and jobs/s, against bare Redis streams.

Latency is measured one job at a time against an idle worker (what a person waits for);
throughput with a burst of jobs and one worker. Runs a private redis-server on a free
loopback port. "Ours" submits jobs through the job
store (record + queue + audit in one script) and a worker in this process claims, runs a no-op
handler, stores the result (with history, event and notification) and acknowledges. The
reference does only XADD / XREADGROUP / XACK on a bare stream, measured in the same run; the
ratio says what the bookkeeping costs.

    .venv/bin/python bench/queue_latency.py [--jobs 500]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import redis

from bot.jobs.model import JobState, Origin
from bot.jobs.store import JobStore
from bot.jobs.worker import Worker
from handlers.base import RequestBase, ResultBase
from handlers.control import Control
from handlers.kube import KubeClient
from handlers.models import GetNodes, NodeTable
from sandbox.cluster import free_port


def noop(request: RequestBase, kube: KubeClient, control: Control) -> ResultBase:
    return NodeTable(rows=[])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def ours(client: redis.Redis, jobs: int, probes: int) -> tuple[list[float], float]:
    """Latency of ``probes`` jobs sent one at a time to an idle worker; burst rate of ``jobs``."""
    store = JobStore(client, "bench")
    store.ensure_groups()
    worker = Worker(store, None, name="bench", perform=noop)  # type: ignore[arg-type]
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()

    def submit() -> str:
        origin = Origin(surface="shell")
        return store.submit(GetNodes(), requester="U", origin=origin, decision="bench")[0].id

    latencies = []
    for _ in range(probes):
        job_id = submit()
        store.wait_finished(job_id, timeout=60)
        job = store.get(job_id)
        assert job.state is JobState.SUCCEEDED and job.started_at
        latencies.append((job.started_at - job.created_at).total_seconds())
    started = time.perf_counter()
    ids = [submit() for _ in range(jobs)]
    for job_id in ids:
        store.wait_finished(job_id, timeout=60)
    elapsed = time.perf_counter() - started
    worker.stop()
    thread.join()
    return latencies, jobs / elapsed


def bare(client: redis.Redis, jobs: int, probes: int) -> tuple[list[float], float]:
    """The same two measurements with nothing but XADD / XREADGROUP / XACK."""
    stream, group = "bench:bare", "g"
    client.xgroup_create(stream, group, id="0", mkstream=True)
    claimed: dict[str, float] = {}
    arrived = threading.Condition()
    total = probes + jobs

    def consume() -> None:
        while len(claimed) < total:
            for _, items in client.xreadgroup(group, "c", {stream: ">"}, count=1, block=1000) or []:
                for entry_id, fields in items:
                    client.xack(stream, group, entry_id)
                    with arrived:
                        claimed[fields["n"]] = time.perf_counter()
                        arrived.notify_all()

    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    latencies = []
    for n in range(probes):
        sent = time.perf_counter()
        client.xadd(stream, {"n": str(n)})
        with arrived:
            arrived.wait_for(lambda n=n: str(n) in claimed, timeout=10)
        latencies.append(claimed[str(n)] - sent)
    started = time.perf_counter()
    for n in range(probes, total):
        client.xadd(stream, {"n": str(n)})
    consumer.join()
    return latencies, jobs / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500, help="burst size for jobs/s")
    parser.add_argument("--probes", type=int, default=200, help="one-at-a-time latency probes")
    args = parser.parse_args()
    binary = shutil.which("redis-server")
    if binary is None:
        print("redis-server is not installed", file=sys.stderr)
        return 1
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        server = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir],
            stdout=subprocess.DEVNULL,
        )
        try:
            client = redis.Redis(port=port, decode_responses=True)
            deadline = time.monotonic() + 10
            while True:
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            ref_latency, ref_rate = bare(client, args.jobs, args.probes)
            our_latency, our_rate = ours(client, args.jobs, args.probes)
        finally:
            server.terminate()
            server.wait()
    for name, latency, rate in (
        ("bare streams", ref_latency, ref_rate),
        ("k8s-chatops", our_latency, our_rate),
    ):
        print(
            f"{name:13} enqueue→claim p50 {statistics.median(latency) * 1000:7.2f} ms  "
            f"p99 {percentile(latency, 0.99) * 1000:7.2f} ms  {rate:8.0f} jobs/s"
        )
    print(
        f"ratio ours/bare: p50 latency "
        f"{statistics.median(our_latency) / statistics.median(ref_latency):.1f}x, "
        f"throughput {our_rate / ref_rate:.2f}x (latency: {args.probes} jobs one at a time "
        f"to an idle worker; throughput: a burst of {args.jobs}, one worker)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
