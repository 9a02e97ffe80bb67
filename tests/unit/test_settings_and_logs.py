"""Settings fail with one line naming the variable; logs never carry a token."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot import logs
from bot.settings import ChatSettings, SlackSettings, SlackSocketSettings, WorkerSettings, load
from bot.surfaces.slack_app import create_app
from core.errors import ConfigurationError

FAKE_TOKEN = "xoxb-" + "1234567890-abcdefghij"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "K8S_CHATOPS_POLICY_FILE",
        "K8S_CHATOPS_REDIS_URL",
        "K8S_CHATOPS_CLUSTER",
        "KUBECONFIG",
        "SLACK_APP_TOKEN",
        "SLACK_TEAM_ID",
    ):
        monkeypatch.delenv(name, raising=False)


def test_missing_slack_token_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K8S_CHATOPS_POLICY_FILE", "/tmp/p.yaml")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3cret-signing")
    with pytest.raises(ConfigurationError) as caught:
        load(SlackSettings)
    assert caught.value.user_message == (
        "k8s-chatops: setting SLACK_BOT_TOKEN is missing (set it in the environment)."
    )


def test_missing_policy_file_names_the_prefixed_variable() -> None:
    with pytest.raises(ConfigurationError, match="K8S_CHATOPS_POLICY_FILE is missing"):
        load(ChatSettings)


def test_invalid_redis_url_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K8S_CHATOPS_REDIS_URL", "http://not-redis")
    with pytest.raises(ConfigurationError, match="K8S_CHATOPS_REDIS_URL is invalid"):
        load(WorkerSettings)


def test_secrets_are_not_shown_in_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K8S_CHATOPS_POLICY_FILE", "/tmp/p.yaml")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3cret-signing")
    monkeypatch.setenv("SLACK_BOT_TOKEN", FAKE_TOKEN)
    settings = load(SlackSettings)
    assert FAKE_TOKEN not in repr(settings)
    assert "s3cret-signing" not in repr(settings)
    assert settings.slack_bot_token.get_secret_value() == FAKE_TOKEN


def test_worker_settings_need_no_slack_token() -> None:
    assert load(WorkerSettings).cluster == "default"


def test_log_lines_are_json_and_redacted() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error("calling Slack with %s and Authorization: Bearer abcdefgh12345678", FAKE_TOKEN)
    finally:
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["level"] == "error"
    assert FAKE_TOKEN not in entry["message"]
    assert "abcdefgh12345678" not in entry["message"]
    assert "[redacted]" in entry["message"]


def test_socket_mode_needs_the_app_token_not_the_signing_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("K8S_CHATOPS_POLICY_FILE", "/tmp/p.yaml")
    monkeypatch.setenv("SLACK_BOT_TOKEN", FAKE_TOKEN)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="setting SLACK_APP_TOKEN is missing"):
        load(SlackSocketSettings)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-" + "1-A0-123-abc")
    settings = load(SlackSocketSettings)
    assert settings.slack_signing_secret.get_secret_value() == ""


@pytest.mark.parametrize("secret", ["", "   "])
def test_http_mode_refuses_to_start_without_a_signing_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("K8S_CHATOPS_POLICY_FILE", "/tmp/p.yaml")
    monkeypatch.setenv("SLACK_BOT_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", secret)
    with pytest.raises(ConfigurationError) as caught:
        load(SlackSettings)
    assert caught.value.user_message == (
        "k8s-chatops: setting SLACK_SIGNING_SECRET is empty; "
        "HTTP mode needs it to check that requests come from Slack."
    )


def test_an_app_that_checks_signatures_is_never_built_without_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Socket Mode settings allow an empty secret; asking for verification with them fails
    at construction, not with a 500 on every request."""
    monkeypatch.setenv("K8S_CHATOPS_POLICY_FILE", "/tmp/p.yaml")
    monkeypatch.setenv("SLACK_BOT_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-" + "1-A0-123-abc")
    settings = load(SlackSocketSettings)
    with pytest.raises(ConfigurationError, match="SLACK_SIGNING_SECRET is empty"):
        create_app(settings, None, None, verify_requests=True)  # type: ignore[arg-type]


def test_the_workspace_setting_is_optional_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K8S_CHATOPS_POLICY_FILE", "/tmp/p.yaml")
    monkeypatch.setenv("SLACK_BOT_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s3cret-signing")
    assert load(SlackSettings).slack_team_id is None
    monkeypatch.setenv("SLACK_TEAM_ID", "T0TEAM")
    assert load(SlackSettings).slack_team_id == "T0TEAM"
    monkeypatch.setenv("SLACK_TEAM_ID", "my workspace")
    with pytest.raises(ConfigurationError, match="setting SLACK_TEAM_ID is invalid"):
        load(SlackSettings)
