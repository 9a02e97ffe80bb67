"""Slash-command acknowledgement latency through the Bolt app, at a steady request rate.

Starts a private redis-server and the Slack Web API emulator, serves the real WSGI app
(signature check, parse, policy, job record, ack) with waitress on loopback, and sends signed
``/k8s get nodes`` requests at ``--rate`` per second. The reference is ``/healthz`` on the same
server in the same run: what the HTTP stack alone costs. Goal: p99 < 50 ms.

    .venv/bin/python bench/ack_latency.py [--requests 500] [--rate 50]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import redis
import waitress
from slack_sdk.signature import SignatureVerifier

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from slack_emulator import SlackEmulator

from bot.commands.dispatcher import Dispatcher
from bot.jobs.store import JobStore
from bot.settings import SlackSettings, load
from bot.surfaces.http import make_wsgi
from bot.surfaces.slack_app import create_app, web_client
from policies.loader import load_policy
from sandbox.cluster import free_port

SECRET = "bench-signing-secret"
TOKEN = "xoxb-" + "bench-0000"
REPO = Path(__file__).resolve().parent.parent


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def timed_requests(make: object, count: int, rate: float) -> list[float]:
    latencies = []
    interval = 1.0 / rate
    next_at = time.perf_counter()
    for index in range(count):
        next_at += interval
        request = make(index)  # type: ignore[operator]
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()
        latencies.append(time.perf_counter() - started)
        time.sleep(max(0.0, next_at - time.perf_counter()))
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50.0)
    args = parser.parse_args()
    binary = shutil.which("redis-server")
    if binary is None:
        print("redis-server is not installed", file=sys.stderr)
        return 1
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir, SlackEmulator(valid_tokens=[TOKEN]) as slack:
        server_process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir],
            stdout=subprocess.DEVNULL,
        )
        try:
            client = redis.Redis(port=port, decode_responses=True)
            for _ in range(100):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            os.environ.update(
                SLACK_BOT_TOKEN=TOKEN,
                SLACK_SIGNING_SECRET=SECRET,
                K8S_CHATOPS_POLICY_FILE=str(REPO / "policies/default.yaml"),
                K8S_CHATOPS_SLACK_API_URL=slack.base_url,
            )
            settings = load(SlackSettings)
            store = JobStore(client, "bench")
            app = create_app(
                settings, Dispatcher(load_policy(settings.policy_file), store), web_client(settings)
            )
            server = waitress.create_server(
                make_wsgi(app, client), host="127.0.0.1", port=0, threads=8
            )
            threading.Thread(target=server.run, daemon=True).start()
            base = f"http://127.0.0.1:{server.effective_port}"
            verifier = SignatureVerifier(SECRET)

            def slash(index: int) -> urllib.request.Request:
                body = urllib.parse.urlencode(
                    {
                        "team_id": "T1",
                        "channel_id": "C1",
                        "user_id": "U1",
                        "command": "/k8s",
                        "text": "get nodes",
                        "trigger_id": f"bench-{index}",
                        "response_url": slack.response_url("r"),
                    }
                )
                stamp = str(int(time.time()))
                return urllib.request.Request(
                    f"{base}/slack/events",
                    data=body.encode(),
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-Slack-Request-Timestamp": stamp,
                        "X-Slack-Signature": verifier.generate_signature(
                            timestamp=stamp, body=body
                        ),
                    },
                )

            timed_requests(slash, 20, args.rate)  # warm-up
            reference = timed_requests(
                lambda i: urllib.request.Request(f"{base}/healthz"), args.requests, args.rate
            )
            acks = timed_requests(slash, args.requests, args.rate)
            server.close()
        finally:
            server_process.terminate()
            server_process.wait()
    for name, values in (("/healthz", reference), ("/k8s ack", acks)):
        print(
            f"{name:9} p50 {statistics.median(values) * 1000:6.2f} ms  "
            f"p99 {percentile(values, 0.99) * 1000:6.2f} ms  ({len(values)} at {args.rate:g}/s)"
        )
    p99 = percentile(acks, 0.99) * 1000
    print(
        f"ratio ack/healthz p50 {statistics.median(acks) / statistics.median(reference):.1f}x; "
        f"ack p99 {p99:.1f} ms (goal < 50 ms): {'met' if p99 < 50 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
