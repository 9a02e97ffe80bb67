"""``drain``: kubectl's semantics, step by step, with a plan and progress on the way.

Order as in ``kubectl drain``: cordon (skipped if already cordoned); list the node's pods across
namespaces in pages; run kubectl's filters (errors stop here, nothing is evicted); then evict
every pod concurrently through the Eviction subresource — 404 means done, 429 from a
PodDisruptionBudget is reported and retried every 5 s until the one shared deadline (throttling
by API Priority and Fairness is the retry policy's, below), anything else fails that pod — and
wait until each pod is gone (404 or a new UID).
``--disable-eviction`` deletes instead and so bypasses PodDisruptionBudgets. Server dry-run
sends ``dryRun=All`` everywhere and changes nothing; client dry-run sends nothing.

Waiting is done by one poller per drain that lists the node's pods four times a second, rather
than one GET per pod per second as kubectl does: it notices a pod is gone sooner and costs the
API server one request per tick however many pods there are.

Every other request rides out API server blips (:mod:`handlers.retry`) until ``--timeout``, or
for the drain's default when there is none. That is why each eviction and delete names the pod's
UID as a precondition: sent again after an answer was lost, it must not remove a new pod that
took the old one's name (a StatefulSet's); the server answers 409 instead, and the pod is gone.
Once the node is cordoned, a drain that stops for any reason leaves it cordoned and says so.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from core import messages
from core.errors import ChatOpsError
from handlers.control import Control
from handlers.drain_models import DrainNode, DrainResult, PodFate, PodOutcome
from handlers.drain_plan import changes, make_plan
from handlers.kube import (
    JSON,
    KubeClient,
    KubeConflict,
    KubeError,
    KubeForbidden,
    KubeNotFound,
    KubeTooManyRequests,
    KubeUnavailable,
    resource_for,
)
from handlers.retry import Deadline, retrying

RETRY_DELAY_SECONDS = 5.0
POLL_INTERVAL_SECONDS = 0.25
_PODS = resource_for("Pod")
_NODES = resource_for("Node")
_SUFFIX = {"none": "", "client": " (dry run)", "server": " (server dry run)"}


def go_duration(seconds: float) -> str:
    """A duration the way Go prints it (``30s``, ``1m30s``, ``1h0m0s``, ``500ms``)."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms" if seconds else "0s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:g}s"
    if hours or minutes:
        text = f"{int(minutes)}m" + text
    if hours:
        text = f"{int(hours)}h" + text
    return text


def aggregate(errors: list[str]) -> str:
    """``utilerrors.NewAggregate(errs).Error()``: one message, or ``[a, b]``."""
    return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"


class _GoneWatcher:
    """Tells eviction threads when their pod has left the node (gone, or a new UID).

    The first list rides out blips like any request (until it has one, no pod can be known to
    be gone); after that each poll is tried once: the poll loop is its own retry, backing off
    while the API server is away, and it must stop when the drain does, not when a retry
    gives up."""

    def __init__(self, kube: KubeClient, node: str) -> None:
        self._kube = kube.retrying(None)
        self._node = node
        self._changed = threading.Condition()
        self._present: dict[str, str | None] = {}
        self._stopped = False
        self._refresh(kube)
        self._thread = threading.Thread(target=self._run, name=f"drain-{node}", daemon=True)
        self._thread.start()

    def _refresh(self, kube: KubeClient | None = None) -> None:
        present = {
            pod["metadata"]["uid"]: pod["metadata"].get("deletionTimestamp")
            for pod in (kube or self._kube).list_pages(
                _PODS.path(), field_selector=f"spec.nodeName={self._node}"
            )
        }
        with self._changed:
            self._present = present
            self._changed.notify_all()

    def _run(self) -> None:
        failures = 0
        while not self._stopped:
            time.sleep(POLL_INTERVAL_SECONDS * 2 ** min(failures, 3))
            try:
                self._refresh()
            except KubeError:
                failures += 1
                continue
            failures = 0

    def stop(self) -> None:
        self._stopped = True

    def wait_gone(self, uid: str, deadline: Deadline, skip_after: int, control: Control) -> str:
        """ "gone", "skipped" (deleted longer ago than ``skip_after``), "timeout" or "cancelled"."""
        with self._changed:
            while uid in self._present:
                stamp = self._present[uid]
                if skip_after and stamp and _age(stamp) > skip_after:
                    return "skipped"
                if deadline.passed():
                    return "timeout"
                if control.cancelled():
                    return "cancelled"
                self._changed.wait(timeout=POLL_INTERVAL_SECONDS * 2)
            return "gone"


def _age(stamp: str) -> float:
    return (
        datetime.now(UTC) - datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    ).total_seconds()


def _delete_options(request: DrainNode, pod: PodFate | None = None) -> JSON:
    """What every eviction and delete carries; with ``pod``, its UID as a precondition, so a
    request sent again cannot remove a new pod that took the name."""
    options: JSON = {}
    if pod is not None:
        options["preconditions"] = {"uid": pod.uid}
    if request.grace_period >= 0:
        options["gracePeriodSeconds"] = request.grace_period
    if request.dry_run == "server":
        options["dryRun"] = ["All"]
    return options


class _Run:
    """One drain in progress: its output lines, per-pod outcomes and errors."""

    def __init__(
        self, request: DrainNode, kube: KubeClient, control: Control, deadline: Deadline
    ) -> None:
        self.request, self.kube, self.control = request, kube, control
        self.suffix = _SUFFIX[request.dry_run]
        self.lines: list[str] = []
        self.outcomes: dict[str, PodOutcome] = {}
        self.errors: list[str] = []
        self.deadline = deadline
        self._lock = threading.Lock()

    def say(self, line: str) -> None:
        with self._lock:
            self.lines.append(line)
        self.control.progress(line)

    def settle(self, pod: PodFate, outcome: PodOutcome, error: str = "") -> None:
        with self._lock:
            self.outcomes[pod.key] = outcome
            if error:
                self.errors.append(error)

    def cordon(self) -> None:
        try:
            node = self.kube.get(_NODES.path(name=self.request.node))
        except KubeNotFound:
            raise KubeNotFound(
                messages.NODE_NOT_FOUND.format(name=self.request.node), status=404
            ) from None
        name = self.request.node
        if node["spec"].get("unschedulable"):
            self.say(f"node/{name} already cordoned{self.suffix}")
            return
        if self.request.dry_run != "client":
            query = {"dryRun": "All"} if self.request.dry_run == "server" else None
            self.kube.request(
                "PATCH",
                _NODES.path(name=name),
                query=query,
                body={"spec": {"unschedulable": True}},
                content_type="application/strategic-merge-patch+json",
            )
        self.say(f"node/{name} cordoned{self.suffix}")

    def _pause(self, seconds: float) -> None:
        remaining = self.deadline.remaining()
        end = time.monotonic() + (seconds if remaining is None else min(seconds, max(remaining, 0)))
        while time.monotonic() < end and not self.control.cancelled():
            time.sleep(min(0.1, end - time.monotonic()))

    def evict(self, pod: PodFate, watcher: _GoneWatcher | None) -> None:
        body = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": pod.name, "namespace": pod.namespace},
            "deleteOptions": _delete_options(self.request, pod),
        }
        while True:
            self.say(f"evicting pod {pod.key}{self.suffix}")
            if self.deadline.passed():
                reason = f"global timeout reached: {go_duration(self.deadline.seconds)}"
                message = f'error when evicting pods/"{pod.name}" -n "{pod.namespace}": {reason}'
                self.settle(pod, PodOutcome.FAILED, message)
                return
            if self.control.cancelled():
                self.settle(pod, PodOutcome.PENDING)
                return
            try:
                self.kube.request(
                    "POST", _PODS.path(pod.namespace, pod.name) + "/eviction", body=body
                )
                break
            except (KubeNotFound, KubeConflict):  # gone; or its name is a new pod's now
                self.settle(pod, PodOutcome.GONE)
                return
            except KubeTooManyRequests as refused:
                self.say(
                    f'error when evicting pods/"{pod.name}" -n "{pod.namespace}" (will retry '
                    f"after {go_duration(RETRY_DELAY_SECONDS)}): {refused.detail}"
                )
                self._pause(RETRY_DELAY_SECONDS)
            except KubeForbidden as refused:
                if "NamespaceTerminating" not in refused.reason + refused.server_message:
                    self._fail_eviction(pod, refused)
                    return
                self._pause(RETRY_DELAY_SECONDS)
            except KubeError as failed:
                if self.control.cancelled():  # while waiting for the API server
                    self.settle(pod, PodOutcome.PENDING)
                else:
                    self._fail_eviction(pod, failed)
                return
        if self.request.dry_run == "server" or watcher is None:
            self.settle(pod, PodOutcome.DRY_RUN)
            return
        self._await_gone(pod, watcher, PodOutcome.EVICTED)

    def _fail_eviction(self, pod: PodFate, error: KubeError) -> None:
        message = f'error when evicting pods/"{pod.name}" -n "{pod.namespace}": {error.detail}'
        self.settle(pod, PodOutcome.FAILED, message)

    def _await_gone(self, pod: PodFate, watcher: _GoneWatcher, done: PodOutcome) -> None:
        skip = self.request.skip_wait_for_delete_timeout
        state = watcher.wait_gone(pod.uid, self.deadline, skip, self.control)
        if state == "gone":
            self.say(f"pod/{pod.name} {done.value}")
            self.settle(pod, done)
        elif state == "skipped":
            self.say(f'pod "{pod.name}" has DeletionTimestamp older than {skip} seconds, skipping')
            self.settle(pod, done)
        elif state == "cancelled":
            self.settle(pod, PodOutcome.PENDING)
        else:
            reason = f"global timeout reached: {go_duration(self.deadline.seconds)}"
            self.settle(
                pod,
                PodOutcome.FAILED,
                f'error when waiting for pod "{pod.name}" in '
                f'namespace "{pod.namespace}" to terminate: {reason}',
            )

    def delete(self, pods: list[PodFate], watcher: _GoneWatcher | None) -> None:
        for pod in pods:
            try:
                self.kube.request(
                    "DELETE",
                    _PODS.path(pod.namespace, pod.name),
                    body={
                        "apiVersion": "v1",
                        "kind": "DeleteOptions",
                        **_delete_options(self.request, pod),
                    },
                )
            except (KubeNotFound, KubeConflict):  # gone; or its name is a new pod's now
                continue
            except KubeError as failed:
                self.settle(pod, PodOutcome.FAILED, failed.detail)
                return
        if watcher is None:
            for pod in pods:
                self.settle(pod, PodOutcome.DRY_RUN)
            return
        with ThreadPoolExecutor(max_workers=min(len(pods), 64)) as pool:
            list(pool.map(lambda p: self._await_gone(p, watcher, PodOutcome.DELETED), pods))


def drain(request: DrainNode, kube: KubeClient, control: Control) -> DrainResult:
    """Drain ``request.node``, reporting what changed since ``request.expected_plan``."""
    started = time.monotonic()
    deadline = Deadline(request.timeout_seconds)
    kube = retrying(kube, control, verb=request.verb, deadline=deadline)
    run = _Run(request, kube, control, deadline)
    run.cordon()
    try:
        plan = make_plan(kube, request)
    except KubeUnavailable as error:
        if request.dry_run != "none":
            raise  # nothing was cordoned
        raise _stopped_after_cordon(request.node, error) from error
    expected = request.expected_plan
    differences = changes(expected, plan) if expected else []

    def result(drained: bool, *, cancelled: bool = False) -> DrainResult:
        return DrainResult(
            node=request.node,
            dry_run=request.dry_run,
            drained=drained,
            lines=run.lines,
            outcomes=run.outcomes,
            errors=run.errors,
            warnings=plan.warnings,
            plan=plan,
            changes_since_plan=differences,
            cancelled=cancelled,
            seconds=round(time.monotonic() - started, 3),
        )

    if plan.errors:
        run.errors.extend(plan.errors)
        return result(False)
    for warning in plan.warnings:
        run.say(f"Warning: {warning}")
    doomed = plan.removed()
    if request.dry_run == "client":
        for pod in doomed:
            run.say(f"evicting pod {pod.key} (dry run)")
            run.settle(pod, PodOutcome.DRY_RUN)
        run.say(f"node/{request.node} drained (dry run)")
        return result(True)
    try:
        watcher = _GoneWatcher(kube, request.node) if request.dry_run == "none" and doomed else None
    except KubeUnavailable as error:
        raise _stopped_after_cordon(request.node, error) from error
    try:
        if request.disable_eviction:
            run.delete(doomed, watcher)
        elif doomed:
            with ThreadPoolExecutor(max_workers=min(len(doomed), 64)) as pool:
                list(pool.map(lambda pod: run.evict(pod, watcher), doomed))
    finally:
        if watcher:
            watcher.stop()
    if control.cancelled():
        return result(False, cancelled=True)
    if run.errors:
        return result(False)
    run.say(f"node/{request.node} drained{run.suffix}")
    return result(True)


def _stopped_after_cordon(node: str, error: KubeUnavailable) -> ChatOpsError:
    """The API server went away between steps, after the node was cordoned: say it stays so."""
    return ChatOpsError(
        messages.DRAIN_STOPPED_AFTER_CORDON.format(node=node, reason=error.user_message)
    )
