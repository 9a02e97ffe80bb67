"""A log body split into lines: linear in its size, each line capped while it streams.

A container that prints one 32 MB line without a newline once made the reader quadratic
(each 64 KB chunk re-split everything pending) and held the whole line. The API server is
faked at the one point the client calls it, the ``kubernetes`` ApiClient.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.settings import WorkerSettings, load
from core import messages
from core.errors import ConfigurationError
from handlers.control import Control, OutputCaps
from handlers.kube import KubeClient, KubeUnavailable
from handlers.lines import MAX_LINE_BYTES, split_lines
from handlers.logs import Target, _Filters, _log_query, fetch_target
from handlers.logs_models import PodLogs

MEGABYTE = 1 << 20
CHUNK = 64 * 1024


class _Body:
    """urllib3's response as the client streams it."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks
        self.released = False
        self.closed = False

    def stream(self, amount: int) -> Iterator[bytes]:
        yield from self._chunks

    def close(self) -> None:
        self.closed = True

    def release_conn(self) -> None:
        self.released = True


class _Response:
    status = 200

    def __init__(self, body: _Body) -> None:
        self.response = body


class FakeApi:
    """The two ApiClient calls KubeClient makes, answering every request with one body."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.body = _Body(chunks)

    def param_serialize(self, method: str, path: str, **params: Any) -> tuple[Any, ...]:
        return method, path, params["header_params"], params["body"]

    def call_api(self, method: str, url: str, **params: Any) -> _Response:
        return _Response(self.body)


def x_chunks(total: int, size: int = CHUNK) -> Iterator[bytes]:
    chunk = b"x" * size
    for _ in range(total // size):
        yield chunk


def fetch(chunks: Iterable[bytes], caps: OutputCaps | None = None) -> list[str]:
    kube = KubeClient(FakeApi(chunks), server="https://fake")  # type: ignore[arg-type]
    request = PodLogs(query="web")
    fetched = fetch_target(
        kube,
        Target("default", "web-1", "app", "node-1"),
        _log_query(request, "app"),
        _Filters.of(request),
        Control(caps=caps or OutputCaps()),
    )
    return [line.text for _, line, _ in fetched.lines]


def test_a_32_megabyte_line_is_kept_as_its_first_16_kibibytes_and_a_mark() -> None:
    stamp = b"2026-01-02T03:04:05.123456789Z "
    chunks = [stamp, *x_chunks(32 * MEGABYTE), b"\n", stamp, b"next line\n"]
    kept = 16384 - len(stamp)  # the cap is on the line as the kubelet sends it
    assert fetch(chunks) == ["x" * kept + " … [line cut at 16384 bytes]", "next line"]


def test_the_line_cap_is_the_workers_setting_and_reaches_the_reader() -> None:
    chunks = [b"2026-01-02T03:04:05Z ", b"y" * 5000, b"\n"]
    assert fetch(chunks, OutputCaps(max_line_bytes=1000)) == [
        "y" * 979 + " … [line cut at 1000 bytes]"
    ]


def test_the_setting_is_read_from_the_environment_and_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("K8S_CHATOPS_LOGS_MAX_LINE_BYTES", raising=False)
    assert load(WorkerSettings).logs_max_line_bytes == MAX_LINE_BYTES == 16384
    monkeypatch.setenv("K8S_CHATOPS_LOGS_MAX_LINE_BYTES", "4096")
    assert load(WorkerSettings).logs_max_line_bytes == 4096
    monkeypatch.setenv("K8S_CHATOPS_LOGS_MAX_LINE_BYTES", "10")
    with pytest.raises(ConfigurationError, match="K8S_CHATOPS_LOGS_MAX_LINE_BYTES"):
        load(WorkerSettings)


# --- The splitter itself ------------------------------------------------------------------


class CountingChunks:
    """Chunks handed out one at a time, counting how many have been taken."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self.taken = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.taken += 1
            yield chunk


def test_32_megabytes_without_a_newline_stream_as_one_capped_line() -> None:
    chunks = CountingChunks(x_chunks(32 * MEGABYTE))
    lines = split_lines(chunks)
    first = next(lines)
    assert first == b"x" * 16384 + " … [line cut at 16384 bytes]".encode()
    assert chunks.taken == 1  # yielded as soon as it overflowed, not at the end of the body
    assert list(lines) == []
    assert chunks.taken == 32 * MEGABYTE // CHUNK  # the rest was read, and dropped


def test_lines_around_the_cap() -> None:
    mark = messages.LOGS_LINE_CUT.format(limit=4).encode()
    body = [b"abcd\nabcde\n", b"ab", b"cdef", b"gh\n\nlast"]
    assert list(split_lines(body, 4)) == [b"abcd", b"abcd" + mark, b"abcd" + mark, b"", b"last"]


def test_a_cut_never_splits_a_character() -> None:
    mark = messages.LOGS_LINE_CUT.format(limit=4).encode()
    assert list(split_lines(["aaé€".encode()], 4)) == ["aaé".encode() + mark]  # é fits
    assert list(split_lines(["aa€".encode()], 4)) == [b"aa" + mark]  # € would be bytes 3-5
    assert list(split_lines(["aaaé".encode()], 4)) == [b"aaa" + mark]
    assert list(split_lines(["a€".encode()], 4)) == ["a€".encode()]
    assert list(split_lines(["a😀b".encode()], 4)) == [b"a" + mark]


def test_a_cap_below_one_byte_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(split_lines([b"a"], 0))


def test_a_connection_lost_mid_line_is_the_clients_error_and_the_connection_is_released() -> None:
    def broken() -> Iterator[bytes]:
        yield b"x" * 100
        raise OSError("connection reset")

    api = FakeApi(broken())
    kube = KubeClient(api, server="https://fake")  # type: ignore[arg-type]
    with pytest.raises(KubeUnavailable):
        list(kube.stream_lines("/api/v1/namespaces/d/pods/p/log"))
    assert api.body.released


def test_a_stream_left_unread_is_closed_not_handed_back_to_the_pool() -> None:
    """The server may still be sending on that socket; the next request must not read it."""
    api = FakeApi([b"one\ntwo\n", b"three\n"])
    kube = KubeClient(api, server="https://fake")  # type: ignore[arg-type]
    lines = kube.stream_lines("/api/v1/namespaces/d/pods/p/log")
    assert next(lines) == b"one"
    lines.close()
    assert api.body.closed and api.body.released
    read_to_the_end = FakeApi([b"one\n"])
    list(KubeClient(read_to_the_end, server="https://fake").stream_lines("/x"))  # type: ignore[arg-type]
    assert read_to_the_end.body.released and not read_to_the_end.body.closed


@st.composite
def chunked(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    """Text with newlines and multi-byte characters, cut into chunks at random places."""
    text = draw(st.text(st.sampled_from(["a", "b", "\n", "é", "€", "😀"]), max_size=60))
    data = text.encode()
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=8)))
    return data, [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]


@settings(max_examples=500, deadline=None)
@given(body=chunked(), cap=st.integers(1, 12))
def test_any_chunking_gives_the_lines_bytes_split_gives_each_capped(
    body: tuple[bytes, list[bytes]], cap: int
) -> None:
    data, chunks = body
    expected = data.split(b"\n")
    if expected[-1] == b"":
        expected.pop()  # a final newline ends the last line; it does not start another
    mark = messages.LOGS_LINE_CUT.format(limit=cap).encode()
    got = list(split_lines(chunks, cap))
    assert len(got) == len(expected)
    for line, whole in zip(got, expected, strict=True):
        if len(whole) <= cap:
            assert line == whole
        else:
            kept = line.removesuffix(mark)
            assert line.endswith(mark) and whole.startswith(kept)
            assert cap - 3 <= len(kept) <= cap
            kept.decode()  # no character was split
