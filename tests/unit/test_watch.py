"""The watch helper against a loopback API server that scripts lists and watch streams: it
resumes from the last resourceVersion it saw, and lists again when that version is gone."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from kubernetes import client as k8s_client

from handlers.kube import JSON, KubeClient, KubeForbidden
from handlers.retry import Deadline
from handlers.watch import Watch, WatchEvent

NODES = "/api/v1/nodes"


def node(name: str, version: str, **labels: str) -> JSON:
    return {
        "kind": "Node",
        "metadata": {"name": name, "resourceVersion": version, "labels": labels},
    }


def listing(version: str, *items: JSON) -> tuple[int, bytes]:
    body = {"kind": "NodeList", "metadata": {"resourceVersion": version}, "items": list(items)}
    return 200, json.dumps(body).encode()


def stream(*events: tuple[str, JSON]) -> tuple[int, bytes]:
    return 200, b"".join(json.dumps({"type": t, "object": o}).encode() + b"\n" for t, o in events)


GONE_EVENT = (
    "ERROR",
    {
        "kind": "Status",
        "status": "Failure",
        "message": "too old resource version: 5 (90)",
        "reason": "Expired",
        "code": 410,
    },
)


class _Scripted(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        server: Any = self.server
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        server.seen.append(query)
        kind = "watch" if query.get("watch") == "true" else "list"
        script = server.script[kind]
        status, data = script.pop(0) if script else (200, b"")  # an empty watch: closed at once
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    server.script, server.seen = {"list": [], "watch": []}, []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def kube(server: Any) -> KubeClient:
    configuration = k8s_client.Configuration()
    configuration.host = f"http://127.0.0.1:{server.server_address[1]}"
    configuration.retries = False
    return KubeClient(k8s_client.ApiClient(configuration), server=configuration.host)


def described(events: list[WatchEvent]) -> list[str]:
    return [f"{e.type} {e.object['metadata']['name']}" if e.object else e.type for e in events]


def take(watch: Watch, count: int) -> list[WatchEvent]:
    events = watch.events()
    taken = [next(events) for _ in range(count)]
    events.close()
    return taken


def watches(server: Any) -> list[dict[str, str]]:
    return [q for q in server.seen if q.get("watch") == "true"]


def test_lists_then_watches_and_resumes_from_the_last_version(api: Any) -> None:
    api.script["list"] = [listing("10", node("a", "7"), node("b", "9"))]
    api.script["watch"] = [
        stream(
            ("MODIFIED", node("a", "11")), ("BOOKMARK", {"metadata": {"resourceVersion": "15"}})
        ),
        stream(("ADDED", node("c", "16"))),
    ]
    watch = Watch(kube(api), NODES, label_selector="pool=blue")
    seen = take(watch, 5)
    assert described(seen) == ["ADDED a", "ADDED b", "SYNCED", "MODIFIED a", "ADDED c"]
    opened = watches(api)
    assert [q["resourceVersion"] for q in opened] == ["10", "15"]  # the bookmark's, not a relist
    assert opened[0]["allowWatchBookmarks"] == "true"
    assert opened[0]["labelSelector"] == "pool=blue"
    assert watch.resumed == 1 and watch.relisted == 0
    assert sorted(watch.objects) == ["a", "b", "c"]
    assert len([q for q in api.seen if q.get("watch") != "true"]) == 1  # listed once


def test_a_gone_version_is_answered_by_a_fresh_list_and_its_difference(api: Any) -> None:
    api.script["list"] = [
        listing("10", node("a", "7"), node("b", "9")),
        listing("90", node("a", "7"), node("c", "80")),  # b deleted, c added while away
    ]
    api.script["watch"] = [stream(GONE_EVENT), stream(("MODIFIED", node("c", "91")))]
    watch = Watch(kube(api), NODES)
    seen = take(watch, 7)
    assert described(seen) == [
        "ADDED a",
        "ADDED b",
        "SYNCED",
        "DELETED b",
        "ADDED c",
        "SYNCED",
        "MODIFIED c",
    ]
    assert [q["resourceVersion"] for q in watches(api)] == ["10", "90"]
    assert watch.relisted == 1


def test_a_410_on_opening_the_watch_lists_again(api: Any) -> None:
    gone = json.dumps({"kind": "Status", "code": 410, "reason": "Gone", "message": "gone"})
    api.script["list"] = [listing("5", node("a", "5")), listing("50", node("a", "40"))]
    api.script["watch"] = [(410, gone.encode())]
    watch = Watch(kube(api), NODES, resource_version="3")  # resuming a saved place
    seen = take(watch, 2)
    assert described(seen) == ["ADDED a", "SYNCED"]
    assert watch.relisted == 1 and watch.resource_version == "5"


def test_a_saved_version_is_resumed_without_a_list(api: Any) -> None:
    api.script["watch"] = [stream(("MODIFIED", node("a", "21")))]
    watch = Watch(kube(api), NODES, resource_version="20")
    assert described(take(watch, 1)) == ["MODIFIED a"]
    assert [q.get("watch") for q in api.seen] == ["true"]
    assert api.seen[0]["resourceVersion"] == "20"


def test_until_stops_when_the_condition_holds_or_at_the_deadline(api: Any) -> None:
    api.script["list"] = [listing("1", node("a", "1"))]
    api.script["watch"] = [stream(("MODIFIED", node("a", "2", ready="yes")))]
    watch = Watch(kube(api), NODES)
    assert watch.until(lambda objects: objects["a"]["metadata"]["labels"].get("ready") == "yes")
    api.script["list"] = [listing("1", node("a", "1"))]
    slept: list[float] = []
    never = Watch(kube(api), NODES, deadline=Deadline(0.5), sleep=slept.append)
    assert not never.until(lambda objects: False)


def test_a_refusal_is_raised(api: Any) -> None:
    forbidden = json.dumps({"kind": "Status", "code": 403, "reason": "Forbidden", "message": "no"})
    api.script["list"] = [(403, forbidden.encode())]
    with pytest.raises(KubeForbidden):
        take(Watch(kube(api), NODES), 1)
