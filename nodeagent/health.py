"""The agent's liveness answer for the kubelet: ``GET /healthz`` on a small HTTP port.

The agent's image has no shell, so an exec probe cannot look at a file; a plain HTTP answer
from inside the process can. It says 200 ``ok`` while the heartbeat loop runs and the runtime
has answered within the give-up time, and 503 with the reason otherwise. It carries nothing
else (no node facts, no tasks), answers only ``/healthz``, and the chart exposes it to nobody
but the kubelet (no Service; a NetworkPolicy denies all ingress, and the kubelet's probes from
the node itself are always allowed).
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

log = logging.getLogger(__name__)


class Checked(Protocol):
    def healthy(self) -> tuple[bool, str]: ...


def serve_health(agent: Checked, *, host: str = "0.0.0.0", port: int) -> ThreadingHTTPServer:  # noqa: S104 — the pod's own network namespace; the chart lets only the kubelet in
    """Answer ``/healthz`` from a daemon thread; ``shutdown()`` the server to stop it."""

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/healthz":
                self.send_error(404)
                return
            ok, reason = agent.healthy()
            body = (reason + "\n").encode()
            self.send_response(200 if ok else 503)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            del format, args  # a probe every few seconds is not worth a log line

    server = ThreadingHTTPServer((host, port), Health)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server
