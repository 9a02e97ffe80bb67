"""Slash commands over real HTTP, signed as Slack signs them, answered by the Bolt app, run by a
worker against the sandbox, and posted to the local Slack Web API emulator."""

from __future__ import annotations

import itertools
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from helpers import make_worker
from slack_bot import BOT_TOKEN, SIGNING_SECRET, Bot, serve_bot
from slack_sdk.signature import SignatureVerifier

from bot.jobs import model as jobs
from bot.jobs.store import JobStore
from bot.jobs.worker import Worker
from bot.settings import SlackSettings, load
from bot.surfaces.slack_app import SlackNotifier, web_client
from handlers.base import RequestBase, ResultBase
from handlers.control import Control
from handlers.kube import KubeClient, resource_for
from handlers.logs_models import LogsResult
from handlers.models import NodeTable
from policies.loader import parse_policy
from policies.model import PolicyDocument

pytestmark = pytest.mark.integration


def slash_command(
    bot: Bot,
    text: str,
    *,
    user: str = "U_OPS",
    channel: str = "C0OPS",
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    trigger: str = "1.2.3",
    team: str = "T0TEAM",
) -> tuple[int, str]:
    body = urllib.parse.urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": team,
            "team_domain": "example",
            "channel_id": channel,
            "channel_name": "ops",
            "user_id": user,
            "user_name": "someone",
            "command": "/k8s",
            "text": text,
            "api_app_id": "A0APP",
            "response_url": bot.emulator.response_url("cmd"),
            "trigger_id": trigger,
        }
    )
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    request = urllib.request.Request(
        f"{bot.url}/slack/events",
        data=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_slash_command_runs_on_a_worker_and_posts_to_the_channel(
    bot: Bot, pristine: KubeClient
) -> None:
    started = time.monotonic()
    status, body = slash_command(bot, "cordon k8s-node1")
    assert time.monotonic() - started < 3
    assert status == 200
    assert '"response_type": "ephemeral"' in body or '"response_type":"ephemeral"' in body
    assert "Job 1 queued: `cordon k8s-node1`" in body

    card = bot.emulator.wait_for("chat.postMessage")  # the change's team-visible card
    assert "<@U_OPS> asks: `cordon k8s-node1`" in str(card.args["blocks"])
    assert make_worker(bot.store, pristine, name="w").run(burst=True) == 1
    # Two notifications: the card's "running" and the result.
    assert bot.notifier.poll(block_ms=100) == 2
    posted = bot.emulator.wait_for("chat.postMessage", lambda c: bool(c.args.get("thread_ts")))
    assert posted.args["channel"] == "C0OPS"
    assert posted.args["text"] == "node/k8s-node1 cordoned"
    assert posted.token == BOT_TOKEN
    context = posted.args["blocks"][1]["elements"][0]["text"]
    assert "requested by <@U_OPS>" in context
    assert pristine.get(resource_for("Node").path(name="k8s-node1"))["spec"]["unschedulable"]

    # Delivered once: a second poll (or another replica) posts nothing more.
    bot.notifier.poll(block_ms=100)
    assert len(bot.emulator.calls_to("chat.postMessage")) == 2  # the card and the result


def test_table_results_are_posted_as_a_code_block(bot: Bot, kube: KubeClient) -> None:
    status, _ = slash_command(bot, "get nodes", user="U_SOMEONE", channel="C0READ")
    assert status == 200
    make_worker(bot.store, kube, name="w").run(burst=True)
    bot.notifier.poll(block_ms=100)
    posted = bot.emulator.wait_for("chat.postMessage")
    section = posted.args["blocks"][0]["text"]["text"]
    assert section.startswith("```NAME ")
    assert "k8s-master" in section and "k8s-node1" in section


def test_bad_signature_gets_401_and_creates_no_job(bot: Bot, redis_client: redis.Redis) -> None:
    status, _ = slash_command(bot, "cordon k8s-node1", secret="not-the-secret")
    assert status == 401
    stale, _ = slash_command(bot, "cordon k8s-node1", timestamp=int(time.time()) - 3600)
    assert stale == 401
    assert redis_client.get("k8s-chatops:job-seq") is None
    assert redis_client.xlen(jobs.queue_key("sandbox")) == 0


def test_denied_command_is_ephemeral_and_queues_nothing(
    bot: Bot, redis_client: redis.Redis
) -> None:
    status, body = slash_command(bot, "cordon k8s-node1", user="U_VIEW")
    assert status == 200
    assert "ephemeral" in body
    assert "You (U_VIEW) may not `cordon`" in body
    assert redis_client.xlen(jobs.queue_key("sandbox")) == 0
    assert bot.emulator.calls_to("chat.postMessage") == []


def test_rate_limited_post_is_retried_after_retry_after(bot: Bot, kube: KubeClient) -> None:
    bot.emulator.fail_next("chat.postMessage", 429, retry_after=1)
    slash_command(bot, "get nodes")
    make_worker(bot.store, kube, name="w").run(burst=True)
    bot.notifier.poll(block_ms=100)
    delivered = [c for c in bot.emulator.calls_to("chat.postMessage") if c.status == 200]
    refused = [c for c in bot.emulator.calls_to("chat.postMessage") if c.status == 429]
    assert len(delivered) == 1 and len(refused) == 1
    assert delivered[0].at - refused[0].at >= 1.0


def test_health_and_readiness(bot: Bot) -> None:
    for path, expected in (("/healthz", "ok"), ("/readyz", "ready")):
        with urllib.request.urlopen(bot.url + path, timeout=5) as response:
            assert response.status == 200
            assert response.read().decode().strip() == expected


def test_drain_from_slack_posts_kubectls_lines_and_the_plan(bot: Bot, pristine: KubeClient) -> None:
    status, body = slash_command(bot, "drain k8s-node1 --ignore-daemonsets --force")
    assert status == 200 and "You (U_OPS) may not `drain`" in body
    status, body = slash_command(bot, "drain k8s-node1 --ignore-daemonsets --force", user="U_ADMIN")
    assert status == 200 and "queued: `drain k8s-node1 --ignore-daemonsets --force`" in body
    make_worker(bot.store, pristine, name="w").run(burst=True)
    bot.notifier.poll(block_ms=100)
    posted = bot.emulator.wait_for("chat.postMessage", lambda c: bool(c.args.get("thread_ts")))
    section = posted.args["blocks"][0]["text"]["text"]
    assert section.startswith("```node/k8s-node1 cordoned")
    assert "node/k8s-node1 drained" in section
    assert "Plan for draining k8s-node1" in section


def test_retried_delivery_creates_one_job(bot: Bot, redis_client: redis.Redis) -> None:
    body = urllib.parse.urlencode(
        {
            "team_id": "T0TEAM",
            "channel_id": "C0OPS",
            "user_id": "U_OPS",
            "command": "/k8s",
            "text": "cordon k8s-node1",
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
            "response_url": bot.emulator.response_url("cmd"),
        }
    )
    answers = []
    for retry in (None, "1"):
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": SignatureVerifier(SIGNING_SECRET).generate_signature(
                timestamp=stamp, body=body
            ),
        }
        if retry:
            headers |= {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}
        request = urllib.request.Request(
            f"{bot.url}/slack/events", data=body.encode(), headers=headers
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            answers.append(response.read().decode())
    assert all("Job 1 queued: `cordon k8s-node1`" in answer for answer in answers)
    assert redis_client.xlen(jobs.queue_key("sandbox")) == 1
    assert redis_client.get("k8s-chatops:job-seq") in ("1", "2")  # an id may be spent, no job
    bot.emulator.wait_for("chat.postMessage")
    time.sleep(0.3)
    assert len(bot.emulator.calls_to("chat.postMessage")) == 1  # one card, not two


def test_rate_limited_channel_does_not_hold_up_other_channels(
    bot: Bot, kube: KubeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    notifier = SlackNotifier(
        bot.store, web_client(load(SlackSettings), wait_on_rate_limit=False), name="pacing"
    )
    slash_command(bot, "get nodes", channel="C0BUSY", trigger="t-busy")
    slash_command(bot, "get nodes", channel="C0CALM", trigger="t-calm")
    make_worker(bot.store, kube, name="w").run(burst=True)
    bot.emulator.fail_next("chat.postMessage", 429, retry_after=1)
    started = time.monotonic()
    deadline = started + 10
    while time.monotonic() < deadline:
        notifier.poll(block_ms=100)
        delivered = [c for c in bot.emulator.calls_to("chat.postMessage") if c.status == 200]
        if len(delivered) == 2:
            break
    posts = bot.emulator.calls_to("chat.postMessage")
    refused = [c for c in posts if c.status == 429]
    delivered = [c for c in posts if c.status == 200]
    assert len(refused) == 1 and len(delivered) == 2
    limited = refused[0].args["channel"]
    other = next(c for c in delivered if c.args["channel"] != limited)
    retried = next(c for c in delivered if c.args["channel"] == limited)
    assert other.at < retried.at  # the other channel did not wait
    assert other.at - refused[0].at < 0.5
    assert retried.at - refused[0].at >= 1.0  # Retry-After honoured for the limited channel


def test_results_in_one_channel_are_paced_about_one_per_second(bot: Bot) -> None:
    notifier = SlackNotifier(
        bot.store, web_client(load(SlackSettings), wait_on_rate_limit=False), name="pacing"
    )
    for index in range(3):
        slash_command(bot, "get nodes", channel="C0BUSY", trigger=f"t-{index}")

    def instant(request: RequestBase, kube: KubeClient, control: Control) -> ResultBase:
        return NodeTable(rows=[])

    Worker(bot.store, None, name="w", perform=instant).run(burst=True)  # type: ignore[arg-type]
    deadline = time.monotonic() + 10
    while len(bot.emulator.calls_to("chat.postMessage")) < 3 and time.monotonic() < deadline:
        notifier.poll(block_ms=100)
    times = [c.at for c in bot.emulator.calls_to("chat.postMessage")]
    assert len(times) == 3
    assert all(later - earlier >= 0.95 for earlier, later in itertools.pairwise(times))


APPROVALS_POLICY = """
roles:
  op: {verbs: [help, get, jobs, audit, logs, cordon, drain, approve, cancel]}
bindings: [{role: op, users: [U_A, U_B]}]
rules:
  - name: drain-needs-one
    verbs: [drain]
    effect: require_approval
    approval: {count: 1, approvers: {roles: [op]}, expires_in: 1h}
"""
HOSTILE = ("<!channel>", "<!here>", "<@U0EVIL>")


@pytest.fixture
def approvals_bot(
    monkeypatch: pytest.MonkeyPatch, policy_file: Path, redis_url: str, store: JobStore
) -> Iterator[Bot]:
    yield from serve_bot(
        monkeypatch, policy_file, redis_url, store, parse_policy(APPROVALS_POLICY, "test")
    )


def no_pods(request: RequestBase, kube: KubeClient, control: Control) -> ResultBase:
    """What the logs handler answers when nothing matches: the summary repeats the query."""
    return LogsResult(source=request.command_text(), lines=[])


def ephemeral_text(body: str) -> str:
    return str(json.loads(body)["text"])


def test_user_text_never_mentions_anyone_in_the_bots_voice(approvals_bot: Bot) -> None:
    bot = approvals_bot
    answers = []

    def say(text: str, user: str = "U_A") -> str:
        status, body = slash_command(bot, text, user=user, trigger=f"t-{time.monotonic_ns()}")
        assert status == 200
        answers.append(ephemeral_text(body))
        return answers[-1]

    # A log query whose backtick would close the code span around it in the channel summary.
    say("logs 'zz`<!channel> prod is down`'")
    Worker(bot.store, None, name="w", perform=no_pods).run(burst=True)  # type: ignore[arg-type]
    bot.notifier.poll(block_ms=100)
    summary = bot.emulator.wait_for("chat.postMessage")
    # A hostile pod selector is refused as a bad label value, and the refusal quotes it safely;
    # then approval and denial reasons on two cards.
    say("drain k8s-node1 --pod-selector='app in (x`<!here>,<@U0EVIL>)'")
    say("drain k8s-node1 --ignore-daemonsets")
    say("drain k8s-node2 --ignore-daemonsets")
    bot.emulator.wait_for("chat.postMessage", lambda c: "k8s-node2" in json.dumps(c.args))
    say("approve 2 <!here> <@U0EVIL> `ok` & go", user="U_B")
    say("deny 3 <!channel> nope", user="U_B")
    bot.notifier.poll(block_ms=200)  # a typed approval updates the card it belongs to
    approved = bot.emulator.wait_for("chat.update", lambda c: "Approved by" in str(c.args))
    # Refusals and the audit trail quote user text back.
    say("cordon '<!channel>'")
    say("frobnicate <@U0EVIL>")
    say("audit")

    recorded = [json.dumps(call.args, ensure_ascii=False) for call in bot.emulator.calls]
    everything = "\n".join(recorded + answers)
    assert [h for h in HOSTILE if h in everything] == []
    assert "&amp;lt;" not in everything  # escaped once, not twice
    assert "`logs 'zz\u02cb&lt;!channel&gt; prod is down\u02cb'`" in summary.args["text"]
    assert "(x\u02cb&lt;!here&gt;,&lt;@U0EVIL&gt;)" in answers[1]
    assert "(&lt;!here&gt; &lt;@U0EVIL&gt; `ok` &amp; go)" in json.dumps(
        approved.args["blocks"], ensure_ascii=False
    )
    assert "denied by U_B (&lt;!channel&gt; nope)" in answers[5]
    assert "`&lt;!channel&gt;` is not a valid node name" in answers[6]
    assert "`logs 'zz\u02cb&lt;!channel&gt; prod is down\u02cb'`" in answers[8]  # the audit


def post_signed(bot: Bot, body: str, timestamp: str) -> int:
    """A request whose timestamp header is ``timestamp``, signed over that very value."""
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp, body=body)
    request = urllib.request.Request(
        f"{bot.url}/slack/events",
        data=body.encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


@pytest.mark.parametrize("stamp", ["soon", "", "1e9", "12.5", "9" * 5000])
def test_a_timestamp_that_is_not_a_number_gets_401(
    bot: Bot, redis_client: redis.Redis, stamp: str
) -> None:
    body = urllib.parse.urlencode(
        {"team_id": "T0TEAM", "user_id": "U_OPS", "command": "/k8s", "text": "cordon k8s-node1"}
    )
    assert post_signed(bot, body, stamp) == 401
    assert redis_client.get("k8s-chatops:job-seq") is None


@pytest.fixture
def one_team_bot(
    monkeypatch: pytest.MonkeyPatch,
    policy_file: Path,
    redis_url: str,
    store: JobStore,
    policy: PolicyDocument,
) -> Iterator[Bot]:
    monkeypatch.setenv("SLACK_TEAM_ID", "T0TEAM")
    yield from serve_bot(monkeypatch, policy_file, redis_url, store, policy)


def test_a_command_from_another_workspace_is_refused(
    one_team_bot: Bot, redis_client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    bot = one_team_bot
    with caplog.at_level(logging.WARNING):
        status, answer = slash_command(bot, "cordon k8s-node1", team="T0ELSEWHERE")
    assert status == 200
    assert json.loads(answer) == {
        "response_type": "ephemeral",
        "text": "This app is not installed in that workspace.",
    }
    assert redis_client.get("k8s-chatops:job-seq") is None
    assert [c.method for c in bot.emulator.calls if c.method != "auth.test"] == []
    assert any("T0ELSEWHERE" in record.getMessage() for record in caplog.records)

    status, answer = slash_command(bot, "cordon k8s-node1", trigger="t-home")
    assert status == 200 and "Job 1 queued" in answer
