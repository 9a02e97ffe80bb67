"""Upper bounds on every number and length a person can type.

A value typed in chat ends up in a Redis record that every later read must validate, in a
request to the API server, and in a timer on a worker. An unbounded one — ``--timeout`` with
310 nines became ``inf``, was stored as ``null`` and made every read of the job fail — breaks
all three. So each numeric flag has a documented ceiling here; the grammar refuses anything
above it with a sentence, and the request models refuse it again (a record written by an older
version cannot sneak one past). ``docs/security.md`` lists them.
"""

from __future__ import annotations

#: A whole command, as typed (Slack allows 4000 characters after the slash command).
MAX_COMMAND_CHARS = 2000
#: One flag value, a query regex, a selector.
MAX_VALUE_CHARS = 1024
#: The reason given with ``approve`` / ``deny``.
MAX_REASON_CHARS = 500
#: Digits in a job id.
MAX_JOB_ID_DIGITS = 12
#: Digits in any typed integer (the sign not counted); far above every bound below.
MAX_INTEGER_DIGITS = 12

HOUR = 3600
DAY = 24 * HOUR

#: ``drain --timeout``: kubectl allows any; a maintenance drain that needs a day is a plan,
#: not a command.
MAX_DRAIN_TIMEOUT_SECONDS = DAY
#: ``drain --grace-period`` (seconds; -1 is "the pod's own").
MAX_GRACE_PERIOD_SECONDS = DAY
#: ``drain --skip-wait-for-delete-timeout`` (seconds).
MAX_SKIP_WAIT_SECONDS = DAY
#: ``drain --chunk-size`` (items per list page; the API server caps pages itself).
MAX_CHUNK_SIZE = 10_000
#: ``logs --since``: container logs rarely outlive a month of rotation.
MAX_LOGS_SINCE_SECONDS = 30 * DAY
#: ``logs --tail`` per container (-1 is all; the fetch caps total lines separately).
MAX_LOGS_TAIL = 100_000
#: ``logs --max-log-requests``.
MAX_LOG_REQUESTS = 100
#: ``audit [N]``.
MAX_AUDIT_ENTRIES = 100
#: ``prune images --older-than``: by the image config's build time; ten years is older than
#: any registry people still pull from.
MAX_PRUNE_OLDER_THAN_SECONDS = 3650 * DAY
#: One image keep pattern (``prune images --keep``, the policy's ``images.keep``), how many
#: ``--keep`` flags one command may carry, and how many the policy file may list (a prune
#: checks each image against each of them).
MAX_KEEP_PATTERN_CHARS = 200
MAX_KEEP_PATTERNS = 16
MAX_POLICY_KEEP_PATTERNS = 64
#: ``runtime logs --tail`` (the agent caps what one reply carries separately).
MAX_RUNTIME_LOGS_TAIL = 100_000
#: The operator's ceilings on one logs reply (``K8S_CHATOPS_LOGS_MAX_*``): lines, bytes, and
#: bytes of one line; a node agent's logs task carries the worker's values and is held to them.
MAX_LOGS_LINES = 100_000
MAX_LOGS_BYTES = 50_000_000
MAX_LOG_LINE_BYTES = 1024 * 1024


def duration_text(seconds: float, *, days: bool = False) -> str:
    """``86400`` → ``24h``, ``90`` → ``1m30s``: the Go form people type back (with ``days``,
    for flags that take them: ``3650d``)."""
    whole = int(seconds)
    day_count, whole = divmod(whole, DAY) if days else (0, whole)
    hours, rest = divmod(whole, HOUR)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{day_count}d" if day_count else "",
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts) or "0s"
