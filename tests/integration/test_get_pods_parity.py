"""Parity with the real kubectl (built at the sandbox's version) for ``get pods`` and
``get events``, on the seed plus the pods of :mod:`sandbox.pod_states`, held in several states
by the sandbox's kwok stages (``sandbox/stages/pod-states.yaml``): CrashLoopBackOff, Error,
Completed, ContainerCreating, Init:0/1, one Pending that no node fits, and one Terminating
(held by a finalizer).

Rows are compared column by column. Ages may differ by the time between the two reads, so an
age cell only has to be within a few seconds of kubectl's; everything else must be equal.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.commands.verbs import get
from bot.commands.verbs.pods import event_cells, pod_cells
from core.errors import ChatOpsError
from handlers.control import Control
from handlers.kube import KubeClient
from handlers.pods import get_events, get_pods, seen_at
from handlers.pods_models import GetEvents, GetPods
from sandbox import pod_states, seed

pytestmark = pytest.mark.integration

NAMESPACE = "get-pods-states"
#: kubectl columns whose value is an age (by header), and how far apart two reads may be.
AGE_SLACK_SECONDS = 5
_AGE = re.compile(r"^(?:(\d+)y)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def _seconds(age: str) -> int | None:
    match = _AGE.match(age)
    if not age or not match:
        return None
    units = (365 * 86400, 86400, 3600, 60, 1)
    return sum(int(g or 0) * u for g, u in zip(match.groups(), units, strict=True))


def _same_age(ours: str, theirs: str) -> bool:
    """Two renderings of one age, read a few seconds apart (``5 (12s ago)`` too)."""
    if ours == theirs:
        return True
    if "(" in ours or "(" in theirs:
        # ``5 (12s ago)``: the count must be equal, the age close.
        count, _, rest = ours.partition(" ")
        their_count, _, their_rest = theirs.partition(" ")
        return count == their_count and _same_age(rest[1:-5], their_rest[1:-5])
    a, b = ours, theirs
    sa, sb = _seconds(a), _seconds(b)
    return sa is not None and sb is not None and abs(sa - sb) <= AGE_SLACK_SECONDS


def _kubectl_rows(text: str) -> tuple[list[str], list[list[str]]]:
    """kubectl's table split at its column starts (cells may hold spaces: ``5 (3s ago)``)."""
    lines = text.rstrip("\n").splitlines()
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"(?:^|(?<=\s\s))\S", header)]
    names = [header[s:e].strip() for s, e in zip(starts, [*starts[1:], None], strict=True)]
    rows = []
    for line in lines[1:]:
        rows.append([line[s:e].strip() for s, e in zip(starts, [*starts[1:], None], strict=True)])
    return names, rows


def _compare(header: list[str], ours: list[list[str]], theirs: list[list[str]]) -> None:
    ages = {i for i, name in enumerate(header) if name in ("AGE", "RESTARTS", "LAST SEEN")}
    assert len(ours) == len(theirs), (ours, theirs)
    for mine, kubectls in zip(ours, theirs, strict=True):
        for i, (a, b) in enumerate(zip(mine, kubectls, strict=True)):
            if i in ages:
                assert _same_age(a, b), (header[i], mine, kubectls)
            else:
                assert a == b, (header[i], mine, kubectls)


@pytest.fixture
def states(pristine: KubeClient) -> Iterator[KubeClient]:
    """The seed plus :mod:`sandbox.pod_states`' pods, once every one shows its state and the
    scheduler has said why the unplaceable one waits."""
    kube = pristine
    pod_states.create(kube, NAMESPACE)
    try:
        wanted = {name: shown for name, (_, shown) in pod_states.STATES.items()}
        deadline = time.monotonic() + 60
        while True:
            rows = get_pods(GetPods(namespaces=(NAMESPACE,)), kube, Control()).rows
            if {row.name: row.status for row in rows} == wanted and _scheduling_failed(kube):
                break
            assert time.monotonic() < deadline, {row.name: row.status for row in rows}
            time.sleep(0.3)
        yield kube
    finally:
        pod_states.release(kube, NAMESPACE)


def _scheduling_failed(kube: KubeClient) -> bool:
    request = GetEvents(namespaces=(NAMESPACE,), types=("Warning",))
    return any(r.reason == "FailedScheduling" for r in get_events(request, kube, Control()).rows)


@pytest.mark.parametrize(
    "args",
    [
        ("-A", "-o", "wide"),
        ("-n", NAMESPACE),
        ("-n", NAMESPACE, "-o", "wide", "-l", "app in (crashloop,done)"),
        ("-A", "--field-selector", "status.phase=Running"),
        ("-A", "--node", "k8s-node1"),
    ],
)
def test_get_pods_rows_equal_kubectls(
    states: KubeClient, kubectl: Any, args: tuple[str, ...]
) -> None:
    request = get.parse_get(["pods", *args])
    assert isinstance(request, GetPods)
    ours = get_pods(request, states, Control())
    moment = datetime.now(UTC)
    kubectl_args = [a if a != "--node" else "--field-selector" for a in args]
    if "--node" in args:
        kubectl_args[kubectl_args.index("k8s-node1")] = "spec.nodeName=k8s-node1"
    done = kubectl("get", "pods", *kubectl_args)
    assert done.returncode == 0, done.stderr
    header, theirs = _kubectl_rows(done.stdout)
    shape = {"wide": request.wide, "all_namespaces": request.all_namespaces}
    mine = [pod_cells(row, moment, **shape) for row in ours.rows]
    _compare(header, mine, theirs)
    assert len(mine) >= 2


@pytest.mark.parametrize(
    "args", [("-A",), ("-n", NAMESPACE, "--types", "Warning"), ("-n", "default")]
)
def test_get_events_rows_equal_kubectl_events(
    states: KubeClient, kubectl: Any, args: tuple[str, ...]
) -> None:
    """``get events`` against ``kubectl events`` (the command with ``--for`` and ``--types``).
    Events keep coming (the scheduler retries the pod no node fits), so a read that raced one
    is taken again, at most three times."""
    for attempt in range(3):
        request = get.parse_get(["events", *args])
        assert isinstance(request, GetEvents)
        ours = get_events(request, states, Control())
        moment = datetime.now(UTC)
        done = kubectl("events", *args)
        assert done.returncode == 0, done.stderr
        header, theirs = _kubectl_rows(done.stdout)
        mine = [event_cells(r, moment, all_namespaces=request.all_namespaces) for r in ours.rows]
        assert mine
        times = [seen_at(row) for row in ours.rows]
        assert times == sorted(times, key=lambda t: t.timestamp() if t else 0.0), "newest last"
        # kubectl sorts by time with an unstable sort (events of the same instant come in
        # either order), so the rows are matched in a canonical order.
        try:
            _compare(header, sorted(mine, key=_event_key), sorted(theirs, key=_event_key))
            return
        except AssertionError:
            if attempt == 2:
                raise
            time.sleep(1)


def _event_key(cells: list[str]) -> tuple[str, ...]:
    return tuple(cells[:-5]) + tuple(cells[-4:])


def test_unknown_namespace_and_empty_selector_are_sentences(states: KubeClient) -> None:
    with pytest.raises(ChatOpsError) as caught:
        get.perform(get.parse_get(["pods", "-n", "no-such-namespace"]), states, Control())
    assert "There is no namespace no-such-namespace" in str(caught.value)
    nothing = get.perform(get.parse_get(["pods", "-l", "app=nothing-here"]), states, Control())
    assert get.render(nothing) == "No resources found in default namespace."
    in_ns = get.parse_get(["pods", "-n", NAMESPACE, "-l", "app=nothing-here"])
    assert get.render(get.perform(in_ns, states, Control())) == (
        f"No resources found in {NAMESPACE} namespace."
    )


def test_reset_takes_away_states_a_test_left_behind(pristine: KubeClient) -> None:
    """A test that stops before ``release`` leaves a pod held Terminating; ``sandbox reset``
    lets it go, so the namespace goes too and the next test starts from the seed."""
    pod_states.create(pristine, "abandoned-states")
    seed.reset(pristine)
    names = {ns["metadata"]["name"] for ns in pristine.list_pages("/api/v1/namespaces")}
    assert "abandoned-states" not in names
