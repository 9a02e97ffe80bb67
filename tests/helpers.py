"""Small helpers shared by the integration tests."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
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
from handlers.kube import KubeClient, resource_for

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
