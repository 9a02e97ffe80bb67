"""Build the k8s-chatops container image here, without Docker or a registry.

The recipe the ``Dockerfile`` follows, done with Debian's own tools:

1. a Debian root filesystem from Debian's archive (``debootstrap --variant=minbase``) with
   ``python3``, ``python3-venv`` and ``ca-certificates`` installed in a chroot. It is cached as
   a tarball outside the repository, keyed by everything that goes into it (suite, variant,
   mirror, packages, debootstrap's version, this recipe's version), so it is made once;
2. the project's wheel, built from the source tree, installed with pip into a venv at
   ``/opt/k8s-chatops`` inside a copy of that root filesystem. pip trusts the host's CA bundle
   for this one step only (package traffic here may pass through a TLS-inspecting proxy); the
   bundle is removed before the file system is packed, so it is never part of the image;
3. a user ``k8s-chatops`` (uid and gid 10001) and nothing else added;
4. the tree packed with ``tar --numeric-owner`` (no proc, sys, dev or tmp contents, no apt
   lists or caches) and assembled into an image tarball by the sandbox's ``imagegen rootfs``
   (go-containerregistry): one layer, ``User 10001:10001``, the console script as entrypoint.

``k8s-chatops-sandbox image`` runs it; tests import the tarball into the sandbox's containerd
and start it there. Needs root (debootstrap, chroot, mount).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core import messages
from core.errors import ConfigurationError
from core.text import code
from sandbox import build, versions

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
#: Bump when the steps below change what a cached root filesystem holds.
RECIPE = 1
DEBIAN_SUITE = "bookworm"
DEBIAN_VARIANT = "minbase"
#: ``ca-certificates`` is Debian's own bundle, so the bot reaches Slack over TLS.
DEBIAN_PACKAGES = ("ca-certificates", "python3", "python3-venv")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
UID = 10001
USER = "k8s-chatops"
APP_DIR = "/opt/k8s-chatops"
ENTRYPOINT = f"{APP_DIR}/bin/k8s-chatops"
IMAGE_REF = "localhost/k8s-chatops:sandbox"
IMAGE_ENV = (
    f"PATH={APP_DIR}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG=C.UTF-8",
    # The root file system is read-only in the chart's pods: no .pyc files written at run time.
    "PYTHONDONTWRITEBYTECODE=1",
    "PYTHONUNBUFFERED=1",
)
#: Left out of every tarball: mount points the runtime fills, and apt's downloads.
_EXCLUDED = (
    "./proc/*",
    "./sys/*",
    "./dev/*",
    "./tmp/*",
    "./run/*",
    "./var/lib/apt/lists/*",
    "./var/cache/apt/*",
    "./var/cache/debconf/*-old",
    "./var/log/*",
)
#: The chroot's processes see only these variables: the host's PIP_CERT, SSL_CERT_FILE and
#: the like name files that do not exist inside. Their home is /tmp, which no tarball holds,
#: so whatever a build step caches there is left out with it.
_CHROOT_ENV = ("PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/tmp", "LANG=C.UTF-8")
_BUILD_CA = "/tmp/build-ca.pem"  # noqa: S108 - inside the chroot, removed before packing
_BUILD_WHEELS = "/tmp/wheels"  # noqa: S108 - likewise


def image_home() -> Path:
    return versions.home() / "image"


def debian_mirror() -> str:
    """The Debian mirror apt is configured with here (``K8S_CHATOPS_DEBIAN_MIRROR`` overrides)."""
    configured = os.environ.get("K8S_CHATOPS_DEBIAN_MIRROR")
    if configured:
        return configured
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    with contextlib.suppress(OSError):
        for stanza in sources.read_text().split("\n\n"):
            fields = dict(
                line.split(":", 1) for line in stanza.splitlines() if ":" in line and line[0] != "#"
            )
            suites = fields.get("Suites", "").split()
            uris = fields.get("URIs", "").split()
            if DEBIAN_SUITE in suites and uris:
                return uris[0]
    return DEFAULT_MIRROR


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ConfigurationError(messages.IMAGE_TOOL_MISSING.format(tool=code(name)))
    return found


def _debootstrap_version() -> str:
    result = subprocess.run(
        [_tool("debootstrap"), "--version"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip()


def rootfs_key() -> str:
    """What the cached base root filesystem depends on, hashed."""
    inputs = {
        "recipe": RECIPE,
        "suite": DEBIAN_SUITE,
        "variant": DEBIAN_VARIANT,
        "mirror": debian_mirror(),
        "packages": sorted(DEBIAN_PACKAGES),
        "debootstrap": _debootstrap_version(),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def rootfs_path() -> Path:
    return image_home() / f"rootfs-{DEBIAN_SUITE}-{DEBIAN_VARIANT}-{rootfs_key()}.tar"


def _run(argv: list[str], *, what: str, env: dict[str, str] | None = None) -> None:
    """Run one build step, its output going to stderr; a failure names the step."""
    result = subprocess.run(
        argv, stdout=sys.stderr, stderr=sys.stderr, env=env, check=False, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        raise ConfigurationError(
            messages.IMAGE_STEP_FAILED.format(step=what, code=result.returncode)
        )


def _require_root() -> None:
    if os.geteuid() != 0:
        raise ConfigurationError(messages.IMAGE_NEEDS_ROOT.format())


@contextlib.contextmanager
def _mounted(root: Path) -> Iterator[None]:
    """``/proc`` and ``/dev`` inside the chroot for the duration of a step, and never after."""
    mounted: list[Path] = []
    try:
        for source, target, options in (
            ("proc", root / "proc", ["-t", "proc"]),
            ("/dev", root / "dev", ["--bind"]),
        ):
            target.mkdir(parents=True, exist_ok=True)
            _run(["mount", *options, source, str(target)], what=f"mount {target.name}")
            mounted.append(target)
        yield
    finally:
        for target in reversed(mounted):
            subprocess.run(["umount", "-l", str(target)], check=False)


def _mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve()) + "/"
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts]
    return [point for point in points if point.startswith(prefix)]


@contextlib.contextmanager
def _staging(parent: Path, prefix: str) -> Iterator[Path]:
    """A scratch directory, removed afterwards only if nothing is still mounted inside it: a
    ``/dev`` bind mount left behind would otherwise take the host's device nodes with it."""
    path = Path(tempfile.mkdtemp(dir=parent, prefix=prefix))
    try:
        yield path
    finally:
        left = _mounts_under(path)
        if left:
            log.error("not removing %s: still mounted inside it: %s", path, ", ".join(left))
        else:
            shutil.rmtree(path, ignore_errors=True)


def _chroot(root: Path, *argv: str, what: str, env: tuple[str, ...] = ()) -> None:
    _run(
        [_tool("chroot"), str(root), "/usr/bin/env", "-i", *_CHROOT_ENV, *env, *argv],
        what=what,
    )


def _pack(root: Path, target: Path) -> None:
    """The tree as a tarball with numeric owners, entries sorted, into ``target`` atomically."""
    temporary = target.with_suffix(".partial")
    excludes = [f"--exclude={pattern}" for pattern in _EXCLUDED]
    _run(
        [
            _tool("tar"),
            "--numeric-owner",
            "--sort=name",
            "--xattrs",
            *excludes,
            "-C",
            str(root),
            "-cf",
            str(temporary),
            ".",
        ],
        what="tar",
    )
    os.replace(temporary, target)


def _unpack(tarball: Path, root: Path) -> None:
    _run(
        [_tool("tar"), "--numeric-owner", "--same-owner", "-xpf", str(tarball), "-C", str(root)],
        what="untar",
    )


def base_rootfs(*, force: bool = False) -> Path:
    """The cached Debian root filesystem with Python (made here the first time)."""
    target = rootfs_path()
    if target.is_file() and not force:
        return target
    _require_root()
    target.parent.mkdir(parents=True, exist_ok=True)
    print(messages.IMAGE_BUILDING_ROOTFS.format(target=target), file=sys.stderr, flush=True)
    with _staging(target.parent, "rootfs-") as staging:
        root = staging / "root"
        _run(
            [
                _tool("debootstrap"),
                f"--variant={DEBIAN_VARIANT}",
                DEBIAN_SUITE,
                str(root),
                debian_mirror(),
            ],
            what="debootstrap",
        )
        shutil.copyfile("/etc/resolv.conf", root / "etc" / "resolv.conf")
        try:
            with _mounted(root):
                _chroot(
                    root,
                    "apt-get",
                    "install",
                    "-y",
                    "-q",
                    "--no-install-recommends",
                    *DEBIAN_PACKAGES,
                    what="apt-get install",
                    env=("DEBIAN_FRONTEND=noninteractive",),
                )
                _chroot(root, "apt-get", "clean", what="apt-get clean")
        finally:
            (root / "etc" / "resolv.conf").write_text("")
        _pack(root, target)
    return target


@dataclass(frozen=True)
class Image:
    """An image tarball (docker-archive) and what went into it."""

    path: Path
    ref: str
    #: The packed root filesystem, the image's one layer (kept for inspection by tests).
    layer: Path


#: Left out of the copy the wheel is built from: nothing in them is packaged.
_NOT_PACKAGED = (
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".*_cache",
    ".import_linter_cache",
    "tests",
    "bench",
)


def build_wheel(target: Path) -> Path:
    """The project's wheel, from this source tree (generated CRI stubs included once made)."""
    gen_cri = REPO / "scripts" / "gen-cri.sh"
    if gen_cri.is_file() and (REPO / "nodeagent").is_dir():
        _run([str(gen_cri), sys.executable], what="gen-cri")
    target.mkdir(parents=True, exist_ok=True)
    # Built from a copy, so setuptools' build/ and egg-info never land in the working tree.
    source = target / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*_NOT_PACKAGED))
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(target),
            str(source),
        ],
        what="pip wheel",
    )
    wheels = sorted(target.glob("k8s_chatops-*.whl"))
    if len(wheels) != 1:
        raise ConfigurationError(messages.IMAGE_STEP_FAILED.format(step="pip wheel", code=0))
    return wheels[0]


def _host_ca_bundle() -> Path:
    """The CA bundle pip trusts on this host (the build step's only; never in the image)."""
    for candidate in (os.environ.get("PIP_CERT"), os.environ.get("SSL_CERT_FILE")):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return Path("/etc/ssl/certs/ca-certificates.crt")


def _add_user(root: Path) -> None:
    """The image's one user, written into passwd/group directly (no useradd run needed)."""
    with (root / "etc" / "passwd").open("a") as passwd:
        passwd.write(f"{USER}:x:{UID}:{UID}:k8s-chatops:/nonexistent:/usr/sbin/nologin\n")
    with (root / "etc" / "group").open("a") as group:
        group.write(f"{USER}:x:{UID}:\n")


def _install_app(root: Path, wheel: Path) -> None:
    staged = root / _BUILD_WHEELS.lstrip("/")
    staged.mkdir(parents=True, exist_ok=True)
    shutil.copy2(wheel, staged / wheel.name)
    ca = root / _BUILD_CA.lstrip("/")
    shutil.copyfile(_host_ca_bundle(), ca)
    shutil.copyfile("/etc/resolv.conf", root / "etc" / "resolv.conf")
    pip_env = [f"PIP_DEFAULT_TIMEOUT={os.environ.get('PIP_DEFAULT_TIMEOUT', '60')}"]
    try:
        with _mounted(root):
            _chroot(root, "/usr/bin/python3", "-m", "venv", APP_DIR, what="python3 -m venv")
            _chroot(
                root,
                f"{APP_DIR}/bin/pip",
                "install",
                "--quiet",
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--cert",
                _BUILD_CA,
                f"{_BUILD_WHEELS}/{wheel.name}",
                what="pip install",
                env=tuple(pip_env),
            )
    finally:
        # The build's CA, resolver and wheels go before anything is packed.
        ca.unlink(missing_ok=True)
        shutil.rmtree(staged, ignore_errors=True)
        (root / "etc" / "resolv.conf").write_text("")


def build_image(output: Path | None = None, *, ref: str = IMAGE_REF) -> Image:
    """Build the product image into ``output`` (default: the image cache) and return it."""
    _require_root()
    base = base_rootfs()
    imagegen = build.runtime_tools_dir() / "imagegen"
    build.build_runtime()
    target = output or image_home() / "k8s-chatops.tar"
    target.parent.mkdir(parents=True, exist_ok=True)
    layer = target.with_name(target.stem + ".rootfs.tar")
    with _staging(image_home(), "image-") as staging:
        wheel = build_wheel(staging / "wheels")
        root = staging / "root"
        root.mkdir()
        _unpack(base, root)
        _install_app(root, wheel)
        _add_user(root)
        _pack(root, layer)
    config = [
        "-entrypoint",
        json.dumps([ENTRYPOINT]),
        "-cmd",
        json.dumps(["--help"]),
        "-user",
        f"{UID}:{UID}",
        "-workdir",
        "/",
        "-label",
        f"org.opencontainers.image.title={USER}",
    ]
    for variable in IMAGE_ENV:
        config += ["-env", variable]
    temporary = target.with_suffix(".partial")
    _run(
        [str(imagegen), "rootfs", "-layer", str(layer), "-ref", ref, "-o", str(temporary), *config],
        what="imagegen rootfs",
    )
    os.replace(temporary, target)
    print(messages.IMAGE_BUILT.format(ref=ref, path=target), file=sys.stderr, flush=True)
    return Image(target, ref, layer)
