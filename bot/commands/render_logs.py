"""A log fetch as people read it: a one-paragraph summary, then the lines.

The summary says how much was read and from where, what the filters kept, how many secrets
were masked, and, when the caps cut the output, how to narrow the query. The lines come as
``pod/container text`` (stern's default, with the namespace when several were read), the bare
text (``-o raw``), or one JSON object per line (``-o json``, stern's field names).
"""

from __future__ import annotations

import json
import shlex

from core import messages
from core.i18n import joined
from core.text import code
from handlers.logs_models import LogLine, LogsResult


def _patterns(flag: str, patterns: tuple[str, ...]) -> str:
    return " ".join(f"{flag} {shlex.quote(p)}" for p in patterns)


def summary(result: LogsResult) -> str:
    """What was read, what matched, what was masked or left out; no log text."""
    if result.containers == 0 and result.pods == 0 and not result.source.startswith("logs node/"):
        text = messages.LOGS_NO_PODS.format(command=code(result.source))
        if result.excluded_namespaces:
            text += " " + messages.LOGS_EXCLUDED_NAMESPACES.format(
                namespaces=", ".join(result.excluded_namespaces)
            )
        return text
    if result.containers:
        parts = [
            messages.LOGS_SUMMARY.format(
                lines=messages.LOGS_LINES.format(count=result.fetched),
                pods=messages.LOGS_PODS.format(count=result.pods),
                containers=messages.LOGS_CONTAINERS.format(count=result.containers),
                since=result.since,
            )
        ]
    else:
        parts = [
            messages.LOGS_SUMMARY_NODE.format(
                lines=messages.LOGS_LINES.format(count=result.fetched),
                source=result.source,
                since=result.since,
            )
        ]
    filters = " ".join(
        f for f in (_patterns("-i", result.include), _patterns("-e", result.exclude)) if f
    )
    if filters:
        parts.append(messages.LOGS_MATCHED.format(count=result.matched, filters=code(filters)))
    parts.append(messages.LOGS_REDACTIONS.format(count=result.redactions))
    text = joined(parts, messages.CLAUSE_SEPARATOR) + messages.LOGS_SUMMARY_END.format()
    notes = []
    if not result.lines and not result.failures:
        notes.append(
            messages.LOGS_NO_MATCH.format(fetched=result.fetched)
            if result.fetched
            else messages.LOGS_NO_LINES.format()
        )
    if result.truncated:
        cap = (
            messages.LOGS_LINES.format(count=result.max_lines)
            if result.truncated == "lines"
            else messages.LOGS_CAP_BYTES.format(count=result.max_bytes)
        )
        notes.append(
            messages.LOGS_TRUNCATED.format(shown=len(result.lines), matched=result.matched, cap=cap)
        )
    if result.failures:
        shown = "; ".join(result.failures[:3]) + ("; …" if len(result.failures) > 3 else "")
        notes.append(messages.LOGS_FAILURES.format(count=len(result.failures), details=shown))
    if result.excluded_namespaces:
        notes.append(
            messages.LOGS_EXCLUDED_NAMESPACES.format(
                namespaces=", ".join(result.excluded_namespaces)
            )
        )
    return "\n".join([text, *notes])


def _prefix(result: LogsResult, line: LogLine) -> str:
    if not line.namespace:  # node logs: the source is in the summary
        return ""
    where = f"{line.pod}/{line.container}"
    return f"{line.namespace}/{where} " if result.show_namespace else f"{where} "


def body(result: LogsResult) -> str:
    """The lines, oldest first, in the requested output format."""
    if result.output == "json":
        return "\n".join(
            json.dumps(
                {
                    "timestamp": line.time,
                    "namespace": line.namespace,
                    "podName": line.pod,
                    "containerName": line.container,
                    "nodeName": line.node,
                    "message": line.text,
                },
                ensure_ascii=False,
            )
            for line in result.lines
        )
    rendered = []
    for line in result.lines:
        stamp = f"{line.time} " if result.timestamps and line.time else ""
        prefix = "" if result.output == "raw" else _prefix(result, line)
        rendered.append(f"{prefix}{stamp}{line.text}")
    return "\n".join(rendered)


def file_name(job_id: str, result: LogsResult) -> str:
    return f"logs-job-{job_id}.{'jsonl' if result.output == 'json' else 'log'}"


def render_logs(result: LogsResult) -> str:
    """Summary and lines together, for the shell and any plain-text surface."""
    lines = body(result)
    return f"{summary(result)}\n{lines}" if lines else summary(result)
