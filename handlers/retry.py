"""One retry policy for every handler's calls to the Kubernetes API.

People drain nodes most often during upgrades, which is exactly when API servers restart. A job
that runs unattended should ride that out rather than fail as a terminal would: a request that
failed in a way that heals by itself — the server did not answer, refused the connection,
answered 500/502/503/504, or throttled it with a 429 from API Priority and Fairness — is sent
again after a capped, jittered exponential backoff, or after the ``Retry-After`` the server
asked for. Anything else (401, 403, 404, 409, 422, an eviction a PodDisruptionBudget refused,
the 500 for a pod under two PodDisruptionBudgets) is raised at once, as kubectl does, for the
handler to deal with: drain waits out a PodDisruptionBudget itself, with kubectl's words.

The job's own deadline bounds it all: ``--timeout`` when the job has one; without one, the API
server may be away at most the verb's default (:data:`DEFAULT_DEADLINES`) in one stretch,
counted from when it stopped answering, so a drain that waited an hour on a budget still rides
out a restart afterwards. No sleep, and no attempt's timeout, reaches past that point. While it
waits, the job's card says so, at most once every ~10 s, and says when the server is back.

Every request sent again is safe to repeat: docs/jobs.md says why for each kind.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeVar

from core import messages
from handlers.control import Control
from handlers.kube import (
    CERTIFICATE_REJECTED,
    DISRUPTION_BUDGET_CAUSE,
    KubeClient,
    KubeError,
    KubeUnavailable,
    Timeout,
)

log = logging.getLogger(__name__)
_T = TypeVar("_T")

MINUTE = 60.0
#: How long a job without ``--timeout`` waits for the API server, by verb (docs/jobs.md).
DEFAULT_DEADLINES: Mapping[str, float] = MappingProxyType(
    {
        "get": 2 * MINUTE,
        "cordon": 2 * MINUTE,
        "uncordon": 2 * MINUTE,
        "logs": 2 * MINUTE,
        "node-logs": 2 * MINUTE,
        "drain": 10 * MINUTE,
        "rollout": 10 * MINUTE,
        "watch": 10 * MINUTE,
    }
)
#: For a verb the table does not name.
FALLBACK_DEADLINE = 2 * MINUTE
#: The eviction subresource's 500 for a pod two PodDisruptionBudgets cover: it never heals.
_MANY_BUDGETS = "more than one PodDisruptionBudget"


def _ignore(line: str) -> None:
    del line


def _never() -> bool:
    return False


def span(seconds: float) -> str:
    """Whole seconds as people say them on a card: ``20 s``, ``2 min 5 s``."""
    whole = max(0, int(seconds))
    minutes, rest = divmod(whole, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


class Deadline:
    """The instant a job must be over by, on a monotonic clock; ``seconds=0`` means none."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self.at: float | None = clock() + seconds if seconds else None

    def remaining(self) -> float | None:
        return None if self.at is None else self.at - self._clock()

    def passed(self) -> bool:
        remaining = self.remaining()
        return remaining is not None and remaining <= 0


@dataclass(frozen=True)
class Blip:
    """A failure that heals by itself: what the server is doing, in words, and how long it
    asked us to wait (None: our own backoff decides)."""

    state: str
    retry_after: float | None = None


def _reaches_kubelet(path: str) -> bool:
    """Container logs and the node proxy: a 5xx there is the kubelet's answer, or the way to
    the kubelet failing, and says nothing about the API server."""
    return path.endswith("/log") or "/proxy" in path


def classify(error: KubeError, *, path: str) -> Blip | None:
    """Whether a request that failed with ``error`` is worth sending again (the table in
    docs/jobs.md); None means it fails at once."""
    if isinstance(error, KubeUnavailable) and error.status == 0:
        if error.reason == CERTIFICATE_REJECTED:
            return None
        silent = error.reason == "Timeout"
        if silent:
            return Blip(messages.KUBE_STATE_SILENT.format())
        return Blip(messages.KUBE_STATE_UNREACHABLE.format())
    if error.status == 429:
        if DISRUPTION_BUDGET_CAUSE in error.causes:
            return None  # a PodDisruptionBudget said no: drain waits that out, not us
        return Blip(messages.KUBE_STATE_THROTTLING.format(), error.retry_after)
    if error.status in (500, 502, 503, 504) and not _reaches_kubelet(path):
        if _MANY_BUDGETS in error.server_message:
            return None
        return Blip(messages.KUBE_STATE_FAILING.format(status=error.status), error.retry_after)
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait between attempts, how long one attempt may take, and how often to say
    so. The defaults are what production uses; tests shrink them."""

    first_delay: float = 0.5
    max_delay: float = 8.0
    #: A request whose answer has not begun after this long is abandoned and sent again. It is
    #: above the longest an API server queues a request under API Priority and Fairness (15 s),
    #: so a request waiting its turn is answered (or refused with a 429) rather than dropped.
    attempt_read_timeout: float = 20.0
    #: The shortest attempt worth making: closer than this to giving up, the call gives up.
    min_attempt: float = 1.0
    #: Failures shorter than this are not worth a line on the card.
    report_after: float = 2.0
    report_every: float = 10.0

    def backoff(self, failures: int, jitter: float) -> float:
        """The wait after the ``failures``-th failure in a row (1-based): it doubles from
        ``first_delay`` up to ``max_delay``, and ``jitter`` (0 to 1) places it in the upper
        half of that, so many workers retrying together spread out without hammering."""
        ceiling = min(self.max_delay, self.first_delay * 2.0 ** min(failures - 1, 30))
        return ceiling / 2 * (1 + min(max(jitter, 0.0), 1.0))


@dataclass
class _Outage:
    """Since when the API server has been away, as one job's threads have seen it."""

    since: float | None = None
    reported: bool = False
    last_report: float = -math.inf
    lock: threading.Lock = field(default_factory=threading.Lock)


class Retrier:
    """Runs one job's requests under :class:`RetryPolicy`, within the job's deadline; shared by
    the job's threads (a drain evicts from many), which share one outage and one card."""

    def __init__(
        self,
        *,
        verb: str,
        deadline: Deadline | None = None,
        report: Callable[[str], None] = _ignore,
        cancelled: Callable[[], bool] = _never,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.verb = verb
        #: The job's deadline (``time.monotonic``), when it has one.
        self.deadline_at = deadline.at if deadline is not None else None
        #: Without a deadline: the longest the API server may be away in one stretch.
        self.patience = DEFAULT_DEADLINES.get(verb, FALLBACK_DEADLINE)
        self.policy = policy or RetryPolicy()
        self._report, self._cancelled = report, cancelled
        self._clock, self._sleep, self._jitter = clock, sleep, jitter
        self._outage = _Outage()

    def call(
        self,
        attempt: Callable[[Timeout], _T],
        *,
        method: str,
        path: str,
        timeout: Timeout,
        stream: bool = False,
    ) -> _T:
        """``attempt`` until it succeeds, fails in a way that does not heal, or the job's time
        for waiting on the API server is up (then :class:`KubeUnavailable`, in plain words)."""
        failures = 0
        while True:
            started = self._clock()
            try:
                result = attempt(self._attempt_timeout(timeout, stream=stream))
            except KubeError as error:
                blip = classify(error, path=path)
                if blip is None:
                    self._answered()  # the server answered, if not as hoped
                    raise
                failures += 1
                self._pause(self._delay(error, blip, failures, started))
                continue
            self._answered()
            return result

    def give_up_at(self) -> float | None:
        """When waiting stops: the deadline, or the verb's patience after the outage began."""
        if self.deadline_at is not None:
            return self.deadline_at
        with self._outage.lock:
            since = self._outage.since
        return None if since is None else since + self.patience

    def _attempt_timeout(self, timeout: Timeout, *, stream: bool) -> Timeout:
        give_up_at = self.give_up_at()
        left = math.inf if give_up_at is None else give_up_at - self._clock()
        cap = max(left, self.policy.min_attempt)
        if not isinstance(timeout, tuple):
            return min(timeout, cap)
        connect, read = timeout
        if not stream:
            read = min(read, self.policy.attempt_read_timeout)
        return (min(connect, cap), min(read, cap))

    def _delay(self, error: KubeError, blip: Blip, failures: int, started: float) -> float:
        """How long to wait before the next attempt; raises when there is no next attempt."""
        now = self._clock()
        with self._outage.lock:
            if self._outage.since is None:
                self._outage.since = started  # a silent server was away from the request on
            since = self._outage.since
        waited = now - since
        give_up_at = self.deadline_at if self.deadline_at is not None else since + self.patience
        left = give_up_at - now
        if self._cancelled():
            raise self._gave_up(
                error, blip, waited, messages.KUBE_CANCELLED_WAITING.format
            ) from error
        room = left - self.policy.min_attempt  # the next attempt needs time of its own
        if room < 0:
            say = (
                messages.KUBE_GAVE_UP_AT_DEADLINE.format
                if self.deadline_at is not None
                else messages.KUBE_GAVE_UP_AFTER.format
            )
            raise self._gave_up(error, blip, waited, say) from error
        if blip.retry_after is not None and blip.retry_after > room:
            raise self._gave_up(
                error, blip, waited, messages.KUBE_GAVE_UP_RETRY_AFTER.format
            ) from error
        if blip.retry_after is not None:
            delay = blip.retry_after
        else:
            delay = min(self.policy.backoff(failures, self._jitter()), room)
        self._say_waiting(blip, waited, left, now)
        return delay

    def _pause(self, seconds: float) -> None:
        """Sleep, but look at the cancel flag on the way: a cancelled job's next failure ends it."""
        end = self._clock() + seconds
        while (left := end - self._clock()) > 0 and not self._cancelled():
            self._sleep(min(left, 0.25))

    def _say_waiting(self, blip: Blip, waited: float, left: float, now: float) -> None:
        outage = self._outage
        with outage.lock:
            due = (
                waited >= self.policy.report_after
                and now - outage.last_report >= self.policy.report_every
            )
            if due:
                outage.last_report, outage.reported = now, True
        if due:
            self._report(
                messages.KUBE_RETRYING.format(
                    state=blip.state, waited=span(waited), left=span(left)
                )
            )

    def _answered(self) -> None:
        outage = self._outage
        with outage.lock:
            since, outage.since = outage.since, None
            reported, outage.reported = outage.reported, False
        if since is not None and reported:
            self._report(messages.KUBE_RECOVERED.format(waited=span(self._clock() - since)))

    def _gave_up(
        self, error: KubeError, blip: Blip, waited: float, say: Callable[..., str]
    ) -> KubeUnavailable:
        incident = error.incident or uuid.uuid4().hex[:8]
        log.warning(
            "gave up on the Kubernetes API for a %s after %.1fs: %s (incident %s)",
            self.verb,
            waited,
            error.server_message,
            incident,
        )
        text = say(
            state=blip.state,
            for_how_long=messages.KUBE_FOR_HOW_LONG.format(waited=span(waited))
            if waited >= 1
            else "",
            verb=self.verb,
            wait=span(blip.retry_after or 0),
            incident=incident,
        )
        return KubeUnavailable(
            text, status=error.status, reason=error.reason, incident=incident, causes=error.causes
        )


def retrying(
    kube: KubeClient, control: Control, *, verb: str, deadline: Deadline | None = None
) -> KubeClient:
    """``kube`` for one job's handler: its requests ride out API blips until ``deadline`` (the
    job's ``--timeout``) or, without one, the verb's default, and its card says it is waiting."""
    retrier = Retrier(
        verb=verb, deadline=deadline, report=control.progress, cancelled=control.cancelled
    )
    return kube.retrying(retrier)
