"""Real node agents for integration tests: one ``k8s-chatops node-agent`` subprocess per
sandbox node, on its containerd, with this session's Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import redis
from helpers import wait_for

from core.nodework import agent_key
from sandbox import runtime

#: The cluster name the agents (and the workers that talk to them) serve in these tests.
CLUSTER = "sandbox"


class Agents:
    """One ``k8s-chatops node-agent`` process per sandbox node."""

    def __init__(self, redis_url: str, tmp: Path) -> None:
        self.redis_url, self.tmp = redis_url, tmp
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def env(self, node: runtime.RuntimeNode) -> dict[str, str]:
        return {
            **os.environ,
            "K8S_CHATOPS_REDIS_URL": self.redis_url,
            "K8S_CHATOPS_NODE_NAME": node.name,
            "K8S_CHATOPS_CLUSTER": CLUSTER,
            "K8S_CHATOPS_RUNTIME_ENDPOINT": node.endpoint,
            "K8S_CHATOPS_POD_LOG_DIR": str(node.log_dir),
            "K8S_CHATOPS_IMAGE_FS_PATH": str(node.image_fs),
            "K8S_CHATOPS_LOG_LEVEL": "INFO",
        }

    def start(self, name: str) -> None:
        node = runtime.node(name)
        log = (self.tmp / f"agent-{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "node-agent"],
            env=self.env(node),
            stdout=log,
            stderr=log,
        )
        client = redis.Redis.from_url(self.redis_url, decode_responses=True)
        wait_for(lambda: client.exists(agent_key(CLUSTER, name)), timeout=20)

    def kill(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=15)
