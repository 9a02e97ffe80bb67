"""Start, inspect and stop the sandbox's processes.

Each ``up`` makes fresh certificates and a fresh etcd, picks free loopback ports, starts the
components in dependency order and waits for each to be healthy before the next. What is
running is recorded in ``state.json`` (pids, ports, versions) so ``status`` and ``down`` work
from any shell, and so a second ``up`` can see there is nothing to do.

One component can also be stopped, started, restarted, paused (SIGSTOP) and resumed (SIGCONT)
on its own, with the same command line, ports and etcd data: that is how tests make the API
server or etcd go away under a running job, for real.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core import messages
from core.errors import ConfigurationError
from sandbox import build, pki, runtime, versions
from sandbox.argv import component_argv

_STATE = "state.json"
_STOP_TIMEOUT = 10.0
_START_ORDER = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
#: What ``sandbox stop|start|restart|pause|resume COMPONENT`` accepts.
COMPONENTS = _START_ORDER


@dataclass
class SandboxState:
    """What ``up`` started; serialised to ``state.json``."""

    versions: dict[str, str]
    ports: dict[str, int]
    pids: dict[str, int] = field(default_factory=dict)
    started_at: float = 0.0

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports['kube-apiserver']}"


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.root / "admin.kubeconfig"

    def kubeconfig(self, component: str) -> Path:
        return self.root / f"{component}.kubeconfig"

    @property
    def state(self) -> Path:
        return self.root / _STATE


def paths() -> Paths:
    return Paths(versions.run_dir())


#: Where :func:`free_port` looks first: below Linux's default ephemeral range (32768-60999).
_SERVER_PORTS = (20000, 32768)


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return _SERVER_PORTS[1]


def free_port() -> int:
    """A free loopback port for a server, outside the kernel's ephemeral range when it can.

    Components are restarted on the port they had (tests stop and start them), and a port in
    the ephemeral range can be taken meanwhile as the local end of any outgoing connection on
    the machine (an API server's new etcd connection, say): the restart then fails with
    "address already in use". Below that range only a server that binds it can take it, and a
    random pick keeps parallel test sessions from asking for the same one."""
    low, high = _SERVER_PORTS[0], min(_SERVER_PORTS[1], _ephemeral_low())
    for _attempt in range(50 if high - low >= 1000 else 0):
        port = low + secrets.randbelow(high - low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_state() -> SandboxState | None:
    try:
        raw = json.loads(paths().state.read_text())
    except (OSError, ValueError):
        return None
    return SandboxState(**raw)


def _save_state(state: SandboxState) -> None:
    target = paths().state
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(state), indent=2))
    os.replace(temporary, target)


def process_alive(pid: int, binary: str) -> bool:
    """True if ``pid`` runs ``binary`` (guards against a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    zombie = stat.rsplit(")", 1)[-1].split()[0] == "Z"
    return not zombie and binary.encode() in cmdline.split(b"\0", 1)[0]


def running_components(state: SandboxState) -> dict[str, bool]:
    return {
        name: process_alive(pid, str(versions.bin_dir() / name)) for name, pid in state.pids.items()
    }


def component_states(state: SandboxState) -> dict[str, str]:
    """``running``, ``paused`` (SIGSTOP) or ``stopped``, by component."""
    states = {}
    for name, alive in running_components(state).items():
        if not alive:
            states[name] = "stopped"
            continue
        try:
            stat = Path(f"/proc/{state.pids[name]}/stat").read_text()
        except OSError:
            states[name] = "stopped"
            continue
        states[name] = "paused" if stat.rsplit(")", 1)[-1].split()[0] == "T" else "running"
    return states


def is_running() -> bool:
    state = load_state()
    return bool(state and state.pids and all(running_components(state).values()))


def _tls_context(p: Paths, *, client: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(p.pki / "ca.crt"))
    if client:
        context.load_cert_chain(str(p.pki / "admin.crt"), str(p.pki / "admin.key"))
    return context


def _healthy(url: str, context: ssl.SSLContext | None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ssl.SSLError, http.client.HTTPException):
        return False


def _wait_healthy(
    name: str, url: str, context: ssl.SSLContext | None, process: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if _healthy(url, context):
            return
        if process.poll() is not None:
            break
        time.sleep(0.2)
    log_file = paths().logs / f"{name}.log"
    code = process.poll()
    why = f"it exited with code {code}" if code is not None else f"no answer from {url} in 90s"
    raise ConfigurationError(
        messages.SANDBOX_COMPONENT_FAILED.format(name=name, why=why, log=log_file)
    )


def _make_pki(p: Paths, state: SandboxState) -> None:
    ca = pki.CertificateAuthority(p.pki)
    ca.issue(
        "apiserver",
        "kube-apiserver",
        server_names=(
            "localhost",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
        ),
        server_ips=("127.0.0.1", "10.96.0.1"),
    )
    ca.issue("kubelet-client", "kube-apiserver-kubelet-client", organization="system:masters")
    ca.issue(
        "kwok-serving", "kwok", server_names=("localhost",), server_ips=("127.0.0.1",), client=False
    )
    ca.issue(
        "controller-manager",
        "kube-controller-manager",
        server_names=("localhost",),
        server_ips=("127.0.0.1",),
    )
    ca.issue("scheduler", "kube-scheduler", server_names=("localhost",), server_ips=("127.0.0.1",))
    pki.write_service_account_key(p.pki)
    identities = {
        "admin": ("admin", "kubernetes-admin", "system:masters"),
        "kube-controller-manager": ("kcm-client", "system:kube-controller-manager", None),
        "kube-scheduler": ("scheduler-client", "system:kube-scheduler", None),
        "kwok": ("kwok-client", "kwok-controller", "system:masters"),
    }
    for component, (cert_name, user, group) in identities.items():
        pair = ca.issue(cert_name, user, organization=group)
        target = p.admin_kubeconfig if component == "admin" else p.kubeconfig(component)
        pki.write_kubeconfig(target, server=state.server, ca=ca.pair.cert, client=pair, user=user)


def _health_url(name: str, state: SandboxState) -> tuple[str, bool] | None:
    """URL proving ``name`` is serving, and whether it needs the admin client certificate."""
    port = state.ports
    if name == "etcd":
        return f"http://127.0.0.1:{port['etcd']}/health", False
    if name == "kube-apiserver":
        return f"{state.server}/readyz", True
    if name in ("kube-controller-manager", "kube-scheduler"):
        return f"https://127.0.0.1:{port[name]}/healthz", False
    return None


def _start(name: str, argv: list[str], p: Paths) -> subprocess.Popen[bytes]:
    log_file = (p.logs / f"{name}.log").open("ab")
    with log_file:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=p.root,
        )


def _prepare_crds(p: Paths) -> None:
    """The kwok CRDs must exist before kwok starts, or it refuses ``--enable-crds``."""
    from sandbox import seed  # noqa: PLC0415 - needs the client only once the API is up

    seed.apply_crds(p.admin_kubeconfig, build.crd_dir())


def up() -> SandboxState:
    """Start the sandbox unless it already runs; return what is running. When only some of its
    components have exited, start those again (as a kubelet restarts a static pod): the
    scheduler, for one, exits on purpose when an API server outage leaves its cache in doubt."""
    current = load_state()
    if current and current.pids and all(running_components(current).values()):
        return current
    if current and any(running_components(current).values()):
        revive()
        return load_state() or current
    if current:
        down()
    build.build()
    p = paths()
    runtime.down()  # a node runtime left from an earlier run holds mounts under the run dir
    if p.root.exists():
        _remove_tree(p.root)
    for directory in (p.root, p.pki, p.logs):
        directory.mkdir(parents=True, exist_ok=True)
    p.root.chmod(0o700)
    state = SandboxState(
        versions={"kubernetes": versions.KUBERNETES, "etcd": versions.ETCD, "kwok": versions.KWOK},
        ports={name: free_port() for name in (*_START_ORDER, "etcd-peer")},
        started_at=time.time(),
    )
    _make_pki(p, state)
    commands = component_argv(p, state)
    try:
        for name in _START_ORDER:
            if name == "kwok":
                _prepare_crds(p)
            _launch(name, commands[name], p, state)
    except BaseException:
        down()
        raise
    return state


def _launch(name: str, argv: list[str], p: Paths, state: SandboxState) -> int:
    """Start one component, record its pid, and wait until it is healthy."""
    process = _start(name, argv, p)
    state.pids[name] = process.pid
    _save_state(state)
    health = _health_url(name, state)
    if health is not None:
        url, needs_client = health
        context = _tls_context(p, client=needs_client) if url.startswith("https") else None
        _wait_healthy(name, url, context, process)
    return process.pid


def revive() -> list[str]:
    """Start every component that has exited, in start order; the names started."""
    state = load_state()
    if state is None:
        return []
    stopped = [name for name, alive in running_components(state).items() if not alive]
    started = [name for name in _START_ORDER if name in stopped]
    for name in started:
        start_component(name)
    return started


def _component(name: str) -> tuple[SandboxState, int, str]:
    """The sandbox's state, and ``name``'s pid and binary; refuses an unknown name."""
    if name not in COMPONENTS:
        raise ConfigurationError(
            messages.SANDBOX_UNKNOWN_COMPONENT.format(name=name, names=", ".join(COMPONENTS))
        )
    state = load_state()
    if state is None or name not in state.pids:
        raise ConfigurationError(messages.SANDBOX_NOT_RUNNING.format())
    return state, state.pids[name], str(versions.bin_dir() / name)


def stop_component(name: str, *, grace: float = _STOP_TIMEOUT) -> bool:
    """Stop one component: SIGTERM, as an upgrade does, then SIGKILL after ``grace`` seconds.
    False if it was not running. (kube-apiserver stops listening at once on SIGTERM, but its
    process lingers ~10 s more; a short grace saves tests that time.)"""
    _state, pid, binary = _component(name)
    if not process_alive(pid, binary):
        return False
    _terminate(pid, grace=grace)
    return True


def start_component(name: str) -> int:
    """Start one stopped component again, as ``up`` started it; its pid (the running one's,
    if it was not stopped)."""
    state, pid, binary = _component(name)
    if process_alive(pid, binary):
        return pid
    p = paths()
    return _launch(name, component_argv(p, state)[name], p, state)


def restart_component(name: str, *, down_for: float = 0.0, grace: float = _STOP_TIMEOUT) -> float:
    """A new process for one component (same flags, ports and etcd data), ``down_for``
    seconds after the old one stopped; the seconds it was away, until healthy again."""
    started = time.monotonic()
    stop_component(name, grace=grace)
    time.sleep(down_for)
    start_component(name)
    return time.monotonic() - started


def pause_component(name: str) -> int:
    """Freeze one component (SIGSTOP): its sockets stay open and nothing answers."""
    return _signal_component(name, signal.SIGSTOP)


def resume_component(name: str) -> int:
    return _signal_component(name, signal.SIGCONT)


def _signal_component(name: str, signum: signal.Signals) -> int:
    _state, pid, binary = _component(name)
    if not process_alive(pid, binary):
        raise ConfigurationError(messages.SANDBOX_COMPONENT_NOT_RUNNING.format(name=name))
    os.kill(pid, signum)
    return pid


def _remove_tree(root: Path) -> None:
    for child in sorted(root.rglob("*"), key=lambda path: len(path.parts), reverse=True):
        if child.is_dir() and not child.is_symlink():
            child.rmdir()
        else:
            child.unlink()


def down() -> list[str]:
    """Stop every process ``up`` started (newest first), and the node runtimes with their
    containers; return the names that were stopped."""
    stopped = runtime.down()
    state = load_state()
    if state is None:
        return stopped
    for name in reversed(_START_ORDER):
        pid = state.pids.get(name)
        if pid is None:
            continue
        binary = str(versions.bin_dir() / name)
        if process_alive(pid, binary):
            _terminate(pid)
            stopped.append(name)
    with contextlib.suppress(FileNotFoundError):
        paths().state.unlink()
    return stopped


def _terminate(pid: int, *, grace: float = _STOP_TIMEOUT) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
        os.killpg(pid, signal.SIGCONT)  # a paused process acts on SIGTERM only once resumed
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if _exited(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    while not _exited(pid):
        time.sleep(0.05)


def _exited(pid: int) -> bool:
    """Gone or a zombie: only then are its ports and files released. (An exiting process
    loses its command line first, so :func:`process_alive` says "not alive" a moment before
    a new one could bind the same port.)"""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")
