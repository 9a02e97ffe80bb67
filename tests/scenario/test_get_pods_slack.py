"""``/k8s get pods`` from Slack: a short list as one table in the channel; a long one as its
summary line in the channel and the table as a file in its thread."""

from __future__ import annotations

import time

import pytest
from helpers import make_worker
from slack_bot import Bot
from test_slash_command import slash_command

from handlers.kube import KubeClient
from sandbox import pod_states

pytestmark = pytest.mark.integration

NAMESPACE = "get-pods-slack"


def run(bot: Bot, kube: KubeClient) -> None:
    assert make_worker(bot.store, kube, name="w").run(burst=True) == 1
    deadline = time.monotonic() + 10
    while bot.notifier.poll(block_ms=100) == 0 and time.monotonic() < deadline:
        pass


def test_short_and_long_pod_lists(bot: Bot, pristine: KubeClient) -> None:
    pod_states.create(pristine, NAMESPACE)
    try:
        status, answer = slash_command(
            bot, f"get pods -n {NAMESPACE} -l app=crashloop", user="U_SOMEONE"
        )
        assert status == 200 and "queued" in answer, answer
        run(bot, pristine)
        (short,) = bot.emulator.messages("C0OPS")
        assert (
            "CrashLoopBackOff" in short["text"]
            and "Pods: 1 (1 CrashLoopBackOff)." in (short["text"])
        )
        assert "thread_ts" not in short
        # The seed's 15 pods, the 7 held ones and 9 more: past the 30 rows one message shows.
        for index in range(9):
            pristine.create(pod_states.pod(NAMESPACE, f"filler-{index}", None))
        status, answer = slash_command(bot, "get pods -A -o wide", user="U_SOMEONE", trigger="2")
        assert status == 200 and "queued" in answer, answer
        run(bot, pristine)
        deadline = time.monotonic() + 10
        while not bot.emulator.calls_to("files.completeUploadExternal"):
            assert time.monotonic() < deadline, bot.emulator.calls
            bot.notifier.poll(block_ms=100)
        upload = bot.emulator.wait_for("files.completeUploadExternal")
        summary = bot.emulator.messages("C0OPS")[-1]
        assert summary["text"].startswith("Pods: 31 ("), bot.emulator.messages("C0OPS")
        assert upload.args["thread_ts"] == summary["ts"]
        table = bot.emulator.uploaded()["pods-job-2.txt"].decode()
        assert table.splitlines()[0].split()[:3] == ["NAMESPACE", "NAME", "READY"]
        assert len(table.splitlines()) == 32
        assert "Init:0/1" in table and "Terminating" in table
    finally:
        pod_states.release(pristine, NAMESPACE)
