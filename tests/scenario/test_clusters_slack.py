"""Clusters over Slack: ``-C`` and channel defaults in slash commands, refusals without either,
and cards and results that name the cluster (and say when no worker serves it)."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from helpers import make_worker, post_signed, serve_slack_app, wait_for
from slack_emulator import SlackEmulator

from bot.commands.dispatcher import Dispatcher
from bot.jobs import clusters
from bot.jobs.clusters import Heartbeat, WorkerBeat
from bot.jobs.model import SEQUENCE_KEY, JobState
from bot.jobs.store import JobStore
from bot.surfaces.slack_app import SlackNotifier
from handlers.kube import KubeClient, resource_for
from policies.loader import parse_policy

pytestmark = pytest.mark.integration

SECRET = "clusters-secret-0123456789"
TOKEN = "xoxb-" + "clusters-000000"
POLICY = """
clusters: [alpha, beta]
channels: {alpha-room: [C0ALPHA]}
channel_defaults: {alpha-room: {cluster: alpha}}
roles:
  viewer: {verbs: [help, get, jobs]}
  op: {verbs: [help, get, jobs, cordon, uncordon]}
bindings:
  - {role: viewer, everyone: true}
  - {role: op, users: [U_OPS]}
"""


@dataclass
class Bot:
    url: str
    slack: SlackEmulator
    store: JobStore
    notifier: SlackNotifier


@pytest.fixture
def bot(
    monkeypatch: pytest.MonkeyPatch, redis_client: redis.Redis, redis_url: str, policy_file: Path
) -> Iterator[Bot]:
    """The app of a multi-cluster install: no default cluster of its own."""
    store = JobStore(redis_client, "default")
    store.ensure_notify_group()
    with SlackEmulator(valid_tokens=[TOKEN]) as slack:
        server, client = serve_slack_app(
            monkeypatch,
            emulator=slack,
            token=TOKEN,
            secret=SECRET,
            policy_file=policy_file,
            redis_url=redis_url,
            make_dispatcher=lambda: Dispatcher(
                parse_policy(POLICY, "clusters"), store, default_cluster=None
            ),
        )
        try:
            notifier = SlackNotifier(store, client, name="test")
            yield Bot(f"http://127.0.0.1:{server.effective_port}", slack, store, notifier)
        finally:
            server.close()


def shown(blocks: object) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def slash(bot: Bot, text: str, *, user: str = "U_OPS", channel: str = "C0ELSE") -> str:
    body = urllib.parse.urlencode(
        {
            "team_id": "T0TEAM",
            "channel_id": channel,
            "user_id": user,
            "command": "/k8s",
            "text": text,
            "response_url": bot.slack.response_url("cmd"),
            "trigger_id": f"{time.monotonic_ns()}",
        }
    )
    status, text = post_signed(bot.url, SECRET, body)
    assert status == 200
    answer = json.loads(text)
    assert answer["response_type"] == "ephemeral"
    return str(answer["text"])


def test_a_card_names_its_cluster_and_says_when_no_worker_serves_it(
    bot: Bot, pristine: KubeClient, redis_client: redis.Redis
) -> None:
    answer = slash(bot, "-C beta cordon k8s-node1")
    assert answer == (
        "Job 1 queued: `cordon k8s-node1` (cluster beta) No worker for cluster beta is "
        "running; the job waits until one starts."
    )
    card = bot.slack.wait_for("chat.postMessage")
    blocks = shown(card.args["blocks"])
    assert "<@U_OPS> asks: `cordon k8s-node1` on *beta*" in blocks
    assert ":warning: No worker for cluster beta is running; the job waits until one starts." in (
        blocks
    )
    assert "Job 1 · cluster beta · policy" in blocks

    # A worker of beta starts (the sandbox stands in for beta) and runs it.
    beta = JobStore(redis_client, "beta")
    clusters.beat(redis_client, WorkerBeat(worker="w-beta", cluster="beta"), ttl=30)
    assert make_worker(beta, pristine, name="w-beta").run(burst=True) == 1
    assert beta.get("1").state is JobState.SUCCEEDED
    bot.notifier.poll(block_ms=100)
    updates = bot.slack.calls_to("chat.update")
    assert updates and "No worker" not in shown(updates[-1].args["blocks"])
    result = bot.slack.wait_for("chat.postMessage", lambda c: bool(c.args.get("thread_ts")))
    assert result.args["text"] == "node/k8s-node1 cordoned"
    caption = result.args["blocks"][1]["elements"][0]["text"]
    assert "· cluster *beta* ·" in caption
    assert pristine.get(resource_for("Node").path(name="k8s-node1"))["spec"]["unschedulable"]


def test_the_channel_default_routes_a_command_that_names_no_cluster(
    bot: Bot, redis_client: redis.Redis
) -> None:
    clusters.beat(redis_client, WorkerBeat(worker="w-alpha", cluster="alpha"), ttl=30)
    answer = slash(bot, "cordon k8s-node1", channel="C0ALPHA")
    assert answer == "Job 1 queued: `cordon k8s-node1` (cluster alpha)"
    card = bot.slack.wait_for("chat.postMessage")
    blocks = shown(card.args["blocks"])
    assert "asks: `cordon k8s-node1` on *alpha*" in blocks
    assert "No worker" not in blocks
    assert redis_client.xlen("k8s-chatops:alpha:queue") == 1


def test_no_cluster_and_no_channel_default_is_refused_with_the_known_ones(
    bot: Bot, redis_client: redis.Redis
) -> None:
    clusters.beat(redis_client, WorkerBeat(worker="w-gamma", cluster="gamma"), ttl=30)
    answer = slash(bot, "cordon k8s-node1")
    assert answer == (
        "Which cluster? There is no default cluster here, so name one, as in "
        "`/k8s -C alpha cordon k8s-node1`. Known clusters: `alpha`, `beta`, `gamma`."
    )
    typo = slash(bot, "-C gama cordon k8s-node1")
    assert "Did you mean `gamma`?" in typo
    assert redis_client.get(SEQUENCE_KEY) is None
    time.sleep(0.2)
    assert bot.slack.calls_to("chat.postMessage") == []


def test_clusters_answers_in_private(bot: Bot, redis_client: redis.Redis) -> None:
    clusters.beat(
        redis_client,
        WorkerBeat(worker="w-alpha", cluster="alpha", kubernetes_version="v1.37.2", nodes=2),
        ttl=30,
    )
    lines = slash(bot, "clusters", user="U_SOMEONE").splitlines()
    assert lines[0].split() == ["CLUSTER", "WORKERS", "VERSION", "NODES", "QUEUED", "OLDEST"]
    assert lines[1].split() == ["alpha", "1", "v1.37.2", "2", "0", "-"]
    assert lines[2].split() == ["beta", "none", "-", "-", "0", "-"]
    assert lines[3] == "No worker for cluster beta is running; jobs waiting for one: 0."


def test_cards_of_waiting_jobs_change_when_a_cluster_loses_or_regains_its_workers(
    bot: Bot, kube: KubeClient, redis_client: redis.Redis
) -> None:
    beta = JobStore(redis_client, "beta")
    first = Heartbeat(
        kube,
        redis_client,
        "beta",
        "w-beta",
        served_changed=lambda: beta.refresh_waiting_cards("beta"),
    )
    first.start()
    wait_for(lambda: clusters.live_workers(redis_client, "beta"))
    slash(bot, "-C beta cordon k8s-node1")
    card = bot.slack.wait_for("chat.postMessage")
    assert "No worker" not in shown(card.args["blocks"])

    first.stop()  # the last worker of beta: the queued job's card says it waits
    bot.notifier.poll(block_ms=100)
    waiting = bot.slack.calls_to("chat.update")[-1]
    assert ":warning: No worker for cluster beta is running" in shown(waiting.args["blocks"])

    again = Heartbeat(
        kube,
        redis_client,
        "beta",
        "w-beta2",
        served_changed=lambda: beta.refresh_waiting_cards("beta"),
    )
    again.start()
    try:

        def refreshed() -> bool:
            bot.notifier.poll(block_ms=100)
            return len(bot.slack.calls_to("chat.update")) > 1

        wait_for(refreshed)
        served = bot.slack.calls_to("chat.update")[-1]
        assert "No worker" not in shown(served.args["blocks"])
    finally:
        again.stop()
