"""The retry policy on its own: which failures heal, how long it waits, what the card says, and
that nothing it does reaches past the job's deadline. A fake clock stands in for time, and a
scripted attempt for the API server."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import messages
from handlers.kube import (
    CERTIFICATE_REJECTED,
    KubeConflict,
    KubeError,
    KubeForbidden,
    KubeInvalid,
    KubeNotFound,
    KubeTooManyRequests,
    KubeUnavailable,
    Timeout,
)
from handlers.retry import (
    DEFAULT_DEADLINES,
    Blip,
    Deadline,
    Retrier,
    RetryPolicy,
    classify,
    span,
)

NODES = "/api/v1/nodes/n1"
EVICTION = "/api/v1/namespaces/shop/pods/web-1/eviction"
MANY_BUDGETS = (
    "This pod has more than one PodDisruptionBudget, which the eviction subresource does not "
    "support."
)


@dataclass
class Clock:
    """Time that passes only when the code under test sleeps or an attempt takes it."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.now += seconds


def silent(clock: Clock) -> Callable[[Timeout], object]:
    """An API server that never answers: every attempt takes its whole read timeout."""

    def attempt(timeout: Timeout) -> object:
        clock.now += timeout[1] if isinstance(timeout, tuple) else timeout
        raise KubeUnavailable("timed out", reason="Timeout", incident="0000000a")

    return attempt


def scripted(clock: Clock, *outcomes: KubeError | str, took: float = 0.0) -> Callable[..., str]:
    """Raises each error in turn (each attempt taking ``took`` seconds), then answers."""
    pending = list(outcomes)
    seen: list[Timeout] = []

    def attempt(timeout: Timeout) -> str:
        seen.append(timeout)
        clock.now += took
        outcome = pending.pop(0)
        if isinstance(outcome, KubeError):
            raise outcome
        return outcome

    attempt.seen = seen  # type: ignore[attr-defined]
    return attempt


def refused() -> KubeUnavailable:
    return KubeUnavailable("refused", reason="NewConnectionError", incident="0000000b")


def retrier(clock: Clock, lines: list[str] | None = None, **kwargs: object) -> Retrier:
    return Retrier(
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 0.5,
        report=(lines.append if lines is not None else lambda _: None),
        **kwargs,  # type: ignore[arg-type]
    )


# --- What heals and what does not --------------------------------------------------------------

FAIL = None
SILENT = Blip(messages.KUBE_STATE_SILENT)
UNREACHABLE = Blip(messages.KUBE_STATE_UNREACHABLE)


@pytest.mark.parametrize(
    ("error", "path", "expected"),
    [
        (KubeUnavailable("t", reason="Timeout"), NODES, SILENT),
        (KubeUnavailable("r", reason="NewConnectionError"), NODES, UNREACHABLE),
        (KubeUnavailable("r", reason="ProtocolError"), EVICTION, UNREACHABLE),
        (KubeUnavailable("r", reason="ApiException"), NODES, UNREACHABLE),
        (KubeUnavailable("r", reason=CERTIFICATE_REJECTED), NODES, FAIL),
        (KubeUnavailable("s", status=500), NODES, Blip("answering 500")),
        (KubeUnavailable("s", status=502), NODES, Blip("answering 502")),
        (KubeUnavailable("s", status=503, retry_after=1.0), NODES, Blip("answering 503", 1.0)),
        (KubeUnavailable("s", status=504), EVICTION, Blip("answering 504")),
        (KubeUnavailable("s", status=500, server_message=MANY_BUDGETS), EVICTION, FAIL),
        (KubeUnavailable("s", status=501), NODES, FAIL),
        (KubeUnavailable("s", status=505), NODES, FAIL),
        # API Priority and Fairness: a 429 with Retry-After and no PodDisruptionBudget cause.
        (
            KubeTooManyRequests("a", status=429, retry_after=3.0),
            EVICTION,
            Blip(messages.KUBE_STATE_THROTTLING, 3.0),
        ),
        (KubeTooManyRequests("a", status=429), NODES, Blip(messages.KUBE_STATE_THROTTLING)),
        # A PodDisruptionBudget said no (with or without "still being processed", Retry-After 10).
        (KubeTooManyRequests("p", status=429, causes=("DisruptionBudget",)), EVICTION, FAIL),
        (
            KubeTooManyRequests("p", status=429, retry_after=10.0, causes=("DisruptionBudget",)),
            EVICTION,
            FAIL,
        ),
        (KubeForbidden("f", status=401), NODES, FAIL),
        (KubeForbidden("f", status=403), EVICTION, FAIL),
        (KubeNotFound("n", status=404), EVICTION, FAIL),
        (KubeConflict("c", status=409), EVICTION, FAIL),
        (KubeInvalid("i", status=400), NODES, FAIL),
        (KubeInvalid("i", status=422), NODES, FAIL),
        (KubeError("g", status=410), "/api/v1/nodes", FAIL),
        # Through the API server to a kubelet: a 5xx is the kubelet's (or the way to it).
        (KubeUnavailable("k", status=502), "/api/v1/nodes/n1/proxy/logs/", FAIL),
        (KubeUnavailable("k", status=500), "/api/v1/namespaces/a/pods/b/log", FAIL),
        (KubeUnavailable("k", reason="Timeout"), "/api/v1/namespaces/a/pods/b/log", SILENT),
        (
            KubeTooManyRequests("a", status=429),
            "/api/v1/nodes/n1/proxy/logs/",
            Blip(messages.KUBE_STATE_THROTTLING),
        ),
    ],
)
def test_classification(error: KubeError, path: str, expected: Blip | None) -> None:
    assert classify(error, path=path) == expected


# --- How long it waits --------------------------------------------------------------------------


@settings(max_examples=300)
@given(st.integers(min_value=1, max_value=200), st.floats(min_value=0.0, max_value=1.0))
def test_backoff_doubles_to_a_cap_with_jitter_in_the_upper_half(
    failures: int, jitter: float
) -> None:
    policy = RetryPolicy()
    ceiling = min(policy.max_delay, policy.first_delay * 2 ** (failures - 1))
    delay = policy.backoff(failures, jitter)
    assert ceiling / 2 <= delay <= ceiling
    assert delay <= policy.max_delay


def test_backoff_sequence() -> None:
    policy = RetryPolicy()
    assert [policy.backoff(n, 1.0) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 8, 8]
    assert [policy.backoff(n, 0.0) for n in range(1, 6)] == [0.25, 0.5, 1, 2, 4]


def test_retry_after_is_honoured_instead_of_the_backoff() -> None:
    clock = Clock()
    throttled = KubeTooManyRequests("apf", status=429, retry_after=3.0)
    attempt = scripted(clock, throttled, throttled, "ok")
    result = retrier(clock, verb="get").call(attempt, method="GET", path=NODES, timeout=(3, 30))
    assert result == "ok"
    assert sum(clock.slept) == pytest.approx(6.0)


def test_a_retry_after_beyond_the_deadline_gives_up_at_once() -> None:
    clock = Clock()
    deadline = Deadline(30, clock=clock)
    attempt = scripted(clock, KubeTooManyRequests("apf", status=429, retry_after=60.0))
    with pytest.raises(KubeUnavailable) as caught:
        retrier(clock, verb="drain", deadline=deadline).call(
            attempt, method="POST", path=EVICTION, timeout=(3, 30)
        )
    assert clock.slept == []
    assert caught.value.user_message.startswith(
        "Gave up on the Kubernetes API server: it asked us to wait 1 min, longer than this job "
        "may still wait"
    )


def test_failures_that_do_not_heal_are_raised_at_once() -> None:
    clock = Clock()
    budget = KubeTooManyRequests("pdb", status=429, causes=("DisruptionBudget",))
    for error in (budget, KubeForbidden("f", status=403), KubeNotFound("n", status=404)):
        with pytest.raises(type(error)) as caught:
            retrier(clock, verb="drain").call(
                scripted(clock, error), method="POST", path=EVICTION, timeout=(3, 30)
            )
        assert caught.value is error
    assert clock.slept == []


# --- The deadline -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    seconds=st.floats(min_value=1.0, max_value=900.0),
    took=st.lists(st.floats(min_value=0.0, max_value=40.0), min_size=1, max_size=60),
    jitter=st.floats(min_value=0.0, max_value=1.0),
)
def test_nothing_reaches_past_the_deadline(
    seconds: float, took: list[float], jitter: float
) -> None:
    """However long each failing attempt takes (up to its timeout), no attempt ends and no
    sleep ends after the deadline; when time is up the call gives up with a sentence."""
    clock = Clock()
    deadline = Deadline(seconds, clock=clock)
    assert deadline.at is not None
    ends: list[float] = []
    durations = iter(took)

    def attempt(timeout: Timeout) -> str:
        assert isinstance(timeout, tuple)
        duration = min(next(durations, 40.0), timeout[1])
        clock.now += duration
        ends.append(clock.now)
        raise KubeUnavailable("t", reason="Timeout", incident="0000000c")

    class Sleeper:
        @staticmethod
        def sleep(s: float) -> None:
            clock.sleep(s)
            ends.append(clock.now)

    subject = Retrier(
        verb="drain", deadline=deadline, clock=clock, sleep=Sleeper.sleep, jitter=lambda: jitter
    )
    with pytest.raises(KubeUnavailable) as caught:
        subject.call(attempt, method="POST", path=EVICTION, timeout=(3.05, 30.0))
    assert max(ends) <= deadline.at + 1e-9
    assert "at this job's deadline" in caught.value.user_message


def test_an_attempt_never_waits_longer_than_the_time_left() -> None:
    clock = Clock()
    deadline = Deadline(12, clock=clock)
    attempt = scripted(clock, refused(), refused(), "ok", took=5.0)
    retrier(clock, verb="drain", deadline=deadline).call(
        attempt, method="GET", path=NODES, timeout=(3.05, 30.0)
    )
    connect, read = zip(*attempt.seen, strict=True)  # type: ignore[attr-defined]
    assert read[0] == 12.0  # capped by the deadline (below the 20 s attempt cap)
    assert all(r <= 12.0 - elapsed for r, elapsed in zip(read[1:], (5.25, 10.75), strict=True))
    assert max(connect) <= 3.05


def test_requests_are_cut_at_the_attempt_timeout_but_streams_are_not() -> None:
    clock = Clock()
    subject = retrier(clock, verb="logs")
    request = scripted(clock, "ok")
    subject.call(request, method="GET", path=NODES, timeout=(3.05, 30.0))
    stream = scripted(clock, "ok")
    subject.call(stream, method="GET", path=NODES, timeout=(3.05, 120.0), stream=True)
    assert request.seen == [(3.05, 20.0)]  # type: ignore[attr-defined]
    assert stream.seen == [(3.05, 120.0)]  # type: ignore[attr-defined]


def test_without_a_deadline_an_outage_may_last_the_verbs_default() -> None:
    clock = Clock()
    started = clock.now
    with pytest.raises(KubeUnavailable) as caught:
        retrier(clock, verb="cordon").call(
            silent(clock), method="PATCH", path=NODES, timeout=(3.05, 30.0)
        )
    assert DEFAULT_DEADLINES["cordon"] == 120
    assert 119 <= clock.now - started <= 120
    assert caught.value.user_message == (
        "Gave up on the Kubernetes API server: it was not answering for 2 min, the longest a "
        "cordon waits for it; nothing was changed after that point (logged as 0000000a)."
    )


def test_without_a_deadline_the_patience_counts_from_the_outage_not_the_job() -> None:
    """A drain that waited an hour on a PodDisruptionBudget still rides out a restart."""
    clock = Clock()
    subject = retrier(clock, verb="drain")
    clock.now += 3600
    attempt = scripted(clock, *([refused()] * 20), "ok", took=0.1)
    assert subject.call(attempt, method="POST", path=EVICTION, timeout=(3.05, 30.0)) == "ok"


# --- What the card says -------------------------------------------------------------------------


def test_the_card_hears_at_most_one_line_every_ten_seconds_then_that_it_is_back() -> None:
    clock = Clock()
    lines: list[str] = []
    deadline = Deadline(120, clock=clock)
    outage = [KubeUnavailable("t", reason="Timeout")] * 5
    attempt = scripted(clock, *outage, "ok", took=10.0)  # a frozen server: 10 s an attempt
    subject = retrier(clock, lines, verb="drain", deadline=deadline)
    subject.call(attempt, method="POST", path=EVICTION, timeout=(3.05, 30.0))
    assert lines[0] == "API server not answering for 10 s, retrying (giving up in 1 min 50 s)"
    assert lines[-1].startswith("API server answering again after ")
    assert len(lines) <= 1 + 5
    # And with fast failures (connection refused), still no more than one line per 10 s:
    clock2, lines2 = Clock(), []
    attempt2 = scripted(clock2, *([refused()] * 40), "ok", took=0.01)
    start = clock2.now
    retrier(clock2, lines2, verb="drain").call(
        attempt2, method="POST", path=EVICTION, timeout=(3.05, 30.0)
    )
    waiting = [line for line in lines2 if "retrying" in line]
    assert len(waiting) <= (clock2.now - start) / 10 + 1
    assert waiting[0].startswith("API server not reachable for ")


def test_a_blip_shorter_than_two_seconds_is_not_worth_a_line() -> None:
    clock = Clock()
    lines: list[str] = []
    attempt = scripted(clock, refused(), refused(), "ok")
    retrier(clock, lines, verb="get").call(attempt, method="GET", path=NODES, timeout=(3, 30))
    assert lines == []


def test_the_sentences_name_no_server_and_no_path() -> None:
    clock = Clock()
    lines: list[str] = []
    with pytest.raises(KubeUnavailable) as caught:
        retrier(clock, lines, verb="drain", deadline=Deadline(45, clock=clock)).call(
            silent(clock), method="POST", path=EVICTION, timeout=(3.05, 30.0)
        )
    for text in [*lines, caught.value.user_message, caught.value.detail]:
        assert "://" not in text and "/api" not in text and "127.0.0.1" not in text


def test_a_cancel_ends_the_wait() -> None:
    clock = Clock()
    cancel = {"now": False}

    def attempt(timeout: Timeout) -> str:
        cancel["now"] = clock.now > 1010
        raise refused()

    subject = retrier(clock, verb="drain", cancelled=lambda: cancel["now"])
    with pytest.raises(KubeUnavailable) as caught:
        subject.call(attempt, method="POST", path=EVICTION, timeout=(3.05, 30.0))
    assert caught.value.user_message.startswith(
        "Cancelled while waiting for the Kubernetes API server"
    )
    assert clock.now < 1030


def test_span() -> None:
    assert [span(s) for s in (0, 0.9, 20.4, 60, 125, 600)] == [
        "0 s",
        "0 s",
        "20 s",
        "1 min",
        "2 min 5 s",
        "10 min",
    ]


def test_an_outage_seen_for_under_a_second_is_not_given_a_length() -> None:
    clock = Clock()
    deadline = Deadline(1.5, clock=clock)
    attempt = scripted(clock, refused(), took=0.6)
    with pytest.raises(KubeUnavailable) as caught:
        retrier(clock, verb="drain", deadline=deadline).call(
            attempt, method="POST", path=EVICTION, timeout=(3.05, 30.0)
        )
    assert caught.value.user_message == (
        "Gave up on the Kubernetes API server at this job's deadline: it was not reachable; "
        "nothing was changed after that point (logged as 0000000b)."
    )
