"""Reading the per-cluster queue stream: new entries, abandoned ones, and keeping a claim.

An entry stays pending in the consumer group until its worker acknowledges it. A worker that
is alive renews its claim (XCLAIM to itself, which resets the idle time) every few seconds;
one that died stops renewing, and after ``reclaim_idle`` another worker takes the entry over
with XAUTOCLAIM. So a long job is never taken from a live worker, and a dead worker's job is
never lost.
"""

from __future__ import annotations

from typing import Any, cast

import redis

Entry = tuple[str, dict[str, str]]


def read_group(
    client: redis.Redis,
    stream: str,
    group: str,
    consumer: str,
    *,
    count: int,
    block_ms: int | None,
    reclaim_idle_ms: int,
) -> list[Entry]:
    """Entries abandoned by a dead consumer first (XAUTOCLAIM), then new ones (XREADGROUP).

    A Redis that restarted without its data has no consumer group: it is created again (the
    entries it held are gone with the data; new ones are served), instead of the error stopping
    the loop that serves everyone.
    """
    try:
        return _read(
            client,
            stream,
            group,
            consumer,
            count=count,
            block_ms=block_ms,
            reclaim_idle_ms=reclaim_idle_ms,
        )
    except redis.ResponseError as error:
        # NOGROUP: the group is gone; UNBLOCKED: the stream went away while we waited on it.
        if not str(error).startswith(("NOGROUP", "UNBLOCKED")):
            raise
        ensure_group(client, stream, group)
        return []


def ensure_group(client: redis.Redis, stream: str, group: str) -> None:
    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except redis.ResponseError as error:
        if "BUSYGROUP" not in str(error):
            raise


def _read(
    client: redis.Redis,
    stream: str,
    group: str,
    consumer: str,
    *,
    count: int,
    block_ms: int | None,
    reclaim_idle_ms: int,
) -> list[Entry]:
    claimed = cast(
        Any, client.xautoclaim(stream, group, consumer, min_idle_time=reclaim_idle_ms, count=count)
    )
    entries: list[Entry] = [e for e in claimed[1] if e[1]] if claimed else []
    if entries:
        return entries
    fresh = cast(
        Any, client.xreadgroup(group, consumer, {stream: ">"}, count=count, block=block_ms)
    )
    for _stream, items in fresh or []:
        entries.extend(items)
    return entries


def keep_claim(client: redis.Redis, stream: str, group: str, consumer: str, entry_id: str) -> bool:
    """Reset the entry's idle time; False if another consumer has taken it over."""
    claimed = client.xclaim(
        stream, group, consumer, min_idle_time=0, message_ids=[entry_id], justid=True
    )
    return bool(claimed)
