"""What every command's rendering shares: kubectl's table layout and age format, and the
``jobs`` and ``audit`` listings. Each command renders its own result (its ``render``).

Plain text is the common form; Slack wraps tables in a code block. Ages are computed when a
reply is rendered, like kubectl does when it prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.jobs.model import Job
from core import messages
from core.text import code

# kubectl prints with text/tabwriter: minwidth 6, padding 3, no padding after the last column.
_MIN_WIDTH = 6
_PADDING = 3


def human_duration(seconds: float) -> str:
    """kubectl's age format (k8s.io/apimachinery/pkg/util/duration.HumanDuration)."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if rest == 0 else f"{years}y{rest}d"
    return f"{hours // 24 // 365}y"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [
        max(_MIN_WIDTH, *(len(row[i]) + _PADDING for row in (header, *rows)))
        for i in range(len(header) - 1)
    ]
    lines = []
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("".join(cells) + row[-1])
    return "\n".join(line.rstrip() for line in lines)


def render_jobs(jobs: list[Job], *, now: datetime | None = None) -> str:
    """``/k8s jobs``: newest first, kubectl-style columns."""
    if not jobs:
        return messages.NO_JOBS.format()
    moment = now or datetime.now(UTC)
    rows = [
        (
            job.id,
            job.cluster,
            job.state.value,
            job.requester,
            job.target,
            job.request.command_text()[:60],
            human_duration((moment - job.created_at).total_seconds()),
        )
        for job in jobs
    ]
    return table(("JOB", "CLUSTER", "STATE", "REQUESTER", "TARGET", "COMMAND", "AGE"), rows)


def render_audit(entries: list[dict[str, Any]]) -> str:
    """``/k8s audit``: one line per entry, oldest first."""
    if not entries:
        return messages.NO_AUDIT.format()
    lines = []
    for entry in entries:
        what = entry.get("command") or entry.get("text") or ""
        job = f" job {entry['job']}" if entry.get("job") else ""
        job += f" on {entry['cluster']}" if entry.get("cluster") else ""
        why = entry.get("reason") or entry.get("decision") or entry.get("error") or ""
        at = str(entry.get("at", ""))[:19].replace("T", " ")
        lines.append(
            f"{at}  {entry.get('by', '?')}  {entry.get('event', '?')}{job}"
            + (f"  {code(what)}" if what else "")
            + (f"  ({why})" if why else "")
        )
    return "\n".join(lines)
