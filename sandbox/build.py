"""Build the sandbox binaries from their Go modules, once per version set.

``sandbox/go/kube`` pins Kubernetes (control plane and a kubectl of the same version) and
etcd; ``sandbox/go/kwok`` pins kwok apart, because kwok is built against its own k8s.io
library versions; ``sandbox/go/stern`` pins stern, the reference for log fetches;
``sandbox/go/helm`` pins helm, which the chart's tests run.
``go.sum`` is committed and ``-mod=readonly`` refuses any drift, so a build is reproducible.
The kwok CRDs for log simulation come out of the same module download.
"""

from __future__ import annotations

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


def _go(args: list[str], module: Path) -> str:
    go = shutil.which("go")
    if go is None:
        raise ConfigurationError(messages.SANDBOX_NO_GO.format())
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=readonly -buildvcs=false")
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


def _go_build(module: str, output: str, *packages: str, ldflags: str = "-s -w") -> None:
    """``go build`` in ``sandbox/go/<module>``: stripped, without local paths, into ``output``
    (a file, or a directory when it ends with ``/``)."""
    _go(["build", "-trimpath", "-ldflags", ldflags, "-o", output, *packages], GO_DIR / module)


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
