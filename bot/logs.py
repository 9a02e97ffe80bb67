"""Log lines as JSON on stderr, with anything that looks like a secret masked.

Tokens should never reach a log call in the first place (settings hold them as ``SecretStr``);
the filter is the second line of defence for text that came from elsewhere, such as an
exception message quoting a request. It is the same engine that masks pod logs before they go
to Slack (:mod:`core.redaction`), so both catch the same secrets. The bot's own log keeps its
plain ``[redacted]`` mask, which the people and alerts reading it already know.

Every line names the cluster it is about, so the logs of many clusters can be read apart: a
worker's whole process serves one (``configure(cluster=…)``); the bot sets it for the request
or the notification it is handling (:func:`about_cluster`).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from core.redaction import MASK_PATTERN, build_redactor

_REDACTOR = build_redactor()
_LOG_MASK = "[redacted]"
#: The cluster the current request or notification is about (the bot serves many).
_CLUSTER: ContextVar[str | None] = ContextVar("cluster", default=None)
#: The cluster the whole process serves (a worker), if any.
_PROCESS_CLUSTER: list[str | None] = [None]


@contextmanager
def about_cluster(cluster: str | None) -> Iterator[None]:
    """Log lines written inside name ``cluster`` (``None`` leaves the current one)."""
    if cluster is None:
        yield
        return
    token = _CLUSTER.set(cluster)
    try:
        yield
    finally:
        _CLUSTER.reset(token)


@contextmanager
def cluster_scope() -> Iterator[None]:
    """A request's scope: a cluster named inside with :func:`set_cluster` is forgotten at its
    end (threads serve one request after another)."""
    token = _CLUSTER.set(_CLUSTER.get())
    try:
        yield
    finally:
        _CLUSTER.reset(token)


def set_cluster(cluster: str | None) -> None:
    """Name ``cluster`` on the following lines, up to the end of the :func:`cluster_scope`."""
    _CLUSTER.set(cluster)


def current_cluster() -> str | None:
    return _CLUSTER.get() or _PROCESS_CLUSTER[0]


def redact(text: str) -> str:
    masked, _ = _REDACTOR.redact(text)
    return MASK_PATTERN.sub(_LOG_MASK, masked)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        cluster = getattr(record, "cluster", None) or current_cluster()
        if cluster:
            entry["cluster"] = str(cluster)
        if record.exc_info:
            entry["traceback"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str = "INFO", *, cluster: str | None = None) -> None:
    """JSON lines on stderr; ``cluster``: the one this process serves, named on every line."""
    _PROCESS_CLUSTER[0] = cluster
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("urllib3", "kubernetes", "slack_bolt", "slack_sdk", "waitress"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
