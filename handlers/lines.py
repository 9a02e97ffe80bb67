"""A streamed text body split into lines: linear in its size, each line capped as it arrives.

A container may print megabytes without a newline. Appending each chunk to what is pending
and splitting it all again is quadratic in such a line, and keeps it whole. Here each chunk
is split once on its own; only the start of a line that continues into the next chunk is
kept, at most ``max_line_bytes`` of it, and the rest of a longer line is read and dropped.
A cut line ends with a mark saying so, and is cut where no UTF-8 character is split.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from core import messages

#: The default cap on one line, in bytes (K8S_CHATOPS_LOGS_MAX_LINE_BYTES).
MAX_LINE_BYTES = 16 * 1024
_CONTINUATION_MASK, _CONTINUATION = 0b1100_0000, 0b1000_0000
_LONGEST_CHARACTER = 4


def _character_boundary(kept: bytearray, following: int) -> int:
    """Where to cut ``kept`` so that the character ``following`` continues is not split."""
    cut, byte = len(kept), following
    lowest = max(0, len(kept) - (_LONGEST_CHARACTER - 1))
    while byte & _CONTINUATION_MASK == _CONTINUATION and cut > lowest:
        cut -= 1
        byte = kept[cut]
    return cut


def split_lines(chunks: Iterable[bytes], max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """Lines without their newline; a line over ``max_line_bytes`` is yielded as soon as it
    overflows, as its first bytes and :data:`messages.LOGS_LINE_CUT`."""
    if max_line_bytes < 1:
        raise ValueError(f"max_line_bytes must be at least 1, not {max_line_bytes}")
    mark = messages.LOGS_LINE_CUT.format(limit=max_line_bytes).encode()
    line = bytearray()  # the start of a line whose newline has not arrived yet
    dropping = False  # that line was cut and yielded; the rest of it is read and dropped
    for chunk in chunks:
        pieces = chunk.split(b"\n")  # each chunk is split once, whatever came before it
        last = len(pieces) - 1
        for index, piece in enumerate(pieces):
            ends = index < last  # a newline follows this piece
            if ends and not line and not dropping and len(piece) <= max_line_bytes:
                yield piece  # a whole line inside one chunk: the usual case, no copy
                continue
            if not dropping:
                room = max_line_bytes - len(line)
                if len(piece) > room:
                    line += piece[:room]
                    yield bytes(line[: _character_boundary(line, piece[room])]) + mark
                    line.clear()
                    dropping = True
                else:
                    line += piece
            if ends:
                if not dropping:
                    yield bytes(line)
                line.clear()
                dropping = False
    if line:
        yield bytes(line)
