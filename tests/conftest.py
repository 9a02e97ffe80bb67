"""Shared fixtures: a real redis-server, the sandbox cluster, and a policy file.

Integration tests never mock Redis or Kubernetes. A redis-server is started on a free loopback
port for the session (its database is flushed around every test, as rq's tests do). The
sandbox is started if it is not already running, and stopped at the end if this session
started it. A missing redis-server or Go toolchain is an error, not a silent skip.

Under pytest-xdist (``make test`` runs ``-n 2 --dist loadfile``) every worker is a session of
its own: its own Redis, and its own sandbox in ``<run dir>-<worker id>`` (``run-gw0``, and
``run-gw0-b`` for a second cluster), because tests stop, freeze and restart their sandbox's
processes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from helpers import NodeAgentProcesses

from bot.jobs.store import JobStore
from handlers.kube import KubeClient
from policies.loader import load_policy
from policies.model import PolicyDocument
from sandbox import cluster, runtime, seed, versions

REPO = Path(__file__).resolve().parent.parent

POLICY_YAML = """
version: 1
roles:
  viewer: {verbs: [help, whoami, get, jobs, logs]}
  operator: {verbs: [help, whoami, get, jobs, audit, cordon, uncordon, logs, node-logs]}
  admin: {verbs: ["*"]}
bindings:
  - {role: viewer, everyone: true}
  - {role: operator, users: [U_OPS]}
  - {role: admin, users: [U_ADMIN]}
rules:
  - {name: kube-system-logs, verbs: [logs], namespaces: [kube-system], effect: deny,
     unless: {roles: [operator, admin]}, reason: "kube-system logs are for operators."}
"""


def pytest_configure(config: pytest.Config) -> None:
    """An xdist worker's own sandbox run dir, set before any fixture (or subprocess) reads it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or versions.run_dir().name.endswith(f"-{worker}"):
        return  # not a worker, or a pytest started by one (it inherits the environment)
    os.environ["K8S_CHATOPS_SANDBOX_RUN_DIR"] = f"{versions.run_dir()}-{worker}"
    second = os.environ.get("K8S_CHATOPS_SECOND_SANDBOX_RUN_DIR")
    if second:
        os.environ["K8S_CHATOPS_SECOND_SANDBOX_RUN_DIR"] = f"{second}-{worker}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, the modules with ``slow`` tests first (each worker collects the same order,
    and ``--dist loadfile --no-loadscope-reorder`` hands out whole modules in this order): the
    longest start at once, on different workers, and the short ones fill in around them."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)  # stable: the rest keep their order


@pytest.fixture(scope="session")
def policy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("policy") / "policy.yaml"
    path.write_text(POLICY_YAML)
    return path


@pytest.fixture(scope="session")
def policy(policy_file: Path) -> PolicyDocument:
    return load_policy(policy_file)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: `apt-get install -y redis-server`")
    port = cluster.free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--protected-mode",
            "yes",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def store(redis_client: redis.Redis) -> JobStore:
    job_store = JobStore(redis_client, "sandbox")
    job_store.ensure_groups()
    return job_store


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Path]:
    """A running sandbox (started here if needed); yields the admin kubeconfig path."""
    started_here = not cluster.is_running()
    if started_here:
        cluster.up()
    kube = KubeClient.connect(str(cluster.paths().admin_kubeconfig))
    try:
        seed.reset(kube)
    finally:
        kube.close()
    yield cluster.paths().admin_kubeconfig
    if started_here and not os.environ.get("K8S_CHATOPS_KEEP_SANDBOX"):
        cluster.down()


@pytest.fixture
def kube(sandbox: Path) -> Iterator[KubeClient]:
    client = KubeClient.connect(str(sandbox))
    yield client
    client.close()


@pytest.fixture
def pristine(kube: KubeClient) -> KubeClient:
    """The seed scenario, restored before the test (``sandbox reset``)."""
    seed.reset(kube)
    return kube


@pytest.fixture
def worker_env(redis_url: str, policy_file: Path, sandbox: Path) -> dict[str, str]:
    """The environment of a ``k8s-chatops worker`` or ``shell`` run as a subprocess: this
    session's Redis, policy and sandbox. Add a test's own settings with ``{**worker_env, …}``."""
    return dict(
        os.environ,
        K8S_CHATOPS_REDIS_URL=redis_url,
        K8S_CHATOPS_POLICY_FILE=str(policy_file),
        K8S_CHATOPS_CLUSTER="sandbox",
        KUBECONFIG=str(sandbox),
    )


Kubectl = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture(scope="session")
def kubectl(sandbox: Path) -> Kubectl:
    """Run the reference kubectl (built at the sandbox's own version) against the sandbox."""
    binary = str(versions.bin_dir() / "kubectl")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [binary, f"--kubeconfig={sandbox}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run


# --- sandbox node runtime
@pytest.fixture(scope="session")
def node_runtime(sandbox: Path) -> Iterator[dict]:
    """The seed nodes' real containerds (started here if needed, stopped at the end if this
    session started them); yields the runtime manifest (``sandbox.runtime.manifest()``).
    After ``sandbox``: starting the cluster makes a fresh run directory, the runtimes' too."""
    started_here = not runtime.is_running()
    runtime.up()
    yield runtime.manifest() if started_here else runtime.reset()
    if started_here and not os.environ.get("K8S_CHATOPS_KEEP_SANDBOX"):
        runtime.down()


@pytest.fixture
def runtime_pristine(node_runtime: dict) -> dict:
    """The seed images and containers, restored before the test; the fresh manifest."""
    return runtime.reset()


@pytest.fixture(scope="module")
def node_agents(
    redis_url: str, node_runtime: dict, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NodeAgentProcesses]:
    """A real ``k8s-chatops node-agent`` per sandbox node, for the cluster ``sandbox`` (the
    job store's), started once for the module and stopped after it. A module using it should
    empty Redis between tests with ``clear_redis_but_heartbeats`` rather than a flush."""
    agents = NodeAgentProcesses(redis_url, "sandbox", tmp_path_factory.mktemp("agents"))
    try:
        agents.start_all()
        yield agents
    finally:
        agents.stop_all()
