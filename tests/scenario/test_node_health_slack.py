"""``/k8s get nodes --problems`` and ``-o wide`` from Slack: read by a worker on the sandbox,
answered in the channel as a code block with the summary line; bad flags are a sentence."""

from __future__ import annotations

import time

import pytest
from helpers import make_worker
from slack_bot import Bot
from test_slash_command import slash_command

from bot.jobs import model as jobs
from handlers.kube import KubeClient
from sandbox import node_health, seed

pytestmark = pytest.mark.integration


def run(bot: Bot, kube: KubeClient) -> None:
    assert make_worker(bot.store, kube, name="w").run(burst=True) == 1
    deadline = time.monotonic() + 10
    while bot.notifier.poll(block_ms=100) == 0 and time.monotonic() < deadline:
        pass


def test_problems_from_slack(bot: Bot, pristine: KubeClient) -> None:
    node_health.set_health(pristine, "k8s-node1", "disk-pressure")
    try:
        status, answer = slash_command(bot, "get nodes --problems -o wide", user="U_SOMEONE")
        assert status == 200 and "queued" in answer
        run(bot, pristine)
        (posted,) = bot.emulator.messages("C0OPS")
        text = posted["blocks"][0]["text"]["text"]
        lines = text.strip("`").splitlines()
        assert lines[0] == "1 of 2 nodes need a look."
        assert lines[1].split()[-2:] == ["CONTAINER-RUNTIME", "PROBLEMS"]
        assert lines[2].startswith("k8s-node1 ") and "DiskPressure for " in lines[2]
        assert len(lines) == 3
    finally:
        seed.reset(pristine)


def test_bad_flags_are_sentences_and_queue_nothing(bot: Bot, redis_client) -> None:  # type: ignore[no-untyped-def]
    for text, said in (
        ("get nodes --problemz", "has no flag `--problemz`"),
        ("get nodes --cordoned-for 2h", "only means something with `--problems`"),
        ("get nodes -l 'a in (b'", "must be a valid label selector"),
    ):
        status, answer = slash_command(bot, text, user="U_SOMEONE")
        assert status == 200 and said in answer, answer
    assert redis_client.xlen(jobs.queue_key("sandbox")) == 0
