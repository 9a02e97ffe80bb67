"""kubectl drain's pod filters, in kubectl's order and with kubectl's words.

Each pod passes the filters of ``k8s.io/kubectl/pkg/drain`` in turn — deleted too long ago,
DaemonSet, mirror pod, local storage, unreplicated — and the first that says "don't delete"
decides. Errors block the drain; warnings are printed and the drain goes on. Finished pods
(Succeeded or Failed) always pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from handlers.drain_models import DrainNode, Fate

DAEMONSET_FATAL = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
DAEMONSET_WARNING = "ignoring DaemonSet-managed Pods"
LOCAL_STORAGE_FATAL = "Pods with local storage (use --delete-emptydir-data to override)"
LOCAL_STORAGE_WARNING = "deleting Pods with local storage"
UNMANAGED_FATAL = "Pods that declare no controller (use --force to override)"
UNMANAGED_WARNING = "deleting Pods that declare no controller"
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"

Pod = dict[str, Any]


class Verdict(StrEnum):
    OKAY = "okay"
    SKIP = "skip"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Status:
    delete: bool
    verdict: Verdict
    message: str = ""


OKAY = Status(True, Verdict.OKAY)
SKIP = Status(False, Verdict.SKIP)


def controller_of(pod: Pod) -> dict[str, Any] | None:
    for owner in pod["metadata"].get("ownerReferences") or []:
        if owner.get("controller"):
            return dict(owner)
    return None


def finished(pod: Pod) -> bool:
    return pod.get("status", {}).get("phase") in ("Succeeded", "Failed")


def has_local_storage(pod: Pod) -> bool:
    return any("emptyDir" in volume for volume in pod["spec"].get("volumes") or [])


def _deleted_too_long_ago(pod: Pod, request: DrainNode, now: datetime) -> Status:
    stamp = pod["metadata"].get("deletionTimestamp")
    limit = request.skip_wait_for_delete_timeout
    if limit > 0 and stamp:
        age = (now - datetime.fromisoformat(stamp.replace("Z", "+00:00"))).total_seconds()
        if int(age) > limit:
            return SKIP
    return OKAY


def _daemonset(
    pod: Pod, request: DrainNode, daemonset_missing: Callable[[str, str], str]
) -> Status:
    owner = controller_of(pod)
    if not owner or owner.get("kind") != "DaemonSet" or owner.get("apiVersion") != "apps/v1":
        return OKAY
    if finished(pod):
        return OKAY
    missing = daemonset_missing(pod["metadata"]["namespace"], owner["name"])
    if missing:
        if request.force:
            return Status(True, Verdict.WARNING, missing)
        return Status(False, Verdict.ERROR, missing)
    if not request.ignore_daemonsets:
        return Status(False, Verdict.ERROR, DAEMONSET_FATAL)
    return Status(False, Verdict.WARNING, DAEMONSET_WARNING)


def _mirror(pod: Pod) -> Status:
    return SKIP if MIRROR_ANNOTATION in (pod["metadata"].get("annotations") or {}) else OKAY


def _local_storage(pod: Pod, request: DrainNode) -> Status:
    if not has_local_storage(pod) or finished(pod):
        return OKAY
    if not request.delete_emptydir_data:
        return Status(False, Verdict.ERROR, LOCAL_STORAGE_FATAL)
    return Status(True, Verdict.WARNING, LOCAL_STORAGE_WARNING)


def _unreplicated(pod: Pod, request: DrainNode) -> Status:
    if finished(pod) or controller_of(pod):
        return OKAY
    if request.force:
        return Status(True, Verdict.WARNING, UNMANAGED_WARNING)
    return Status(False, Verdict.ERROR, UNMANAGED_FATAL)


def judge(
    pod: Pod,
    request: DrainNode,
    *,
    daemonset_missing: Callable[[str, str], str],
    now: datetime,
) -> Status:
    """kubectl's verdict for one pod: the first filter that does not delete decides."""
    filters: Iterable[Callable[[], Status]] = (
        lambda: _deleted_too_long_ago(pod, request, now),
        lambda: _daemonset(pod, request, daemonset_missing),
        lambda: _mirror(pod),
        lambda: _local_storage(pod, request),
        lambda: _unreplicated(pod, request),
    )
    status = OKAY
    for check in filters:
        status = check()
        if not status.delete:
            break
    return status


def fate_of(status: Status, request: DrainNode) -> Fate:
    if status.verdict is Verdict.ERROR:
        return Fate.BLOCKED
    if not status.delete:
        return Fate.SKIPPED if status.verdict is Verdict.SKIP else Fate.IGNORED
    return Fate.DELETE if request.disable_eviction else Fate.EVICT


def _grouped(items: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for message, pod in items:
        groups.setdefault(message, []).append(pod)
    return groups


def error_lines(judged: Iterable[tuple[str, Status]]) -> list[str]:
    """``cannot delete <reason>: ns/a, ns/b`` per reason, as kubectl aggregates them."""
    groups = _grouped(
        (status.message or "unexpected error", key)
        for key, status in judged
        if status.verdict is Verdict.ERROR
    )
    return [f"cannot delete {message}: {', '.join(pods)}" for message, pods in groups.items()]


def warning_line(judged: Iterable[tuple[str, Status]]) -> str:
    """kubectl's single ``Warning:`` line body: ``<reason>: pods; <reason>: pods``."""
    groups = _grouped(
        (status.message, key) for key, status in judged if status.verdict is Verdict.WARNING
    )
    return "; ".join(f"{message}: {', '.join(pods)}" for message, pods in groups.items())
