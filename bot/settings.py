"""Configuration from the environment, validated once at start-up.

Each process reads only what it needs: the worker never sees a Slack token, the bot never
needs a kubeconfig. A missing or invalid setting stops the process with one line naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from core import limits, messages
from core.errors import ConfigurationError
from core.redis_target import RedisSettings

_PREFIX = "K8S_CHATOPS_"


class CommonSettings(RedisSettings):
    """Redis (a URL, or a Sentinel set: core.redis_target) and what every process logs."""

    model_config = SettingsConfigDict(env_prefix=_PREFIX, extra="ignore", frozen=True)

    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    job_retention_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    audit_retention_seconds: int = Field(default=90 * 24 * 3600, ge=3600)


_CLUSTER_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


class ChatSettings(CommonSettings):
    """What the shell and the Slack app need to turn text into jobs."""

    policy_file: Path
    #: Where a command naming no cluster goes when its channel has no default; unset, only
    #: the one known cluster is a default (docs/architecture.md#clusters).
    cluster: Annotated[str | None, BeforeValidator(lambda value: value or None)] = Field(
        default=None, pattern=_CLUSTER_NAME, max_length=63
    )


def _required(why: str) -> AfterValidator:
    """A secret that must not be blank: an empty one would start a process that fails every
    request (an empty signing secret made Bolt answer 500 to each)."""

    def check(value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise PydanticCustomError("blank", "{why}", {"why": why})
        return value

    return AfterValidator(check)


class SlackSettings(ChatSettings):
    slack_bot_token: Annotated[SecretStr, _required(messages.NEEDED_TO_CALL_SLACK.format())] = (
        Field(validation_alias=AliasChoices("SLACK_BOT_TOKEN"))
    )
    slack_signing_secret: Annotated[
        SecretStr, _required(messages.NEEDED_TO_VERIFY_REQUESTS.format())
    ] = Field(validation_alias=AliasChoices("SLACK_SIGNING_SECRET"))
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN")
    )
    slack_api_url: str = Field(default="https://slack.com/api/", pattern=r"^https?://.+/$")
    #: The workspace the app is installed in; when set, requests from any other are refused.
    slack_team_id: Annotated[str | None, BeforeValidator(lambda value: value or None)] = Field(
        default=None, validation_alias=AliasChoices("SLACK_TEAM_ID"), pattern=r"^T[A-Z0-9]+$"
    )


class SlackSocketSettings(SlackSettings):
    """Socket Mode: an app-level token instead of a public URL; Slack's requests arrive over
    the socket, so there is no signature to check."""

    slack_signing_secret: SecretStr = Field(
        default=SecretStr(""), validation_alias=AliasChoices("SLACK_SIGNING_SECRET")
    )
    slack_app_token: Annotated[SecretStr, _required(messages.NEEDED_FOR_SOCKET_MODE.format())] = (
        Field(validation_alias=AliasChoices("SLACK_APP_TOKEN"))
    )


class WorkerSettings(CommonSettings):
    #: The cluster this worker serves: it reads that cluster's queue and reports under it.
    cluster: str = Field(default="default", pattern=_CLUSTER_NAME, max_length=63)
    kubeconfig: str | None = Field(default=None, validation_alias=AliasChoices("KUBECONFIG"))
    worker_name: str | None = None
    reclaim_idle_seconds: float = Field(default=30.0, ge=1.0)
    max_disrupted_nodes: int = Field(default=1, ge=1)
    impersonate: Literal["none", "user", "user-and-roles"] = "none"
    #: Caps on one log reply (the newest lines are kept) and on one line (its rest is
    #: dropped as it streams), and extra secret patterns to mask (a file with one regex per
    #: line) on top of the built-in ones.
    logs_max_lines: int = Field(default=2000, ge=1, le=limits.MAX_LOGS_LINES)
    logs_max_bytes: int = Field(default=1_000_000, ge=1000, le=limits.MAX_LOGS_BYTES)
    logs_max_line_bytes: int = Field(default=16 * 1024, ge=256, le=limits.MAX_LOG_LINE_BYTES)
    redact_patterns_file: Path | None = None


S = TypeVar("S", bound=BaseSettings)


def _env_name(settings_class: type[BaseSettings], field_name: str) -> str:
    field = settings_class.model_fields.get(field_name)
    if field is None:  # pydantic reports aliased fields by their alias: the variable itself
        return field_name
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return _PREFIX + field_name.upper()


def load(settings_class: type[S]) -> S:
    """Build ``settings_class`` from the environment or raise one clear ConfigurationError."""
    try:
        return settings_class()
    except ValidationError as error:
        first = error.errors()[0]
        name = _env_name(settings_class, str(first["loc"][0]) if first["loc"] else "?")
        if first["type"] == "missing":
            raise ConfigurationError(messages.SETTING_MISSING.format(name=name)) from None
        if first["type"] == "blank":
            why = (first.get("ctx") or {}).get("why", "")
            raise ConfigurationError(messages.SETTING_EMPTY.format(name=name, why=why)) from None
        raise ConfigurationError(
            messages.SETTING_INVALID.format(name=name, detail=first["msg"])
        ) from None
