"""HTTP mode: Slack's events endpoint plus health probes, served by waitress.

``/slack/events`` goes to Bolt (which checks Slack's signature and answers 401 otherwise);
``/healthz`` says the process is alive; ``/readyz`` says it can reach Redis, so a load
balancer stops sending commands to a replica that could not queue them. A request timestamp
that is not a number is answered 401 here: Bolt would fail converting it and answer 500.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import redis
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

WsgiApp = Callable[["WSGIEnvironment", "StartResponse"], Iterable[bytes]]
#: Slack sends Unix seconds; anything else cannot have been signed by Slack.
_TIMESTAMP_DIGITS = 12


def _is_unix_seconds(text: str) -> bool:
    return 0 < len(text) <= _TIMESTAMP_DIGITS and text.isascii() and text.isdigit()


def make_wsgi(app: App, redis_client: redis.Redis) -> WsgiApp:
    slack = SlackRequestHandler(app, path="/slack/events")

    def respond(start: StartResponse, status: str, body: bytes) -> list[bytes]:
        start(
            status,
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]

    def wsgi(environ: WSGIEnvironment, start: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return respond(start, "200 OK", b"ok\n")
        if path == "/readyz":
            try:
                redis_client.ping()
            except redis.RedisError:
                return respond(start, "503 Service Unavailable", b"redis unreachable\n")
            return respond(start, "200 OK", b"ready\n")
        stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        if stamp is not None and not _is_unix_seconds(stamp):
            return respond(start, "401 Unauthorized", b"invalid request\n")
        return slack(environ, start)

    return wsgi
