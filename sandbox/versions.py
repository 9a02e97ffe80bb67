"""Pinned component versions and where their binaries are cached.

The versions must match ``sandbox/go/*/go.mod``; a test checks that they do. The cache lives
outside the repository so a fresh clone on the same machine reuses the binaries.
"""

from __future__ import annotations

import os
from pathlib import Path

KUBERNETES = "v1.37.2"
ETCD = "v3.7.3"
KWOK = "v0.8.0"
#: The reference the log-fetch parity test and benchmark run against; not part of the cluster.
STERN = "v1.33.0"
#: The chart's tests (lint, template, install into the sandbox) run this helm; not a part of
#: the cluster either.
HELM = "v4.3.1"

#: The sandbox's node runtime (``sandbox/go/runtime``): one containerd per simulated node.
CONTAINERD = "v2.4.2"
RUNC = "v1.5.3"
CRI_TOOLS = "v1.37.0"
GO_CONTAINERREGISTRY = "v0.22.1"
#: Built from the runtime module: the upstream tools, then our own two programs.
RUNTIME_BINARIES = ("containerd", "containerd-shim-runc-v2", "ctr", "crictl", "runc")
RUNTIME_TOOLS = ("imagegen", "sandboxproc")

COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl")
BINARIES = (*COMPONENTS, "etcd", "kwok")


def home() -> Path:
    """Root of everything the sandbox keeps on disk (``K8S_CHATOPS_SANDBOX_HOME`` overrides)."""
    configured = os.environ.get("K8S_CHATOPS_SANDBOX_HOME")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "k8s-chatops" / "sandbox"


def version_tag() -> str:
    return f"k8s-{KUBERNETES}-etcd-{ETCD}-kwok-{KWOK}"


def bin_dir() -> Path:
    return home() / version_tag() / "bin"


def stern_path() -> Path:
    """stern has its own cache key, so pinning a new one never rebuilds the cluster."""
    return home() / f"stern-{STERN}" / "bin" / "stern"


def helm_path() -> Path:
    """helm has its own cache key too: the chart's tests are its only users."""
    return home() / f"helm-{HELM}" / "bin" / "helm"


def runtime_tag() -> str:
    return (
        f"runtime-containerd-{CONTAINERD}-runc-{RUNC}-crictl-{CRI_TOOLS}"
        f"-ggcr-{GO_CONTAINERREGISTRY}"
    )


def runtime_home() -> Path:
    """The node runtime has its own cache key, so pinning a new one never rebuilds the
    cluster (and the reverse). Its generated image archives live here too."""
    return home() / runtime_tag()


def runtime_bin_dir() -> Path:
    return runtime_home() / "bin"


def run_dir() -> Path:
    """State of the running sandbox: certificates, kubeconfigs, etcd data, logs, pids.

    ``K8S_CHATOPS_SANDBOX_RUN_DIR`` runs a second, independent sandbox from the same binaries.
    """
    configured = os.environ.get("K8S_CHATOPS_SANDBOX_RUN_DIR")
    return Path(configured) if configured else home() / "run"
