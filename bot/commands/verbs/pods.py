"""``get pods`` and ``get events``: kubectl's columns and wording, one namespace or all.

Both are reads decided per namespace, as ``logs`` is: each namespace named must be allowed,
and ``-A`` leaves out the namespaces a rule keeps from this person.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.commands.flags import Flag, parse_flags
from bot.commands.namespaced import explain_denial, namespace_actions, refused_namespaces
from bot.commands.parsing import check_name, check_selector
from bot.commands.registry import Context, ThreadParts, suggest
from bot.commands.render import human_duration, table
from bot.commands.resources import Resource
from core import messages
from core.errors import CommandError
from core.names import dns1123_label_problem
from core.text import code
from handlers import pods
from handlers.kube import RESOURCES as KUBE_KINDS
from handlers.logs_models import RESOURCE_KINDS
from handlers.pods_models import EventRow, EventTable, GetEvents, GetPods, PodRow, PodTable
from policies.model import Action

#: Rows shown in one message; longer lists go to the thread as a file, the summary stays.
MAX_ROWS_INLINE = 30

_NAMESPACE_FLAGS = (
    Flag("namespace", "namespaces", "text", "kube-system", short="n", repeat=True, split=True),
    Flag("all-namespaces", "all_namespaces", "switch", short="A"),
)
POD_FLAGS = (
    *_NAMESPACE_FLAGS,
    Flag("output", "output", "choice", "wide", choices=("wide",), short="o"),
    Flag("selector", "selector", "text", "app=web", short="l"),
    Flag("field-selector", "field_selector", "text", "status.phase=Running"),
    Flag("node", "node", "text", "k8s-node1"),
)
EVENT_FLAGS = (
    *_NAMESPACE_FLAGS,
    Flag("for", "for_object", "text", "pod/web-0"),
    Flag("types", "types", "text", "Warning", repeat=True, split=True),
)
PODS_USAGE = "get pods [-n NS | -A] [-o wide] [-l SELECTOR] [--field-selector F] [--node NODE]"
EVENTS_USAGE = "get events [-n NS | -A] [--for KIND/NAME] [--types Warning]"
#: ``--for`` takes what ``logs`` names by kind, and nodes.
_FOR_KINDS = {**RESOURCE_KINDS, **dict.fromkeys(("node", "nodes", "no"), "Node")}


def _no_positional(usage: str, positional: list[str]) -> None:
    if positional:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(usage=code(usage), extra=code(" ".join(positional)))
        )


def _namespaces(values: dict[str, Any]) -> None:
    for namespace in values.get("namespaces", ()):
        problem = dns1123_label_problem(namespace)
        if problem:
            raise CommandError(
                messages.LOGS_BAD_NAMESPACE.format(name=code(namespace[:80]), reason=problem)
            )
    if values.get("all_namespaces"):
        values.pop("namespaces", None)  # kubectl: -A wins over -n


def parse_get_pods(args: list[str]) -> GetPods:
    """The words after ``get pods``."""
    positional, values = parse_flags("get pods", args, POD_FLAGS, suggest)
    _no_positional(PODS_USAGE, positional)
    _namespaces(values)
    values["wide"] = values.pop("output", None) == "wide"
    if values.get("selector"):
        check_selector("--selector", str(values["selector"]))
    if values.get("field_selector"):
        check_selector("--field-selector", str(values["field_selector"]), field=True)
    if values.get("node"):
        check_name("node", str(values["node"]))
    return GetPods(**values)


def parse_get_events(args: list[str]) -> GetEvents:
    """The words after ``get events``."""
    positional, values = parse_flags("get events", args, EVENT_FLAGS, suggest)
    _no_positional(EVENTS_USAGE, positional)
    _namespaces(values)
    types = []
    for word in values.pop("types", ()):
        canonical = {"normal": "Normal", "warning": "Warning"}.get(word.lower())
        if canonical is None:
            raise CommandError(messages.GET_EVENTS_BAD_TYPE.format(value=code(word[:40])))
        if canonical not in types:
            types.append(canonical)
    values["types"] = tuple(types)
    given = values.pop("for_object", None)
    if given is not None:
        word, slash, name = given.partition("/")
        kind = _FOR_KINDS.get(word.lower())
        if not slash or kind is None or not name:
            raise CommandError(messages.GET_EVENTS_BAD_FOR.format(value=code(given[:80])))
        check_name(kind.lower(), name)
        values |= {
            "for_kind": kind,
            "for_api_version": KUBE_KINDS[kind].group_version,
            "for_name": name,
        }
    return GetEvents(**values)


# --- Policy: one action per namespace, as ``logs`` -------------------------------------------


def actions(request: GetPods | GetEvents) -> list[Action]:
    return namespace_actions(
        request.verb,
        request.target,
        request.flags,
        request.namespaces,
        all_namespaces=request.all_namespaces,
    )


def leave_out_refused(context: Context, request: GetPods | GetEvents) -> GetPods | GetEvents:
    if not request.all_namespaces:
        return request
    refused = refused_namespaces(context, request.verb, request.target, request.flags)
    return request.model_copy(update={"excluded_namespaces": refused})


# --- Rendering ---------------------------------------------------------------------------------


def _age(moment: datetime, then: datetime | None) -> str:
    """kubectl's ``translateTimestampSince``."""
    if then is None:
        return "<unknown>"
    return human_duration((moment - then).total_seconds())


def restarts_cell(row: PodRow, moment: datetime) -> str:
    """``5``, or ``5 (3m ago)`` when the last restart's end is known."""
    if row.restarts and row.last_restart is not None:
        return f"{row.restarts} ({_age(moment, row.last_restart)} ago)"
    return str(row.restarts)


def pod_cells(row: PodRow, moment: datetime, *, wide: bool, all_namespaces: bool) -> list[str]:
    cells = [row.namespace] if all_namespaces else []
    cells += [
        row.name,
        row.ready,
        row.status,
        restarts_cell(row, moment),
        _age(moment, row.created),
    ]
    if wide:
        cells += [row.ip, row.node, row.nominated_node, row.readiness_gates]
    return cells


def pod_header(*, wide: bool, all_namespaces: bool) -> list[str]:
    header = ["NAMESPACE"] if all_namespaces else []
    header += ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    if wide:
        header += ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]
    return header


def _nothing_found(namespaces: Sequence[str], all_namespaces: bool) -> str:
    if all_namespaces or len(namespaces) != 1:
        return messages.GET_NO_RESOURCES.format()
    return messages.GET_NO_RESOURCES_IN.format(namespace=namespaces[0])


def _excluded(excluded: Sequence[str]) -> list[str]:
    if not excluded:
        return []
    # Plain names: a ``get`` reply is shown in a code block, where backticks would show.
    return [messages.LOGS_EXCLUDED_NAMESPACES.format(namespaces=", ".join(excluded))]


def _counted(counts: Counter[str]) -> str:
    return ", ".join(f"{n} {status}" for status, n in counts.most_common())


def pod_summary(result: PodTable) -> str:
    """One line: how many pods, by status (most first)."""
    counts = Counter(row.status for row in result.rows)
    lines = [messages.GET_PODS_SUMMARY.format(total=len(result.rows), counts=_counted(counts))]
    return "\n".join(lines + _excluded(result.excluded_namespaces))


def pod_table(result: PodTable, *, now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    shape = {"wide": result.wide, "all_namespaces": result.all_namespaces}
    return table(pod_header(**shape), [pod_cells(row, moment, **shape) for row in result.rows])


def render_pods(result: PodTable, *, now: datetime | None = None) -> str:
    if not result.rows:
        return "\n".join(
            [
                _nothing_found(result.namespaces, result.all_namespaces),
                *_excluded(result.excluded_namespaces),
            ]
        )
    return pod_table(result, now=now) + "\n" + pod_summary(result)


def last_seen(row: EventRow, moment: datetime) -> str:
    """``kubectl events``' LAST SEEN: the first sighting's age, or ``2m (x5 over 10m)``."""
    first = _age(moment, row.event_time if row.event_time else row.first_timestamp)
    if row.series_count is not None:
        return f"{_age(moment, row.series_last)} (x{row.series_count} over {first})"
    if row.count > 1:
        return f"{_age(moment, row.last_timestamp)} (x{row.count} over {first})"
    return first


def event_cells(row: EventRow, moment: datetime, *, all_namespaces: bool) -> list[str]:
    cells = [row.namespace] if all_namespaces else []
    return [*cells, last_seen(row, moment), row.type, row.reason, row.object, row.message]


def event_header(*, all_namespaces: bool) -> list[str]:
    header = ["NAMESPACE"] if all_namespaces else []
    return [*header, "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]


def event_summary(result: EventTable) -> str:
    counts = Counter(row.type for row in result.rows)
    lines = [messages.GET_EVENTS_SUMMARY.format(total=len(result.rows), counts=_counted(counts))]
    return "\n".join(lines + _excluded(result.excluded_namespaces))


def event_table(result: EventTable, *, now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    return table(
        event_header(all_namespaces=result.all_namespaces),
        [event_cells(r, moment, all_namespaces=result.all_namespaces) for r in result.rows],
    )


def render_events(result: EventTable, *, now: datetime | None = None) -> str:
    if not result.rows:
        if result.all_namespaces or len(result.namespaces) != 1:
            said = messages.GET_NO_EVENTS.format()
        else:
            said = messages.GET_NO_EVENTS_IN.format(namespace=result.namespaces[0])
        return "\n".join([said, *_excluded(result.excluded_namespaces)])
    return event_table(result, now=now) + "\n" + event_summary(result)


def pods_thread_parts(result: PodTable, job_id: str) -> ThreadParts | None:
    if len(result.rows) <= MAX_ROWS_INLINE:
        return None
    return ThreadParts(
        summary=pod_summary(result), body=pod_table(result), file_name=f"pods-job-{job_id}.txt"
    )


def events_thread_parts(result: EventTable, job_id: str) -> ThreadParts | None:
    if len(result.rows) <= MAX_ROWS_INLINE:
        return None
    return ThreadParts(
        summary=event_summary(result),
        body=event_table(result),
        file_name=f"events-job-{job_id}.txt",
    )


#: ``get pods`` (assembled into the ``get`` command by :mod:`bot.commands.verbs.get`).
GET_PODS = Resource(
    words=("pods", "pod", "po"),
    parse=parse_get_pods,
    request_kinds=("get_pods",),
    perform=pods.get_pods,
    results=(PodTable,),
    render=render_pods,
    documentation="`get pods [-n NS | -A] [-o wide] [-l SELECTOR] [--field-selector F] "
    "[--node NODE]`: kubectl's columns and STATUS wording (`CrashLoopBackOff`, `Init:0/1`, "
    "`Terminating` …), a count by status; long lists in the thread "
    "([docs/reads.md](docs/reads.md))",
    flags=POD_FLAGS,
    thread_parts=pods_thread_parts,
    actions=actions,
    explain_denial=explain_denial,
    prepare=leave_out_refused,
)

#: ``get events``: ``kubectl events``' rows, newest last.
GET_EVENTS = Resource(
    words=("events", "event", "ev"),
    parse=parse_get_events,
    request_kinds=("get_events",),
    perform=pods.get_events,
    results=(EventTable,),
    render=render_events,
    documentation="`get events [-n NS | -A] [--for KIND/NAME] [--types Warning]`: "
    "`kubectl events`' columns, newest last",
    flags=EVENT_FLAGS,
    thread_parts=events_thread_parts,
    actions=actions,
    explain_denial=explain_denial,
    prepare=leave_out_refused,
)
