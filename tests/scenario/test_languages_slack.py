"""Languages in Slack: a channel reads its cards in its language, a person reads their own
replies in theirs.

The walk-through of issue 16: a drain that needs approval, asked in a channel the policy file
sets to 简体中文. Everyone in the channel reads the card, the plan, the approval, the progress
line and the threaded result in Chinese — kubectl's own lines as kubectl prints them — while an
English-speaking approver who may not approve this change is told so, only to them, in
English. The audit trail stays English.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import make_worker, post_signed, serve_slack_app
from slack_emulator import RecordedCall, SlackEmulator

from bot.commands.dispatcher import Dispatcher
from bot.commands.registry import registry
from bot.jobs import facts
from bot.jobs.model import JobState
from bot.jobs.store import JobStore
from bot.surfaces.slack_app import SlackNotifier
from handlers.base import RequestBase, ResultBase
from handlers.control import Control
from handlers.kube import KubeClient
from policies.loader import parse_policy

pytestmark = pytest.mark.integration

SECRET = "languages-secret-0123456789"
TOKEN = "xoxb-" + "languages-000000"
CHINESE_CHANNEL = "C0OPSCN"
POLICY = """
channels:
  ops-cn: [C0OPSCN]
roles:
  op: {verbs: [help, get, jobs, cordon, uncordon, drain, approve, cancel]}
  admin: {verbs: ["*"]}
bindings:
  - {role: op, users: [U_ASKER, U_ENGLISH]}
  - {role: admin, users: [U_ADMIN]}
rules:
  - name: drain-needs-an-admin
    verbs: [drain]
    effect: require_approval
    approval: {count: 1, approvers: {roles: [admin]}, expires_in: 1h}
languages:
  channels: {ops-cn: zh-CN}
  users: {U_ADMIN: zh-CN}
"""
#: What a Chinese card says where an English one says "HH:MM UTC".
CLOCK = r"UTC \d\d:\d\d"


@dataclasses.dataclass
class Bot:
    url: str
    slack: SlackEmulator
    store: JobStore
    notifier: SlackNotifier


@pytest.fixture
def bot(
    monkeypatch: pytest.MonkeyPatch,
    store: JobStore,
    redis_url: str,
    policy_file: Path,
    kube: KubeClient,
) -> Iterator[Bot]:
    facts.publish(kube, store.redis, "sandbox")
    with SlackEmulator(valid_tokens=[TOKEN]) as slack:
        slack.set_locale("U_ASKER", "zh-CN")  # from Slack; U_ENGLISH keeps en-US
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


def _post(bot: Bot, fields: dict[str, str]) -> tuple[int, str]:
    body = urllib.parse.urlencode(fields)
    return post_signed(bot.url, SECRET, body)


def slash(bot: Bot, text: str, user: str, channel: str = CHINESE_CHANNEL) -> str:
    """The ephemeral answer to ``/k8s text``, which only ``user`` sees."""
    status, body = _post(
        bot,
        {
            "team_id": "T1",
            "channel_id": channel,
            "user_id": user,
            "command": "/k8s",
            "text": text,
            "trigger_id": f"t-{time.monotonic_ns()}",
            "response_url": bot.slack.response_url("r"),
        },
    )
    assert status == 200
    return str(json.loads(body)["text"])


def click(bot: Bot, card: RecordedCall, action_id: str, user: str) -> None:
    value = next(
        e["value"]
        for block in card.args["blocks"]
        if block["type"] == "actions"
        for e in block["elements"]
        if e["action_id"] == action_id
    )
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T1"},
        "channel": {"id": CHINESE_CHANNEL},
        "container": {"message_ts": card.args.get("ts", "")},
        "trigger_id": "1.2",
        "api_app_id": "A1",
        "token": "legacy",
        "actions": [
            {"action_id": action_id, "value": value, "type": "button", "block_id": "b"},
        ],
    }
    assert _post(bot, {"payload": json.dumps(payload)})[0] == 200


def _text(call: RecordedCall) -> str:
    """Everything a message says, blocks and fallback, as one string."""
    return json.dumps(call.args, ensure_ascii=False)


def _buttons(call: RecordedCall) -> list[str]:
    return [
        element["text"]["text"]
        for block in call.args["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_a_drain_in_a_chinese_channel_with_an_english_speaking_approver(
    bot: Bot, pristine: KubeClient
) -> None:
    # The requester reads Chinese (their Slack locale): the ephemeral answer is Chinese.
    asked = slash(bot, "drain k8s-node1 --ignore-daemonsets --force", "U_ASKER")
    assert asked.startswith("任务 1 等待批准：需要 1 次批准（批准人：角色 admin；申请人本人不算）")
    # Then the cluster it waits on (and, with no worker running in this test, that it waits).
    assert re.search(rf"{CLOCK} 过期。集群：sandbox。", asked), asked

    # The card is the channel's, in its language.
    card = bot.slack.wait_for("chat.postMessage")
    said = _text(card)
    assert card.args["channel"] == CHINESE_CHANNEL
    assert "<@U_ASKER> 申请：`drain k8s-node1 --ignore-daemonsets --force`" in said
    assert ":hourglass_flowing_sand: 等待批准" in said
    assert re.search(
        rf"\*需要\* 1 次批准（批准人：角色 admin；申请人本人不算），1 小时内有效；{CLOCK} 过期。",
        said,
    )
    assert ":warning: `--force` 也会删除没有控制器重建的 Pod" in said
    assert _buttons(card) == ["批准", "拒绝", "取消"]
    assert "任务 1 · 集群 sandbox · 策略：由角色 op 允许；需要 1 次批准" in said
    assert "Approve" not in said and "asks:" not in said

    # A worker plans the drain; the plan on the card is Chinese too.
    assert make_worker(bot.store, pristine, name="planner").run(burst=True) == 1
    bot.notifier.poll(block_ms=100)
    planned = _text(bot.slack.wait_for("chat.update", lambda c: "计划" in _text(c)))
    assert "*计划：* 驱逐 4 · 忽略 2" in planned
    assert "• 容量：*足够*（3 个 Pod 需要" in planned
    assert "• 数据丢失：`default/go-http`：裸 Pod：没有控制器会重建它" in planned

    # An approver who reads English, but is not one this change needs: told so, in English,
    # and only them.
    click(bot, card, "k8s_approve", "U_ENGLISH")
    refusal = bot.slack.wait_for("chat.postEphemeral")
    assert refusal.args["user"] == "U_ENGLISH"
    assert refusal.args["text"] == (
        "You are not one of the approvers this change needs: 1 approval from role admin "
        "(not the requester), within 1h."
    )
    assert bot.store.get("1").state is JobState.AWAITING_APPROVAL

    # The admin approves; the card says so in Chinese.
    click(bot, card, "k8s_approve", "U_ADMIN")
    approved = _text(bot.slack.wait_for("chat.update", lambda c: "已批准，排队中" in _text(c)))
    assert re.search(rf"\*已批准\* <@U_ADMIN>（{CLOCK}）（1/1）", approved)
    assert bot.store.get("1").state is JobState.QUEUED

    # The drain runs; the card shows its progress line (kubectl's, as kubectl prints it).
    shown = threading.Event()

    def held_at_first_line(request: RequestBase, kube: KubeClient, control: Control) -> ResultBase:
        def progress(line: str) -> None:
            control.progress(line)
            shown.wait(10)

        return registry().perform(request, kube, dataclasses.replace(control, progress=progress))

    worker = make_worker(bot.store, pristine, name="w", perform=held_at_first_line)
    running = threading.Thread(target=worker.run, kwargs={"burst": True}, daemon=True)
    running.start()
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any(
            ":gear: 运行中：node/k8s-node1" in _text(c) for c in bot.slack.calls_to("chat.update")
        ):
            bot.notifier.poll(block_ms=200)
        progress_card = bot.slack.wait_for("chat.update", lambda c: "运行中：" in _text(c))
        assert ":gear: 运行中：node/k8s-node1 cordoned" in _text(progress_card)
    finally:
        shown.set()
        running.join(timeout=60)
    assert bot.store.get("1").state is JobState.SUCCEEDED

    # The result goes into the card's thread: kubectl's lines, then the summary and the plan
    # in Chinese.
    bot.notifier.poll(block_ms=100)
    result = bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("thread_ts") is not None)
    where = json.loads(str(bot.store.redis.hget("k8s-chatops:job:1", "card")))
    assert (result.args["channel"], result.args["thread_ts"]) == (CHINESE_CHANNEL, where["ts"])
    body = _text(result)
    assert "evicting pod default/go-http" in body
    assert "node/k8s-node1 drained" in body
    assert re.search(r"已排空 k8s-node1，用时 \d+\.\d 秒：已移除 4 个 Pod，2 个保留在原处。", body)
    assert "排空 k8s-node1 的计划（其上有 6 个 Pod）：" in body
    caption = "任务 1 · `drain k8s-node1 --ignore-daemonsets --force` · 集群 *sandbox* · "
    assert caption + "申请人 <@U_ASKER>" in body
    final = _text(bot.slack.calls_to("chat.update")[-1])
    assert re.search(r":white_check_mark: 已完成：用时 \d+\.\d 秒；输出见消息列", final)

    # The audit trail is for operators: English, whoever was answered in which language.
    audit = bot.store.audit_tail(20)
    requested = next(e for e in audit if e["event"] == "requested")
    assert requested["decision"] == (
        "allowed by role op; needs 1 approval from role admin (not the requester), within 1h"
    )
    refused = next(e for e in audit if e["event"] == "approval refused")
    assert refused["reason"].startswith("You are not one of the approvers")


def test_the_same_drain_reads_in_english_where_nothing_says_otherwise(bot: Bot) -> None:
    asked = slash(bot, "drain k8s-node1 --ignore-daemonsets", "U_ENGLISH", channel="C0OPS")
    assert asked.startswith("Job 1 waits for approval: 1 approval from role admin")
    said = _text(bot.slack.wait_for("chat.postMessage"))
    assert "<@U_ENGLISH> asks: `drain k8s-node1 --ignore-daemonsets`" in said
    assert re.search(r"\*Needs\* 1 approval from role admin .*; expires \d\d:\d\d UTC\.", said)
    # A Chinese reader in an English channel: their own answer in Chinese, the card English.
    answer = slash(bot, "jobs", "U_ASKER", channel="C0OPS")
    assert "JOB" in answer  # the table is kubectl-like in every language
    assert slash(bot, "cordn k8s-node1", "U_ASKER", channel="C0OPS") == (
        "`cordn` 不是我认识的命令。你是想输入 `cordon` 吗？"
    )


def test_the_policy_decides_over_the_slack_locale_and_slack_is_asked_once(bot: Bot) -> None:
    # U_ADMIN's Slack locale is English; the policy file says zh-CN.
    assert slash(bot, "cordn x", "U_ADMIN", channel="C0OPS").startswith("`cordn` 不是")
    assert not any(
        c.args.get("user") == "U_ADMIN" for c in bot.slack.calls_to("users.info")
    )  # the policy's word is enough
    for _ in range(3):
        slash(bot, "cordn x", "U_ENGLISH", channel="C0OPS")
    asked: list[dict[str, Any]] = [
        c.args for c in bot.slack.calls_to("users.info") if c.args.get("user") == "U_ENGLISH"
    ]
    assert len(asked) == 1 and str(asked[0]["include_locale"]).lower() in ("1", "true")
