"""Image and runtime commands from Slack: a fleet-wide prune's card with its plan, two
approvals, the result in the card's thread (summary, then every image in a file); ``rmi``
refused while in use; reads answered in the channel; a Chinese channel.

The node agents are not here (they are the agent branch's, tested on real containerd): a
worker runs with a stand-in ``perform`` and ``planner`` that answer as the agents' handlers
would, from the request they are given, so everything from the slash command to the threaded
result — the registry, policy, job store, card, notifier and rendering — is the real thing.
Once ``handlers.images`` lands, ``test_fleet_prune_…`` and ``test_rmi_…`` should also run with
``make_worker`` against the sandbox's node agents (see the report of the cmds branch).
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import post_signed, serve_slack_app
from slack_emulator import RecordedCall, SlackEmulator

from bot.commands.dispatcher import Dispatcher
from bot.jobs.model import JobState
from bot.jobs.store import JobStore
from bot.jobs.worker import Worker
from bot.surfaces.slack_app import SlackNotifier
from handlers.base import RequestBase, ResultBase
from handlers.control import Control
from handlers.images_models import (
    AgentInfo,
    ApprovedRemovals,
    ImageFs,
    ImageRef,
    ImageRow,
    KeptImage,
    ListImages,
    NodeImages,
    NodeProblem,
    NodePruneOutcome,
    NodePrunePlan,
    NodeUnreached,
    PruneImages,
    PrunePlan,
    PruneResult,
    RemoveImage,
    RemoveImageResult,
    RuntimeLogLines,
    RuntimeLogs,
    RuntimePs,
)
from handlers.kube import KubeClient
from policies.loader import parse_policy

pytestmark = pytest.mark.integration

SECRET = "images-scenario-secret-0123"
TOKEN = "xoxb-" + "images-000000"
POLICY = r"""
channels:
  cn: [C0CN]
languages:
  channels: {cn: zh-CN}
roles:
  viewer: {verbs: [help, whoami, get, jobs]}
  op: {verbs: [help, get, jobs, images, runtime, prune-images, approve, cancel]}
bindings:
  - {role: viewer, everyone: true}
  - {role: op, users: [U_A, U_B, U_C]}
rules:
  - name: image-removal-needs-a-second-person
    verbs: [prune-images]
    effect: require_approval
    approval: {count: 1, approvers: {roles: [op]}, expires_in: 1h}
  - name: fleet-wide-prunes-need-two
    verbs: [prune-images]
    flags: [all]
    effect: require_approval
    approval: {count: 2, approvers: {roles: [op]}, expires_in: 1h}
images:
  keep: ['^registry\.k8s\.io/']
"""
NOW = datetime.now(UTC)
AGENT = AgentInfo(
    node="k8s-node1", runtime_name="containerd", runtime_version="v2.4.2", seen_at=NOW
)
FS_BEFORE = ImageFs(mountpoint="/var/lib/containerd", used_bytes=3_000_000_000)
FS_AFTER = ImageFs(mountpoint="/var/lib/containerd", used_bytes=2_600_000_000)


@dataclass
class Bot:
    url: str
    slack: SlackEmulator
    store: JobStore
    notifier: SlackNotifier


@pytest.fixture
def bot(
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


def slash(bot: Bot, text: str, user: str, channel: str = "C0OPS") -> str:
    status, body = post_signed(
        bot.url,
        SECRET,
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
    assert status == 200
    return str(json.loads(body).get("text", ""))


def click_approve(bot: Bot, card: RecordedCall, user: str) -> None:
    job_id = next(
        e["value"] for b in card.args["blocks"] if b["type"] == "actions" for e in b["elements"]
    )
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T1"},
        "channel": {"id": "C0OPS"},
        "container": {"message_ts": card.args.get("ts", "")},
        "trigger_id": "1.2",
        "api_app_id": "A1",
        "token": "legacy",
        "actions": [
            {
                "action_id": "k8s_approve",
                "value": job_id,
                "type": "button",
                "block_id": "b",
                "action_ts": "1",
            }
        ],
    }
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    assert post_signed(bot.url, SECRET, body)[0] == 200


def deliver(bot: Bot) -> None:
    """Let the notifier post everything, including what it holds back to pace a channel."""
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        if bot.notifier.poll(block_ms=100) == 0 and not bot.notifier._deferred:
            return


# --- Stand-ins for the agents' handlers: what they would answer, from the request ---------------


def ref(name: str, size: int) -> ImageRef:
    return ImageRef(
        reference=name, image_id="sha256:" + f"{abs(hash(name)):064d}"[:64], size_bytes=size
    )


OLD = [ref(f"example.com/old-{i}:v1", 10_000_000) for i in range(40)]
SEEN: list[RequestBase] = []


def plan(kube: KubeClient, request: RequestBase, control: Control) -> PrunePlan:
    SEEN.append(request)
    if isinstance(request, RemoveImage):
        return PrunePlan(
            nodes=[NodePrunePlan(node=request.node, remove=[ref(request.image, 72_000_000)])]
        )
    return PrunePlan(
        nodes=[
            NodePrunePlan(
                node="k8s-node1",
                remove=OLD,
                kept=[
                    KeptImage(
                        image=ref("registry.k8s.io/pause:3.10", 320_000), reason="sandbox-image"
                    ),
                    KeptImage(
                        image=ref("registry.k8s.io/coredns:v1", 1),
                        reason="keep",
                        detail="policy: ^registry\\.k8s\\.io/",
                    ),
                    KeptImage(image=ref("nginx:1.27", 1), reason="in-use"),
                ],
            )
        ],
        problems=[NodeProblem(node="k8s-node2", reason="no-agent")],
    )


def perform(request: RequestBase, kube: KubeClient, control: Control) -> ResultBase:
    SEEN.append(request)
    if isinstance(request, PruneImages):
        return PruneResult(
            dry_run=request.dry_run,
            nodes=[
                NodePruneOutcome(
                    node="k8s-node1",
                    removed=OLD[:25],
                    kept=[
                        KeptImage(image=OLD[25], reason="in-use-now", detail="default/web-9/app")
                    ],
                    fs_before=[FS_BEFORE],
                    fs_after=[FS_AFTER],
                    problem=NodeProblem(node="k8s-node1", reason="agent-lost"),
                )
            ],
            problems=[NodeProblem(node="k8s-node2", reason="no-agent")],
        )
    if isinstance(request, RemoveImage):
        return RemoveImageResult(
            node=request.node,
            image=ref(request.image, 72_000_000),
            removed=False,
            reason="in-use",
            used_by=("default/web-1/nginx",),
        )
    if isinstance(request, ListImages):
        rows = [
            ImageRow(
                repository="docker.io/library/nginx",
                tag="1.27",
                image_id="sha256:" + "a" * 64,
                size_bytes=72_400_123,
                used_by=("default/web-1/nginx",),
            ),
            ImageRow(
                repository="registry.k8s.io/pause",
                tag="3.10",
                image_id="sha256:" + "b" * 64,
                size_bytes=320_368,
                pinned=True,
                sandbox_image=True,
            ),
        ]
        return NodeImages(agent=AGENT, rows=rows, fs=[FS_BEFORE])
    if isinstance(request, RuntimeLogs):
        return RuntimeLogLines(
            node=request.node,
            container_id="e" * 64,
            container_name=request.container,
            lines=["started", "password=***"],
            masked=1,
        )
    assert isinstance(request, RuntimePs)
    return NodeUnreached(node=request.node, reason="no-agent")


def work(bot: Bot) -> int:
    """One burst of a worker with the stand-ins, then the notifier."""
    done = Worker(bot.store, None, name="w", perform=perform, planner=plan).run(burst=True)  # type: ignore[arg-type]
    deliver(bot)
    return done


def blocks(call: RecordedCall) -> str:
    return json.dumps(call.args.get("blocks", []), ensure_ascii=False)


# --- The scenarios ----------------------------------------------------------------------------


def test_fleet_prune_shows_its_plan_waits_for_two_and_threads_the_result(bot: Bot) -> None:
    SEEN.clear()
    answer = slash(bot, "prune images --all --older-than 7d", "U_A")
    assert "waits for approval: 2 approvals from role op" in answer
    card = bot.slack.wait_for("chat.postMessage")
    assert "<@U_A> asks: `prune images --all --older-than 7d`" in blocks(card)
    job = bot.store.get("1")
    assert job.state is JobState.AWAITING_APPROVAL
    assert job.request.policy_keep == ("^registry\\.k8s\\.io/",)  # type: ignore[attr-defined]

    # A worker plans it for the approvers; the card shows what goes, what stays, who is missing.
    assert work(bot) == 1
    assert isinstance(SEEN[-1], PruneImages) and SEEN[-1].policy_keep == ("^registry\\.k8s\\.io/",)
    planned = blocks(bot.slack.wait_for("chat.update", lambda c: "Plan:" in blocks(c)))
    assert "Plan: remove 40 images (400MB) on 1 node." in planned
    assert "kept 3: 1 in use, 1 sandbox image, 1 on a keep list" in planned
    assert "`example.com/old-0:v1` 10MB" in planned and "… and 35 more" in planned
    assert "k8s-node2: no node agent is reporting from this node" in planned
    assert "Approve" in planned

    click_approve(bot, card, "U_B")
    assert bot.store.get("1").state is JobState.AWAITING_APPROVAL  # one of two
    assert "approved" in slash(bot, "approve 1", "U_C").lower()
    assert bot.store.get("1").state is JobState.QUEUED

    assert work(bot) == 1
    ran = SEEN[-1]  # the button and the typed approval: the job runs held to the card's plan
    assert isinstance(ran, PruneImages) and ran.approved is not None
    shown = plan(None, ran, None)  # type: ignore[arg-type]
    assert ran.approved == ApprovedRemovals.of(shown)
    assert set(ran.approved.nodes) == {"k8s-node1"}  # not k8s-node2, which the plan lacked
    done = bot.store.get("1")
    assert done.state is JobState.FAILED  # not finished everywhere: the card says so
    card_ts = card.args.get("ts") or bot.store.card("1").ts  # type: ignore[union-attr]
    summary = bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("thread_ts") is not None)
    text = blocks(summary)
    assert summary.args["thread_ts"] == card_ts
    assert "Removed 25 images (250MB freed) on 1 node." in text
    assert "image filesystem 3GB → 2.6GB used" in text
    assert "the node agent stopped answering part-way" in text
    assert "Running the same prune again is safe" in text
    assert "k8s-node2: no node agent" in text
    listed = bot.slack.wait_for(
        "chat.postMessage", lambda c: str(c.args.get("text", "")).startswith("```NODE")
    )
    assert listed.args["thread_ts"] == card_ts
    listed_text = str(listed.args["text"])
    assert len(listed_text.splitlines()) == 27  # a header, 25 removed, 1 kept
    assert "kept: a container started using it after the plan (default/web-9/app)" in listed_text
    final = blocks(bot.slack.calls_to("chat.update")[-1])
    assert "not finished on k8s-node1, k8s-node2" in final
    assert not any(
        b["type"] == "actions" for b in bot.slack.calls_to("chat.update")[-1].args["blocks"]
    )


def test_the_approve_button_waits_for_the_plan(bot: Bot) -> None:
    slash(bot, "prune images k8s-node1", "U_A")
    card = bot.slack.wait_for("chat.postMessage")
    click_approve(bot, card, "U_B")  # before any worker planned it
    refused = bot.slack.wait_for("chat.postEphemeral")
    assert refused.args["user"] == "U_B"
    assert (
        "Job 1 can't be approved yet: its plan (what it would remove) is not on its card"
        in (refused.args["text"])
    )
    assert bot.store.get("1").state is JobState.AWAITING_APPROVAL
    work(bot)
    bot.slack.wait_for("chat.update", lambda c: "Plan:" in blocks(c))
    click_approve(bot, card, "U_B")
    assert bot.store.get("1").state is JobState.QUEUED
    request = bot.store.get("1").request
    assert isinstance(request, PruneImages) and request.approved is not None


def test_rmi_of_an_image_in_use_is_refused_with_who_uses_it(bot: Bot) -> None:
    slash(bot, "rmi k8s-node1 nginx:1.27", "U_A")
    card = bot.slack.wait_for("chat.postMessage")
    work(bot)
    planned = blocks(bot.slack.wait_for("chat.update", lambda c: "Plan:" in blocks(c)))
    assert "Plan: remove 1 image (72MB) on 1 node." in planned
    assert "`nginx:1.27` 72MB" in planned
    click_approve(bot, card, "U_B")
    work(bot)
    result = bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("thread_ts") is not None)
    refused = "Refused: `nginx:1.27` is in use on k8s-node1 by `default/web-1/nginx`"
    assert refused in blocks(result)
    assert "```" not in blocks(result)  # a sentence, not a table
    assert "nothing was removed from k8s-node1 (in-use)" in blocks(
        bot.slack.calls_to("chat.update")[-1]
    )


def test_reads_are_answered_in_the_channel(bot: Bot) -> None:
    assert "may not" in slash(bot, "images --all", "U_VIEWER")
    assert bot.store.redis.xlen("k8s-chatops:queue:sandbox") == 0

    assert "queued" in slash(bot, "images k8s-node1", "U_A")
    assert "queued" in slash(bot, "runtime logs k8s-node1 web", "U_A")
    assert "queued" in slash(bot, "runtime ps k8s-node2", "U_A")
    assert work(bot) == 3
    assert bot.slack.calls_to("chat.update") == []  # reads get no card
    listing, logs_summary, logs_lines, unreached = bot.slack.messages("C0OPS")
    assert listing["blocks"][0]["text"]["text"].startswith("```IMAGE")  # a fixed-width table
    assert (
        "registry.k8s.io/pause     3.10   bbbbbbbbbbbbb   320kB    -                     true"
        in listing["text"]
    )
    assert "2 images on k8s-node1, 72.7MB in all." in listing["text"]
    assert logs_summary["text"].startswith("2 lines of container `web`")
    assert logs_lines["thread_ts"] == logs_summary["ts"]
    assert logs_lines["text"] == "```started\npassword=***```"
    assert "thread_ts" not in unreached and "```" not in json.dumps(unreached["blocks"])
    assert unreached["text"].startswith("k8s-node2: no node agent is reporting from this node.")


def test_a_chinese_channel_reads_the_dry_run_in_chinese(bot: Bot) -> None:
    answer = slash(bot, "prune images k8s-node1 --dry-run", "U_A", channel="C0CN")
    assert "queued" in answer  # an ephemeral answer is in the person's language
    assert work(bot) == 1
    summary, listed = bot.slack.messages("C0CN")
    assert summary["text"].startswith(
        "试运行：将删除 25 个镜像（250MB），涉及 1 个节点；实际没有删除任何镜像。"
    )
    assert listed["thread_ts"] == summary["ts"] and "将删除" in listed["text"]
    assert bot.store.get("1").request.dry_run  # type: ignore[attr-defined]
