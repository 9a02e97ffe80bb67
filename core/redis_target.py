"""Where a process finds Redis: one URL, or a Sentinel set that names the master.

Pure: it parses and checks the settings; ``bot.jobs.store.connect`` builds the client from a
:class:`RedisTarget` (core may not import redis). Every process — bot, shell, worker, node
agent — connects through that one function, so a Sentinel deployment needs the same two
settings everywhere:

- ``K8S_CHATOPS_REDIS_SENTINELS``: ``host:port`` pairs separated by commas (IPv6 in
  brackets, ``[fd00::1]:26379``), at most :data:`MAX_SENTINELS`;
- ``K8S_CHATOPS_REDIS_SENTINEL_MASTER``: the name the sentinels monitor the master under.

With sentinels set, ``K8S_CHATOPS_REDIS_URL`` still gives the database, the user name, the
password and TLS (``rediss://``); its host and port are not used. ``K8S_CHATOPS_REDIS_PASSWORD``,
when set, is the password instead of the URL's (a Secret holds it alone, so it needs no
URL-encoding); ``K8S_CHATOPS_REDIS_SENTINEL_PASSWORD`` is for sentinels that ask for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings

#: Sentinels one process may be given: a quorum set is 3 or 5; 16 is far above any real one.
MAX_SENTINELS = 16
#: The whole ``K8S_CHATOPS_REDIS_SENTINELS`` value.
MAX_SENTINELS_CHARS = 2048
#: A master name, as redis.conf's ``sentinel monitor`` takes it.
MAX_MASTER_NAME_CHARS = 64

_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")
_IPV6_CHARS = frozenset("0123456789abcdef:.")
_MASTER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")

Address = tuple[str, int]


def _host(text: str, entry: str) -> str:
    if text.startswith("["):
        inner = text[1:-1].lower() if text.endswith("]") else ""
        if not inner or len(inner) > 45 or not set(inner) <= _IPV6_CHARS or ":" not in inner:
            raise ValueError(f"{entry!r} has no valid IPv6 address in brackets")
        return inner
    host = text.lower()
    if not host or len(host) > 253 or not set(host) <= _HOST_CHARS:
        raise ValueError(f"{entry!r} has no valid host name (letters, digits, '-' and '.')")
    if host.startswith(("-", ".")) or host.endswith(("-", ".")) or ".." in host:
        raise ValueError(f"{entry!r} has no valid host name")
    return host


def parse_sentinels(value: Any) -> tuple[Address, ...]:
    """``"a:26379, b:26379"`` → ``(("a", 26379), ("b", 26379))``; empty → ``()``.

    Linear in the text, no regex; a bad entry is named in the error (it holds no secret)."""
    if value is None:
        return ()
    if isinstance(value, (tuple, list)):
        return tuple((str(host), int(port)) for host, port in value)
    text = str(value).strip()
    if not text:
        return ()
    if len(text) > MAX_SENTINELS_CHARS:
        raise ValueError(f"is longer than {MAX_SENTINELS_CHARS} characters")
    entries = [part.strip() for part in text.split(",")]
    if len(entries) > MAX_SENTINELS:
        raise ValueError(f"lists {len(entries)} sentinels; at most {MAX_SENTINELS}")
    addresses: list[Address] = []
    for entry in entries:
        host_text, colon, port_text = entry.rpartition(":")
        if not colon or not host_text:
            raise ValueError(f"{entry!r} is not host:port")
        if not port_text.isascii() or not port_text.isdigit() or len(port_text) > 5:
            raise ValueError(f"{entry!r} has no port number")
        port = int(port_text)
        if not 1 <= port <= 65_535:
            raise ValueError(f"{entry!r}: the port must be between 1 and 65535")
        address = (_host(host_text, entry), port)
        if address in addresses:
            raise ValueError(f"{entry!r} is listed twice")
        addresses.append(address)
    return tuple(addresses)


def check_master_name(value: Any) -> str | None:
    """The master's name, or None when unset; the same characters Sentinel configs use."""
    if value is None or not str(value).strip():
        return None
    name = str(value).strip()
    if len(name) > MAX_MASTER_NAME_CHARS or not set(name.lower()) <= _MASTER_CHARS:
        raise ValueError(
            f"must be at most {MAX_MASTER_NAME_CHARS} letters, digits, '-', '_' or '.'"
        )
    return name


@dataclass(frozen=True)
class RedisTarget:
    """What :func:`bot.jobs.store.connect` needs. ``password`` and ``sentinel_password`` are
    kept out of ``repr`` so a traceback or a debug line cannot show them."""

    url: str
    sentinels: tuple[Address, ...] = ()
    master: str | None = None
    password: str | None = None
    sentinel_password: str | None = None

    def __repr__(self) -> str:
        return f"RedisTarget({self.describe()})"

    def __post_init__(self) -> None:
        if self.sentinels and not self.master:
            raise ValueError("K8S_CHATOPS_REDIS_SENTINEL_MASTER is required with sentinels")
        if self.master and not self.sentinels:
            raise ValueError("K8S_CHATOPS_REDIS_SENTINELS is required with a sentinel master")
        if self.sentinels and self.url.startswith("unix://"):
            raise ValueError("a unix:// Redis URL cannot be used with sentinels")

    def describe(self) -> str:
        """For logs: where, never how to log in (the URL's user and password are cut)."""
        if self.sentinels:
            listed = ",".join(
                f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
                for host, port in self.sentinels
            )
            return f"master {self.master!r} via sentinels {listed}"
        scheme, _, rest = self.url.partition("://")
        return f"{scheme}://{rest.rpartition('@')[2]}"


class RedisSettings(BaseSettings):
    """The Redis settings every process shares (bot, shell, worker, node agent), read with
    the subclass's ``K8S_CHATOPS_`` prefix. A bad combination stops the process at start-up
    with the variable's name."""

    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", pattern=r"^(redis|rediss|unix)://", max_length=2048
    )
    redis_sentinels: str = Field(default="", max_length=MAX_SENTINELS_CHARS)
    redis_sentinel_master: str | None = Field(default=None, validate_default=True)
    redis_password: SecretStr | None = None
    redis_sentinel_password: SecretStr | None = None

    @field_validator("redis_sentinels")
    @classmethod
    def _sentinels(cls, value: str, info: ValidationInfo) -> str:
        if parse_sentinels(value) and str(info.data.get("redis_url", "")).startswith("unix://"):
            raise ValueError("a unix:// K8S_CHATOPS_REDIS_URL cannot be used with sentinels")
        return value

    @field_validator("redis_sentinel_master", mode="before")
    @classmethod
    def _master(cls, value: Any, info: ValidationInfo) -> str | None:
        name = check_master_name(value)
        if "redis_sentinels" not in info.data:  # the list itself was refused already
            return name
        listed = bool(parse_sentinels(info.data["redis_sentinels"]))
        if listed and name is None:
            raise ValueError("is required when K8S_CHATOPS_REDIS_SENTINELS is set")
        if name is not None and not listed:
            raise ValueError("needs K8S_CHATOPS_REDIS_SENTINELS (the sentinels to ask)")
        return name

    def redis_target(self) -> RedisTarget:
        return RedisTarget(
            url=self.redis_url,
            sentinels=parse_sentinels(self.redis_sentinels),
            master=self.redis_sentinel_master,
            password=self.redis_password.get_secret_value() if self.redis_password else None,
            sentinel_password=(
                self.redis_sentinel_password.get_secret_value()
                if self.redis_sentinel_password
                else None
            ),
        )
