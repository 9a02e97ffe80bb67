"""Reading a container's log file as the runtime wrote it, in the CRI logging format.

Each line of the file is ``TIMESTAMP STREAM TAG CONTENT``: an RFC 3339 time, ``stdout`` or
``stderr``, ``F`` for a full line or ``P`` for a part the runtime split off a long line (the
next ``P``/``F`` lines of the same stream continue it), and the content. The file is read
forward once (the kubelet rotates it at 10 MiB by default), every logical line is masked as
it is read — in order, so a private key spread over many lines is masked whole — and only the
newest lines within ``--tail`` and the caps are kept. Secrets are masked here, on the node,
so they never reach Redis.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core import messages
from core.redaction import Redactor

#: One physical line is read in pieces of at most this many bytes (a runtime writes at most
#: 16 KiB per line, but the file is not ours to trust).
_READ_LIMIT = 64 * 1024
_STREAMS = (b"stdout", b"stderr")


@dataclass(frozen=True)
class LogRecord:
    time: str
    stream: str
    text: str


def _cut(data: bytes, limit: int) -> bytes:
    """``data`` cut to ``limit`` bytes without splitting a UTF-8 character."""
    if len(data) <= limit:
        return data
    cut = limit
    while cut > 0 and data[cut] & 0b1100_0000 == 0b1000_0000:
        cut -= 1
    return data[:cut]


def _physical_lines(path: Path, max_line_bytes: int) -> Iterator[bytes]:
    """The file's lines without newlines; a line longer than the cap is cut (and its rest
    read and dropped) as it is read, so no line costs more memory than the cap."""
    with path.open("rb") as handle:
        line = bytearray()
        dropping = False
        while True:
            piece = handle.readline(_READ_LIMIT)
            if not piece:
                break
            ends = piece.endswith(b"\n")
            if not dropping:
                line += piece.rstrip(b"\n") if ends else piece
                if len(line) > max_line_bytes + 64:  # the CRI prefix is ~45 bytes
                    del line[max_line_bytes + 64 :]
                    dropping = not ends
            if ends:
                yield bytes(line)
                line.clear()
                dropping = False
        if line:
            yield bytes(line)


def parse_line(raw: bytes) -> tuple[str, str, bool, bytes]:
    """(time, stream, partial, content) of one physical line; a line not in the CRI format is
    taken whole as a full stdout line without a time."""
    parts = raw.split(b" ", 3)
    if len(parts) >= 3 and parts[1] in _STREAMS and parts[2][:1] in (b"F", b"P"):
        content = parts[3] if len(parts) == 4 else b""
        return parts[0].decode("ascii", "replace"), parts[1].decode(), parts[2][:1] == b"P", content
    return "", "stdout", False, raw


def records(lines: Iterable[bytes], max_line_bytes: int) -> Iterator[LogRecord]:
    """Logical lines: the ``P`` parts of a stream joined up to its ``F`` line, each capped at
    ``max_line_bytes`` (a cut line ends with the same mark ``logs`` uses)."""
    mark = messages.LOGS_LINE_CUT.format(limit=max_line_bytes)
    pending: dict[str, tuple[str, bytearray, bool]] = {}
    for raw in lines:
        time, stream, partial, content = parse_line(raw)
        start, text, cut = pending.pop(stream, (time, bytearray(), False))
        if not cut:
            room = max_line_bytes - len(text)
            if len(content) > room:
                text += _cut(content, room) if room > 0 else b""
                cut = True
            else:
                text += content
        if partial:
            pending[stream] = (start, text, cut)
            continue
        body = bytes(text).decode("utf-8", "replace")
        yield LogRecord(start, stream, body + mark if cut else body)
    for stream, (start, text, cut) in pending.items():  # the file ends inside a long line
        body = bytes(text).decode("utf-8", "replace")
        yield LogRecord(start, stream, body + mark if cut else body)


@dataclass(frozen=True)
class TailedLog:
    lines: list[str]
    omitted: int
    masked: int


def read_log(
    path: Path,
    *,
    redactor: Redactor,
    tail: int | None,
    max_lines: int,
    max_bytes: int,
    max_line_bytes: int,
) -> TailedLog:
    """The newest ``tail`` lines of the log (all with None), masked, within the caps."""
    keep_lines = max_lines if tail is None else min(tail, max_lines)
    kept: deque[tuple[str, int]] = deque()
    kept_bytes = total = 0
    texts = (r.text for r in records(_physical_lines(path, max_line_bytes), max_line_bytes))
    for text, count in redactor.redact_lines(texts):
        total += 1
        if keep_lines == 0:
            continue
        kept.append((text, count))
        kept_bytes += len(text.encode()) + 1
        while len(kept) > keep_lines or (kept_bytes > max_bytes and len(kept) > 1):
            dropped, _ = kept.popleft()
            kept_bytes -= len(dropped.encode()) + 1
    return TailedLog(
        lines=[text for text, _ in kept],
        omitted=total - len(kept),
        masked=sum(count for _, count in kept),
    )
