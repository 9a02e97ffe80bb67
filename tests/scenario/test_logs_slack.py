"""``/k8s logs`` from Slack: a summary in the channel, the lines in its thread (a code block
when short, a file when long), refusals ephemeral, and no secret anywhere it went."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis
from helpers import make_worker, redis_contents
from logs_helpers import build_scenario, give_corpus
from slack_bot import Bot
from test_slash_command import slash_command

from bot.jobs import model as jobs
from handlers.kube import KubeClient

pytestmark = pytest.mark.integration


def run(bot: Bot, kube: KubeClient) -> None:
    assert make_worker(bot.store, kube, name="w").run(burst=True) == 1
    deadline = time.monotonic() + 10
    while bot.notifier.poll(block_ms=100) == 0 and time.monotonic() < deadline:
        pass


def test_short_logs_go_in_the_thread_as_a_code_block(
    bot: Bot, pristine: KubeClient, tmp_path: Path
) -> None:
    build_scenario(pristine, tmp_path)
    status, answer = slash_command(bot, "logs hellok8s -i ERROR", user="U_SOMEONE")
    assert status == 200 and "queued: `logs hellok8s -i ERROR`" in answer
    run(bot, pristine)
    summary, lines = bot.emulator.messages("C0OPS")
    assert "thread_ts" not in summary
    assert summary["text"].startswith("6 lines from 2 pods / 2 containers since 10m; 2 matched")
    assert lines["thread_ts"] == summary["ts"]
    text = lines["text"]
    assert text.startswith("```deployment-hellok8s-go-http-") and text.endswith("```")
    assert "A ERROR db timeout" in text and "B ERROR cache miss" in text
    assert "GET" not in text
    assert bot.emulator.calls_to("files.completeUploadExternal") == []


def test_long_logs_are_uploaded_as_a_file_in_the_thread_with_secrets_masked(
    bot: Bot, pristine: KubeClient, tmp_path: Path, redis_client: redis.Redis
) -> None:
    expected, secrets = give_corpus(pristine, tmp_path)
    slash_command(bot, "logs pod/go-http --since 1h -o json")
    run(bot, pristine)
    (summary,) = bot.emulator.messages("C0OPS")
    assert "redactions" in summary["text"]
    upload = bot.emulator.wait_for("files.completeUploadExternal")
    assert upload.args["thread_ts"] == summary["ts"]
    assert upload.args["channel_id"] == "C0OPS"
    content = bot.emulator.uploaded()["logs-job-1.jsonl"].decode()
    assert len(content.splitlines()) == len(expected["go-http"])
    everything = content + "".join(str(call.args) for call in bot.emulator.calls)
    everything += redis_contents(redis_client)  # each value read, not DUMP's compressed form
    assert [secret for secret in secrets if secret in everything] == []


def test_kube_system_logs_are_refused_ephemerally_for_a_viewer(
    bot: Bot, redis_client: redis.Redis
) -> None:
    status, answer = slash_command(bot, "logs coredns -n kube-system", user="U_SOMEONE")
    assert status == 200 and '"ephemeral"' in answer.replace(": ", ":").replace(":", ": ")
    assert "may not `logs`: in namespace `kube-system`: kube-system logs are for operators." in (
        answer
    )
    assert redis_client.xlen(jobs.queue_key("sandbox")) == 0
    status, answer = slash_command(bot, "logs coredns -n kube-system", user="U_OPS")
    assert "queued" in answer


def test_all_namespaces_leaves_out_what_policy_keeps_from_a_viewer(
    bot: Bot, pristine: KubeClient, tmp_path: Path
) -> None:
    build_scenario(pristine, tmp_path)
    slash_command(bot, "logs . -A -i INFO", user="U_SOMEONE")
    run(bot, pristine)
    summary, lines = bot.emulator.messages("C0OPS")
    assert "Left out by policy: kube-system." in summary["text"]
    assert "coredns" not in lines["text"] and "B INFO started" in lines["text"]
