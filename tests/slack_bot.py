"""The real Bolt app on loopback, with a Slack emulator, a notifier and the job store: what
the Slack scenario tests drive with signed requests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import serve_slack_app
from slack_emulator import SlackEmulator

from bot.commands.dispatcher import Dispatcher
from bot.jobs.store import JobStore
from bot.surfaces.slack_app import SlackNotifier
from policies.model import PolicyDocument

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-" + "test-000000-emulator"


@dataclass
class Bot:
    url: str
    emulator: SlackEmulator
    store: JobStore
    notifier: SlackNotifier


def serve_bot(
    monkeypatch: pytest.MonkeyPatch,
    policy_file: Path,
    redis_url: str,
    store: JobStore,
    policy: PolicyDocument,
) -> Iterator[Bot]:
    with SlackEmulator(valid_tokens=[BOT_TOKEN]) as emulator:
        server, client = serve_slack_app(
            monkeypatch,
            emulator=emulator,
            token=BOT_TOKEN,
            secret=SIGNING_SECRET,
            policy_file=policy_file,
            redis_url=redis_url,
            make_dispatcher=lambda: Dispatcher(policy, store),
        )
        notifier = SlackNotifier(store, client, name="test-bot")
        try:
            yield Bot(f"http://127.0.0.1:{server.effective_port}", emulator, store, notifier)
        finally:
            server.close()
