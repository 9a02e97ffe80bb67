"""Redis through Sentinel, with real processes: a master, a replica and one sentinel
(Debian's redis-server and redis-sentinel) on free loopback ports; a worker and the terminal
chat (subprocesses, as operators run them) find the master by asking the sentinel.

Then ``SENTINEL FAILOVER`` promotes the replica. The decision this file pins: a command that
arrives during the switch is retried by the client (redis-py's retry asks the sentinel for
the master again before reconnecting), so it succeeds; a process leaves the old master within
about a second of the sentinels naming the new one (not at the old master's demotion, ~10 s
later, when the writes it took meanwhile are discarded); when no master can be found at all, the
person gets the queue-unavailable sentence, never a stack trace — and the password, given
in its own setting, appears in no output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from helpers import wait_for

from bot.jobs.model import INDEX_KEY
from bot.jobs.store import connect
from core import messages
from core.nodework import agent_key
from core.redis_target import RedisTarget
from sandbox import cluster

pytestmark = pytest.mark.integration

MASTER_NAME = "chatops"
PASSWORD = "s3ntinel-test-pass-71f2"  # a throwaway for this file's processes


@dataclass
class SentinelSet:
    master_port: int
    replica_port: int
    sentinel_port: int
    sentinel: redis.Redis

    def master_port_now(self) -> int:
        _, port = self.sentinel.sentinel_get_master_addr_by_name(MASTER_NAME)
        return int(port)

    def known_replicas(self) -> int:
        replicas = self.sentinel.sentinel_slaves(MASTER_NAME)
        return sum(
            1
            for replica in replicas
            if "s_down" not in replica["flags"] and replica.get("master-link-status") == "ok"
        )


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: scripts/ensure-system-deps.sh installs it")
    return path


def _linked(replica_port: int) -> bool:
    try:
        info = redis.Redis(port=replica_port, password=PASSWORD, socket_timeout=1).info(
            "replication"
        )
    except redis.RedisError:
        return False
    return info.get("master_link_status") == "up"


@pytest.fixture(scope="module")
def sentinel_set(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelSet]:
    """One set for the file (the no-master test does not mind that the failover ran)."""
    tmp_path = tmp_path_factory.mktemp("sentinel")
    server, sentinel_binary = _binary("redis-server"), _binary("redis-sentinel")
    master_port, replica_port, sentinel_port = (cluster.free_port() for _ in range(3))
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    auth = ["--requirepass", PASSWORD, "--masterauth", PASSWORD]
    processes: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], name: str) -> None:
        (tmp_path / name).mkdir()
        processes.append(
            subprocess.Popen(
                [*args, "--dir", str(tmp_path / name), "--logfile", str(tmp_path / f"{name}.log")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    # The sentinel rewrites its own file (it records what it learns), so it gets a copy.
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\n"
        f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master_port} 1\n"
        f"sentinel auth-pass {MASTER_NAME} {PASSWORD}\n"
        f"sentinel down-after-milliseconds {MASTER_NAME} 2000\n"
        f"sentinel failover-timeout {MASTER_NAME} 10000\n"
    )
    try:
        start([server, "--port", str(master_port), *common, *auth], "master")
        follow = ["--replicaof", "127.0.0.1", str(master_port)]
        start([server, "--port", str(replica_port), *common, *auth, *follow], "replica")
        wait_for(lambda: _linked(replica_port), timeout=10)
        # Started once the replica is in sync, the sentinel sees it in its first look at the
        # master rather than ten seconds later.
        start([sentinel_binary, str(conf)], "sentinel")
        sentinel = redis.Redis(port=sentinel_port, decode_responses=True, socket_timeout=2)
        members = SentinelSet(master_port, replica_port, sentinel_port, sentinel)
        # A failover needs a replica the sentinel knows and that is in sync.
        wait_for(lambda: members.known_replicas() == 1, timeout=20, interval=0.25)
        yield members
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _shell(env: dict[str, str], *commands: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "shell", "--user", "U_OPS"],
        input="".join(f"{command}\n" for command in commands),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _nodes_listed(result: subprocess.CompletedProcess[str]) -> bool:
    return result.returncode == 0 and "Ready" in result.stdout and "NAME" in result.stdout


def test_worker_and_shell_follow_a_failover(
    sentinel_set: SentinelSet, worker_env: dict[str, str]
) -> None:
    env = {
        **worker_env,
        # Only the database number is read from the URL with sentinels: a dead port proves
        # nothing connects to its host.
        "K8S_CHATOPS_REDIS_URL": "redis://127.0.0.1:1/0",
        "K8S_CHATOPS_REDIS_SENTINELS": f"127.0.0.1:{sentinel_set.sentinel_port}",
        "K8S_CHATOPS_REDIS_SENTINEL_MASTER": MASTER_NAME,
        "K8S_CHATOPS_REDIS_PASSWORD": PASSWORD,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        before = _shell(env, "/k8s get nodes")
        assert _nodes_listed(before), before.stdout + before.stderr
        master = redis.Redis(port=sentinel_set.master_port, password=PASSWORD)
        assert master.dbsize() > 0  # the job went to the master the sentinel named

        started = time.monotonic()
        assert sentinel_set.sentinel.execute_command("SENTINEL", "FAILOVER", MASTER_NAME)
        # Typed while the sentinel switches: the client retries, asking it again.
        during = _shell(env, "/k8s get nodes")
        wait_for(
            lambda: sentinel_set.master_port_now() == sentinel_set.replica_port,
            timeout=20,
            interval=0.1,
        )
        switched = time.monotonic() - started
        # The sentinels demote the old master only at their next look (about 10 s); until
        # then it still takes writes, which its resync then discards. Processes must leave
        # it as soon as the sentinels name the new one: the worker, connected to the old
        # master all along, must run this job from the new master well before the demotion.
        after_started = time.monotonic()
        after = _shell(env, "/k8s get nodes")
        after_took = time.monotonic() - after_started
        old_role = redis.Redis(port=sentinel_set.master_port, password=PASSWORD).info(
            "replication"
        )["role"]
        promoted = redis.Redis(port=sentinel_set.replica_port, password=PASSWORD)
        assert promoted.info("replication")["role"] == "master"
        jobs_on_new_master = promoted.zcard(INDEX_KEY)
    finally:
        worker.terminate()
        _, worker_log = worker.communicate(timeout=15)

    assert _nodes_listed(during), during.stdout + during.stderr
    assert _nodes_listed(after), after.stdout + after.stderr
    assert switched < 20
    assert after_took < 6, f"the after command took {after_took:.1f} s (old master: {old_role})"
    assert jobs_on_new_master >= 2  # the first job (replicated) and the last one
    # The same worker served all three: it reconnected to the new master by itself.
    assert "Traceback" not in worker_log, worker_log
    for text in (before.stdout, during.stdout, after.stdout, worker_log):
        assert PASSWORD not in text


def test_no_master_is_a_sentence(sentinel_set: SentinelSet, worker_env: dict[str, str]) -> None:
    """The sentinel answers but monitors no such master: the shell says the queue is
    unreachable, in the sentence every Redis outage gets."""
    env = {
        **worker_env,
        "K8S_CHATOPS_REDIS_SENTINELS": f"127.0.0.1:{sentinel_set.sentinel_port}",
        "K8S_CHATOPS_REDIS_SENTINEL_MASTER": "no-such-master",
        "K8S_CHATOPS_REDIS_PASSWORD": PASSWORD,
    }
    result = _shell(env, "/k8s get nodes")
    assert messages.QUEUE_UNAVAILABLE.format() in result.stdout, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("sentinels", "master", "expected"),
    [
        ("127.0.0.1", "chatops", "K8S_CHATOPS_REDIS_SENTINELS is invalid"),
        ("127.0.0.1:26379", "", "K8S_CHATOPS_REDIS_SENTINEL_MASTER is invalid"),
    ],
)
def test_bad_settings_stop_the_shell(
    worker_env: dict[str, str], sentinels: str, master: str, expected: str
) -> None:
    env = {
        **worker_env,
        "K8S_CHATOPS_REDIS_SENTINELS": sentinels,
        "K8S_CHATOPS_REDIS_SENTINEL_MASTER": master,
    }
    result = _shell(env, "/k8s get nodes")
    assert result.returncode != 0
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_the_node_agent_finds_the_master_too(sentinel_set: SentinelSet, tmp_path: Path) -> None:
    """The node agent builds its client in the same function: its heartbeat lands on the
    master the sentinel names (after the failover above, the former replica). No runtime is
    needed for that: the beat then carries the runtime's error."""
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "K8S_CHATOPS_REDIS_SENTINELS": f"127.0.0.1:{sentinel_set.sentinel_port}",
        "K8S_CHATOPS_REDIS_SENTINEL_MASTER": MASTER_NAME,
        "K8S_CHATOPS_REDIS_PASSWORD": PASSWORD,
        "K8S_CHATOPS_NODE_NAME": "sentinel-node",
        "K8S_CHATOPS_CLUSTER": "sentinel",
        "K8S_CHATOPS_RUNTIME_ENDPOINT": f"unix://{tmp_path}/no-runtime.sock",
    }
    agent = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "node-agent"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        master = redis.Redis(
            port=sentinel_set.master_port_now(), password=PASSWORD, decode_responses=True
        )
        beat = wait_for(lambda: master.get(agent_key("sentinel", "sentinel-node")), timeout=15)
    finally:
        agent.terminate()
        _, agent_log = agent.communicate(timeout=15)
    assert '"runtime_error"' in beat, beat
    assert f"master '{MASTER_NAME}' via sentinels 127.0.0.1:" in agent_log, agent_log
    assert PASSWORD not in agent_log and "Traceback" not in agent_log


def test_the_password_setting_wins_over_the_urls(sentinel_set: SentinelSet) -> None:
    """Without sentinels too: K8S_CHATOPS_REDIS_PASSWORD replaces a stale one in the URL; with
    sentinels, the URL's database number still applies."""
    port = sentinel_set.master_port_now()
    stale = f"redis://:stale-password@127.0.0.1:{port}/3"
    with pytest.raises(redis.AuthenticationError):
        connect(stale).ping()
    plain = connect(RedisTarget(url=stale, password=PASSWORD))
    plain.set("password-check", "plain")
    through_sentinel = connect(
        RedisTarget(
            url="redis://unused:1/3",
            sentinels=(("127.0.0.1", sentinel_set.sentinel_port),),
            master=MASTER_NAME,
            password=PASSWORD,
        )
    )
    assert through_sentinel.get("password-check") == "plain"  # the same database, 3
    assert redis.Redis(port=port, password=PASSWORD, db=0).get("password-check") is None
