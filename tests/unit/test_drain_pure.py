"""Pure pieces of drain: kubectl's filters, flags, selectors, quantities, Go durations."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import grammar
from bot.commands.flags import MAX_DURATION_SECONDS, parse_duration
from core.errors import CommandError
from core.selectors import matches, parse_selector
from handlers import drain_filters as filters
from handlers.drain import aggregate, go_duration
from handlers.drain_models import Capacity, DrainNode, DrainPlan, Fate, PodFate
from handlers.drain_plan import changes, pod_requests, workload_of
from handlers.quantity import cpu_millis, memory_bytes, parse_quantity

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def pod(
    name: str = "p",
    *,
    owner: str | None = None,
    phase: str = "Running",
    emptydir: bool = False,
    mirror: bool = False,
    deleted_ago: float | None = None,
) -> dict:
    meta: dict[str, Any] = {"name": name, "namespace": "default", "uid": name}
    if owner:
        kind, owner_name = owner.split("/")
        version = "apps/v1" if kind in ("DaemonSet", "ReplicaSet", "StatefulSet") else "batch/v1"
        meta["ownerReferences"] = [
            {"kind": kind, "name": owner_name, "apiVersion": version, "controller": True}
        ]
    if mirror:
        meta["annotations"] = {filters.MIRROR_ANNOTATION: "abc"}
    if deleted_ago is not None:
        stamp = NOW - timedelta(seconds=deleted_ago)
        meta["deletionTimestamp"] = stamp.isoformat().replace("+00:00", "Z")
    volumes = [{"name": "v", "emptyDir": {}}] if emptydir else []
    return {
        "metadata": meta,
        "spec": {"volumes": volumes, "containers": []},
        "status": {"phase": phase},
    }


def judge(p: dict, missing: str = "", **flags: Any) -> filters.Status:
    return filters.judge(
        p, DrainNode(node="n", **flags), daemonset_missing=lambda ns, name: missing, now=NOW
    )


@pytest.mark.parametrize(
    ("case", "flags", "verdict", "delete", "message"),
    [
        (pod(owner="ReplicaSet/web-1"), {}, "okay", True, ""),
        (pod(), {}, "error", False, filters.UNMANAGED_FATAL),
        (pod(), {"force": True}, "warning", True, filters.UNMANAGED_WARNING),
        (pod(phase="Succeeded"), {}, "okay", True, ""),
        (pod(owner="DaemonSet/ds"), {}, "error", False, filters.DAEMONSET_FATAL),
        (
            pod(owner="DaemonSet/ds"),
            {"ignore_daemonsets": True},
            "warning",
            False,
            filters.DAEMONSET_WARNING,
        ),
        (pod(owner="DaemonSet/ds", phase="Failed"), {}, "okay", True, ""),
        (pod(mirror=True), {}, "skip", False, ""),
        (pod(owner="ReplicaSet/r", emptydir=True), {}, "error", False, filters.LOCAL_STORAGE_FATAL),
        # A later filter's "okay" replaces the warning, exactly as kubectl does.
        (
            pod(owner="ReplicaSet/r", emptydir=True),
            {"delete_emptydir_data": True},
            "okay",
            True,
            "",
        ),
        (
            pod(emptydir=True),
            {"delete_emptydir_data": True, "force": True},
            "warning",
            True,
            filters.UNMANAGED_WARNING,
        ),
        (pod(deleted_ago=120), {"skip_wait_for_delete_timeout": 60}, "skip", False, ""),
        (
            pod(owner="ReplicaSet/r", deleted_ago=30),
            {"skip_wait_for_delete_timeout": 60},
            "okay",
            True,
            "",
        ),
    ],
)
def test_kubectl_filters(case: dict, flags: dict, verdict: str, delete: bool, message: str) -> None:
    status = judge(case, **flags)
    assert (status.verdict.value, status.delete, status.message) == (verdict, delete, message)


def test_orphaned_daemonset_pod_needs_force() -> None:
    orphan = pod(owner="DaemonSet/gone")
    missing = 'daemonsets.apps "gone" not found'
    assert judge(orphan, missing, ignore_daemonsets=True).verdict is filters.Verdict.ERROR
    forced = judge(orphan, missing, ignore_daemonsets=True, force=True)
    # Deleted; the warning is replaced by the later filters' "okay", as in kubectl.
    assert (forced.verdict, forced.delete) == (filters.Verdict.OKAY, True)


def test_kubectl_message_aggregation() -> None:
    judged = [
        ("default/a", judge(pod("a"))),
        ("default/b", judge(pod("b"))),
        ("kube-system/ds", judge(pod(owner="DaemonSet/x"))),
    ]
    assert filters.error_lines(judged) == [
        f"cannot delete {filters.UNMANAGED_FATAL}: default/a, default/b",
        f"cannot delete {filters.DAEMONSET_FATAL}: kube-system/ds",
    ]
    assert aggregate(["one"]) == "one"
    assert aggregate(["one", "two"]) == "[one, two]"
    warned = [("default/a", judge(pod("a"), force=True))]
    assert filters.warning_line(warned) == f"{filters.UNMANAGED_WARNING}: default/a"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.5, "500ms"),
        (6, "6s"),
        (90, "1m30s"),
        (3600, "1h0m0s"),
        (5.5, "5.5s"),
    ],
)
def test_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0),
        ("30s", 30),
        ("5m", 300),
        ("1h30m", 5400),
        ("1.5s", 1.5),
        ("250ms", 0.25),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text",
    [
        "30",
        "5x",
        "m5",
        "",
        "1h 30m",
        "-5m",
        "1.s",
        ".5s",
        "1e9s",
        "inf",
        "nan",
        "infh",
        "\u0663s",  # an Arabic-Indic 3: float() reads it, Go does not
        "9" * 400 + "h",  # was inf, then an OverflowError where it was rounded
        "1s" * 33,  # 66 characters of text
        "2562048h",  # one hour past the longest Go duration
    ],
)
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_parse_duration_takes_up_to_the_longest_go_duration() -> None:
    assert pytest.approx(2562047 * 3600 + 47 * 60 + 16.854775807) == MAX_DURATION_SECONDS
    assert parse_duration("2562047h") == 2562047 * 3600
    assert parse_duration("1h" * 32) == 32 * 3600
    assert parse_duration("1.5µs") == parse_duration("1.5μs") == parse_duration("1.5us")


@settings(max_examples=1000, deadline=None)
@given(text=st.one_of(st.text(max_size=80), st.text("0123456789.smhnuµ", max_size=80)))
def test_parse_duration_gives_a_finite_bounded_number_or_a_value_error(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except ValueError:
        return
    assert math.isfinite(seconds) and 0 <= seconds <= MAX_DURATION_SECONDS


def test_drain_grammar_accepts_kubectls_flags() -> None:
    request = grammar.parse(
        "drain k8s-node1 --ignore-daemonsets --force --delete-emptydir-data --grace-period 30 "
        "--timeout=5m --pod-selector=app=web --dry-run=server --chunk-size=50 "
        "--skip-wait-for-delete-timeout=60 --disable-eviction=false"
    )
    assert request == DrainNode(
        node="k8s-node1",
        ignore_daemonsets=True,
        force=True,
        delete_emptydir_data=True,
        grace_period=30,
        timeout_seconds=300,
        pod_selector="app=web",
        dry_run="server",
        chunk_size=50,
        skip_wait_for_delete_timeout=60,
        disable_eviction=False,
    )
    assert request.command_text() == (
        "drain k8s-node1 --ignore-daemonsets --force --delete-emptydir-data --grace-period=30 "
        "--timeout=300s --pod-selector=app=web --skip-wait-for-delete-timeout=60 "
        "--dry-run=server --chunk-size=50"
    )
    assert grammar.parse("drain --force n1").node == "n1"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("drain n1 --ignore-daemonset", "Did you mean `ignore-daemonsets`?"),
        ("drain n1 --timeout=30", "`--timeout=30` is not a duration"),
        ("drain n1 --grace-period=soon", "not a whole number"),
        ("drain n1 --grace-period=-2", "must be at least -1"),
        ("drain n1 --dry-run=maybe", "must be one of none, client, server"),
        ("drain n1 --timeout", "`--timeout` needs a value"),
        ("drain n1 --force=yes", "is a switch"),
        ("drain n1 --pod-selector='app in web'", "must be a valid label selector"),
        ("drain", "NODE is missing"),
        ("drain N1", "is not a valid node name"),
    ],
)
def test_drain_grammar_rejects(text: str, fragment: str) -> None:
    with pytest.raises(CommandError) as caught:
        grammar.parse(text)
    assert fragment in caught.value.user_message


def test_label_selectors() -> None:
    labels = {"app": "web", "tier": "front"}
    assert matches(parse_selector("app=web,tier!=db"), labels)
    assert matches(parse_selector("app in (web, api),!legacy"), labels)
    assert not matches(parse_selector("app notin (web)"), labels)
    assert not matches(parse_selector("legacy"), labels)
    assert matches(None, labels) and matches({}, labels)
    assert not matches({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, labels)


def test_quantities() -> None:
    assert cpu_millis("250m") == 250
    assert cpu_millis("1.5") == 1500
    assert cpu_millis(2) == 2000
    assert memory_bytes("64Mi") == 64 * 2**20
    assert memory_bytes("1G") == 10**9
    assert memory_bytes("1e3") == 1000
    assert parse_quantity("100n") == Decimal("1E-7")
    with pytest.raises(ValueError):
        parse_quantity("lots")


def test_pod_requests_and_workloads() -> None:
    p = pod(owner="ReplicaSet/web-5d4f")
    p["spec"]["containers"] = [
        {"resources": {"requests": {"cpu": "100m", "memory": "1Mi"}}},
        {"resources": {"requests": {"cpu": "50m"}}},
    ]
    p["spec"]["initContainers"] = [{"resources": {"requests": {"cpu": "500m"}}}]
    assert pod_requests(p) == (500, 2**20)
    assert workload_of(p) == "Deployment default/web"
    assert workload_of(pod("bare")) == "Pod default/bare"


def test_changes_between_plans() -> None:
    def fate(name: str, f: Fate) -> PodFate:
        return PodFate(namespace="d", name=name, uid=name, fate=f)

    before = DrainPlan(
        node="n", cordoned=False, pods=[fate("a", Fate.EVICT), fate("b", Fate.EVICT)]
    )
    after = DrainPlan(
        node="n",
        cordoned=True,
        pods=[fate("a", Fate.BLOCKED), fate("c", Fate.EVICT)],
        capacity=Capacity.TIGHT,
        pdb_blocked=["x"],
    )
    assert changes(before, after) == [
        "d/c appeared on the node since the plan",
        "d/b left the node since the plan",
        "d/a: planned evict, now blocked",
        "PodDisruptionBudget headroom changed since the plan",
        "spare capacity changed since the plan: fits → tight",
    ]
    assert changes(before, before) == []
