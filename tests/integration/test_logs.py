"""``logs`` against the sandbox: kwok serves each container's log from a file we write.

The scenario: the two hellok8s pods log interleaved lines, go-http logs an error and one
line older than the default window, nginx logs access lines, coredns (kube-system) logs too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from logs_helpers import Scenario, build_scenario, give_corpus

from bot.commands import grammar
from bot.commands.render_logs import body, summary
from core.errors import ChatOpsError
from handlers.control import Control, OutputCaps
from handlers.kube import KubeClient, resource_for
from handlers.logs import node_logs, pod_logs
from handlers.logs_models import LogsResult, NodeLogs, PodLogs

pytestmark = pytest.mark.integration


def fetch(kube: KubeClient, text: str, control: Control | None = None) -> LogsResult:
    request = grammar.parse(text)
    assert isinstance(request, PodLogs | NodeLogs)
    if isinstance(request, NodeLogs):
        return node_logs(request, kube, control or Control())
    return pod_logs(request, kube, control or Control())


def texts(result: LogsResult) -> list[str]:
    return [line.text for line in result.lines]


@pytest.fixture
def scenario(pristine: KubeClient, tmp_path: Path) -> Scenario:
    return build_scenario(pristine, tmp_path)


def test_a_regex_query_merges_both_pods_in_time_order(scenario: Scenario) -> None:
    result = fetch(scenario.kube, "logs hellok8s")
    assert texts(result) == [
        "A GET /healthz 200",
        "B INFO started",
        "A ERROR db timeout",
        "B ERROR cache miss",
        "A GET /api 200",
        "B GET /healthz 200",
    ]
    a, b = scenario.hello
    assert body(result).splitlines()[:2] == [
        f"{a}/hellok8s A GET /healthz 200",
        f"{b}/hellok8s B INFO started",
    ]
    assert (result.pods, result.containers, result.fetched, result.redactions) == (2, 2, 6, 0)
    assert summary(result).startswith("6 lines from 2 pods / 2 containers since 10m; 0 redactions.")


@pytest.mark.parametrize(
    ("query", "expected_pods"),
    [
        ("deploy/deployment-hellok8s-go-http", "hello"),
        ("deployment/deployment-hellok8s-go-http", "hello"),
        ("rs/{rs}", "hello"),
        ("sts/stateful-nginx", "nginx"),
        ("pod/go-http", "go-http"),
        ("po/go-http", "go-http"),
        ("svc/hello", "hello"),
    ],
)
def test_kind_name_queries_select_the_workloads_pods(
    scenario: Scenario, query: str, expected_pods: str, request: pytest.FixtureRequest
) -> None:
    kube = scenario.kube
    if query.startswith("svc/"):
        kube.create(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "hello", "namespace": "default"},
                "spec": {"selector": {"app": "hellok8s"}, "ports": [{"port": 80}]},
            }
        )
        request.addfinalizer(lambda: kube.delete(resource_for("Service").path("default", "hello")))
    if "{rs}" in query:
        replicasets = list(kube.list_pages(resource_for("ReplicaSet").path("default")))
        query = query.format(
            rs=next(r for r in replicasets if "hellok8s" in r["metadata"]["name"])["metadata"][
                "name"
            ]
        )
    result = fetch(kube, f"logs {query}")
    expected = {
        "hello": set(scenario.hello),
        "nginx": set(scenario.nginx),
        "go-http": {"go-http"},
    }[expected_pods]
    assert {line.pod for line in result.lines} == expected
    assert result.pods == len(expected)


def test_a_missing_workload_is_named(scenario: Scenario) -> None:
    with pytest.raises(ChatOpsError, match="deployment/nope was not found in default"):
        fetch(scenario.kube, "logs deploy/nope")


def test_label_node_and_container_filters(scenario: Scenario) -> None:
    kube = scenario.kube
    assert {line.pod for line in fetch(kube, "logs . -l app=go-http").lines} == {"go-http"}
    on_node1 = fetch(kube, "logs . --node k8s-node1")
    assert on_node1.lines and {line.node for line in on_node1.lines} == {"k8s-node1"}
    assert {line.container for line in fetch(kube, "logs . -c ngin").lines} == {"nginx"}
    without = fetch(kube, "logs . -E nginx -E hellok8s")
    assert {line.container for line in without.lines} == {"go-http"}
    excluded = fetch(kube, "logs hellok8s --exclude-pod " + scenario.hello[0])
    assert {line.pod for line in excluded.lines} == {scenario.hello[1]}
    assert fetch(kube, "logs . --container-state waiting").containers == 0


def test_include_and_exclude_apply_to_each_line(scenario: Scenario) -> None:
    result = fetch(scenario.kube, "logs . -i ERROR -e cache")
    assert texts(result) == ["A ERROR db timeout", "G ERROR upstream"]
    assert result.matched == 2
    assert "2 matched `-i ERROR -e cache`" in summary(result)


def test_tail_and_since(scenario: Scenario) -> None:
    kube = scenario.kube
    assert texts(fetch(kube, "logs hellok8s --tail 1")) == ["A GET /api 200", "B GET /healthz 200"]
    assert "G old line" not in texts(fetch(kube, "logs ^go-http"))  # the default window is 10m
    assert texts(fetch(kube, "logs ^go-http --since 3h"))[0] == "G old line"
    assert texts(fetch(kube, "logs ^go-http --since 30s")) == ["G ERROR upstream"]


def test_previous_reads_the_last_run(scenario: Scenario) -> None:
    result = fetch(scenario.kube, "logs pod/go-http -p --since 0")
    assert texts(result) == ["G previous run crashed: panic"]


def test_json_output_and_timestamps(scenario: Scenario) -> None:
    result = fetch(scenario.kube, "logs ^go-http -o json")
    records = [json.loads(line) for line in body(result).splitlines()]
    assert [r["message"] for r in records] == ["G listening on :3000", "G ERROR upstream"]
    assert records[0]["podName"] == "go-http" and records[0]["containerName"] == "go-http"
    assert records[0]["namespace"] == "default" and records[0]["nodeName"] == "k8s-node1"
    assert records[0]["timestamp"].endswith("Z")
    stamped = body(fetch(scenario.kube, "logs ^go-http -t -o raw")).splitlines()
    assert stamped[1].split(" ", 1)[1] == "G ERROR upstream"
    assert stamped[1].split(" ", 1)[0] == records[1]["timestamp"]


def test_namespaces_show_in_the_prefix_when_several_are_read(scenario: Scenario) -> None:
    result = fetch(scenario.kube, "logs 'coredns|go-http' -n default -n kube-system -i INFO")
    coredns = next(line for line in body(result).splitlines() if "coredns" in line)
    assert coredns.startswith("kube-system/coredns-")
    everywhere = fetch(scenario.kube, "logs coredns -A")
    assert {line.namespace for line in everywhere.lines} == {"kube-system"}


def test_caps_keep_the_newest_lines_and_say_how_to_narrow(scenario: Scenario) -> None:
    capped = fetch(scenario.kube, "logs hellok8s", Control(caps=OutputCaps(max_lines=2)))
    assert texts(capped) == ["A GET /api 200", "B GET /healthz 200"]
    assert capped.truncated == "lines"
    assert "Truncated: showing the newest 2 of 6 lines (cap: 2 lines)" in summary(capped)
    assert "--since" in summary(capped)
    by_bytes = fetch(scenario.kube, "logs hellok8s", Control(caps=OutputCaps(max_bytes=40)))
    assert texts(by_bytes) == ["A GET /api 200", "B GET /healthz 200"]
    assert by_bytes.truncated == "bytes"


def test_no_match_says_what_to_check(scenario: Scenario) -> None:
    result = fetch(scenario.kube, "logs no-such-pod")
    assert result.containers == 0
    assert "No started containers match `logs no-such-pod`" in summary(result)


def test_node_logs_say_clearly_when_the_cluster_has_them_off(scenario: Scenario) -> None:
    with pytest.raises(ChatOpsError, match="node log query is not available on k8s-node1"):
        fetch(scenario.kube, "logs node/k8s-node1 --query kubelet")
    with pytest.raises(ChatOpsError, match="not found"):
        fetch(scenario.kube, "logs node/no-such-node --query kubelet")


def test_every_seeded_secret_is_masked_and_nothing_else(
    pristine: KubeClient, tmp_path: Path
) -> None:
    expected, secrets = give_corpus(pristine, tmp_path)
    result = fetch(pristine, "logs '^(go-http|stateful-nginx-0)$' --since 1h -o raw")
    for pod, lines in expected.items():
        assert [line.text for line in result.lines if line.pod == pod] == lines
    masks = sum(line.count("[REDACTED:") for lines in expected.values() for line in lines)
    assert result.redactions == masks > 50
    shown = summary(result) + body(result) + result.model_dump_json()
    leaked = [secret for secret in secrets if secret in shown]
    assert leaked == []
    # A filter sees the masked text: a regex for a secret finds nothing.
    assert fetch(pristine, "logs pod/go-http --since 1h -i AKIA").lines == []


def test_from_the_shell_through_a_worker_with_configured_patterns(
    scenario: Scenario, worker_env: dict[str, str], tmp_path: Path
) -> None:
    patterns = tmp_path / "patterns.txt"
    patterns.write_text("# our session ids\ncache (?P<secret>miss)\n")
    env = {**worker_env, "K8S_CHATOPS_REDACT_PATTERNS_FILE": str(patterns)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        shell = subprocess.run(
            [sys.executable, "-m", "bot.cli", "shell", "--user", "U_SOMEONE"],
            input="/k8s logs hellok8s -i ERROR\n/k8s logs x --since=yesterday\n",
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        worker.terminate()
        _, worker_log = worker.communicate(timeout=15)
    assert shell.returncode == 0, shell.stderr
    a, b = scenario.hello
    assert shell.stdout.splitlines() == [
        "6 lines from 2 pods / 2 containers since 10m; 2 matched `-i ERROR`; 1 redaction.",
        f"{a}/hellok8s A ERROR db timeout",
        f"{b}/hellok8s B ERROR cache [REDACTED:custom-1]",
        "`--since=yesterday` is not a duration (examples: 0, 90s, 5m, 1h30m).",
    ]
    assert "Traceback" not in worker_log

    patterns.write_text("ok\n(unclosed\n")
    refused = subprocess.run(
        [sys.executable, "-m", "bot.cli", "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0
    assert "K8S_CHATOPS_REDACT_PATTERNS_FILE" in refused.stderr and "line 2" in refused.stderr
    assert "Traceback" not in refused.stderr
