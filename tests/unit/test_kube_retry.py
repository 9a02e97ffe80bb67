"""The retry policy behind the real client: what a loopback API server answers (status,
``Retry-After``, ``Status.details``) decides whether a request is sent again, and handlers go
through it. The sleeping is on a fake clock; the HTTP is real."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from kubernetes import client as k8s_client
from test_retry import Clock

from core.errors import ChatOpsError
from handlers.control import Control
from handlers.drain import drain
from handlers.drain_models import DrainNode
from handlers.kube import KubeClient, KubeTooManyRequests, KubeUnavailable
from handlers.models import CordonNode
from handlers.nodes import cordon
from handlers.retry import Retrier, RetryPolicy

Answer = tuple[int, dict[str, str], bytes]
EVICTION = "/api/v1/namespaces/shop/pods/web-1/eviction"


def status_body(code: int, message: str, reason: str = "", **details: Any) -> bytes:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return json.dumps(body).encode()


JSON_TYPE = {"Content-Type": "application/json"}
OK: Answer = (200, JSON_TYPE, b'{"kind": "Status", "status": "Success"}')
#: API Priority and Fairness: plain text and a Retry-After header.
APF: Answer = (
    429,
    {"Content-Type": "text/plain", "Retry-After": "2"},
    b"Too many requests, please try again later.\n",
)
#: What the eviction subresource says when a PodDisruptionBudget allows no disruption.
BUDGET: Answer = (
    429,
    JSON_TYPE,
    status_body(
        429,
        "Cannot evict pod as it would violate the pod's disruption budget.",
        "TooManyRequests",
        causes=[
            {
                "reason": "DisruptionBudget",
                "message": "The disruption budget web needs 2 healthy pods and has 2 currently",
            }
        ],
    ),
)
#: The same, while the budget's status is being computed: it carries Retry-After 10.
BUDGET_PROCESSING: Answer = (
    429,
    {**JSON_TYPE, "Retry-After": "10"},
    status_body(
        429,
        "Cannot evict pod as it would violate the pod's disruption budget.",
        "TooManyRequests",
        retryAfterSeconds=10,
        causes=[{"reason": "DisruptionBudget", "message": "web is still being processed"}],
    ),
)
SHUTTING_DOWN: Answer = (
    503,
    {**JSON_TYPE, "Retry-After": "1"},
    status_body(503, "apiserver is shutting down", "ServiceUnavailable"),
)
MANY_BUDGETS: Answer = (
    500,
    JSON_TYPE,
    status_body(
        500,
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does "
        "not support.",
    ),
)


class _Scripted(BaseHTTPRequestHandler):
    def _reply(self) -> None:
        server: Any = self.server
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        server.seen.append((self.command, url.path, parse_qs(url.query), body))
        script = server.script.get(url.path) or [server.default]
        status, headers, data = script.pop(0) if len(script) > 1 else script[0]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = _reply

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    server.script, server.seen, server.default = {}, [], OK
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def client(server: Any, retrier: Retrier | None = None) -> KubeClient:
    configuration = k8s_client.Configuration()
    configuration.host = f"http://127.0.0.1:{server.server_address[1]}"
    configuration.retries = False
    return KubeClient(k8s_client.ApiClient(configuration), server=configuration.host).retrying(
        retrier
    )


def fake_time_retrier(clock: Clock, lines: list[str] | None = None, **kw: Any) -> Retrier:
    return Retrier(
        verb=kw.pop("verb", "drain"),
        clock=clock,
        sleep=clock.sleep,
        jitter=lambda: 0.0,
        report=lines.append if lines is not None else (lambda _: None),
        policy=RetryPolicy(report_after=0),
        **kw,
    )


def test_the_client_reads_retry_after_and_the_budget_cause(api: Any) -> None:
    api.script[EVICTION] = [APF]
    with pytest.raises(KubeTooManyRequests) as throttled:
        client(api).request("POST", EVICTION, body={})
    assert throttled.value.retry_after == 2.0 and not throttled.value.disruption_budget
    api.script[EVICTION] = [BUDGET_PROCESSING]
    with pytest.raises(KubeTooManyRequests) as refused:
        client(api).request("POST", EVICTION, body={})
    assert refused.value.retry_after == 10.0 and refused.value.disruption_budget


def test_throttling_is_waited_out_for_as_long_as_the_server_asks(api: Any) -> None:
    clock, lines = Clock(), []
    api.script[EVICTION] = [APF, APF, OK]
    kube = client(api, fake_time_retrier(clock, lines))
    assert kube.request("POST", EVICTION, body={})["status"] == "Success"
    assert len([s for s in api.seen if s[1] == EVICTION]) == 3
    assert sum(clock.slept) == pytest.approx(4.0)
    assert lines[0].startswith("API server asking us to slow down (429) for 0 s, retrying")


@pytest.mark.parametrize("answer", [BUDGET, BUDGET_PROCESSING, MANY_BUDGETS])
def test_an_eviction_the_budgets_refuse_is_the_callers_to_handle(api: Any, answer: Answer) -> None:
    clock = Clock()
    api.script[EVICTION] = [answer, OK]
    with pytest.raises((KubeTooManyRequests, KubeUnavailable)):
        client(api, fake_time_retrier(clock)).request("POST", EVICTION, body={})
    assert len(api.seen) == 1 and clock.slept == []


def test_a_server_shutting_down_is_retried_after_its_retry_after(api: Any) -> None:
    clock = Clock()
    api.script["/api/v1/nodes"] = [SHUTTING_DOWN, SHUTTING_DOWN, (200, JSON_TYPE, b"{}")]
    client(api, fake_time_retrier(clock)).request("GET", "/api/v1/nodes")
    assert len(api.seen) == 3
    assert sum(clock.slept) == pytest.approx(2.0)


def test_a_handler_rides_out_a_blip(api: Any) -> None:
    """cordon, through the one wrapper: the GET and the PATCH are each sent again."""
    node = {"metadata": {"name": "n1"}, "spec": {}}
    api.script["/api/v1/nodes/n1"] = [
        SHUTTING_DOWN,
        (200, JSON_TYPE, json.dumps(node).encode()),
        (502, JSON_TYPE, status_body(502, "bad gateway")),
        (200, JSON_TYPE, json.dumps(node).encode()),
    ]
    lines: list[str] = []
    change = cordon(CordonNode(node="n1"), client(api), Control(progress=lines.append))
    assert change.changed
    assert [(m, p) for m, p, _, _ in api.seen] == [
        ("GET", "/api/v1/nodes/n1"),
        ("GET", "/api/v1/nodes/n1"),
        ("PATCH", "/api/v1/nodes/n1"),
        ("PATCH", "/api/v1/nodes/n1"),
    ]
    assert lines == []  # over in well under two seconds: not worth a line on the card


def test_a_drain_that_loses_the_api_server_after_cordoning_says_the_node_stays_cordoned(
    api: Any,
) -> None:
    node = {"metadata": {"name": "n1"}, "spec": {}}
    api.script["/api/v1/nodes/n1"] = [(200, JSON_TYPE, json.dumps(node).encode())]
    api.default = (502, JSON_TYPE, status_body(502, "bad gateway to 10.0.0.5"))
    lines: list[str] = []
    started = time.monotonic()
    with pytest.raises(ChatOpsError) as caught:
        drain(DrainNode(node="n1", timeout_seconds=2), client(api), Control(progress=lines.append))
    assert time.monotonic() - started < 2.5
    assert ("PATCH", "/api/v1/nodes/n1") in [(m, p) for m, p, _, _ in api.seen]
    text = caught.value.user_message
    assert text.startswith(
        "Drain of n1 stopped after it was cordoned: Gave up on the Kubernetes API server at this "
        "job's deadline: it was answering 502"
    )
    assert text.endswith("n1 stays cordoned; to bring it back: /k8s uncordon n1")
    assert "10.0.0.5" not in text and "/api" not in text
    assert lines[0] == "node/n1 cordoned"
