"""Approval cards and their buttons: team-visible card, refusals in private, results in thread."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import make_worker, post_signed, serve_slack_app
from slack_emulator import RecordedCall, SlackEmulator

from bot.commands.dispatcher import Dispatcher
from bot.jobs import facts
from bot.jobs.model import Job, JobState, Origin
from bot.jobs.store import JobStore
from bot.jobs.worker import Worker
from bot.settings import SlackSettings, load
from bot.surfaces.slack_app import SlackNotifier, post_card, web_client
from handlers.base import RequestBase, ResultBase
from handlers.control import Control
from handlers.kube import KubeClient
from handlers.models import CordonNode, NodeChange
from policies.loader import parse_policy

pytestmark = pytest.mark.integration

SECRET = "block-actions-secret-0123"
TOKEN = "xoxb-" + "blocks-000000"
POLICY = """
roles:
  op: {verbs: [help, get, jobs, cordon, uncordon, drain, approve, cancel]}
  reviewer: {verbs: [help, jobs, approve]}
bindings:
  - {role: op, users: [U_A, U_B]}
  - {role: reviewer, users: [U_NOBODY]}   # may answer approvals, but no rule names it
rules:
  - name: drain-needs-one
    verbs: [drain]
    effect: require_approval
    approval: {count: 1, approvers: {roles: [op]}, expires_in: 1h}
"""


@dataclass
class Bot:
    url: str
    slack: SlackEmulator
    store: JobStore
    notifier: SlackNotifier


def serve(
    monkeypatch: pytest.MonkeyPatch, store: JobStore, redis_url: str, policy_file: Path
) -> Iterator[Bot]:
    with SlackEmulator(valid_tokens=[TOKEN]) as slack:
        server, client = serve_slack_app(
            monkeypatch,
            emulator=slack,
            token=TOKEN,
            secret=SECRET,
            policy_file=policy_file,
            redis_url=redis_url,
            make_dispatcher=lambda: Dispatcher(parse_policy(POLICY, "test"), store),
        )
        try:
            yield Bot(
                f"http://127.0.0.1:{server.effective_port}",
                slack,
                store,
                SlackNotifier(store, client, name="test"),
            )
        finally:
            server.close()


@pytest.fixture
def clusterless_bot(
    monkeypatch: pytest.MonkeyPatch, store: JobStore, redis_url: str, policy_file: Path
) -> Iterator[Bot]:
    """The app without node facts: enough for what never reaches a worker."""
    yield from serve(monkeypatch, store, redis_url, policy_file)


@pytest.fixture
def one_team_bot(
    monkeypatch: pytest.MonkeyPatch, store: JobStore, redis_url: str, policy_file: Path
) -> Iterator[Bot]:
    monkeypatch.setenv("SLACK_TEAM_ID", "T1")
    yield from serve(monkeypatch, store, redis_url, policy_file)


@pytest.fixture
def bot(clusterless_bot: Bot, kube: KubeClient) -> Bot:
    facts.publish(kube, clusterless_bot.store.redis, "sandbox")
    return clusterless_bot


def carded_cordon(bot: Bot) -> Job:
    """A Slack cordon job whose card is already posted, for tests that run it themselves."""
    job, _ = bot.store.submit(
        CordonNode(node="n1"),
        requester="U_A",
        origin=Origin(surface="slack", channel="C0OPS"),
        decision="test",
    )
    post_card(bot.notifier.client, bot.store, job)
    return job


def send(bot: Bot, body: str) -> int:
    return post(bot, body)[0]


def post(bot: Bot, body: str) -> tuple[int, str]:
    """A signed request to the app: its status and the body of the answer (the ack)."""
    return post_signed(bot.url, SECRET, body)


def slash(bot: Bot, text: str, user: str, channel: str = "C0OPS") -> int:
    return slash_reply(bot, text, user, channel)[0]


def slash_reply(bot: Bot, text: str, user: str, channel: str = "C0OPS") -> tuple[int, str]:
    return post(
        bot,
        urllib.parse.urlencode(
            {
                "team_id": "T1",
                "channel_id": channel,
                "user_id": user,
                "command": "/k8s",
                "text": text,
                "trigger_id": f"t-{time.monotonic_ns()}",
                "response_url": bot.slack.response_url("r"),
            }
        ),
    )


def click(
    bot: Bot,
    card: RecordedCall,
    action_id: str,
    user: str,
    *,
    value: str | None = None,
    team: str = "T1",
) -> int:
    """Click a button of ``card``, or forge one: ``value`` replaces the button's own."""
    button = next(
        e
        for block in card.args["blocks"]
        if block["type"] == "actions"
        for e in block["elements"]
        if e["action_id"] == action_id
    )
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": team},
        "channel": {"id": "C0OPS"},
        "container": {"message_ts": card.args.get("ts", "")},
        "trigger_id": "1.2",
        "api_app_id": "A1",
        "token": "legacy",
        "actions": [
            {
                "action_id": action_id,
                "value": button["value"] if value is None else value,
                "type": "button",
                "block_id": "b",
                "action_ts": "1",
            }
        ],
    }
    return send(bot, urllib.parse.urlencode({"payload": json.dumps(payload)}))


def test_card_buttons_approve_and_the_result_goes_in_its_thread(
    bot: Bot, pristine: KubeClient
) -> None:
    assert slash(bot, "drain k8s-node1 --ignore-daemonsets --force", "U_A") == 200
    card = bot.slack.wait_for("chat.postMessage")
    assert card.args["channel"] == "C0OPS"
    blocks = json.dumps(card.args["blocks"])
    assert "<@U_A> asks: `drain k8s-node1 --ignore-daemonsets --force`" in blocks
    assert "Needs* 1 approval from role op" in blocks
    assert "--force` also deletes pods that no controller will re-create" in blocks
    actions = [
        e["action_id"] for b in card.args["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert actions == ["k8s_approve", "k8s_deny", "k8s_cancel"]
    job_id = next(
        e["value"] for b in card.args["blocks"] if b["type"] == "actions" for e in b["elements"]
    )

    # A worker plans the drain for the approvers; the card shows the plan.
    assert make_worker(bot.store, pristine, name="planner").run(burst=True) == 1
    assert bot.store.get(job_id).state is JobState.AWAITING_APPROVAL
    bot.notifier.poll(block_ms=100)
    planned = json.dumps(bot.slack.wait_for("chat.update").args["blocks"])
    assert "*Plan:* evict 4" in planned and "ignored 2" in planned
    assert "capacity: *fits*" in planned
    assert "data lost: `default/go-http`: bare pod" in planned

    assert click(bot, card, "k8s_approve", "U_A") == 200  # the requester
    refusal = bot.slack.wait_for("chat.postEphemeral")
    assert refusal.args["user"] == "U_A"
    assert "someone else has to approve it" in refusal.args["text"]
    assert bot.store.get(job_id).state is JobState.AWAITING_APPROVAL

    assert click(bot, card, "k8s_approve", "U_B") == 200
    updated = bot.slack.wait_for("chat.update", lambda c: "approved and queued" in str(c.args))
    stored = json.loads(str(bot.store.redis.hget(f"k8s-chatops:job:{job_id}", "card")))
    assert (updated.args["channel"], updated.args["ts"]) == ("C0OPS", stored["ts"])
    assert "approved and queued" in json.dumps(updated.args["blocks"])
    assert re.search(
        r"Approved by\* <@U_B> at \d\d:\d\d UTC \(1/1\)", json.dumps(updated.args["blocks"])
    )
    queued = bot.store.get(job_id)
    assert queued.state is JobState.QUEUED
    assert queued.request.expected_plan is not None  # type: ignore[union-attr]

    make_worker(bot.store, pristine, name="w").run(burst=True)
    done = bot.store.get(job_id)
    assert done.result is not None and done.result.changes_since_plan == []  # type: ignore[union-attr]
    bot.notifier.poll(block_ms=100)
    result = bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("thread_ts") is not None)
    first_post = bot.slack.calls_to("chat.postMessage")[0]
    card_ts = bot.store.redis.hget(f"k8s-chatops:job:{job_id}", "card")
    assert card_ts is not None and json.loads(card_ts)["ts"] == result.args["thread_ts"]
    assert "node/k8s-node1 drained" in json.dumps(result.args["blocks"])
    final = bot.slack.calls_to("chat.update")[-1]
    assert ":white_check_mark: done" in json.dumps(final.args["blocks"])
    assert not any(b["type"] == "actions" for b in final.args["blocks"])  # no more buttons
    assert first_post.args["channel"] == "C0OPS"


def test_deny_button_ends_the_request_and_removes_the_buttons(clusterless_bot: Bot) -> None:
    bot = clusterless_bot
    slash(bot, "drain k8s-node1 --ignore-daemonsets", "U_A")
    card = bot.slack.wait_for("chat.postMessage")
    assert click(bot, card, "k8s_deny", "U_NOBODY") == 200
    refused = bot.slack.wait_for("chat.postEphemeral")
    assert "not one of the approvers" in refused.args["text"]
    assert click(bot, card, "k8s_deny", "U_B") == 200
    bot.notifier.poll(block_ms=100)
    final = bot.slack.wait_for("chat.update", lambda c: "denied" in json.dumps(c.args))
    assert not any(b["type"] == "actions" for b in final.args["blocks"])
    assert [c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")] == []


def test_card_shows_progress_while_the_job_runs(clusterless_bot: Bot) -> None:
    bot = clusterless_bot
    carded_cordon(bot)
    release = threading.Event()

    def slow(request: RequestBase, kube: KubeClient, control: Control) -> ResultBase:
        control.progress("evicting pod default/web-1")
        release.wait(10)
        return NodeChange(node="n1", changed=True, message="node/n1 cordoned")

    worker = Worker(bot.store, None, name="w", perform=slow)  # type: ignore[arg-type]
    thread = threading.Thread(target=worker.run, kwargs={"burst": True}, daemon=True)
    thread.start()
    try:
        # The card says "running" as soon as the job starts, then the progress line.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(
            "evicting pod" in json.dumps(c.args) for c in bot.slack.calls_to("chat.update")
        ):
            bot.notifier.poll(block_ms=200)
        running = bot.slack.wait_for("chat.update", lambda c: "evicting pod" in json.dumps(c.args))
        assert ":gear: running: evicting pod default/web-1" in json.dumps(running.args["blocks"])
    finally:
        release.set()
        thread.join(timeout=10)
    bot.notifier.poll(block_ms=200)
    final = bot.slack.calls_to("chat.update")[-1]
    assert ":white_check_mark: done" in json.dumps(final.args["blocks"])


def test_cancel_button_and_expiry_update_the_card(clusterless_bot: Bot) -> None:
    bot = clusterless_bot
    slash(bot, "drain k8s-node1 --ignore-daemonsets", "U_A")
    card = bot.slack.wait_for("chat.postMessage")
    assert click(bot, card, "k8s_cancel", "U_A") == 200
    cancelled = bot.slack.wait_for("chat.update", lambda c: "cancelled" in json.dumps(c.args))
    assert not any(b["type"] == "actions" for b in cancelled.args["blocks"])

    bot.slack.reset()
    slash(bot, "drain k8s-node1 --ignore-daemonsets", "U_A")
    second = bot.slack.wait_for("chat.postMessage")
    job_id = next(
        e["value"] for b in second.args["blocks"] if b["type"] == "actions" for e in b["elements"]
    )
    later = bot.store.get(job_id).approval.expires_at  # type: ignore[union-attr]
    assert bot.store.expire_overdue(now=later)[0].state is JobState.EXPIRED
    bot.notifier.poll(block_ms=100)
    expired = bot.slack.wait_for("chat.update", lambda c: "expired" in json.dumps(c.args))
    assert not any(b["type"] == "actions" for b in expired.args["blocks"])
    assert click(bot, second, "k8s_approve", "U_B") == 200
    too_late = bot.slack.wait_for("chat.postEphemeral")
    assert "is not waiting for approval (it is expired)" in too_late.args["text"]


def test_long_output_goes_into_the_thread_as_a_file(clusterless_bot: Bot) -> None:
    bot = clusterless_bot
    job = carded_cordon(bot)
    long_text = "\n".join(f"line {i:04d} " + "x" * 60 for i in range(200))

    def verbose(request: RequestBase, kube: KubeClient, control: Control) -> ResultBase:
        return NodeChange(node="n1", changed=True, message=long_text)

    Worker(bot.store, None, name="w", perform=verbose).run(burst=True)  # type: ignore[arg-type]
    bot.notifier.poll(block_ms=100)
    done = bot.slack.wait_for("files.completeUploadExternal")
    stored = json.loads(str(bot.store.redis.hget(f"k8s-chatops:job:{job.id}", "card")))
    assert done.args["thread_ts"] == stored["ts"] and done.args["channel_id"] == "C0OPS"
    upload = bot.slack.wait_for("upload")
    assert upload.args["text"] == long_text
    assert [c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")] == []


def test_slack_429_during_progress_still_delivers_the_result_once(clusterless_bot: Bot) -> None:
    bot = clusterless_bot
    carded_cordon(bot)
    notifier = SlackNotifier(
        bot.store, web_client(load(SlackSettings), wait_on_rate_limit=False), name="no-wait"
    )
    bot.slack.fail_next("chat.update", 429, times=5, retry_after=1)

    def chatty(request: RequestBase, kube: KubeClient, control: Control) -> ResultBase:
        control.progress("step 1")
        return NodeChange(node="n1", changed=True, message="node/n1 cordoned")

    Worker(bot.store, None, name="w", perform=chatty).run(burst=True)  # type: ignore[arg-type]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not [
        c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")
    ]:
        notifier.poll(block_ms=100)
    results = [c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert len(results) == 1
    assert "node/n1 cordoned" in json.dumps(results[0].args)
    notifier.poll(block_ms=100)
    assert len([c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("thread_ts")]) == 1


# --- Every door updates the one card (issue 12, finding 11) --------------------------------------


def _card_job_id(card: RecordedCall) -> str:
    return next(
        e["value"] for b in card.args["blocks"] if b["type"] == "actions" for e in b["elements"]
    )


def _has_approval_buttons(call: RecordedCall) -> bool:
    """Approve / Deny are gone once the job has its approvals (Cancel may stay while queued)."""
    return any(
        e["action_id"] in ("k8s_approve", "k8s_deny")
        for b in call.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
    )


def test_a_typed_approval_updates_the_card_instead_of_posting_another(bot: Bot) -> None:
    slash(bot, "drain k8s-node1 --ignore-daemonsets", "U_A")
    card = bot.slack.wait_for("chat.postMessage")
    job_id = _card_job_id(card)
    assert slash(bot, f"approve {job_id}", "U_B") == 200
    bot.notifier.poll(block_ms=200)
    updated = bot.slack.wait_for("chat.update", lambda c: "approved and queued" in str(c.args))
    stored = json.loads(str(bot.store.redis.hget(f"k8s-chatops:job:{job_id}", "card")))
    assert (updated.args["channel"], updated.args["ts"]) == ("C0OPS", stored["ts"])
    assert not _has_approval_buttons(updated)
    assert len(bot.slack.calls_to("chat.postMessage")) == 1  # still the one card


def test_the_shell_and_a_typed_cancel_update_the_card_too(bot: Bot) -> None:
    slash(bot, "drain k8s-node1 --ignore-daemonsets", "U_A")
    card = bot.slack.wait_for("chat.postMessage")
    job_id = _card_job_id(card)
    # The shell is another door to the same job.
    shell = Dispatcher(parse_policy(POLICY, "test"), bot.store)
    assert shell.submit(f"approve {job_id}", user="U_B", origin=Origin(surface="shell")).ok
    bot.notifier.poll(block_ms=200)
    approved = bot.slack.wait_for("chat.update", lambda c: "approved and queued" in str(c.args))
    assert not _has_approval_buttons(approved)

    slash(bot, "drain k8s-node2 --ignore-daemonsets", "U_A")
    second = bot.slack.wait_for("chat.postMessage", lambda c: "k8s-node2" in str(c.args))
    assert slash(bot, f"cancel {_card_job_id(second)}", "U_A") == 200
    bot.notifier.poll(block_ms=200)
    cancelled = bot.slack.wait_for(
        "chat.update", lambda c: "k8s-node2" in str(c.args) and "cancelled" in str(c.args)
    )
    assert not any(b["type"] == "actions" for b in cancelled.args["blocks"])
    assert len(bot.slack.calls_to("chat.postMessage")) == 2


# --- Jobs stay in their channel (issue 12, finding 10) -------------------------------------------


def test_jobs_are_answered_and_listed_only_in_their_own_channel(bot: Bot) -> None:
    slash(bot, "drain k8s-node1 --ignore-daemonsets", "U_A")
    card = bot.slack.wait_for("chat.postMessage")
    job_id = _card_job_id(card)
    bot.slack.reset()

    for text, user in ((f"approve {job_id}", "U_B"), (f"cancel {job_id}", "U_A")):
        status, body = slash_reply(bot, text, user, channel="C0ELSEWHERE")
        assert status == 200
        assert f"There is no job {job_id} in this channel" in body
        assert bot.store.get(job_id).state is JobState.AWAITING_APPROVAL
    elsewhere = slash_reply(bot, "jobs", "U_B", channel="C0ELSEWHERE")[1]
    here = slash_reply(bot, "jobs", "U_B", channel="C0OPS")[1]
    assert "drain k8s-node1" not in elsewhere
    assert "drain k8s-node1" in here


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        ("k8s_approve", "1 --force"),
        ("k8s_approve", "1; drain x"),
        ("k8s_deny", "1 <!channel>"),
        ("k8s_cancel", "1; drain x"),
        ("k8s_approve", ""),
        ("k8s_approve", "\u0661"),
    ],
)
def test_a_forged_button_value_is_refused_and_changes_nothing(
    clusterless_bot: Bot, action_id: str, value: str
) -> None:
    bot = clusterless_bot
    slash(bot, "drain k8s-node1 --ignore-daemonsets", "U_A")
    card = bot.slack.wait_for("chat.postMessage")
    history = bot.store.get("1").history
    assert click(bot, card, action_id, "U_B", value=value) == 200
    refusal = bot.slack.wait_for("chat.postEphemeral")
    assert refusal.args["user"] == "U_B"
    assert refusal.args["text"] == "That button does not name a job, so nothing was done."
    job = bot.store.get("1")
    assert job.state is JobState.AWAITING_APPROVAL and job.history == history
    assert bot.slack.calls_to("chat.update") == []


def test_a_click_from_another_workspace_is_refused(
    one_team_bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    bot = one_team_bot
    slash(bot, "drain k8s-node1 --ignore-daemonsets", "U_A")
    card = bot.slack.wait_for("chat.postMessage")
    calls = len(bot.slack.calls)
    with caplog.at_level(logging.WARNING):
        assert click(bot, card, "k8s_approve", "U_B", team="T0ELSEWHERE") == 200
    time.sleep(0.3)
    assert bot.store.get("1").state is JobState.AWAITING_APPROVAL
    assert len(bot.slack.calls) == calls  # nothing said to, or done in, either workspace
    assert any("T0ELSEWHERE" in record.getMessage() for record in caplog.records)
    assert click(bot, card, "k8s_approve", "U_B") == 200
    bot.slack.wait_for("chat.update", lambda c: "approved and queued" in str(c.args))
