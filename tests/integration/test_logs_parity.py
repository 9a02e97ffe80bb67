"""Parity with stern (built from its Go module at the pinned version) on the same pods.

Both tools run with the same query and flags against the log scenario; stern with
``--no-follow -o json``. They must select the same lines: the same (namespace, pod,
container, message) multiset. Order is not compared: stern prints containers as their
requests finish, we merge by time (checked in ``test_logs.py``). Our default window is 10
minutes and stern's is 48 hours, so ``--since`` is always given to stern.
"""

from __future__ import annotations

import json
import shlex
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from logs_helpers import Scenario, build_scenario

from bot.commands import grammar
from handlers.control import Control
from handlers.kube import KubeClient
from handlers.logs import pod_logs
from handlers.logs_models import PodLogs
from sandbox import build

pytestmark = pytest.mark.integration

Line = tuple[str, str, str, str]

CASES = [
    "hellok8s",
    "deploy/deployment-hellok8s-go-http",
    "sts/stateful-nginx",
    "pod/go-http",
    ". -i ERROR -e cache",
    ". -i 'GET /(api|healthz)' -i started",
    ". --node k8s-node1",
    ". -c ngin",
    ". -E nginx --exclude-pod go-http",
    "hellok8s --tail 1",
    "go-http --since 30s",
    "go-http --since 3h",
    ". -l app=hellok8s",
    ". --field-selector metadata.name=go-http",
    "coredns -A",
    ". -n default -n kube-system -i INFO",
    ". --container-state running",
    ". --container-state terminated",
]


@pytest.fixture(scope="module")
def stern() -> Path:
    return build.build_stern()


@pytest.fixture
def scenario(pristine: KubeClient, tmp_path: Path) -> Scenario:
    return build_scenario(pristine, tmp_path)


def stern_lines(binary: Path, kubeconfig: Path, command: str) -> Counter[Line]:
    args = shlex.split(command)
    if not any(a == "--since" or a.startswith("--since=") for a in args):
        args += ["--since", "10m"]
    finished = subprocess.run(
        [
            str(binary),
            "--kubeconfig",
            str(kubeconfig),
            "--no-follow",
            "--color",
            "never",
            "-o",
            "json",
            "--only-log-lines",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    records = [json.loads(line) for line in finished.stdout.splitlines() if line.strip()]
    return Counter(
        (r["namespace"], r["podName"], r["containerName"], r["message"]) for r in records
    )


def our_lines(kube: KubeClient, command: str) -> Counter[Line]:
    request = grammar.parse(f"logs {command}")
    assert isinstance(request, PodLogs)
    result = pod_logs(request, kube, Control())
    return Counter((x.namespace, x.pod, x.container, x.text) for x in result.lines)


def test_the_same_lines_as_stern(stern: Path, scenario: Scenario, sandbox: Path) -> None:
    for command in CASES:
        theirs = stern_lines(stern, sandbox, command)
        ours = our_lines(scenario.kube, command)
        assert ours == theirs, (
            f"`{command}`: ours - stern {ours - theirs}, stern - ours {theirs - ours}"
        )
    # The comparison has teeth: the cases above select different, non-empty line sets.
    assert our_lines(scenario.kube, "hellok8s") != our_lines(scenario.kube, "sts/stateful-nginx")
    assert sum(our_lines(scenario.kube, ".").values()) >= 8
