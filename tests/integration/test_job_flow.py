"""One request the whole way: text → grammar → policy → Redis → worker → sandbox → reply."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from conftest import Kubectl
from helpers import make_worker

from bot.commands.dispatcher import Dispatcher
from bot.commands.registry import registry
from bot.jobs.model import WORKER_GROUP, JobState, Origin, queue_key
from bot.jobs.queue import read_group
from bot.jobs.store import JobStore, connect
from handlers.kube import KubeClient, resource_for
from policies.model import PolicyDocument

pytestmark = pytest.mark.integration

SHELL = Origin(surface="shell")


def node_unschedulable(kube: KubeClient, name: str) -> bool:
    return bool(kube.get(resource_for("Node").path(name=name))["spec"].get("unschedulable"))


def run_one(store: JobStore, kube: KubeClient, text: str, user: str, policy: PolicyDocument):  # type: ignore[no-untyped-def]
    reply = Dispatcher(policy, store).submit(text, user=user, origin=SHELL)
    assert reply.job is not None, reply.text
    assert make_worker(store, kube, name="test-worker").run(burst=True) == 1
    return store.get(reply.job.id)


def test_cordon_and_uncordon_through_the_queue(
    store: JobStore, pristine: KubeClient, policy: PolicyDocument, kubectl: Kubectl
) -> None:
    job = run_one(store, pristine, "/k8s cordon k8s-node1", "U_OPS", policy)
    assert job.state is JobState.SUCCEEDED
    assert registry().render_job(job) == "node/k8s-node1 cordoned"
    assert job.worker == "test-worker" and job.attempts == 1
    assert node_unschedulable(pristine, "k8s-node1")
    line = next(ln for ln in kubectl("get", "nodes").stdout.splitlines() if "k8s-node1" in ln)
    assert "Ready,SchedulingDisabled" in line

    again = run_one(store, pristine, "cordon k8s-node1", "U_OPS", policy)
    assert registry().render_job(again) == "node/k8s-node1 already cordoned"

    back = run_one(store, pristine, "uncordon k8s-node1", "U_OPS", policy)
    assert registry().render_job(back) == "node/k8s-node1 uncordoned"
    assert not node_unschedulable(pristine, "k8s-node1")


def test_get_nodes_matches_kubectl(
    store: JobStore, pristine: KubeClient, policy: PolicyDocument, kubectl: Kubectl
) -> None:
    pristine.patch_strategic(
        resource_for("Node").path(name="k8s-node1"), {"spec": {"unschedulable": True}}
    )
    job = run_one(store, pristine, "get nodes", "U_NOBODY", policy)
    ours = [line.split() for line in registry().render_job(job).splitlines()]
    theirs = [line.split() for line in kubectl("get", "nodes").stdout.splitlines()]
    assert ours[0] == theirs[0] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    # Every column but AGE is identical; AGE is rendered a moment apart.
    assert [row[:3] + row[4:] for row in ours] == [row[:3] + row[4:] for row in theirs]
    assert ours[2][1] == "Ready,SchedulingDisabled"


def test_missing_node_fails_with_kubectls_message(
    store: JobStore, kube: KubeClient, policy: PolicyDocument
) -> None:
    job = run_one(store, kube, "cordon no-such-node", "U_OPS", policy)
    assert job.state is JobState.FAILED
    assert registry().render_job(job) == (
        f'Job {job.id} failed: Error from server (NotFound): nodes "no-such-node" not found'
    )


def test_denied_and_invalid_commands_touch_nothing(
    store: JobStore, redis_client: redis.Redis, policy: PolicyDocument
) -> None:
    dispatcher = Dispatcher(policy, store)
    denied = dispatcher.submit("cordon k8s-node1", user="U_VIEW", origin=SHELL)
    assert not denied.ok and denied.job is None
    assert "You (U_VIEW) may not `cordon`" in denied.text
    invalid = dispatcher.submit("cordon K8S_NODE1", user="U_OPS", origin=SHELL)
    assert not invalid.ok and "is not a valid node name" in invalid.text
    assert redis_client.get("k8s-chatops:job-seq") is None
    assert redis_client.xlen(queue_key("sandbox")) == 0


def test_redis_down_gets_an_immediate_clear_reply(policy: PolicyDocument) -> None:
    dead = JobStore(connect("redis://127.0.0.1:1/0"), "sandbox")
    started = time.monotonic()
    reply = Dispatcher(policy, dead).submit("cordon k8s-node1", user="U_OPS", origin=SHELL)
    assert time.monotonic() - started < 3
    assert not reply.ok
    assert (
        reply.text == "I can't reach the job queue (Redis), so nothing was done. Try again shortly."
    )


def test_job_abandoned_by_a_dead_worker_is_finished_by_another(
    store: JobStore, pristine: KubeClient, policy: PolicyDocument
) -> None:
    reply = Dispatcher(policy, store).submit("cordon k8s-node1", user="U_OPS", origin=SHELL)
    assert reply.job is not None
    # A worker takes the entry and dies before acknowledging it.
    taken = read_group(
        store.redis,
        queue_key("sandbox"),
        WORKER_GROUP,
        "dead-worker",
        count=1,
        block_ms=100,
        reclaim_idle_ms=60_000,
    )
    assert [fields["job_id"] for _, fields in taken] == [reply.job.id]
    time.sleep(0.3)
    rescuer = make_worker(store, pristine, name="rescuer", reclaim_idle_seconds=0.2)
    assert rescuer.run(burst=True) == 1
    job = store.get(reply.job.id)
    assert job.state is JobState.SUCCEEDED and job.worker == "rescuer"
    assert store.redis.xpending(queue_key("sandbox"), WORKER_GROUP)["pending"] == 0
    assert node_unschedulable(pristine, "k8s-node1")


def test_help_is_answered_without_a_job(store: JobStore, policy: PolicyDocument) -> None:
    reply = Dispatcher(policy, store).submit("help", user="U_NOBODY", origin=SHELL)
    assert reply.ok and reply.job is None
    # help lists only what this person may run.
    assert "/k8s get nodes" in reply.text and "/k8s cordon NODE" not in reply.text
    operator = Dispatcher(policy, store).submit("help", user="U_OPS", origin=SHELL)
    assert "/k8s cordon NODE" in operator.text and "/k8s drain" not in operator.text


def test_scripted_shell_with_a_separate_worker_process(
    worker_env: dict[str, str],
    redis_client: redis.Redis,
    pristine: KubeClient,
    kubectl: Kubectl,
) -> None:
    env = worker_env
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        shell = subprocess.run(
            [sys.executable, "-m", "bot.cli", "shell", "--user", "U_OPS"],
            input="/k8s get nodes\n/k8s cordon k8s-node1\n/k8s cordn k8s-node1\n\n",
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        worker.terminate()
        _, worker_log = worker.communicate(timeout=15)
    assert shell.returncode == 0, shell.stderr
    lines = shell.stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert lines[1].startswith("k8s-master") and lines[2].startswith("k8s-node1")
    assert lines[3] == "node/k8s-node1 cordoned"
    assert lines[4] == "`cordn` is not a command I know. Did you mean `cordon`?"
    assert len(lines) == 5
    assert "Ready,SchedulingDisabled" in kubectl("get", "node", "k8s-node1").stdout
    assert worker.returncode == 0
    assert "Traceback" not in worker_log


def test_shell_as_prefix_lets_a_second_person_approve(
    store: JobStore, pristine: KubeClient, tmp_path: Path
) -> None:
    from bot.jobs import facts  # noqa: PLC0415
    from bot.surfaces.shell import Shell  # noqa: PLC0415
    from policies.loader import parse_policy  # noqa: PLC0415

    policy = parse_policy(
        "roles: {op: {verbs: [drain, approve, get]}}\n"
        "bindings: [{role: op, users: [U1, U2]}]\n"
        "rules:\n  - {name: two-eyes, verbs: [drain], effect: require_approval,\n"
        "     approval: {count: 1, approvers: {roles: [op]}}}\n",
        "inline",
    )
    facts.publish(pristine, store.redis, "sandbox")
    shell = Shell(Dispatcher(policy, store), store, user="U1", job_timeout=30)
    worker = make_worker(store, pristine, name="w")
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        asked = shell.handle("/k8s drain k8s-node1 --ignore-daemonsets --force")
        assert asked is not None and asked.startswith("Job 1 waits for approval")
        assert shell.handle(":as") == (
            "Use `:as USER COMMAND`, for example `:as U0ONCALL02 /k8s approve 7`."
        )
        done = shell.handle(":as U2 /k8s approve 1")
    finally:
        worker.stop()
        thread.join(timeout=10)
    assert done is not None
    assert done.splitlines()[0] == (
        "Job 1 approved by U2; queued: `drain k8s-node1 --ignore-daemonsets --force`"
    )
    assert "node/k8s-node1 drained" in done
