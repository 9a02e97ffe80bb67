"""Build the sandbox binaries from their Go modules, once per version set.

``sandbox/go/kube`` pins Kubernetes (control plane and a kubectl of the same version) and
etcd; ``sandbox/go/kwok`` pins kwok apart, because kwok is built against its own k8s.io
library versions; ``sandbox/go/stern`` pins stern, the reference for log fetches;
``sandbox/go/helm`` pins helm, which the chart's tests run;
``sandbox/go/runtime`` pins the node runtime (containerd, its runc shim, ctr, crictl, runc) and
holds our own ``imagegen`` and ``sandboxproc``.
``go.sum`` is committed and ``-mod=readonly`` refuses any drift, so a build is reproducible.
The kwok CRDs for log simulation come out of the same module download.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from core import messages
from core.errors import ConfigurationError
from sandbox import versions

log = logging.getLogger(__name__)

GO_DIR = Path(__file__).resolve().parent / "go"
KWOK_CRDS = ("kwok.x-k8s.io_logs.yaml", "kwok.x-k8s.io_clusterlogs.yaml")


def _version_ldflags() -> str:
    major, minor = versions.KUBERNETES.lstrip("v").split(".")[:2]
    flags = ["-s", "-w"]
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {package}.gitVersion={versions.KUBERNETES}",
            f"-X {package}.gitMajor={major}",
            f"-X {package}.gitMinor={minor}",
            f"-X {package}.gitTreeState=clean",
        ]
    return " ".join(flags)


def crd_dir() -> Path:
    return versions.bin_dir().parent / "crds"


def is_built() -> bool:
    have_bins = all((versions.bin_dir() / name).is_file() for name in versions.BINARIES)
    return have_bins and all((crd_dir() / name).is_file() for name in KWOK_CRDS)


def _go(args: list[str], module: Path, *, cgo: bool = False) -> str:
    go = shutil.which("go")
    if go is None:
        raise ConfigurationError(messages.SANDBOX_NO_GO.format())
    env = dict(os.environ, CGO_ENABLED="1" if cgo else "0", GOFLAGS="-mod=readonly -buildvcs=false")
    result = subprocess.run(
        [go, *args],
        cwd=module,
        env=env,
        stdout=subprocess.PIPE,
        stderr=sys.stderr,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ConfigurationError(messages.SANDBOX_BUILD_FAILED.format(module=module.name))
    return result.stdout


def _go_build(
    module: str,
    output: str,
    *packages: str,
    ldflags: str = "-s -w",
    tags: str = "",
    cgo: bool = False,
) -> None:
    """``go build`` in ``sandbox/go/<module>``: stripped, without local paths, into ``output``
    (a file, or a directory when it ends with ``/``)."""
    tag_args = ["-tags", tags] if tags else []
    _go(
        ["build", "-trimpath", *tag_args, "-ldflags", ldflags, "-o", output, *packages],
        GO_DIR / module,
        cgo=cgo,
    )


def build(*, force: bool = False) -> Path:
    """Build every binary that is missing into the version-keyed cache; return its directory."""
    target = versions.bin_dir()
    if is_built() and not force:
        return target
    target.mkdir(parents=True, exist_ok=True)
    print(messages.SANDBOX_BUILDING.format(target=target), file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as staging:
        out = Path(staging)
        kube_packages = [f"k8s.io/kubernetes/cmd/{name}" for name in versions.COMPONENTS]
        _go_build("kube", f"{out}/", *kube_packages, ldflags=_version_ldflags())
        _go_build("kube", str(out / "etcd"), "go.etcd.io/etcd/server/v3")
        _go_build("kwok", str(out / "kwok"), "sigs.k8s.io/kwok/cmd/kwok")
        for name in versions.BINARIES:
            os.replace(out / name, target / name)
    kwok_source = Path(
        _go(["list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kwok"], GO_DIR / "kwok").strip()
    )
    crd_dir().mkdir(parents=True, exist_ok=True)
    for name in KWOK_CRDS:
        shutil.copyfile(kwok_source / "kustomize" / "crd" / "bases" / name, crd_dir() / name)
    return target


def build_stern(*, force: bool = False) -> Path:
    """Build stern (the log parity test's and benchmark's reference) into its own cache."""
    target = versions.stern_path()
    if target.is_file() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    print(messages.SANDBOX_BUILDING.format(target=target.parent), file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as staging:
        built = Path(staging) / "stern"
        _go_build("stern", str(built), "github.com/stern/stern")
        os.replace(built, target)
    return target


def build_helm(*, force: bool = False) -> Path:
    """Build helm (the chart's lint, template and install tests) into its own cache."""
    target = versions.helm_path()
    if target.is_file() and not force:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    print(messages.HELM_BUILDING.format(target=target.parent), file=sys.stderr, flush=True)
    # `helm version` says the pinned version instead of the module's bare "v4.3".
    ldflags = f"-s -w -X helm.sh/helm/v4/internal/version.version={versions.HELM}"
    with tempfile.TemporaryDirectory(dir=target.parent) as staging:
        built = Path(staging) / "helm"
        _go_build("helm", str(built), "helm.sh/helm/v4/cmd/helm", ldflags=ldflags)
        os.replace(built, target)
    return target


RUNTIME_MODULE = GO_DIR / "runtime"
#: Package, build tags and whether cgo is needed, per upstream runtime binary. containerd's
#: btrfs snapshotter is cgo (and unused here), so it is left out; runc's nsenter is C.
_RUNTIME_PACKAGES = {
    "containerd": ("github.com/containerd/containerd/v2/cmd/containerd", "no_btrfs", False),
    "containerd-shim-runc-v2": (
        "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2",
        "",
        False,
    ),
    "ctr": ("github.com/containerd/containerd/v2/cmd/ctr", "", False),
    "crictl": ("sigs.k8s.io/cri-tools/cmd/crictl", "", False),
    "runc": ("github.com/opencontainers/runc", "", True),
}


def runtime_tools_key() -> str:
    """Our own programs are keyed by their source (and the module's pins), not by a version:
    editing ``imagegen`` rebuilds it (seconds), never containerd."""
    digest = hashlib.sha256()
    sources = [RUNTIME_MODULE / "go.mod", RUNTIME_MODULE / "go.sum"]
    sources += sorted((RUNTIME_MODULE / "cmd").rglob("*.go"))
    for path in sources:
        digest.update(str(path.relative_to(RUNTIME_MODULE)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def runtime_tools_dir() -> Path:
    return versions.runtime_home() / f"tools-{runtime_tools_key()}"


def build_runtime(*, force: bool = False) -> Path:
    """Build the node runtime's binaries that are missing; return the upstream binaries'
    directory (our own tools are in :func:`runtime_tools_dir`)."""
    target = versions.runtime_bin_dir()
    tools = runtime_tools_dir()
    missing = [n for n in versions.RUNTIME_BINARIES if force or not (target / n).is_file()]
    missing_tools = [n for n in versions.RUNTIME_TOOLS if force or not (tools / n).is_file()]
    if not missing and not missing_tools:
        return target
    target.mkdir(parents=True, exist_ok=True)
    tools.mkdir(parents=True, exist_ok=True)
    print(messages.SANDBOX_BUILDING.format(target=target.parent), file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as staging:
        out = Path(staging)
        for name in missing:
            package, tags, cgo = _RUNTIME_PACKAGES[name]
            _go_build("runtime", str(out / name), package, tags=tags, cgo=cgo)
            os.replace(out / name, target / name)
        for name in missing_tools:
            _go_build("runtime", str(out / name), f"./cmd/{name}")
            os.replace(out / name, tools / name)
    return target
