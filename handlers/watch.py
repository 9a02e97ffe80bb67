"""Follow changes to a collection: the one watch for everything that waits on the cluster.

Rollout following and the node watcher (both planned) need what client-go's reflector gives Go
programs. List once; watch from the list's resourceVersion; when the watch ends — the server
closes it every ``server_timeout`` seconds, an API server restarts, a connection drops — resume
from the last resourceVersion seen (bookmarks keep it fresh on a quiet collection), so no change
is missed and none is seen twice. When the server no longer has that version (410 Gone: etcd
compacted it, or a restarted API server's cache begins later), list again and report the
difference as events, so whoever follows sees one consistent picture either way.

Opening a watch goes through the client's retry policy (:mod:`handlers.retry`), so an API
server that is away is waited for within the deadline, and the card says so. A watch that
breaks while being read is opened again from where it was, backing off while it keeps breaking.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from handlers.kube import JSON, KubeClient, KubeError, KubeUnavailable
from handlers.retry import Deadline

#: One watch event is one JSON line holding a whole object; etcd stores at most ~1.5 MiB.
WATCH_LINE_BYTES = 8 * 1024 * 1024
#: Seconds the server keeps one watch open before we resume it (a quiet one included).
SERVER_TIMEOUT = 60
#: Beyond ``timeoutSeconds``, how long a read may wait before the watch counts as broken.
_READ_SLACK = 10.0
_CONNECT_TIMEOUT = 3.05
_PAGE_SIZE = 500
_GONE = 410
_FIRST_BACKOFF, _MAX_BACKOFF = 0.5, 8.0

EventType = Literal["ADDED", "MODIFIED", "DELETED", "SYNCED"]


def _never() -> bool:
    return False


@dataclass(frozen=True)
class WatchEvent:
    """A change to one object; ``SYNCED`` (no object) says a list has just completed and
    :attr:`Watch.objects` is the whole collection as of that list."""

    type: EventType
    object: JSON


def object_key(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{namespace}/{meta.get('name')}" if namespace else str(meta.get("name"))


def _version(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion", ""))


class _Expired(Exception):
    """The watch asked for a resourceVersion the server no longer has (or sent an error)."""


class Watch:
    """A collection's objects, kept current; iterate :meth:`events` or wait with :meth:`until`.

    ``deadline`` ends the watch (the iteration stops); so does ``cancelled``. Without either it
    runs until the caller stops iterating, as a long-lived watcher does.
    """

    def __init__(
        self,
        kube: KubeClient,
        path: str,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        deadline: Deadline | None = None,
        cancelled: Callable[[], bool] = _never,
        server_timeout: int = SERVER_TIMEOUT,
        resource_version: str = "",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``resource_version``: resume a watch kept before (a watcher restarting from its
        saved place) instead of listing first; :attr:`objects` then holds only what changes."""
        self._kube, self._path = kube, path
        self._selectors: dict[str, str] = {}
        if label_selector:
            self._selectors["labelSelector"] = label_selector
        if field_selector:
            self._selectors["fieldSelector"] = field_selector
        self._deadline = deadline
        self._cancelled = cancelled
        self._server_timeout = server_timeout
        self._sleep = sleep
        #: The collection as last seen, by ``namespace/name`` (or ``name``).
        self.objects: dict[str, JSON] = {}
        self.resource_version = resource_version
        #: Watches opened again from the last resourceVersion (after a close or a break).
        self.resumed = 0
        #: Lists made again because the server had lost that resourceVersion.
        self.relisted = 0
        self._heard = False

    def until(self, done: Callable[[Mapping[str, JSON]], bool]) -> bool:
        """Watch until ``done(objects)`` holds (True), or the deadline or a cancel (False)."""
        events = self.events()
        try:
            return any(done(self.objects) for _ in events)
        finally:
            events.close()  # and with it the watch's connection

    def events(self) -> Generator[WatchEvent, None, None]:
        if not self.resource_version:
            yield from self._relist()
        backoff = 0.0
        while not self._over():
            try:
                lines = self._open()
            except _Expired:
                self.relisted += 1
                yield from self._relist()
                continue
            self._heard = False
            try:
                for event in self._read(lines):
                    yield event
                    if self._over():
                        return
            except _Expired:
                self.relisted += 1
                yield from self._relist()
                continue
            except KubeUnavailable:
                pass  # broken while being read: opened again below, through the retry policy
            finally:
                lines.close()
            # A watch that ends having said nothing (not even a bookmark) is not hammered.
            backoff = 0.0 if self._heard else min(max(backoff * 2, _FIRST_BACKOFF), _MAX_BACKOFF)
            self._pause(backoff)
            self.resumed += 1

    def _over(self) -> bool:
        return bool(self._deadline and self._deadline.passed()) or self._cancelled()

    def _remaining(self) -> float:
        remaining = self._deadline.remaining() if self._deadline else None
        return math.inf if remaining is None else remaining

    def _pause(self, seconds: float) -> None:
        seconds = min(seconds, max(self._remaining(), 0.0))
        if seconds > 0:
            self._sleep(seconds)

    def _open(self) -> Generator[bytes, None, None]:
        remaining = self._remaining()
        server_timeout = self._server_timeout
        if remaining < server_timeout:  # the server ends it at the deadline, not after
            server_timeout = max(1, math.floor(remaining))
        query: dict[str, str | int | bool] = {
            **self._selectors,
            "watch": "true",
            "resourceVersion": self.resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": server_timeout,
        }
        read = min(server_timeout + _READ_SLACK, max(remaining, 0.0) + 1.0)
        try:
            return self._kube.open_lines(
                self._path,
                query=query,
                timeout=(_CONNECT_TIMEOUT, read),
                max_line_bytes=WATCH_LINE_BYTES,
            )
        except KubeError as error:
            if error.status == _GONE:
                raise _Expired from error
            raise

    def _read(self, lines: Iterator[bytes]) -> Iterator[WatchEvent]:
        for line in lines:
            if not line.strip():
                continue
            self._heard = True
            try:
                event = json.loads(line)
                kind, obj = event["type"], event["object"]
            except (ValueError, KeyError, TypeError):
                raise _Expired from None  # a line we cannot read: start from a fresh list
            if kind == "ERROR":
                raise _Expired  # 410 Gone or Expired, or another error: reflectors relist
            if kind == "BOOKMARK":
                self.resource_version = _version(obj) or self.resource_version
                continue
            if kind not in ("ADDED", "MODIFIED", "DELETED"):
                continue
            key = object_key(obj)
            if kind == "DELETED":
                self.objects.pop(key, None)
            else:
                self.objects[key] = obj
            self.resource_version = _version(obj) or self.resource_version
            yield WatchEvent(kind, obj)

    def _relist(self) -> Iterator[WatchEvent]:
        items, version = self._list()
        fresh = {object_key(obj): obj for obj in items}
        for key in [key for key in self.objects if key not in fresh]:
            yield WatchEvent("DELETED", self.objects.pop(key))
        for key, obj in fresh.items():
            known = self.objects.get(key)
            if known is not None and _version(known) == _version(obj):
                continue
            self.objects[key] = obj
            yield WatchEvent("ADDED" if known is None else "MODIFIED", obj)
        self.resource_version = version
        yield WatchEvent("SYNCED", {})

    def _list(self) -> tuple[list[JSON], str]:
        """Every object and the list's resourceVersion, in pages of one consistent snapshot;
        when a page's continue token has expired (410), the list starts over."""
        while True:
            items: list[JSON] = []
            query: dict[str, str | int | bool] = {**self._selectors, "limit": _PAGE_SIZE}
            try:
                while True:
                    page = self._kube.request("GET", self._path, query=query)
                    items += page.get("items") or []
                    meta = page.get("metadata") or {}
                    if not meta.get("continue"):
                        return items, str(meta.get("resourceVersion", ""))
                    query["continue"] = meta["continue"]
            except KubeError as error:
                if error.status != _GONE or "continue" not in query:
                    raise
