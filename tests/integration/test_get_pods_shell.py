"""``get pods`` and ``get events`` end to end: typed in the terminal chat, queued, run by a
separate worker process on the sandbox, and shown; bad input answered with a sentence."""

from __future__ import annotations

import subprocess
import sys

import pytest

from handlers.kube import KubeClient
from sandbox import pod_states

pytestmark = pytest.mark.integration

NAMESPACE = "get-pods-shell"


def test_reads_through_a_worker(worker_env: dict[str, str], pristine: KubeClient) -> None:
    pod_states.create(pristine, NAMESPACE)
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"],
        env=worker_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        shell = subprocess.run(
            [sys.executable, "-m", "bot.cli", "shell", "--user", "U_OPS"],
            input=f"/k8s get pods -n {NAMESPACE} -l app=crashloop\n"
            "/k8s get pods -n no-such-namespace\n"
            "/k8s get po -l app=nothing\n"
            "/k8s get pods -A\n"
            "/k8s get pods -o json\n",
            env=worker_env,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    finally:
        worker.terminate()
        _, worker_log = worker.communicate(timeout=15)
        pod_states.release(pristine, NAMESPACE)
    assert shell.returncode == 0, shell.stderr
    out = shell.stdout
    assert "CrashLoopBackOff" in out and "Pods: 1 (1 CrashLoopBackOff)." in out, out
    assert "There is no namespace no-such-namespace on this cluster." in out, out
    assert "No resources found in default namespace." in out, out
    # The 15 seed pods and the 7 held ones, each state once, counted by status.
    assert "Pods: 22 (15 Running, 1 CrashLoopBackOff, " in out, out
    for shown in ("Init:0/1", "Terminating", "Pending", "Completed", "Error"):
        assert f" 1 {shown}" in out.splitlines()[-2], out
    assert "`--output=json`: must be one of wide." in out, out
    assert "Traceback" not in worker_log and "Traceback" not in out
