"""Giving sandbox pods logs: kwok serves each container's log from a CRI-format file that a
``Logs`` object names, so a test writes the file and points the pod at it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from helpers import wait_for

from core.redaction import opens_key_block
from handlers.kube import JSON, KubeClient, KubeError, resource_for

PODS = resource_for("Pod")
LOGS = resource_for("Logs")


def stamp(moment: datetime) -> str:
    """The kubelet's timestamp form: RFC 3339 with nine fraction digits, in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def cri_lines(lines: list[tuple[float, str]], *, now: datetime | None = None) -> str:
    """``(seconds ago, text)`` pairs as CRI log lines, in the order given."""
    moment = now or datetime.now(UTC)
    return "".join(
        f"{stamp(moment - timedelta(seconds=ago))} stdout F {text}\n" for ago, text in lines
    )


def pods(kube: KubeClient, namespace: str, prefix: str) -> list[JSON]:
    found = [
        p for p in kube.list_pages(PODS.path(namespace)) if p["metadata"]["name"].startswith(prefix)
    ]
    return sorted(found, key=lambda p: p["metadata"]["name"])


def give_logs(
    kube: KubeClient,
    tmp_path: Path,
    pod: JSON,
    logs: dict[str, str],
    *,
    previous: dict[str, str] | None = None,
) -> None:
    """Point each named container of ``pod`` at a file with ``logs[container]`` (and a
    previous-run file when given); wait until kwok serves them."""
    meta = pod["metadata"]
    entries = []
    for container, text in logs.items():
        current = tmp_path / f"{meta['namespace']}-{meta['name']}-{container}.log"
        current.write_text(text)
        entry = {"containers": [container], "logsFile": str(current)}
        if previous and container in previous:
            old = tmp_path / f"{meta['namespace']}-{meta['name']}-{container}.previous.log"
            old.write_text(previous[container])
            entry["previousLogsFile"] = str(old)
        entries.append(entry)
    kube.create(
        {
            "apiVersion": "kwok.x-k8s.io/v1alpha1",
            "kind": "Logs",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"]},
            "spec": {"logs": entries},
        }
    )
    path = PODS.path(meta["namespace"], meta["name"]) + "/log"
    for container, text in logs.items():
        if not text:
            continue

        def served(container: str = container) -> bool:
            try:
                return bool(list(kube.stream_lines(path, query={"container": container})))
            except KubeError:
                return False

        wait_for(served, timeout=30)


@dataclass(frozen=True)
class Scenario:
    kube: KubeClient
    hello: tuple[str, str]  # the two hellok8s pod names, sorted
    nginx: tuple[str, str]


def build_scenario(pristine: KubeClient, tmp_path: Path) -> Scenario:
    """The scenario of the log tests: see ``tests/integration/test_logs.py``."""
    # Every other container logs nothing (kwok answers an error for a pod it has no file for).
    empty = tmp_path / "empty.log"
    empty.write_text("")
    pristine.create(
        {
            "apiVersion": "kwok.x-k8s.io/v1alpha1",
            "kind": "ClusterLogs",
            "metadata": {"name": "everything-else"},
            "spec": {"selector": {}, "logs": [{"logsFile": str(empty)}]},
        }
    )
    hello = pods(pristine, "default", "deployment-hellok8s-go-http")
    a, b = hello
    give_logs(
        pristine,
        tmp_path,
        a,
        {
            "hellok8s": cri_lines(
                [(50, "A GET /healthz 200"), (30, "A ERROR db timeout"), (10, "A GET /api 200")]
            )
        },
    )
    give_logs(
        pristine,
        tmp_path,
        b,
        {
            "hellok8s": cri_lines(
                [(40, "B INFO started"), (20, "B ERROR cache miss"), (5, "B GET /healthz 200")]
            )
        },
    )
    go_http = pods(pristine, "default", "go-http")[0]
    give_logs(
        pristine,
        tmp_path,
        go_http,
        {
            "go-http": cri_lines(
                [(7200, "G old line"), (45, "G listening on :3000"), (25, "G ERROR upstream")]
            )
        },
        previous={"go-http": cri_lines([(9000, "G previous run crashed: panic")])},
    )
    nginx = pods(pristine, "default", "stateful-nginx")
    for index, pod in enumerate(nginx):
        give_logs(
            pristine, tmp_path, pod, {"nginx": cri_lines([(15 + index, f"N{index} GET / 200")])}
        )
    coredns = pods(pristine, "kube-system", "coredns")[0]
    give_logs(pristine, tmp_path, coredns, {"coredns": cri_lines([(12, "C [INFO] plugin/reload")])})
    return Scenario(
        pristine,
        (a["metadata"]["name"], b["metadata"]["name"]),
        tuple(p["metadata"]["name"] for p in nginx),  # type: ignore[arg-type]
    )


CORPUS = Path(__file__).resolve().parent / "data" / "redaction"


def corpus() -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[str]]:
    """The redaction corpus as log lines: (line, as masked) pairs for one stream, pairs for a
    second stream, and every secret. An entry that opens a private key block without closing
    it goes to the second stream: in a stream, the lines after it are the key's body."""
    entries = [json.loads(line) for line in (CORPUS / "corpus.jsonl").read_text().splitlines()]
    opens_block = [e for e in entries if opens_key_block(e["line"])]
    first = [(e["line"], e["expected"]) for e in entries if e not in opens_block]
    first += zip(
        (CORPUS / "multiline.txt").read_text().splitlines(),
        (CORPUS / "multiline.expected.txt").read_text().splitlines(),
        strict=True,
    )
    second = [(e["line"], e["expected"]) for e in opens_block]
    return first, second, [secret for e in entries for secret in e["secrets"]]


def give_corpus(kube: KubeClient, tmp_path: Path) -> tuple[dict[str, list[str]], list[str]]:
    """Make go-http and stateful-nginx-0 log the corpus, one line per second; return the
    masked lines expected from each pod, and the secrets."""
    first, second, secrets = corpus()
    expected = {}
    for pod_name, container, pairs in (
        ("go-http", "go-http", first),
        ("stateful-nginx-0", "nginx", second),
    ):
        pod = pods(kube, "default", pod_name)[0]
        stamped = [(len(pairs) - i, line) for i, (line, _) in enumerate(pairs)]
        give_logs(kube, tmp_path, pod, {container: cri_lines(stamped)})
        expected[pod_name] = [masked for _, masked in pairs]
    return expected, secrets
