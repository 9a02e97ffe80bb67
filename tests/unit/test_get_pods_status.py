"""kubectl's STATUS, READY and RESTARTS of a pod, one rule of its printer per case, from
constructed pod objects (the rules: k8s.io/kubernetes pkg/printers/internalversion printPod)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.commands.verbs import get
from bot.commands.verbs.pods import (
    last_seen,
    parse_get_events,
    parse_get_pods,
    render_events,
    render_pods,
    restarts_cell,
)
from core.errors import CommandError
from handlers.pods import event_row, pod_row
from handlers.pods_models import EventTable, GetPods, PodTable

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
CREATED = "2026-11-28T11:00:00Z"


def ago(seconds: int) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(
    *,
    phase: str = "Running",
    containers: list[dict[str, Any]] | None = None,
    inits: list[dict[str, Any]] | None = None,
    init_specs: list[dict[str, Any]] | None = None,
    conditions: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    statuses = containers if containers is not None else [running()]
    init_statuses = inits or []
    spec_inits = init_specs or [{"name": s["name"]} for s in init_statuses]
    obj: dict[str, Any] = {
        "metadata": {"name": "web-0", "namespace": "default", "creationTimestamp": CREATED},
        "spec": {
            "nodeName": "k8s-node1",
            "containers": [{"name": s["name"]} for s in statuses],
            "initContainers": spec_inits,
        },
        "status": {
            "phase": phase,
            "conditions": conditions if conditions is not None else [ready_condition()],
            "containerStatuses": statuses,
            "initContainerStatuses": init_statuses,
        },
    }
    for key, value in extra.items():
        section, _, field = key.partition("__")
        obj[section][field] = value
    return obj


def ready_condition(status: str = "True") -> dict[str, str]:
    return {"type": "Ready", "status": status}


def running(name: str = "app", ready: bool = True, **more: Any) -> dict[str, Any]:
    return {"name": name, "ready": ready, "state": {"running": {"startedAt": CREATED}}, **more}


def waiting(reason: str, name: str = "app", **more: Any) -> dict[str, Any]:
    return {"name": name, "ready": False, "state": {"waiting": {"reason": reason}}, **more}


def terminated(name: str = "app", code: int = 0, reason: str = "", **more: Any) -> dict[str, Any]:
    state: dict[str, Any] = {"exitCode": code}
    if reason:
        state["reason"] = reason
    state |= more.pop("state", {})
    return {"name": name, "ready": False, "state": {"terminated": state}, **more}


def status_of(obj: dict[str, Any]) -> str:
    return pod_row(obj).status


# --- The phase, the pod's reason, scheduling gates ----------------------------------------


def test_running_pod_is_its_phase_and_counts_ready_containers() -> None:
    row = pod_row(pod(containers=[running("a"), running("b", ready=False)]))
    assert (row.status, row.ready) == ("Running", "1/2")


def test_unscheduled_pod_is_pending_without_node_or_ip() -> None:
    obj = pod(phase="Pending", containers=[], conditions=[])
    obj["spec"]["containers"] = [{"name": "app"}]
    del obj["spec"]["nodeName"]
    row = pod_row(obj)
    assert (row.status, row.ready, row.node, row.ip) == ("Pending", "0/1", "<none>", "<none>")


def test_the_pods_own_reason_wins_over_its_phase() -> None:
    obj = pod(phase="Failed", containers=[], status__reason="Evicted")
    assert status_of(obj) == "Evicted"


def test_node_lost_reason_is_shown_while_not_deleted() -> None:
    assert status_of(pod(containers=[], status__reason="NodeLost")) == "NodeLost"


def test_scheduling_gated_pod() -> None:
    obj = pod(
        phase="Pending",
        containers=[],
        conditions=[{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}],
    )
    assert status_of(obj) == "SchedulingGated"


# --- Init containers ------------------------------------------------------------------------


def test_init_container_running_shows_its_index() -> None:
    obj = pod(
        phase="Pending",
        containers=[waiting("PodInitializing")],
        inits=[terminated("one", 0), running("two", ready=False), waiting("PodInitializing", "x")],
        conditions=[{"type": "Initialized", "status": "False"}],
    )
    assert status_of(obj) == "Init:1/3"


def test_init_container_waiting_with_a_reason() -> None:
    obj = pod(
        phase="Pending",
        containers=[waiting("PodInitializing")],
        inits=[waiting("ImagePullBackOff", "setup")],
        conditions=[],
    )
    assert status_of(obj) == "Init:ImagePullBackOff"


def test_init_container_failed_with_reason_signal_or_exit_code() -> None:
    def failed(**state: Any) -> str:
        code = state.pop("code", 1)
        init = terminated("setup", code, state.pop("reason", ""), state=state)
        return status_of(pod(phase="Pending", containers=[], inits=[init], conditions=[]))

    assert failed(reason="Error") == "Init:Error"
    assert failed(signal=9) == "Init:Signal:9"
    assert failed(code=3) == "Init:ExitCode:3"


def test_init_crash_loop_counts_init_restarts_with_when() -> None:
    init = waiting(
        "CrashLoopBackOff",
        "setup",
        restartCount=4,
        lastState={"terminated": {"exitCode": 1, "finishedAt": ago(120)}},
    )
    row = pod_row(pod(phase="Pending", containers=[waiting("PodInitializing")], inits=[init]))
    assert row.status == "Init:CrashLoopBackOff"
    assert restarts_cell(row, NOW) == "4 (2m ago)"


def test_sidecar_counts_in_ready_and_total_and_does_not_block() -> None:
    sidecar = running("proxy", started=True)
    obj = pod(
        containers=[running("app")],
        inits=[sidecar],
        init_specs=[{"name": "proxy", "restartPolicy": "Always"}],
        conditions=[{"type": "Initialized", "status": "True"}, ready_condition()],
    )
    row = pod_row(obj)
    assert (row.status, row.ready) == ("Running", "2/2")


def test_sidecar_restarts_count_after_initialisation_plain_init_restarts_do_not() -> None:
    obj = pod(
        containers=[running("app", restartCount=1)],
        inits=[
            terminated("migrate", 0, "Completed", restartCount=7),
            running("proxy", started=True, restartCount=2),
        ],
        init_specs=[{"name": "migrate"}, {"name": "proxy", "restartPolicy": "Always"}],
        conditions=[{"type": "Initialized", "status": "True"}, ready_condition()],
    )
    assert pod_row(obj).restarts == 3


# --- App containers ---------------------------------------------------------------------------


def test_crash_loop_back_off_with_restarts_and_when() -> None:
    crashing = waiting(
        "CrashLoopBackOff",
        restartCount=5,
        lastState={"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": ago(300)}},
    )
    row = pod_row(pod(containers=[crashing], conditions=[ready_condition("False")]))
    assert (row.status, row.ready, row.restarts) == ("CrashLoopBackOff", "0/1", 5)
    assert restarts_cell(row, NOW) == "5 (5m ago)"


def test_restarts_without_a_known_end_are_a_bare_number() -> None:
    row = pod_row(pod(containers=[running(restartCount=2)]))
    assert restarts_cell(row, NOW) == "2"


def test_the_first_container_with_a_reason_decides() -> None:
    # kubectl walks containers from the last to the first: the first one's reason stays.
    obj = pod(containers=[waiting("ImagePullBackOff", "a"), waiting("ContainerCreating", "b")])
    assert status_of(obj) == "ImagePullBackOff"


def test_completed_and_error_and_exit_code_and_signal() -> None:
    assert status_of(pod(phase="Succeeded", containers=[terminated(reason="Completed")])) == (
        "Completed"
    )
    assert status_of(pod(phase="Failed", containers=[terminated(code=1, reason="Error")])) == (
        "Error"
    )
    assert status_of(pod(phase="Failed", containers=[terminated(code=2)])) == "ExitCode:2"
    signalled = terminated(code=137, state={"signal": 9})
    assert status_of(pod(phase="Failed", containers=[signalled])) == "Signal:9"


def test_completed_with_a_container_still_running_and_ready_pod_is_running() -> None:
    obj = pod(containers=[terminated("job", 0, "Completed"), running("web")])
    assert status_of(obj) == "Running"


def test_completed_with_a_container_running_but_pod_not_ready_is_not_ready() -> None:
    obj = pod(
        containers=[terminated("job", 0, "Completed"), running("web")],
        conditions=[ready_condition("False")],
    )
    assert status_of(obj) == "NotReady"


def test_completed_beside_a_failed_container_shows_the_failure() -> None:
    obj = pod(
        phase="Failed",
        containers=[terminated("job", 0, "Completed"), terminated("web", 1, "Error")],
        conditions=[],
    )
    # The walk ends on the first container (Completed), then the failure is shown instead.
    assert status_of(obj) == "Error"


# --- Deletion ---------------------------------------------------------------------------------


def test_a_pod_being_deleted_is_terminating() -> None:
    obj = pod(metadata__deletionTimestamp=ago(10))
    obj["metadata"]["name"] = "web-0"
    assert status_of(obj) == "Terminating"


def test_a_finished_pod_being_deleted_keeps_its_status() -> None:
    obj = pod(phase="Succeeded", containers=[terminated(reason="Completed")])
    obj["metadata"]["deletionTimestamp"] = ago(10)
    assert status_of(obj) == "Completed"


def test_a_deleted_pod_on_a_lost_node_is_unknown() -> None:
    obj = pod(status__reason="NodeLost")
    obj["metadata"]["deletionTimestamp"] = ago(10)
    assert status_of(obj) == "Unknown"


# --- Wide columns -----------------------------------------------------------------------------


def test_wide_columns_ip_node_nominated_and_readiness_gates() -> None:
    obj = pod(
        conditions=[ready_condition(), {"type": "example.com/lb", "status": "False"}],
        status__podIPs=[{"ip": "10.0.0.7"}, {"ip": "fd00::7"}],
        status__nominatedNodeName="k8s-master",
        spec__readinessGates=[{"conditionType": "example.com/lb"}, {"conditionType": "x/y"}],
    )
    row = pod_row(obj)
    assert (row.ip, row.node, row.nominated_node, row.readiness_gates) == (
        "10.0.0.7",
        "k8s-node1",
        "k8s-master",
        "0/2",
    )


def test_table_layout_all_namespaces_and_wide_with_summary() -> None:
    rows = [pod_row(pod()), pod_row(pod(containers=[waiting("CrashLoopBackOff")]))]
    text = render_pods(PodTable(rows=rows, wide=True, all_namespaces=True), now=NOW)
    header = text.splitlines()[0].split()
    assert header[:6] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert text.splitlines()[0].rstrip().endswith("NOMINATED NODE   READINESS GATES")
    assert text.splitlines()[1].split()[:6] == ["default", "web-0", "1/1", "Running", "0", "60m"]
    assert text.splitlines()[-1] == "Pods: 2 (1 Running, 1 CrashLoopBackOff)."


def test_nothing_found_says_the_namespace_as_kubectl() -> None:
    empty = PodTable(rows=[], namespaces=("kube-system",))
    assert render_pods(empty) == "No resources found in kube-system namespace."
    assert render_pods(PodTable(rows=[], all_namespaces=True)) == "No resources found"


def test_long_lists_go_to_the_thread_with_the_summary_in_the_channel() -> None:
    rows = [pod_row(pod())] * 31
    parts = get.thread_parts(PodTable(rows=rows), "j1")
    assert parts is not None
    assert parts.summary == "Pods: 31 (31 Running)."
    assert len(parts.body.splitlines()) == 32
    assert get.thread_parts(PodTable(rows=rows[:30]), "j1") is None


# --- Events -----------------------------------------------------------------------------------


def event(**fields: Any) -> dict[str, Any]:
    base = {
        "metadata": {"name": "e1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web-0"},
        "type": "Warning",
        "reason": "BackOff",
        "message": " Back-off restarting failed container \n",
    }
    return base | fields


def test_event_last_seen_single_repeated_and_series() -> None:
    single = event_row(event(firstTimestamp=ago(90), lastTimestamp=ago(90), count=1))
    assert last_seen(single, NOW) == "90s"
    repeated = event_row(event(firstTimestamp=ago(600), lastTimestamp=ago(30), count=5))
    assert last_seen(repeated, NOW) == "30s (x5 over 10m)"
    series = event_row(
        event(
            eventTime=ago(3600).replace("Z", ".000000Z"),
            series={"count": 3, "lastObservedTime": ago(120).replace("Z", ".000000Z")},
        )
    )
    assert last_seen(series, NOW) == "2m (x3 over 60m)"
    assert (single.object, single.message) == ("Pod/web-0", "Back-off restarting failed container")


def test_events_render_columns_and_empty_wording() -> None:
    row = event_row(event(firstTimestamp=ago(5), lastTimestamp=ago(5)))
    text = render_events(EventTable(rows=[row], namespaces=("default",)), now=NOW)
    assert text.splitlines()[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert text.splitlines()[-1] == "Events: 1 (1 Warning)."
    assert render_events(EventTable(rows=[], namespaces=("x",))) == (
        "No events found in x namespace."
    )
    assert render_events(EventTable(rows=[], all_namespaces=True)) == "No events found."


# --- Parsing ----------------------------------------------------------------------------------


def test_parse_pods_flags() -> None:
    request = parse_get_pods(
        ["-n", "kube-system", "-o", "wide", "-l", "app=web", "--node", "k8s-node1"]
    )
    assert request == GetPods(
        namespaces=("kube-system",), wide=True, selector="app=web", node="k8s-node1"
    )
    assert parse_get_pods(["-A", "-n", "x"]).all_namespaces
    assert parse_get_pods(["-A", "-n", "x"]).namespaces == ("default",)
    assert get.parse_get(["po"]).command_text() == "get pods"


@pytest.mark.parametrize(
    ("words", "said"),
    [
        (["-o", "json"], "-o"),
        (["-n", "Bad_NS"], "not a valid namespace name"),
        (["-l", "app in (a"], "selector"),
        (["--field-selector", "spec.nodeName"], "selector"),
        (["web-0"], "web-0"),
        (["--watch"], "--watch"),
    ],
)
def test_parse_pods_refuses_with_a_sentence(words: list[str], said: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_get_pods(words)
    assert said in str(caught.value)


def test_parse_events_flags_and_refusals() -> None:
    request = parse_get_events(["--for", "deploy/web", "--types", "warning,Normal"])
    assert (request.for_kind, request.for_api_version, request.for_name) == (
        "Deployment",
        "apps/v1",
        "web",
    )
    assert request.types == ("Warning", "Normal")
    for words, said in (
        (["--types", "Critical"], "Normal or Warning"),
        (["--for", "web"], "KIND/NAME"),
        (["--for", "widget/web"], "KIND/NAME"),
    ):
        with pytest.raises(CommandError) as caught:
            parse_get_events(words)
        assert said in str(caught.value)
