"""Small helpers shared by the integration tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis
import waitress
from slack_emulator import SlackEmulator
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from waitress.server import BaseWSGIServer as WSGIServer

from bot.commands.dispatcher import Dispatcher
from bot.commands.registry import registry
from bot.jobs.store import JobStore
from bot.jobs.worker import Worker
from bot.settings import SlackSettings, load
from bot.surfaces.http import make_wsgi
from bot.surfaces.slack_app import create_app, web_client
from core.nodework import agent_key, agents_key
from handlers.kube import KubeClient, resource_for
from sandbox import runtime

T = TypeVar("T")


def wait_for(condition: Callable[[], T], timeout: float = 30.0, interval: float = 0.2) -> T:
    """Poll ``condition`` until it returns something truthy; return that, or fail the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"condition not met within {timeout}s"
        time.sleep(interval)


def block_hellok8s_evictions(kube: KubeClient, min_available: int = 2) -> None:
    """A PDB over the seed's hellok8s Deployment, computed by the disruption controller."""
    kube.create(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "hellok8s", "namespace": "default"},
            "spec": {
                "minAvailable": min_available,
                "selector": {"matchLabels": {"app": "hellok8s"}},
            },
        }
    )
    path = resource_for("PodDisruptionBudget").path("default", "hellok8s")
    wait_for(lambda: kube.get(path).get("status", {}).get("currentHealthy") == 2)


def serve_slack_app(
    monkeypatch: pytest.MonkeyPatch,
    *,
    emulator: SlackEmulator,
    token: str,
    secret: str,
    policy_file: Path,
    redis_url: str,
    make_dispatcher: Callable[[], Dispatcher],
) -> tuple[WSGIServer, WebClient]:
    """The real Bolt app behind waitress on a free loopback port, talking to ``emulator``."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", token)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", secret)
    monkeypatch.setenv("K8S_CHATOPS_POLICY_FILE", str(policy_file))
    monkeypatch.setenv("K8S_CHATOPS_REDIS_URL", redis_url)
    monkeypatch.setenv("K8S_CHATOPS_SLACK_API_URL", emulator.base_url)
    settings = load(SlackSettings)
    client = web_client(settings)
    dispatcher = make_dispatcher()
    app = create_app(settings, dispatcher, client)
    server = waitress.create_server(
        make_wsgi(app, dispatcher.store.redis), host="127.0.0.1", port=0
    )
    threading.Thread(target=server.run, daemon=True).start()
    return server, client


def make_worker(store: JobStore, kube: KubeClient, **options: Any) -> Worker:
    """A worker that runs the registry's handlers and plans, as ``k8s-chatops worker`` does."""
    commands = registry()
    options.setdefault("perform", commands.perform)
    options.setdefault("planner", commands.plan)
    return Worker(store, kube, **options)


def post_signed(base_url: str, secret: str, body: str) -> tuple[int, str]:
    """POST ``body`` to the app's ``/slack/events``, signed as Slack signs it: the status and
    the body of the answer (the ack)."""
    stamp = str(int(time.time()))
    request = urllib.request.Request(
        f"{base_url}/slack/events",
        data=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": SignatureVerifier(secret).generate_signature(
                timestamp=stamp, body=body
            ),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode()


class NodeAgentProcesses:
    """One real ``k8s-chatops node-agent`` subprocess per sandbox node, each talking CRI to
    its node's containerd (``sandbox.runtime``) and Redis, as the chart's DaemonSet runs them.
    Each agent's output goes to ``AGENT-NODE.log`` under ``log_dir``."""

    def __init__(self, redis_url: str, cluster: str, log_dir: Path) -> None:
        self.redis_url, self.cluster, self.log_dir = redis_url, cluster, log_dir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.redis = redis.Redis.from_url(redis_url, decode_responses=True)

    def env(self, node: runtime.RuntimeNode) -> dict[str, str]:
        return {
            **os.environ,
            "K8S_CHATOPS_REDIS_URL": self.redis_url,
            "K8S_CHATOPS_NODE_NAME": node.name,
            "K8S_CHATOPS_CLUSTER": self.cluster,
            "K8S_CHATOPS_RUNTIME_ENDPOINT": node.endpoint,
            "K8S_CHATOPS_POD_LOG_DIR": str(node.log_dir),
            "K8S_CHATOPS_IMAGE_FS_PATH": str(node.image_fs),
            "K8S_CHATOPS_LOG_LEVEL": "INFO",
        }

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"agent-{name}.log"

    def start(self, name: str) -> None:
        """Start node ``name``'s agent and wait for its first heartbeat."""
        node = runtime.node(name)
        with self.log_file(name).open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "node-agent"],
                env=self.env(node),
                stdout=log,
                stderr=log,
            )
        wait_for(lambda: self.redis.exists(agent_key(self.cluster, name)), timeout=20)

    def start_all(self) -> None:
        for node in runtime.nodes():
            self.start(node.name)

    def kill(self, name: str) -> None:
        """SIGKILL: the agent dies without a word; its heartbeat lapses on its own."""
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait(timeout=10)

    def stop(self, name: str) -> int:
        """SIGTERM: the agent finishes, retires its heartbeat at once, and exits; its code."""
        self.processes[name].terminate()
        return self.processes[name].wait(timeout=15)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=15)
        self.redis.close()

    def clear_redis_but_heartbeats(self, client: redis.Redis) -> None:
        """Empty Redis for the next test, except the agents' heartbeats: agents that live
        across tests beat only every few seconds, and a flush would hide them until then."""
        kept = {agents_key(self.cluster)} | {
            agent_key(self.cluster, name) for name in self.processes
        }
        doomed = [key for key in client.scan_iter(count=500) if key not in kept]
        for start in range(0, len(doomed), 500):
            client.delete(*doomed[start : start + 500])


def redis_contents(client: redis.Redis) -> str:
    """Every value in Redis as text (each key read by its type, so that nothing is hidden by
    DUMP's compression): what a secret must never be found in."""
    parts: list[str] = []
    for key in client.scan_iter(count=500):
        kind = client.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind == "string":
            parts.append(str(client.get(key)))
        elif kind == "list":
            parts.append(str(client.lrange(key, 0, -1)))
        elif kind == "hash":
            parts.append(str(client.hgetall(key)))
        elif kind == "set":
            parts.append(str(client.smembers(key)))
        elif kind == "zset":
            parts.append(str(client.zrange(key, 0, -1, withscores=True)))
        elif kind == "stream":
            parts.append(str(client.xrange(key)))
        else:
            parts.append(str(client.dump(key)))
        parts.append(str(key))
    return "\n".join(parts)
