"""What a node agent does for a task, on its node's runtime: list, prune and remove images,
list pods and containers, and read a container's log.

Use is what ``crictl rmi --prune`` counts: a container, running or exited, created from the
image. Every removal is preceded by its own ListContainers, so an image a pod started to use
after the prune decided is left (``in-use-now``). An approved prune or ``rmi`` carries the
image ids its approvers saw, and removes none but those (``not-approved``). The runtime does
not refuse to remove an image in use, so between that check's answer and RemoveImage's there
is a window in which a new container could still take the image; its length is measured for
every removal and reported (``window_us``; docs/images.md gives the numbers).
"""

from __future__ import annotations

import contextlib
import logging
import os
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.image_prune import decide, keep_patterns, within_approved
from core.nodework import (
    ContainerInfo,
    FailReason,
    FsUsage,
    ImageName,
    ImagesReply,
    ItemAction,
    KeptReason,
    LogsOp,
    LogsReply,
    PodRow,
    PruneItem,
    PruneOp,
    PruneReply,
    PsReply,
    RemoveImageOp,
    RemoveImageReply,
    WindowStats,
    WireImage,
)
from core.redaction import Redactor
from nodeagent.crilog import read_log
from nodeagent.runtime import (
    CriContainer,
    CriFilesystem,
    CriImage,
    CriPod,
    RuntimeClient,
    RuntimeError_,
)

log = logging.getLogger(__name__)

#: Where kubelets put pod logs on the host; a log path under it is read under the agent's
#: own ``K8S_CHATOPS_POD_LOG_DIR`` when that is mounted elsewhere.
HOST_POD_LOG_DIR = Path("/var/log/pods")
#: Removals a prune runs side by side. One: containerd serialises removals, so more at once
#: finish the prune sooner (4: 1.3 s instead of 2.4 s for 200 images) but widen each
#: image's check→remove window (median 7.6 ms → 19.5 ms on the sandbox), and the window is
#: what a prune should keep small (docs/images.md).
REMOVERS = 1
#: containerd measures the image filesystem every 10 s (its stats collect period); a prune
#: waits up to this long for the first measure after its last removal.
FS_RESAMPLE_WAIT = 12.0
FS_RESAMPLE_POLL = 0.25


class TaskRefused(Exception):
    """The task cannot be done as asked (no such container, …); ``reason`` says why."""

    def __init__(self, reason: FailReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason, self.detail = reason, detail


def normalize(reference: str) -> str:
    """A short image name as the runtime stores it: ``busybox`` is
    ``docker.io/library/busybox:latest``."""
    if not reference or reference.startswith("sha256:") or "@" in reference:
        return reference
    first, slash, _ = reference.partition("/")
    if not slash:
        reference = f"docker.io/library/{reference}"
    elif "." not in first and ":" not in first and first != "localhost":
        reference = f"docker.io/{reference}"
    if ":" not in reference.rsplit("/", 1)[-1]:
        reference += ":latest"
    return reference


def _is_image_id(reference: str) -> bool:
    """``sha256:`` and 64 hex digits, or the bare digits: an id, which names one image."""
    bare = reference.removeprefix("sha256:")
    return len(bare) == 64 and all(c in "0123456789abcdef" for c in bare)


def _names(image: CriImage) -> set[str]:
    names = {image.id, *image.repo_tags, *image.repo_digests}
    return names | {normalize(name) for name in names}


@dataclass
class NodeRuntime:
    """The node's runtime, as the agent's operations see it."""

    client: RuntimeClient
    pod_log_dir: Path
    redactor: Redactor
    image_fs_path: Path | None = None
    #: After removing, how long to wait for the runtime to measure its image filesystem again
    #: (containerd does every 10 s); 0: do not wait. See :meth:`filesystems_after`.
    fs_resample_wait: float = FS_RESAMPLE_WAIT
    #: Called with each image right before its last use check (tests make it race).
    before_check: Callable[[WireImage], None] | None = None
    #: Image config creation times by image id (an id's config never changes).
    _created: dict[str, datetime | None] = field(default_factory=dict)
    #: Pod sandbox id → the image it runs (a sandbox's image never changes).
    _sandbox_images: dict[str, str | None] = field(default_factory=dict)

    # --- What the runtime holds -------------------------------------------------------------

    def filesystems(self) -> list[FsUsage]:
        return self._usages(self.client.image_fs_info())

    def filesystems_after(self, changed_ns: int) -> list[FsUsage]:
        """The image filesystems as measured after ``changed_ns`` (Unix ns, the last removal):
        the runtime answers from its last periodic measure, so right after a removal it still
        reports the bytes from before. Waits for a newer measure (at most
        ``fs_resample_wait``); none: an empty list, for "unknown" rather than a stale figure
        that says nothing was freed. A runtime that gives no timestamps is taken as is."""
        deadline = time.monotonic() + self.fs_resample_wait
        while True:
            measured = self.client.image_fs_info()
            if all(fs.timestamp_ns == 0 or fs.timestamp_ns >= changed_ns for fs in measured):
                return self._usages(measured)
            if time.monotonic() >= deadline:
                log.info("the runtime did not measure its image filesystem again in time")
                return []
            time.sleep(FS_RESAMPLE_POLL)

    def _usages(self, measured: Iterable[CriFilesystem]) -> list[FsUsage]:
        found = []
        for fs in measured:
            capacity = available = None
            path = self.image_fs_path or Path(fs.mountpoint)
            try:
                if fs.mountpoint and path.is_dir():
                    stats = os.statvfs(path)
                    capacity = stats.f_blocks * stats.f_frsize
                    available = stats.f_bavail * stats.f_frsize
            except OSError as error:  # EACCES, ESTALE, EIO: capacity unknown, the rest stands
                log.warning("cannot measure %s: %s", path, error.strerror or error)
            found.append(
                FsUsage(
                    mountpoint=fs.mountpoint,
                    used_bytes=fs.used_bytes,
                    inodes_used=fs.inodes_used,
                    capacity_bytes=capacity,
                    available_bytes=available,
                )
            )
        return found

    def configured_sandbox_image(self) -> str | None:
        """The pod sandbox image the runtime's config names: containerd 1.x
        (``sandboxImage``) or 2.x (``pinned_images.sandbox``, when its status shows it)."""
        config = self.client.status_info().get("config")
        if not isinstance(config, dict):
            return None
        for key in ("sandboxImage", "sandbox_image"):
            if isinstance(config.get(key), str) and config[key]:
                return str(config[key])
        for key in ("pinned_images", "pinnedImages"):
            pinned = config.get(key)
            if isinstance(pinned, dict) and isinstance(pinned.get("sandbox"), str):
                return str(pinned["sandbox"])
        return None

    def _resolver(self, images: Sequence[CriImage]) -> Callable[[str], str | None]:
        index: dict[str, str] = {}
        for image in images:
            for name in _names(image):
                index[name] = image.id

        def resolve(reference: str) -> str | None:
            if not reference:
                return None
            found = index.get(reference) or index.get(normalize(reference))
            if found is None:  # as crictl does: ask the runtime what the name is
                try:
                    detail = self.client.image_status(reference)
                except RuntimeError_:
                    return None
                found = detail.image.id if detail is not None else None
            return found

        return resolve

    def sandbox_image_ids(self, images: Sequence[CriImage], pods: Iterable[CriPod]) -> set[str]:
        resolve = self._resolver(images)
        ids: set[str] = set()
        configured = self.configured_sandbox_image()
        if configured and (found := resolve(configured)):
            ids.add(found)
        for pod in pods:
            image = self._sandbox_images.get(pod.id, "")  # "" unknown; None: no image
            if image == "":
                try:
                    image = self.client.pod_sandbox_image(pod.id)
                except RuntimeError_:  # the sandbox went away meanwhile
                    continue
                self._sandbox_images[pod.id] = image
            if image and (found := resolve(image)):
                ids.add(found)
        return ids

    def use(
        self,
        images: Sequence[CriImage],
        containers: Iterable[CriContainer],
        pods: Iterable[CriPod],
    ) -> dict[str, list[str]]:
        """Image id → who uses it (``namespace/pod/container``)."""
        resolve = self._resolver(images)
        pod_names = {pod.id: f"{pod.namespace}/{pod.name}" for pod in pods}
        users: dict[str, list[str]] = {}
        for container in containers:
            image_id = next(
                (
                    found
                    for ref in (container.image_ref, container.image_id, container.image)
                    if (found := resolve(ref))
                ),
                None,
            )
            if image_id is None:
                continue
            pod = pod_names.get(container.pod_sandbox_id)
            users.setdefault(image_id, []).append(
                f"{pod}/{container.name}" if pod else container.id[:13]
            )
        return users

    def created(self, image_id: str) -> datetime | None:
        # Reads run side by side and share this cache: another may forget an entry at any
        # time, so never read it back after a check.
        if image_id in self._created:
            with contextlib.suppress(KeyError):
                return self._created[image_id]
        try:
            detail = self.client.image_status(image_id, verbose=True)
        except RuntimeError_:
            return None
        when = detail.created if detail is not None else None
        self._created[image_id] = when
        return when

    def snapshot(self) -> tuple[list[WireImage], str | None]:
        """Every image with its use, pin, sandbox role and creation time."""
        images = self.client.list_images()
        pods = self.client.list_pod_sandboxes()
        containers = self.client.list_containers()
        users = self.use(images, containers, pods)
        sandbox = self.sandbox_image_ids(images, pods)
        known = {image.id for image in images}
        # Another snapshot may forget the same entries at the same time.
        for gone in set(self._created) - known:
            self._created.pop(gone, None)
        for gone in set(self._sandbox_images) - {pod.id for pod in pods}:
            self._sandbox_images.pop(gone, None)
        wire = [
            WireImage(
                id=image.id,
                repo_tags=list(image.repo_tags),
                repo_digests=list(image.repo_digests),
                size_bytes=image.size,
                pinned=image.pinned,
                sandbox_image=image.id in sandbox,
                used_by=sorted(users.get(image.id, [])),
                created=self.created(image.id),
            )
            for image in images
        ]
        return wire, next(iter(sorted(sandbox)), None)

    def images(self) -> ImagesReply:
        images, sandbox = self.snapshot()
        return ImagesReply(images=images, fs=self.filesystems(), sandbox_image=sandbox)

    # --- Removing ---------------------------------------------------------------------------

    def users_now(
        self, image: WireImage, resolved: dict[str, str | None] | None = None
    ) -> list[str]:
        """Who uses ``image`` according to a fresh ListContainers (the last check).

        A container that names its image only by a reference no listed image carries is
        placed by ImageStatus, as :meth:`use` does; ``resolved`` keeps those answers for the
        rest of a prune. One whose runtime gives an image id needs no question: containerd
        always does, so the check costs no extra call there."""
        names = {image.id, *image.repo_tags, *image.repo_digests}
        names |= {normalize(name) for name in names}
        cache = {} if resolved is None else resolved
        users = []
        for c in self.client.list_containers():
            refs = {c.image_ref, c.image_id, c.image} - {""}
            if (refs | {normalize(c.image)}) & names or (
                not any(_is_image_id(ref) for ref in refs)
                and image.id in {self._image_status_id(ref, cache) for ref in refs}
            ):
                users.append(f"{c.pod_sandbox_id[:13]}/{c.name}")
        return users

    def _image_status_id(self, reference: str, cache: dict[str, str | None]) -> str | None:
        if reference not in cache:
            try:
                detail = self.client.image_status(reference)
            except RuntimeError_:
                detail = None
            cache[reference] = detail.image.id if detail is not None else None
        return cache[reference]

    def _remove_checked(
        self, image: WireImage, resolved: dict[str, str | None] | None = None
    ) -> tuple[list[str], int | None]:
        """Check use once more and remove; (users found, window in µs when removed)."""
        if self.before_check is not None:
            self.before_check(image)
        users = self.users_now(image, resolved)
        checked_at = time.perf_counter()  # the check's answer is in: the window opens
        if users:
            return users, None
        self.client.remove_image(image.id)
        window = int((time.perf_counter() - checked_at) * 1e6)
        log.info("removed %s (%s); check→remove window %d µs", image.reference, image.id, window)
        return [], window

    def prune(
        self, op: PruneOp, emit: Callable[[PruneItem], None], deadline: datetime
    ) -> PruneReply:
        patterns = keep_patterns(op.policy_keep, op.keep)
        fs_before = self.filesystems()
        images, _ = self.snapshot()
        older = timedelta(seconds=op.older_than_seconds) if op.older_than_seconds else None
        decision = within_approved(
            decide(images, keep=patterns, older_than=older, now=datetime.now(UTC)),
            op.approved_ids,
        )
        reply = PruneReply(dry_run=op.dry_run, fs_before=fs_before)
        for kept in decision.kept:
            item = PruneItem(
                action=ItemAction.KEPT,
                image=kept.image.ref(),
                reason=kept.reason,
                detail=kept.detail,
            )
            reply.kept.append(item)
        if op.dry_run:
            reply.removed.extend(image.ref() for image in decision.remove)
            return reply.model_copy(update={"fs_after": fs_before})
        # Each removal checks use right before its own RemoveImage (see REMOVERS).
        resolved: dict[str, str | None] = {}  # names only ImageStatus places, for this prune
        with ThreadPoolExecutor(max_workers=REMOVERS) as pool:
            items = list(
                pool.map(
                    lambda image: self._prune_one(image, emit, deadline, resolved),
                    decision.remove,
                )
            )
        windows = []
        for item in items:
            if item.action is ItemAction.REMOVED:
                reply.removed.append(item.image)
                windows.append(item.window_us or 0)
            elif item.action is ItemAction.KEPT:
                reply.kept.append(item)
            else:
                reply.failed.append(item)
        fs_after = self.filesystems_after(time.time_ns()) if windows else self.filesystems()
        return reply.model_copy(update={"fs_after": fs_after, "window": window_stats(windows)})

    def _prune_one(
        self,
        image: WireImage,
        emit: Callable[[PruneItem], None],
        deadline: datetime,
        resolved: dict[str, str | None],
    ) -> PruneItem:
        if datetime.now(UTC) >= deadline:  # nobody waits for the answer any more
            return PruneItem(action=ItemAction.FAILED, image=image.ref(), detail="deadline-passed")
        try:
            users, window = self._remove_checked(image, resolved)
        except RuntimeError_ as error:
            item = PruneItem(action=ItemAction.FAILED, image=image.ref(), detail=error.detail)
        else:
            if users:
                item = PruneItem(
                    action=ItemAction.KEPT,
                    image=image.ref(),
                    reason=KeptReason.IN_USE_NOW,
                    detail=", ".join(users[:5]),
                )
            else:
                item = PruneItem(action=ItemAction.REMOVED, image=image.ref(), window_us=window)
        emit(item)
        return item

    def find_image(self, reference: str) -> WireImage | None:
        images, _ = self.snapshot()
        detail = None
        try:
            detail = self.client.image_status(reference)
        except RuntimeError_:
            detail = None
        if detail is not None:
            return next((i for i in images if i.id == detail.image.id), None)
        bare = reference.removeprefix("sha256:")
        if len(bare) >= 4 and all(c in "0123456789abcdef" for c in bare):
            matches = [i for i in images if i.id.removeprefix("sha256:").startswith(bare)]
            if len(matches) == 1:
                return matches[0]
        wanted = normalize(reference)
        return next(
            (
                i
                for i in images
                if wanted in {normalize(n) for n in (*i.repo_tags, *i.repo_digests)}
            ),
            None,
        )

    def remove(self, op: RemoveImageOp, emit: Callable[[PruneItem], None]) -> RemoveImageReply:
        fs_before = self.filesystems()
        image = self.find_image(op.image)
        if image is None:
            return RemoveImageReply(
                image=None, removed=False, reason="not-found", fs_before=fs_before
            )
        name = image.ref()
        refusal = None
        if image.sandbox_image:
            refusal = KeptReason.SANDBOX_IMAGE.value
        elif image.pinned:
            refusal = KeptReason.PINNED.value
        elif image.used_by:
            return RemoveImageReply(
                image=name,
                removed=False,
                reason="in-use",
                used_by=image.used_by,
                fs_before=fs_before,
            )
        elif op.approved_ids is not None and image.id not in op.approved_ids:
            # The reference names another image now (re-tagged), or the plan removed nothing.
            refusal = KeptReason.NOT_APPROVED.value
        if refusal is not None:
            return RemoveImageReply(image=name, removed=False, reason=refusal, fs_before=fs_before)
        if op.dry_run:
            return RemoveImageReply(image=name, removed=False, dry_run=True, fs_before=fs_before)
        try:
            users, window = self._remove_checked(image)
        except RuntimeError_ as error:
            return RemoveImageReply(
                image=name, removed=False, reason=error.detail or error.code, fs_before=fs_before
            )
        if users:
            return RemoveImageReply(
                image=name, removed=False, reason="in-use", used_by=users, fs_before=fs_before
            )
        emit(PruneItem(action=ItemAction.REMOVED, image=name, window_us=window))
        return RemoveImageReply(
            image=name,
            removed=True,
            fs_before=fs_before,
            fs_after=self.filesystems_after(time.time_ns()),
            window_us=window,
        )

    # --- Pods, containers, logs -------------------------------------------------------------

    def ps(self) -> PsReply:
        pods = self.client.list_pod_sandboxes()
        containers = self.client.list_containers()
        images = self.client.list_images()
        by_id = {pod.id: pod for pod in pods}
        tags = {
            image.id: (image.repo_tags or image.repo_digests or (image.id,))[0] for image in images
        }
        rows = []
        for c in sorted(containers, key=lambda c: c.created, reverse=True):
            pod = by_id.get(c.pod_sandbox_id)
            image_id = c.image_ref if c.image_ref in tags else c.image_id
            rows.append(
                ContainerInfo(
                    id=c.id,
                    name=c.name,
                    image=tags.get(image_id, c.image),
                    image_id=image_id or c.image_ref,
                    state=c.state,
                    created=c.created,
                    attempt=c.attempt,
                    pod_id=c.pod_sandbox_id,
                    pod_name=pod.name if pod else "",
                    pod_namespace=pod.namespace if pod else "",
                )
            )
        return PsReply(
            pods=[
                PodRow(
                    id=p.id,
                    name=p.name,
                    namespace=p.namespace,
                    uid=p.uid,
                    state=p.state,
                    created=p.created,
                    attempt=p.attempt,
                )
                for p in sorted(pods, key=lambda p: p.created, reverse=True)
            ],
            containers=rows,
        )

    def find_container(self, wanted: str) -> CriContainer:
        """A container by id, unique id prefix (as crictl takes), or name; a name used in
        several pods is ambiguous, restarts of one container are the newest attempt."""
        containers = self.client.list_containers()
        exact = [c for c in containers if c.id == wanted]
        if exact:
            return exact[0]
        by_prefix = [c for c in containers if c.id.startswith(wanted)]
        if len(by_prefix) == 1:
            return by_prefix[0]
        if len(by_prefix) > 1:
            ids = ", ".join(sorted(c.id[:13] for c in by_prefix)[:5])
            raise TaskRefused(FailReason.AMBIGUOUS_CONTAINER, ids)
        by_name = [c for c in containers if c.name == wanted]
        if not by_name:
            raise TaskRefused(FailReason.CONTAINER_NOT_FOUND, wanted)
        if len({c.pod_sandbox_id for c in by_name}) > 1:
            ids = ", ".join(sorted(c.id[:13] for c in by_name)[:5])
            raise TaskRefused(FailReason.AMBIGUOUS_CONTAINER, ids)
        return max(by_name, key=lambda c: (c.attempt, c.created))

    def log_file(self, log_path: str) -> Path:
        """Where to read a container's log, refusing any path outside the pod log dir."""
        path = Path(log_path)
        if self.pod_log_dir != HOST_POD_LOG_DIR and path.is_relative_to(HOST_POD_LOG_DIR):
            path = self.pod_log_dir / path.relative_to(HOST_POD_LOG_DIR)
        resolved = path.resolve()
        if not log_path or not resolved.is_relative_to(self.pod_log_dir.resolve()):
            raise TaskRefused(
                FailReason.CONTAINER_NOT_FOUND, "its log is not under the pod log directory"
            )
        return resolved

    def logs(self, op: LogsOp) -> LogsReply:
        container = self.find_container(op.container)
        status = self.client.container_status(container.id)
        path = self.log_file(status.log_path)
        try:
            tailed = read_log(
                path,
                redactor=self.redactor,
                tail=op.tail,
                max_lines=op.max_lines,
                max_bytes=op.max_bytes,
                max_line_bytes=op.max_line_bytes,
            )
        except FileNotFoundError:
            tailed = None
        return LogsReply(
            container_id=container.id,
            container_name=container.name,
            lines=tailed.lines if tailed else [],
            omitted=tailed.omitted if tailed else 0,
            masked=tailed.masked if tailed else 0,
        )


def window_stats(windows: Sequence[int]) -> WindowStats:
    if not windows:
        return WindowStats()
    return WindowStats(
        count=len(windows), median_us=int(statistics.median(windows)), max_us=max(windows)
    )


def refs(images: Iterable[WireImage]) -> list[ImageName]:
    return [image.ref() for image in images]
