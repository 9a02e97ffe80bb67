"""The Slack app under test, shared by the scenario modules: see ``slack_bot``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_bot import Bot, serve_bot

from bot.jobs.store import JobStore
from policies.model import PolicyDocument


@pytest.fixture
def bot(
    monkeypatch: pytest.MonkeyPatch,
    policy_file: Path,
    redis_url: str,
    store: JobStore,
    policy: PolicyDocument,
) -> Iterator[Bot]:
    yield from serve_bot(monkeypatch, policy_file, redis_url, store, policy)
