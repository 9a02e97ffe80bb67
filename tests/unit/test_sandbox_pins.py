"""The Python side and the Go wrapper modules pin the same versions, and the build is locked."""

from __future__ import annotations

import re
from pathlib import Path

from sandbox import build, versions

GO = Path(build.GO_DIR)


def _require(go_mod: str, module: str) -> str:
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)} (v\S+)", go_mod, re.MULTILINE)
    assert match, f"{module} not required"
    return match.group(1)


def test_versions_match_the_go_modules() -> None:
    kube = (GO / "kube" / "go.mod").read_text()
    assert _require(kube, "k8s.io/kubernetes") == versions.KUBERNETES
    assert _require(kube, "go.etcd.io/etcd/server/v3") == versions.ETCD
    staging = re.findall(r"^\s*(k8s\.io/\S+) => \1 (v\S+)$", kube, re.MULTILINE)
    assert len(staging) >= 31
    minor = versions.KUBERNETES.split(".")[1]
    assert {v for _, v in staging} == {f"v0.{minor}.{versions.KUBERNETES.split('.')[2]}"}
    kwok = (GO / "kwok" / "go.mod").read_text()
    assert _require(kwok, "sigs.k8s.io/kwok") == versions.KWOK
    stern = (GO / "stern" / "go.mod").read_text()
    assert _require(stern, "github.com/stern/stern") == versions.STERN
    node_runtime = (GO / "runtime" / "go.mod").read_text()
    assert _require(node_runtime, "github.com/containerd/containerd/v2") == versions.CONTAINERD
    assert _require(node_runtime, "github.com/opencontainers/runc") == versions.RUNC
    assert _require(node_runtime, "sigs.k8s.io/cri-tools") == versions.CRI_TOOLS
    assert (
        _require(node_runtime, "github.com/google/go-containerregistry")
        == versions.GO_CONTAINERREGISTRY
    )
    # Every upstream binary is a `tool` of the module, so `go mod tidy` keeps its pins.
    for package in (
        "github.com/containerd/containerd/v2/cmd/containerd",
        "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2",
        "github.com/containerd/containerd/v2/cmd/ctr",
        "github.com/opencontainers/runc",
        "sigs.k8s.io/cri-tools/cmd/crictl",
    ):
        assert re.search(rf"^\s*{re.escape(package)}$", node_runtime, re.MULTILINE), package
    helm = (GO / "helm" / "go.mod").read_text()
    assert _require(helm, "helm.sh/helm/v4") == versions.HELM


def test_go_sums_are_committed_for_a_reproducible_build() -> None:
    for module in ("kube", "kwok", "stern", "runtime", "helm"):
        go_sum = (GO / module / "go.sum").read_text()
        assert "h1:" in go_sum


def test_binaries_are_cached_outside_the_repository() -> None:
    repo = Path(__file__).resolve().parents[2]
    assert repo not in versions.bin_dir().parents
    assert versions.version_tag() in str(versions.bin_dir())
    assert repo not in versions.runtime_bin_dir().parents
    assert versions.CONTAINERD in str(versions.runtime_bin_dir())
