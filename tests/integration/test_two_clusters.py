"""Two sandbox clusters at once, one bot, one Redis, a worker per cluster.

The second sandbox runs from its own run directory (``K8S_CHATOPS_SECOND_SANDBOX_RUN_DIR``,
by default the first one's with ``-b`` appended), started here if it is not running and
stopped again at the end (unless ``K8S_CHATOPS_KEEP_SANDBOX`` is set). Both are seeded with
the same scenario, so both have a node called ``k8s-node1``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from helpers import make_worker, wait_for

from bot.commands.dispatcher import Dispatcher
from bot.jobs import clusters, facts
from bot.jobs.clusters import Heartbeat, WorkerBeat
from bot.jobs.locks import Locks
from bot.jobs.model import SEQUENCE_KEY, JobState, Origin, queue_key
from bot.jobs.store import JobStore
from bot.jobs.worker import Worker
from handlers.kube import KubeClient, resource_for
from policies.loader import parse_policy
from policies.model import PolicyDocument
from sandbox import seed, versions

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # a second sandbox: ~15 s to start

SHELL = Origin(surface="shell")
ALPHA_ROOM = Origin(surface="slack", channel="C0ALPHA")
POLICY = """
version: 1
clusters: [alpha, beta]
channels: {alpha-room: [C0ALPHA]}
channel_defaults: {alpha-room: {cluster: alpha}}
roles:
  viewer: {verbs: [help, whoami, get, jobs, audit]}
  admin: {verbs: ["*"]}
bindings:
  - {role: viewer, everyone: true}
  - {role: admin, users: [U_ADMIN, U_ADMIN2]}
rules:
  - name: beta-masters-need-a-second-person
    clusters: [beta]
    verbs: [cordon]
    nodes: {names: [k8s-master]}
    effect: require_approval
    approval: {count: 1, approvers: {roles: [admin]}, expires_in: 1h}
"""


def _second_run_dir() -> Path:
    configured = os.environ.get("K8S_CHATOPS_SECOND_SANDBOX_RUN_DIR")
    return Path(configured) if configured else Path(f"{versions.run_dir()}-b")


def _sandbox_cli(run_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox.commands", *args],
        env=dict(os.environ, K8S_CHATOPS_SANDBOX_RUN_DIR=str(run_dir)),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="session")
def second_sandbox(sandbox: Path) -> Iterator[Path]:
    """A second sandbox next to the first; yields its admin kubeconfig."""
    run_dir = _second_run_dir()
    assert run_dir != versions.run_dir()
    started_here = _sandbox_cli(run_dir, "status").returncode != 0
    started = _sandbox_cli(run_dir, "up")
    assert started.returncode == 0, started.stderr
    yield run_dir / "admin.kubeconfig"
    if started_here and not os.environ.get("K8S_CHATOPS_KEEP_SANDBOX"):
        _sandbox_cli(run_dir, "down")


@pytest.fixture
def kube_b(second_sandbox: Path) -> Iterator[KubeClient]:
    client = KubeClient.connect(str(second_sandbox))
    seed.reset(client)
    yield client
    client.close()


@pytest.fixture
def policy_two() -> PolicyDocument:
    return parse_policy(POLICY, "two-clusters.yaml")


@pytest.fixture
def alpha(redis_client: redis.Redis) -> JobStore:
    store = JobStore(redis_client, "alpha")
    store.ensure_groups()
    return store


@pytest.fixture
def beta(redis_client: redis.Redis) -> JobStore:
    store = JobStore(redis_client, "beta")
    store.ensure_groups()
    return store


@pytest.fixture
def bot(redis_client: redis.Redis, policy_two: PolicyDocument) -> Dispatcher:
    """The bot: serves every cluster, has no default of its own (K8S_CHATOPS_CLUSTER unset)."""
    return Dispatcher(policy_two, JobStore(redis_client, "default"), default_cluster=None)


def unschedulable(kube: KubeClient, node: str = "k8s-node1") -> bool:
    return bool(kube.get(resource_for("Node").path(name=node))["spec"].get("unschedulable"))


def pods_on(kube: KubeClient, node: str) -> list[str]:
    path = resource_for("Pod").path()
    return sorted(
        f"{p['metadata']['namespace']}/{p['metadata']['name']}"
        for p in kube.list_pages(path)
        if p["spec"].get("nodeName") == node
    )


def run_queue(store: JobStore, kube: KubeClient, **options: object) -> int:
    return make_worker(store, kube, name=f"w-{store.cluster}", **options).run(burst=True)


def test_commands_are_routed_by_option_by_channel_default_or_refused(
    bot: Dispatcher,
    alpha: JobStore,
    beta: JobStore,
    pristine: KubeClient,
    kube_b: KubeClient,
    redis_client: redis.Redis,
) -> None:
    named = bot.submit("-C beta cordon k8s-node1", user="U_ADMIN", origin=SHELL)
    assert named.ok and named.job is not None, named.text
    assert named.job.cluster == "beta" and "(cluster beta)" in named.text
    assert redis_client.xlen(queue_key("beta")) == 1 and redis_client.xlen(queue_key("alpha")) == 0
    assert run_queue(alpha, pristine) == 0  # alpha's worker never sees beta's job
    assert run_queue(beta, kube_b) == 1
    assert alpha.get(named.job.id).state is JobState.SUCCEEDED
    assert unschedulable(kube_b) and not unschedulable(pristine)

    by_channel = bot.submit("cordon k8s-node1", user="U_ADMIN", origin=ALPHA_ROOM)
    assert by_channel.job is not None and by_channel.job.cluster == "alpha", by_channel.text
    assert run_queue(alpha, pristine) == 1
    assert unschedulable(pristine)

    sequence = redis_client.get(SEQUENCE_KEY)
    refused = bot.submit("uncordon k8s-node1", user="U_ADMIN", origin=SHELL)
    assert not refused.ok and refused.job is None
    assert refused.text == (
        "Which cluster? There is no default cluster here, so name one, as in "
        "`/k8s -C alpha uncordon k8s-node1`. Known clusters: `alpha`, `beta`."
    )
    typo = bot.submit("-C bta uncordon k8s-node1", user="U_ADMIN", origin=SHELL)
    assert typo.text == (
        "I know no cluster named `bta`. Did you mean `beta`? Known clusters: `alpha`, `beta`."
    )
    assert redis_client.get(SEQUENCE_KEY) == sequence  # nothing was queued

    # Records are global by id: jobs, audit and cancel reach every cluster's.
    listing = bot.submit("jobs", user="U_ADMIN", origin=SHELL).text.splitlines()
    assert [line.split()[:2] for line in listing[1:]] == [["2", "alpha"], ["1", "beta"]]
    only_beta = bot.submit("-C beta jobs", user="U_ADMIN", origin=SHELL).text.splitlines()
    assert [line.split()[:2] for line in only_beta[1:]] == [["1", "beta"]]
    audit = bot.submit("-C beta audit", user="U_ADMIN", origin=SHELL).text
    assert "requested job 1 on beta" in audit and "succeeded job 1 on beta" in audit
    assert "on alpha" not in audit
    refusal = bot.submit("audit", user="U_ADMIN", origin=SHELL).text.splitlines()
    assert any("rejected" in line and "bta" in line for line in refusal)


def test_the_same_node_drained_in_one_cluster_is_untouched_in_the_other(
    bot: Dispatcher, beta: JobStore, pristine: KubeClient, kube_b: KubeClient
) -> None:
    before_alpha = pods_on(pristine, "k8s-node1")
    reply = bot.submit(
        "-C beta drain k8s-node1 --ignore-daemonsets --force", user="U_ADMIN", origin=SHELL
    )
    assert reply.job is not None, reply.text
    assert run_queue(beta, kube_b) == 1
    job = beta.get(reply.job.id)
    assert job.state is JobState.SUCCEEDED, job.error
    assert unschedulable(kube_b)
    left = pods_on(kube_b, "k8s-node1")
    assert len(left) < len(before_alpha)
    assert not unschedulable(pristine)
    assert pods_on(pristine, "k8s-node1") == before_alpha


def test_facts_locks_and_the_disruption_cap_are_per_cluster(
    bot: Dispatcher,
    alpha: JobStore,
    beta: JobStore,
    pristine: KubeClient,
    kube_b: KubeClient,
    redis_client: redis.Redis,
) -> None:
    first = bot.submit("-C alpha cordon k8s-node1", user="U_ADMIN", origin=SHELL)
    second = bot.submit("-C beta cordon k8s-node1", user="U_ADMIN", origin=SHELL)
    third = bot.submit("-C alpha cordon k8s-master", user="U_ADMIN", origin=SHELL)
    assert first.job and second.job and third.job
    assert run_queue(alpha, pristine, max_disrupted_nodes=1) == 2
    assert run_queue(beta, kube_b, max_disrupted_nodes=1) == 1
    # One node out of service in each cluster is within a cap of one per cluster…
    assert alpha.get(first.job.id).state is JobState.SUCCEEDED
    assert beta.get(second.job.id).state is JobState.SUCCEEDED
    # …and a second one in the same cluster is not.
    refused = alpha.get(third.job.id)
    assert refused.state is JobState.FAILED
    assert refused.error is not None and f"k8s-node1 (job {first.job.id})" in refused.error
    assert not unschedulable(pristine, "k8s-master")
    assert Locks(redis_client, "alpha").disrupted() == {"k8s-node1": first.job.id}
    assert Locks(redis_client, "beta").disrupted() == {"k8s-node1": second.job.id}

    # Target locks are per cluster too: a node held in alpha is free in beta.
    alpha_locks, beta_locks = Locks(redis_client, "alpha"), Locks(redis_client, "beta")
    assert alpha_locks.acquire("node/k8s-node1", "100", 5000) == "100"
    assert beta_locks.acquire("node/k8s-node1", "200", 5000) == "200"
    assert alpha_locks.acquire("node/k8s-node1", "300", 5000) == "100"

    # Node facts: each cluster's workers publish their own.
    facts.publish(pristine, redis_client, "alpha")
    facts.publish(kube_b, redis_client, "beta")
    bot.submit("-C beta uncordon k8s-node1", user="U_ADMIN", origin=SHELL)
    run_queue(beta, kube_b)
    facts.publish(kube_b, redis_client, "beta")
    assert facts.read(redis_client, "alpha", "k8s-node1").unschedulable is True
    assert facts.read(redis_client, "beta", "k8s-node1").unschedulable is False
    assert facts.read(redis_client, None, "k8s-node1").unschedulable is None


def test_a_rule_scoped_to_one_cluster_and_an_approval_that_queues_on_the_jobs_cluster(
    bot: Dispatcher,
    alpha: JobStore,
    beta: JobStore,
    pristine: KubeClient,
    kube_b: KubeClient,
    redis_client: redis.Redis,
) -> None:
    on_alpha = bot.submit("-C alpha cordon k8s-master", user="U_ADMIN", origin=SHELL)
    assert on_alpha.job is not None and on_alpha.job.state is JobState.QUEUED
    on_beta = bot.submit("-C beta cordon k8s-master", user="U_ADMIN", origin=SHELL)
    assert on_beta.job is not None and on_beta.job.state is JobState.AWAITING_APPROVAL
    assert "It expires at" in on_beta.text and "UTC. Cluster: beta." in on_beta.text
    assert run_queue(beta, kube_b) == 0
    # Approved from anywhere (the bot's own store serves no cluster), it is queued on beta's.
    approved = bot.submit(f"approve {on_beta.job.id}", user="U_ADMIN2", origin=SHELL)
    assert approved.ok, approved.text
    assert redis_client.xlen(queue_key("beta")) == 1
    assert not redis_client.exists(queue_key("default"))
    assert run_queue(beta, kube_b) == 1
    assert beta.get(on_beta.job.id).state is JobState.SUCCEEDED
    assert unschedulable(kube_b, "k8s-master") and not unschedulable(pristine, "k8s-master")
    mismatch = bot.submit(f"-C alpha cancel {on_beta.job.id}", user="U_ADMIN", origin=SHELL)
    assert mismatch.text == (
        f"Job {on_beta.job.id} is on cluster `beta`, not `alpha`; nothing was done."
    )


class _Served:
    """A worker of one cluster running in a thread, with its heartbeat."""

    def __init__(self, store: JobStore, kube: KubeClient, name: str) -> None:
        self.worker: Worker = make_worker(store, kube, name=name)
        self.heartbeat = Heartbeat(kube, store.redis, store.cluster, name, interval=1.0)
        self.thread = threading.Thread(target=self.worker.run, daemon=True)
        self.heartbeat.start()
        self.thread.start()

    def stop(self) -> None:
        self.worker.stop()
        self.thread.join(timeout=15)
        self.heartbeat.stop()


def test_clusters_shows_a_stopped_cluster_and_its_job_waits_for_a_worker(
    bot: Dispatcher,
    alpha: JobStore,
    beta: JobStore,
    pristine: KubeClient,
    kube_b: KubeClient,
) -> None:
    nodes = str(len(list(kube_b.list_pages(resource_for("Node").path()))))
    served = [_Served(alpha, pristine, "worker-a"), _Served(beta, kube_b, "worker-b")]
    try:
        wait_for(lambda: len(clusters.seen(alpha.redis, 3600)) == 2, timeout=10)
        table = bot.submit("clusters", user="U_SOMEONE", origin=SHELL).text.splitlines()
        assert table[0].split() == ["CLUSTER", "WORKERS", "VERSION", "NODES", "QUEUED", "OLDEST"]
        assert table[1].split() == ["alpha", "1", versions.KUBERNETES, nodes, "0", "-"]
        assert table[2].split() == ["beta", "1", versions.KUBERNETES, nodes, "0", "-"]
        assert len(table) == 3

        served[1].stop()  # every worker of beta is gone
        table = bot.submit("clusters", user="U_SOMEONE", origin=SHELL).text.splitlines()
        assert table[2].split() == ["beta", "none", "-", "-", "0", "-"]
        assert table[3] == "No worker for cluster beta is running; jobs waiting for one: 0."

        waiting = bot.submit("-C beta cordon k8s-node1", user="U_ADMIN", origin=SHELL)
        assert waiting.job is not None and waiting.no_worker
        assert waiting.text.endswith(
            "(cluster beta) No worker for cluster beta is running; the job waits until one starts."
        )
        time.sleep(2)
        assert beta.get(waiting.job.id).state is JobState.QUEUED  # waits, does not fail
        table = bot.submit("clusters", user="U_SOMEONE", origin=SHELL).text.splitlines()
        assert table[2].split()[:5] == ["beta", "none", "-", "-", "1"]
        assert table[2].endswith(f"(job {waiting.job.id})")
        assert table[3] == "No worker for cluster beta is running; jobs waiting for one: 1."
        # alpha's worker is alive and does not take it.
        assert not unschedulable(kube_b)

        served[1] = _Served(beta, kube_b, "worker-b2")  # a worker comes back
        finished = beta.wait_finished(waiting.job.id, timeout=30)
        assert finished is not None and finished.state is JobState.SUCCEEDED
        assert finished.worker == "worker-b2"
        assert unschedulable(kube_b) and not unschedulable(pristine)
        wait_for(lambda: clusters.live_workers(beta.redis, "beta"), timeout=10)
        table = bot.submit("-C beta clusters", user="U_SOMEONE", origin=SHELL).text.splitlines()
        assert table[1].split() == ["beta", "1", versions.KUBERNETES, nodes, "0", "-"]
        assert len(table) == 2
    finally:
        for one in served:
            one.stop()


def test_a_heartbeat_that_is_not_renewed_expires(redis_client: redis.Redis) -> None:
    clusters.beat(redis_client, WorkerBeat(worker="w1", cluster="gamma", nodes=3), ttl=0.5)
    assert [b.worker for b in clusters.live_workers(redis_client, "gamma")] == ["w1"]
    time.sleep(0.7)
    assert clusters.live_workers(redis_client, "gamma") == []
    assert clusters.seen(redis_client, 3600) == ["gamma"]  # still known: its jobs would wait
    assert clusters.seen(redis_client, 0.1) == []  # forgotten after the retention


def _worker_process(env: dict[str, str], cluster: str, kubeconfig: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"],
        env={
            **env,
            "K8S_CHATOPS_CLUSTER": cluster,
            "KUBECONFIG": str(kubeconfig),
            "K8S_CHATOPS_WORKER_NAME": f"proc-{cluster}",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_worker_processes_and_a_shell_with_two_clusters(
    worker_env: dict[str, str],
    second_sandbox: Path,
    sandbox: Path,
    pristine: KubeClient,
    kube_b: KubeClient,
    redis_client: redis.Redis,
    tmp_path: Path,
) -> None:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(POLICY)
    env = {**worker_env, "K8S_CHATOPS_POLICY_FILE": str(policy_file)}
    workers = [
        _worker_process(env, "alpha", sandbox),
        _worker_process(env, "beta", second_sandbox),
    ]
    try:
        wait_for(
            lambda: all(clusters.live_workers(redis_client, c) for c in ("alpha", "beta")),
            timeout=30,
        )
        beat = clusters.live_workers(redis_client, "beta")[0]
        assert beat.worker == "proc-beta" and beat.kubernetes_version == versions.KUBERNETES
        shell_env = {k: v for k, v in env.items() if k != "K8S_CHATOPS_CLUSTER"}
        shell = subprocess.run(
            [sys.executable, "-m", "bot.cli", "shell", "--user", "U_ADMIN"],
            input="/k8s -C beta cordon k8s-node1\n/k8s cordon k8s-node1\n",
            env=shell_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert shell.returncode == 0, shell.stderr
        assert shell.stdout.splitlines() == [
            "Job 1 on cluster beta:",
            "node/k8s-node1 cordoned",
            "Which cluster? There is no default cluster here, so name one, as in "
            "`/k8s -C alpha cordon k8s-node1`. Known clusters: `alpha`, `beta`.",
        ]
        assert unschedulable(kube_b) and not unschedulable(pristine)
    finally:
        for process in workers:
            process.send_signal(signal.SIGTERM)
        logs = [process.communicate(timeout=30)[1] for process in workers]
    assert all(process.returncode == 0 for process in workers), logs
    # Stopped workers retire their heartbeats at once.
    assert clusters.live_workers(redis_client, "beta") == []
    lines = [json.loads(line) for line in logs[1].splitlines() if line.startswith("{")]
    assert lines and all(line.get("cluster") == "beta" for line in lines)
    assert any("job 1 succeeded" in line["message"] for line in lines)
