"""What people read when the Kubernetes API fails: a plain sentence and an incident id. The
server's address, the request path and the worker's identity go to the log only."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

from core.errors import ChatOpsError
from handlers.control import Control
from handlers.kube import (
    KubeClient,
    KubeError,
    KubeForbidden,
    KubeInvalid,
    KubeNotFound,
    KubeUnavailable,
)
from handlers.logs import node_logs
from handlers.logs_models import NodeLogs

SA = "system:serviceaccount:chatops:worker"
INTERNALS = ("http://", "https://", "serviceaccount", "system:", "127.0.0.1", "/api/v1")


class _Answers(BaseHTTPRequestHandler):
    answer: tuple[int, dict[str, Any]] = (200, {})

    def _reply(self) -> None:
        path = self.path.split("?", 1)[0]
        status, body = self.server.by_path.get(path, self.server.answer)  # type: ignore[attr-defined]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = _reply

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[ThreadingHTTPServer]:
    """A loopback API server that answers whatever the test sets in ``answer``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    server.answer = (200, {})  # type: ignore[attr-defined]
    server.by_path = {}  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def client_for(url: str) -> KubeClient:
    configuration = k8s_client.Configuration()
    configuration.host = url
    configuration.retries = False
    return KubeClient(k8s_client.ApiClient(configuration), server=url)


def server_url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def status(code: int, message: str, reason: str = "") -> dict[str, Any]:
    return {
        "kind": "Status",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def refusal(
    server: ThreadingHTTPServer,
    code: int,
    message: str,
    method: str = "GET",
    path: str = "/api/v1/nodes",
    client: KubeClient | None = None,
) -> KubeError:
    server.answer = (code, status(code, message))  # type: ignore[attr-defined]
    with pytest.raises(KubeError) as caught:
        (client or client_for(server_url(server))).request(method, path)
    return caught.value


def incident_of(text: str) -> str:
    found = re.search(r"\(logged as ([0-9a-f]{8})\)", text)
    assert found, text
    return found[1]


def assert_plain(error: KubeError) -> None:
    for text in (error.user_message, error.detail):
        assert [s for s in INTERNALS if s in text] == [], text


def logged_with(caplog: pytest.LogCaptureFixture, incident: str) -> str:
    lines = [r.getMessage() for r in caplog.records if incident in r.getMessage()]
    assert len(lines) == 1, lines
    return lines[0]


def test_forbidden_names_the_permission_not_the_identity(
    api: ThreadingHTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    message = (
        f'pods "web-1" is forbidden: User "{SA}" cannot create resource "pods/eviction" in API '
        'group "" in the namespace "shop"'
    )
    with caplog.at_level(logging.WARNING):
        error = refusal(api, 403, message, "POST", "/api/v1/namespaces/shop/pods/web-1/eviction")
    assert isinstance(error, KubeForbidden)
    incident = incident_of(error.user_message)
    assert error.user_message == (
        "The cluster refused this: the worker is not allowed to evict pods in namespace shop. "
        "The cluster's own RBAC applies to chat requests; ask a cluster admin for that "
        f"permission (logged as {incident})."
    )
    assert error.detail == (
        'pods "web-1" is forbidden: the worker is not allowed to evict pods in namespace shop '
        f"(logged as {incident})"
    )
    assert_plain(error)
    logged = logged_with(caplog, incident)
    assert SA in logged and server_url(api) in logged
    assert "/api/v1/namespaces/shop/pods/web-1/eviction" in logged


@pytest.mark.parametrize(
    ("message", "method", "path", "client_user", "sentence"),
    [
        (
            'nodes "n1" is forbidden: User "slack:U_OPS" cannot patch resource "nodes" in API '
            'group "" at the cluster scope',
            "PATCH",
            "/api/v1/nodes/n1",
            "slack:U_OPS",
            "your identity in the cluster (slack:U_OPS) is not allowed to patch nodes",
        ),
        (
            f'users "slack:U_OPS" is forbidden: User "{SA}" cannot impersonate resource "users" '
            'in API group "" at the cluster scope',
            "PATCH",
            "/api/v1/nodes/n1",
            "slack:U_OPS",
            "the worker is not allowed to impersonate users",
        ),
        (
            f'deployments.apps is forbidden: User "{SA}" cannot list resource "deployments" in '
            'API group "apps" in the namespace "shop"',
            "GET",
            "/apis/apps/v1/namespaces/shop/deployments",
            None,
            "the worker is not allowed to list deployments.apps in namespace shop",
        ),
        (
            f'pods "web-1" is forbidden: User "{SA}" cannot get resource "pods/log" in API group '
            '"" in the namespace "shop"',
            "GET",
            "/api/v1/namespaces/shop/pods/web-1/log",
            None,
            "the worker is not allowed to read the logs of pods in namespace shop",
        ),
        (  # a message in a form we do not know: said from our own request instead
            f"access denied for {SA} by a webhook",
            "DELETE",
            "/api/v1/namespaces/shop/pods/web-1",
            None,
            "the worker is not allowed to delete pods in namespace shop",
        ),
    ],
)
def test_forbidden_sentences(
    api: ThreadingHTTPServer,
    message: str,
    method: str,
    path: str,
    client_user: str | None,
    sentence: str,
) -> None:
    client = client_for(server_url(api))
    if client_user:
        client = client.impersonating(client_user)
    error = refusal(api, 403, message, method, path, client)
    assert isinstance(error, KubeForbidden)
    assert error.user_message.startswith(f"The cluster refused this: {sentence}. ")
    assert_plain(error)


def test_a_refusal_that_names_no_identity_is_shown_as_the_server_said(
    api: ThreadingHTTPServer,
) -> None:
    message = (
        'pods "web-1" is forbidden: unable to create new content in namespace shop because it '
        "is being terminated"
    )
    error = refusal(api, 403, message, "POST", "/api/v1/namespaces/shop/pods/web-1/eviction")
    assert isinstance(error, KubeForbidden)
    assert error.user_message == f"The Kubernetes API refused this (403): {message}"
    assert error.detail == message
    assert error.server_message == message


def test_unauthorized_is_about_the_workers_credentials(
    api: ThreadingHTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        error = refusal(api, 401, "Unauthorized")
    incident = incident_of(error.user_message)
    assert error.user_message == (
        "The cluster did not accept the worker's credentials; ask a cluster admin to check "
        f"them (logged as {incident})."
    )
    assert_plain(error)
    assert server_url(api) in logged_with(caplog, incident)


def test_a_server_error_hides_what_the_server_said(
    api: ThreadingHTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        error = refusal(api, 500, "etcdserver: leader changed (https://10.0.0.5:2379)", "PATCH")
    assert isinstance(error, KubeUnavailable)
    incident = incident_of(error.user_message)
    assert error.user_message == (
        "The Kubernetes API server failed this request (500); nothing was changed after that "
        f"point (logged as {incident})."
    )
    assert_plain(error)
    assert "10.0.0.5:2379" in logged_with(caplog, incident)


def test_not_found_and_invalid_keep_the_servers_words_without_the_path(
    api: ThreadingHTTPServer,
) -> None:
    missing = refusal(api, 404, 'nodes "n9" not found', path="/api/v1/nodes/n9")
    assert isinstance(missing, KubeNotFound)
    assert missing.user_message == 'The Kubernetes API refused this (404): nodes "n9" not found'
    invalid = refusal(api, 422, "spec.unschedulable: Invalid value", "PATCH", "/api/v1/nodes/n1")
    assert isinstance(invalid, KubeInvalid)
    assert "/api/v1" not in invalid.user_message
    assert_plain(missing)
    assert_plain(invalid)


def test_an_unreachable_server_is_one_sentence(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with caplog.at_level(logging.WARNING), pytest.raises(KubeUnavailable) as caught:
        client_for(url).request("PATCH", "/api/v1/nodes/n1")
    incident = incident_of(caught.value.user_message)
    assert caught.value.user_message == (
        "The Kubernetes API server can't be reached; nothing was changed after that point "
        f"(logged as {incident})."
    )
    assert_plain(caught.value)
    assert url in logged_with(caplog, incident)


def test_a_timeout_is_one_sentence(caplog: pytest.LogCaptureFixture) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        with caplog.at_level(logging.WARNING), pytest.raises(KubeUnavailable) as caught:
            client_for(url).request("GET", "/api/v1/nodes", timeout=(1.0, 0.2))
    finally:
        silent.close()
    incident = incident_of(caught.value.user_message)
    assert caught.value.user_message == (
        "The Kubernetes API server did not answer in time; nothing was changed after that "
        f"point (logged as {incident})."
    )
    assert_plain(caught.value)
    logged = logged_with(caplog, incident)
    assert url in logged and "/api/v1/nodes" in logged


class _Raising:
    """An ``ApiClient`` whose calls raise what an older client raised for a refusal."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def param_serialize(self, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
        return ("POST", "https://10.96.0.1:443/api/v1/x", {}, None, [])

    def call_api(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error


def test_a_raised_api_exception_maps_the_same_way() -> None:
    body = json.dumps(
        status(
            403,
            f'pods "web-1" is forbidden: User "{SA}" cannot create resource "pods/eviction" in '
            'API group "" in the namespace "shop"',
            "Forbidden",
        )
    )
    kube = KubeClient(
        _Raising(ApiException(status=403, reason="Forbidden", body=body)),  # type: ignore[arg-type]
        server="https://10.96.0.1:443",
    )
    with pytest.raises(KubeForbidden) as caught:
        kube.request("POST", "/api/v1/namespaces/shop/pods/web-1/eviction")
    assert "the worker is not allowed to evict pods in namespace shop" in caught.value.user_message
    assert caught.value.reason == "Forbidden"
    assert_plain(caught.value)


def test_node_logs_off_behind_a_5xx_does_not_quote_the_kubelets_address(
    api: ThreadingHTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    api.by_path["/api/v1/nodes/n1/proxy/logs/"] = (  # type: ignore[attr-defined]
        502,
        status(502, "error trying to reach service: dial tcp 10.0.0.5:10250: connect: refused"),
    )
    with caplog.at_level(logging.WARNING), pytest.raises(ChatOpsError) as caught:
        node_logs(NodeLogs(node="n1"), client_for(server_url(api)), Control())
    text = caught.value.user_message
    assert text.startswith("The node log query is not available on n1")
    incident = re.search(r"a 502 answer, logged as ([0-9a-f]{8})\)$", text)
    assert incident, text
    assert "10.0.0.5" not in text
    assert "10.0.0.5:10250" in logged_with(caplog, incident[1])
