"""Image and runtime commands from Slack, end to end on the real machinery: a signed slash
command (or block action) to the Bolt app, the job in Redis, a worker running the registry's
handlers and planner, the real node agents (``k8s-chatops node-agent``, one per sandbox node,
for the whole module) over Redis, and each node's real containerd. What Slack received is
checked against crictl (``sandbox.runtime``), before and after.

- a fleet-wide prune: the card's plan is the runtime's (per node, the images and bytes), two
  other people approve with the card's button, the result goes in the card's thread, and crictl
  shows exactly the planned images gone and the protected ones still there;
- ``rmi`` of the image a running container uses: refused, naming its pod; nothing removed;
- ``images``, ``runtime ps`` and ``runtime logs`` answered in the channel, the log's secrets
  masked (and found nowhere: not in Slack, Redis or the agents' own logs);
- a Chinese channel reads a dry run in Chinese;
- a node whose agent is not running is named, with the question to ask.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from helpers import (
    NodeAgentProcesses,
    make_worker,
    post_signed,
    redis_contents,
    serve_slack_app,
    wait_for,
)
from slack_emulator import RecordedCall, SlackEmulator

from bot.commands.dispatcher import Dispatcher
from bot.commands.render_images import human_size
from bot.jobs.agents import RedisNodeAgents
from bot.jobs.model import JobState
from bot.jobs.store import JobStore
from bot.jobs.worker import Worker
from bot.surfaces.slack_app import SlackNotifier
from handlers.images_models import PruneImages, PruneResult
from handlers.kube import KubeClient
from policies.loader import parse_policy
from sandbox import runtime

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SECRET = "images-scenario-secret-0123"
TOKEN = "xoxb-" + "images-000000"
CLUSTER = "sandbox"
NODES = ("k8s-master", "k8s-node1")
#: What the seed's running container prints and no message may carry (runtime.TALK_LINES).
LOG_SECRETS = ("hunter2", "sandbox-fake-token-0123456789abcdef")
#: The seed roles a prune must leave alone.
PROTECTED = ("pause", "pinned", "keep-me", "in-use", "exited")
#: As the default policy (policies/default.yaml) decides image removal: one approval, two for
#: a fleet-wide prune; its keep list, plus the pattern the sandbox's keep-me image matches.
POLICY = rf"""
channels:
  cn: [C0CN]
languages:
  channels: {{cn: zh-CN}}
roles:
  viewer: {{verbs: [help, whoami, get, jobs]}}
  op: {{verbs: [help, get, jobs, images, runtime, prune-images, approve, cancel]}}
bindings:
  - {{role: viewer, everyone: true}}
  - {{role: op, users: [U_A, U_B, U_C]}}
rules:
  - name: image-removal-needs-a-second-person
    verbs: [prune-images]
    effect: require_approval
    approval: {{count: 1, approvers: {{roles: [op]}}, expires_in: 1h}}
  - name: fleet-wide-prunes-need-two
    verbs: [prune-images]
    flags: [all]
    effect: require_approval
    approval: {{count: 2, approvers: {{roles: [op]}}, expires_in: 1h}}
images:
  keep: ['^registry\.k8s\.io/', '{runtime.KEEP_PATTERN}']
"""


@dataclass
class Bot:
    url: str
    slack: SlackEmulator
    store: JobStore
    notifier: SlackNotifier
    worker: Worker
    answers: list[str]


@pytest.fixture
def redis_client(redis_url: str, node_agents: NodeAgentProcesses) -> Iterator[redis.Redis]:
    """As the shared fixture, but the module's node agents keep their heartbeats."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    node_agents.clear_redis_but_heartbeats(client)
    yield client
    node_agents.clear_redis_but_heartbeats(client)
    client.close()


@pytest.fixture
def bot(
    monkeypatch: pytest.MonkeyPatch,
    store: JobStore,
    redis_url: str,
    policy_file: Path,
    kube: KubeClient,
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
        # The worker as `k8s-chatops worker` builds it: the registry, and the node agents.
        worker = make_worker(store, kube, name="w", agents=RedisNodeAgents(store.redis, CLUSTER))
        try:
            yield Bot(
                f"http://127.0.0.1:{server.effective_port}",
                slack,
                store,
                SlackNotifier(store, client, name="test"),
                worker,
                [],
            )
        finally:
            server.close()


def _ids(node: str) -> set[str]:
    return {image["id"] for image in runtime.images(node)}


def _seed_ids(manifest: dict[str, Any], node: str) -> set[str]:
    return {image["id"] for image in manifest["nodes"][node]["images"]}


@pytest.fixture
def seed(node_agents: NodeAgentProcesses) -> Iterator[dict[str, Any]]:
    """The runtime manifest, with every node holding exactly the seed images; the seed is
    restored afterwards when the test changed them."""
    manifest = runtime.manifest()
    if any(_ids(node) != _seed_ids(manifest, node) for node in NODES):
        manifest = runtime.reset()
    yield manifest
    if any(_ids(node) != _seed_ids(manifest, node) for node in NODES):
        runtime.reset()


# --- Driving Slack --------------------------------------------------------------------------


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
    bot.answers.append(body)
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
    status, answer = post_signed(bot.url, SECRET, body)
    assert status == 200
    bot.answers.append(answer)


def work(bot: Bot) -> int:
    """One burst of the worker (its handlers reach the real agents), then every post."""
    done = bot.worker.run(burst=True)
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        if bot.notifier.poll(block_ms=100) == 0 and not bot.notifier._deferred:
            break
    return done


def blocks(call: RecordedCall) -> str:
    return json.dumps(call.args.get("blocks", []), ensure_ascii=False)


def code_block(message: dict[str, Any]) -> str:
    """The first block's text: a result posted as a fixed-width table starts with ```."""
    return str(message.get("blocks", [{}])[0].get("text", {}).get("text", ""))


def everything_slack_received(bot: Bot) -> str:
    uploads = "".join(data.decode(errors="replace") for data in bot.slack.uploaded().values())
    calls = "".join(json.dumps(call.args, ensure_ascii=False) for call in bot.slack.calls)
    return calls + uploads + "".join(bot.answers)


# --- What crictl says -----------------------------------------------------------------------


def crictl_rows(node: str) -> list[list[str]]:
    """``crictl images``' table (IMAGE, TAG, IMAGE ID, SIZE), as crictl prints it."""
    lines = runtime.crictl(node, "images").stdout.splitlines()
    assert lines[0].split() == ["IMAGE", "TAG", "IMAGE", "ID", "SIZE"]
    return [line.split() for line in lines[1:] if line.strip()]


def crictl_sizes(node: str) -> dict[str, str]:
    """Each ``repo:tag``'s SIZE as ``crictl images`` prints it."""
    return {f"{image}:{tag}": size for image, tag, _id, size in crictl_rows(node)}


def crictl_fs_used(node: str) -> int:
    """The image filesystem's used bytes, as ``crictl imagefsinfo`` reports them now."""
    info = json.loads(runtime.crictl(node, "imagefsinfo", "-o", "json").stdout)
    (fs,) = info["status"]["imageFilesystems"]
    return int(fs["usedBytes"]["value"])


def by_role(manifest: dict[str, Any], node: str, *roles: str) -> list[dict[str, Any]]:
    return [i for i in manifest["nodes"][node]["images"] if i["role"] in roles]


def unused_on(node: str, manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What a prune may remove on ``node``, by id, as crictl lists it: every image but those
    in use, pinned, the sandbox image and the keep-listed one (the seed's roles say which)."""
    protected = {i["id"] for i in by_role(manifest, node, *PROTECTED)}
    listed = {image["id"]: image for image in runtime.images(node)}
    unused = {i: image for i, image in listed.items() if i not in protected}
    assert set(unused) == {i["id"] for i in by_role(manifest, node, "unused")}
    return unused


def shown(text: str, image: dict[str, Any], sizes: dict[str, str]) -> bool:
    """Whether ``text`` names ``image`` by one of its tags with crictl's size for it."""
    return any(f"`{tag}` {sizes[tag]}" in text for tag in image["repoTags"])


def kept_line(manifest: dict[str, Any], node: str) -> str:
    in_use = len(by_role(manifest, node, "in-use", "exited"))
    return f"kept 5: {in_use} in use, 1 pinned, 1 sandbox image, 1 on a keep list"


# --- The scenarios --------------------------------------------------------------------------


def test_a_fleet_prune_shows_the_runtimes_plan_and_threads_what_it_removed(
    bot: Bot, seed: dict[str, Any]
) -> None:
    unused = {node: unused_on(node, seed) for node in NODES}
    sizes = {node: crictl_sizes(node) for node in NODES}
    before = {node: _ids(node) for node in NODES}
    per_node = {node: sum(int(i["size"]) for i in unused[node].values()) for node in NODES}
    count = sum(len(u) for u in unused.values())

    answer = slash(bot, "prune images --all", "U_A")
    assert "waits for approval: 2 approvals from role op" in answer
    card = bot.slack.wait_for("chat.postMessage")
    assert "<@U_A> asks: `prune images --all`" in blocks(card)

    # A worker asks the agents for the plan; the card shows it, per node, from the runtime.
    assert work(bot) == 1
    planned = blocks(bot.slack.wait_for("chat.update", lambda c: "Plan:" in blocks(c)))
    total = human_size(sum(per_node.values()))
    assert f"Plan: remove {count} images ({total}) on 2 nodes." in planned
    for node in NODES:
        assert (
            f"• {node}: remove {len(unused[node])} images, {human_size(per_node[node])}; "
            + kept_line(seed, node)
        ) in planned
        assert all(shown(planned, image, sizes[node]) for image in unused[node].values())
        for protected in by_role(seed, node, *PROTECTED):
            assert not any(f"`{ref}`" in planned for ref in protected["refs"]), protected
    assert {node: _ids(node) for node in NODES} == before  # planning removes nothing

    # Two other people approve with the card's button (the fleet-wide rule wants two).
    click_approve(bot, card, "U_B")
    wait_for(lambda: len(bot.store.get("1").approval.approvals) == 1, timeout=10)  # type: ignore[union-attr]
    assert bot.store.get("1").state is JobState.AWAITING_APPROVAL
    click_approve(bot, card, "U_C")
    wait_for(lambda: bot.store.get("1").state is JobState.QUEUED, timeout=10)
    held = bot.store.get("1").request  # the approved job is held to the card's plan
    assert isinstance(held, PruneImages) and held.approved is not None
    assert {n: set(ids) for n, ids in held.approved.nodes.items()} == {
        node: set(unused[node]) for node in NODES
    }

    assert work(bot) == 1
    assert bot.store.get("1").state is JobState.SUCCEEDED
    card_ts = bot.store.card("1").ts  # type: ignore[union-attr]
    summary = bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("thread_ts") is not None)
    assert summary.args["thread_ts"] == card_ts
    text = str(summary.args["text"])
    assert text.startswith(f"Removed {count} images ({total} freed) on 2 nodes.")
    # The image filesystem after the prune is the runtime's measure after the removals (it
    # re-measures every 10 s), the one crictl reads now, and less than before.
    result = bot.store.get("1").result
    assert isinstance(result, PruneResult)
    for outcome in result.nodes:
        node = outcome.node
        (fs_before,), (fs_after,) = outcome.fs_before, outcome.fs_after
        assert fs_after.used_bytes == crictl_fs_used(node) < fs_before.used_bytes
        assert (
            f"{node}: removed {len(unused[node])} images ({human_size(per_node[node])}); "
            + kept_line(seed, node)
            + f"; image filesystem {human_size(fs_before.used_bytes)} → "
            + f"{human_size(fs_after.used_bytes)} used"
        ) in text.splitlines()
    # Every image, one per line, in the thread: what went, and what stayed and why.
    listed = bot.slack.wait_for(
        "chat.postMessage", lambda c: str(c.args.get("text", "")).startswith("```NODE")
    )
    assert listed.args["thread_ts"] == card_ts
    rows = [line.split() for line in str(listed.args["text"]).strip("`").splitlines()[1:]]
    removed = {(r[0], r[2]) for r in rows if r[-1] == "removed"}
    assert removed == {(n, i.removeprefix("sha256:")[:13]) for n in NODES for i in unused[n]}
    for node in NODES:
        pause = by_role(seed, node, "pause")[0]["id"].removeprefix("sha256:")[:13]
        assert any(r[:1] == [node] and pause in r and "sandbox" in r for r in rows)

    # crictl agrees: exactly the planned images are gone, the protected ones are all there.
    for node in NODES:
        after = _ids(node)
        assert after == before[node] - set(unused[node])
        for role in PROTECTED:
            assert {i["id"] for i in by_role(seed, node, role)} <= after, (node, role)
    final = bot.slack.calls_to("chat.update")[-1]
    assert not any(b["type"] == "actions" for b in final.args["blocks"])


def test_the_approve_button_waits_for_the_plan(bot: Bot, seed: dict[str, Any]) -> None:
    """Approving before a worker has put the plan on the card would approve nothing in
    particular: the button is refused, to the clicker alone, and works once the plan is in."""
    slash(bot, "prune images k8s-node1", "U_A")
    card = bot.slack.wait_for("chat.postMessage")
    click_approve(bot, card, "U_B")
    refused = bot.slack.wait_for("chat.postEphemeral")
    assert refused.args["user"] == "U_B"
    assert "can't be approved yet: its plan (what it would remove) is not on its card" in str(
        refused.args["text"]
    )
    assert bot.store.get("1").state is JobState.AWAITING_APPROVAL
    work(bot)
    bot.slack.wait_for("chat.update", lambda c: "Plan:" in blocks(c))
    click_approve(bot, card, "U_B")
    wait_for(lambda: bot.store.get("1").state is JobState.QUEUED, timeout=10)
    request = bot.store.get("1").request
    assert isinstance(request, PruneImages) and request.approved is not None
    assert set(request.approved.nodes) == {"k8s-node1"}


def test_rmi_of_the_image_in_use_is_refused_naming_its_pod(bot: Bot, seed: dict[str, Any]) -> None:
    node = "k8s-node1"
    entry = seed["nodes"][node]
    image, pod = entry["running"]["image"], entry["pod"]
    user = f"{pod['namespace']}/{pod['name']}/{entry['running']['name']}"
    assert any(c["id"] == entry["running"]["id"] for c in runtime.containers(node))
    before = _ids(node)

    slash(bot, f"rmi {node} {image}", "U_A")
    card = bot.slack.wait_for("chat.postMessage")
    assert work(bot) == 1
    planned = blocks(bot.slack.wait_for("chat.update", lambda c: "Plan:" in blocks(c)))
    assert "Plan: nothing to remove" in planned
    assert f"{node}: nothing to remove; kept 1: 1 in use" in planned
    click_approve(bot, card, "U_B")
    wait_for(lambda: bot.store.get("1").state is JobState.QUEUED, timeout=10)
    assert work(bot) == 1

    result = bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("thread_ts") is not None)
    text = blocks(result)
    assert f"Refused: `{image}` is in use on {node} by `{user}`; nothing was removed." in text
    assert f"nothing was removed from {node} (in-use)" in blocks(
        bot.slack.calls_to("chat.update")[-1]
    )
    assert _ids(node) == before
    assert any(
        c["id"] == entry["running"]["id"] and c["state"] == "CONTAINER_RUNNING"
        for c in runtime.containers(node)
    )


def test_images_ps_and_logs_are_answered_in_the_channel_with_secrets_masked(
    bot: Bot,
    seed: dict[str, Any],
    redis_client: redis.Redis,
    node_agents: NodeAgentProcesses,
) -> None:
    node = "k8s-node1"
    running = seed["nodes"][node]["running"]
    assert "may not" in slash(bot, "images --all", "U_VIEWER")
    assert "queued" in slash(bot, f"images {node}", "U_A")
    assert "queued" in slash(bot, f"runtime ps {node}", "U_A")
    assert "queued" in slash(bot, f"runtime logs {node} {running['name']}", "U_A")
    assert work(bot) == 3
    assert bot.slack.calls_to("chat.update") == []  # reads get no card
    posted = bot.slack.messages("C0OPS")
    assert len(posted) == 4

    # images: crictl's four columns, row for row, then what uses each image.
    (listing,) = [m for m in posted if code_block(m).startswith("```IMAGE")]
    table = [line.split() for line in listing["text"].split("\n\n")[0].splitlines()]
    assert table[0] == ["IMAGE", "TAG", "IMAGE", "ID", "SIZE", "USED", "BY", "PINNED"]
    body = table[1:]
    assert sorted(row[:4] for row in body) == sorted(crictl_rows(node))
    in_use = next(row for row in body if f"{row[0]}:{row[1]}" == running["image"])
    assert in_use[4] == f"{seed['nodes'][node]['pod']['namespace']}/go-http/{running['name']}"
    listed = runtime.images(node)
    assert (
        f"{len(listed)} images on {node}, {human_size(sum(int(i['size']) for i in listed))} in all."
        in listing["text"]
    )

    # runtime ps: the pod and both containers crictl shows.
    (ps,) = [m for m in posted if "as its runtime reports them" in m["text"]]
    assert ps["text"].startswith(f"1 pod and 2 containers on {node}")
    for container in runtime.containers(node):
        line = next(x for x in ps["text"].splitlines() if x.startswith(container["id"][:13]))
        assert container["metadata"]["name"] in line.split()

    # runtime logs: the summary in the channel says how many secrets were masked; the lines
    # are in its thread.
    (logs,) = [m for m in posted if "read by the node agent" in m["text"]]
    (lines,) = [m for m in posted if m.get("thread_ts") == logs["ts"]]
    masked = lines["text"].count("[REDACTED")
    assert masked == len(LOG_SECRETS)
    assert logs["text"].startswith(
        f"{len(runtime.TALK_LINES)} lines of container `{running['name']}` "
        f"({running['id'][:13]}) on {node}, read by the node agent; {masked} redactions."
    )
    assert "sandbox talk: ready" in lines["text"]
    # The secrets went nowhere: not to Slack, not into Redis, not into the agents' logs
    # (a failure names the place and the secret's index, never the secret).
    places = {
        "slack": everything_slack_received(bot),
        "redis": redis_contents(redis_client),
        "agent logs": "".join(node_agents.log_file(n).read_text() for n in NODES),
    }
    leaks = [(p, i) for p, text in places.items() for i, s in enumerate(LOG_SECRETS) if s in text]
    assert leaks == []
    # Each place was really read: the masked line is in Slack and Redis, and the agents logged.
    assert "password=[REDACTED:password]" in places["slack"]
    assert "password=[REDACTED:password]" in places["redis"]
    assert f"serving node {node}" in places["agent logs"]


def test_a_chinese_channel_reads_a_dry_run_in_chinese(bot: Bot, seed: dict[str, Any]) -> None:
    node = "k8s-node1"
    unused = unused_on(node, seed)
    sizes = crictl_sizes(node)
    before = _ids(node)
    size = human_size(sum(int(i["size"]) for i in unused.values()))
    assert "queued" in slash(bot, f"prune images {node} --dry-run", "U_A", channel="C0CN")
    assert work(bot) == 1
    (result,) = bot.slack.messages("C0CN")
    text = result["text"]
    assert text.startswith(
        f"试运行：将删除 {len(unused)} 个镜像（{size}），涉及 1 个节点；实际没有删除任何镜像。\n"
        f"{node}：将删除 {len(unused)} 个镜像（{size}）；保留 5 个：2 个正在使用、1 个已固定、"
        "1 个沙箱镜像、1 个在保留列表中"
    )
    would = [line for line in text.splitlines() if line.endswith("将删除") and node in line]
    assert len(would) == len(unused)
    for image in unused.values():
        assert any(
            any(f" {tag} " in line and f" {sizes[tag]} " in line for tag in image["repoTags"])
            for line in would
        )
    assert _ids(node) == before  # a dry run removes nothing


def test_a_node_whose_agent_is_not_running_is_named(
    bot: Bot, node_agents: NodeAgentProcesses
) -> None:
    node = "k8s-master"
    assert node_agents.stop(node) == 0  # SIGTERM: its heartbeat is retired at once
    try:
        assert "queued" in slash(bot, f"images {node}", "U_A")
        assert "queued" in slash(bot, f"runtime ps {node}", "U_A")
        assert "queued" in slash(bot, "images --all", "U_A")
        assert work(bot) == 3
    finally:
        node_agents.start(node)
    sentence = (
        f"{node}: no node agent is reporting from this node. Is the k8s-chatops node-agent "
        "DaemonSet scheduled there (its tolerations and node selector)?"
    )
    # The three answers are posted as the jobs finish, in no promised order.
    posted = bot.slack.messages("C0OPS")
    assert len(posted) == 3
    fleets = [m for m in posted if code_block(m).startswith("```NODE")]
    assert len(fleets) == 1, posted
    fleet = fleets[0]
    assert [m["text"] for m in posted if m is not fleet] == [sentence, sentence]
    assert code_block(fleet).startswith("```NODE")
    assert "k8s-node1" in fleet["text"] and f"\n{node} " not in fleet["text"]
    assert f"Not reached:\n  {sentence}" in fleet["text"]
