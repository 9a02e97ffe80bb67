"""The Sentinel settings: parsed in linear time, bounded, and refused with the variable's name;
the password never in a repr or a log description."""

from __future__ import annotations

import pytest

from bot.settings import ChatSettings, WorkerSettings, load
from core.errors import ConfigurationError
from core.redis_target import MAX_SENTINELS, RedisTarget, parse_sentinels
from nodeagent.settings import NodeAgentSettings


def test_parses_hosts_ports_and_ipv6() -> None:
    assert parse_sentinels(" s1.redis:26379, 10.0.0.2:26380 ,[FD00::1]:26379") == (
        ("s1.redis", 26379),
        ("10.0.0.2", 26380),
        ("fd00::1", 26379),
    )
    assert parse_sentinels("") == ()
    assert parse_sentinels(None) == ()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("s1", "is not host:port"),
        (":26379", "is not host:port"),
        ("s1:", "has no port number"),
        ("s1:0", "between 1 and 65535"),
        ("s1:65536", "between 1 and 65535"),
        ("s1:2637x", "has no port number"),
        ("s_1:26379", "no valid host name"),
        ("-s1:26379", "no valid host name"),
        ("[zz::1]:26379", "IPv6"),
        ("s1:26379,s1:26379", "listed twice"),
        ("s1:26379,,s2:26379", "is not host:port"),
    ],
)
def test_refuses_bad_entries(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_sentinels(text)


def test_bounded() -> None:
    many = ",".join(f"s{i}:26379" for i in range(MAX_SENTINELS + 1))
    with pytest.raises(ValueError, match=f"at most {MAX_SENTINELS}"):
        parse_sentinels(many)
    with pytest.raises(ValueError, match="longer than"):
        parse_sentinels("a" * 3000 + ":1")


def test_the_password_stays_out_of_repr_and_descriptions() -> None:
    target = RedisTarget(
        url="redis://user:url-secret@redis:6379/2",
        password="env-secret",
        sentinel_password="sentinel-secret",
    )
    shown = repr(target) + target.describe()
    assert "secret" not in shown and "redis://redis:6379/2" in shown
    sentinels = RedisTarget(
        url="redis://:url-secret@ignored/0", sentinels=(("fd00::1", 26379),), master="m1"
    )
    assert sentinels.describe() == "master 'm1' via sentinels [fd00::1]:26379"


@pytest.mark.parametrize("settings_class", [ChatSettings, WorkerSettings, NodeAgentSettings])
def test_every_process_reads_the_same_settings(
    settings_class: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("K8S_CHATOPS_POLICY_FILE", "/dev/null")
    monkeypatch.setenv("K8S_CHATOPS_NODE_NAME", "node-1")
    monkeypatch.setenv("K8S_CHATOPS_REDIS_URL", "rediss://:from-url@unused:1/3")
    monkeypatch.setenv("K8S_CHATOPS_REDIS_SENTINELS", "s1:26379,s2:26379")
    monkeypatch.setenv("K8S_CHATOPS_REDIS_SENTINEL_MASTER", "mymaster")
    monkeypatch.setenv("K8S_CHATOPS_REDIS_PASSWORD", "from-env")
    target = load(settings_class).redis_target()
    assert target.sentinels == (("s1", 26379), ("s2", 26379))
    assert target.master == "mymaster" and target.password == "from-env"
    assert "from-env" not in repr(load(settings_class))


@pytest.mark.parametrize(
    ("env", "sentence"),
    [
        ({"K8S_CHATOPS_REDIS_SENTINELS": "s1:26379"}, "REDIS_SENTINEL_MASTER is invalid"),
        ({"K8S_CHATOPS_REDIS_SENTINEL_MASTER": "m"}, "needs K8S_CHATOPS_REDIS_SENTINELS"),
        (
            {"K8S_CHATOPS_REDIS_SENTINELS": "s1:26379", "K8S_CHATOPS_REDIS_SENTINEL_MASTER": "m m"},
            "REDIS_SENTINEL_MASTER is invalid",
        ),
        (
            {
                "K8S_CHATOPS_REDIS_URL": "unix:///run/redis.sock",
                "K8S_CHATOPS_REDIS_SENTINELS": "s1:26379",
                "K8S_CHATOPS_REDIS_SENTINEL_MASTER": "m",
            },
            "unix:// K8S_CHATOPS_REDIS_URL cannot be used with sentinels",
        ),
        ({"K8S_CHATOPS_REDIS_SENTINELS": "s1:99999"}, "REDIS_SENTINELS is invalid"),
    ],
)
def test_bad_combinations_name_the_setting(
    env: dict[str, str], sentence: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("K8S_CHATOPS_POLICY_FILE", "/dev/null")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=sentence):
        load(ChatSettings)
