"""``logs QUERY``: stern's selection, fetched once, merged in time order, secrets masked;
``logs node/NODE --query SERVICE``: the kubelet's node log query."""

from __future__ import annotations

from typing import Any

from bot.commands import render_logs
from bot.commands.flags import Flag, parse_flags
from bot.commands.namespaced import explain_denial, namespace_actions, refused_namespaces
from bot.commands.parsing import check_name, check_regex, check_selector
from bot.commands.registry import Command, Context, ThreadParts, suggest
from core import limits, messages
from core.errors import CommandError
from core.names import dns1123_label_problem
from core.text import code
from handlers import logs
from handlers.control import Control
from handlers.kube import KubeClient
from handlers.logs_models import RESOURCE_KINDS, LogsResult, NodeLogs, PodLogs
from policies.model import Access, Action

LOGS_FLAGS = (
    Flag("namespace", "namespaces", "text", "kube-system", short="n", repeat=True, split=True),
    Flag("all-namespaces", "all_namespaces", "switch", short="A"),
    Flag("selector", "selector", "text", "app=web", short="l"),
    Flag("field-selector", "field_selector", "text", "status.phase=Running"),
    Flag("node", "node", "text", "k8s-node1"),
    Flag("container", "container", "text", "nginx", short="c"),
    Flag("exclude-container", "exclude_container", "text", "istio-proxy", short="E", repeat=True),
    Flag("exclude-pod", "exclude_pod", "text", "canary", repeat=True),
    Flag("init-containers", "init_containers", "switch"),
    Flag("ephemeral-containers", "ephemeral_containers", "switch"),
    Flag("container-state", "container_states", "text", "running", repeat=True, split=True),
    Flag(
        "since",
        "since_seconds",
        "duration",
        "10m",
        short="s",
        maximum=limits.MAX_LOGS_SINCE_SECONDS,
    ),
    Flag("tail", "tail", "int", "200", minimum=-1, maximum=limits.MAX_LOGS_TAIL),
    Flag("include", "include", "text", "error", short="i", repeat=True),
    Flag("exclude", "exclude", "text", "healthz", short="e", repeat=True),
    Flag("timestamps", "timestamps", "switch", short="t"),
    Flag("output", "output", "choice", "json", choices=("default", "raw", "json"), short="o"),
    Flag(
        "max-log-requests",
        "max_log_requests",
        "int",
        "10",
        minimum=1,
        maximum=limits.MAX_LOG_REQUESTS,
    ),
    Flag("previous", "previous", "switch", short="p"),
    Flag("query", "services", "text", "kubelet", repeat=True),
)

LOGS_USAGE = "logs QUERY [-n NS] [-i REGEX] [--since 10m] [...]"

_REGEX_FLAGS = {
    "exclude_pod": "--exclude-pod",
    "container": "-c",
    "exclude_container": "-E",
    "include": "-i",
    "exclude": "-e",
}

_POD_ONLY_FIELDS = {
    "namespaces": "-n",
    "all_namespaces": "-A",
    "selector": "-l",
    "field_selector": "--field-selector",
    "node": "--node",
    "container": "-c",
    "exclude_container": "-E",
    "exclude_pod": "--exclude-pod",
    "init_containers": "--init-containers",
    "ephemeral_containers": "--ephemeral-containers",
    "container_states": "--container-state",
    "max_log_requests": "--max-log-requests",
    "previous": "-p",
}

_NODE_WORDS = ("node", "nodes", "no")


def logs_window(values: dict[str, Any]) -> None:
    """``--since 0`` means no time limit, as in kubectl."""
    if values.get("since_seconds") == 0:
        values["since_seconds"] = None
    elif "since_seconds" in values:
        values["since_seconds"] = max(1, round(float(str(values["since_seconds"]))))


def parse_node_logs(node: str, values: dict[str, Any]) -> Any:
    check_name("node", node)
    extra = [flag for field, flag in _POD_ONLY_FIELDS.items() if field in values]
    if extra:
        raise CommandError(messages.LOGS_NODE_FLAGS.format(flags=", ".join(extra)))
    for service in values.get("services", ()):
        if not all(c.isalnum() or c in "-_.@:" for c in service) or not service:
            raise CommandError(
                messages.INVALID_FLAG_VALUE.format(
                    setting=code(f"--query={service[:80]}"), detail=messages.LOGS_NOT_A_SERVICE
                )
            )
    return NodeLogs(node=node, **values)


def parse_logs(args: list[str]) -> Any:
    positional, values = parse_flags("logs QUERY", args, LOGS_FLAGS, suggest)
    if len(positional) > 1:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(
                usage=code("logs QUERY"), extra=code(" ".join(positional[1:]))
            )
        )
    logs_window(values)
    for field, flag in _REGEX_FLAGS.items():
        given = values.get(field, ())
        for value in (given,) if isinstance(given, str) else given:
            check_regex(flag, value)
    query = positional[0] if positional else None
    if query and "/" in query:
        word, _, name = query.partition("/")
        if word.lower() in _NODE_WORDS:
            return parse_node_logs(name, values)
        kind = RESOURCE_KINDS.get(word.lower())
        if kind is None:
            raise CommandError(messages.LOGS_BAD_RESOURCE.format(word=code(word[:40])))
        check_name(kind.lower(), name)
        values |= {"resource_kind": kind, "resource_name": name}
    elif query:
        check_regex("QUERY", query)
        values["query"] = query
    elif not values.get("selector") and not values.get("field_selector"):
        raise CommandError(messages.MISSING_ARGUMENT.format(usage=code(LOGS_USAGE), what="QUERY"))
    if "services" in values:
        raise CommandError(messages.LOGS_QUERY_NEEDS_NODE.format())
    for namespace in values.get("namespaces", ()):
        problem = dns1123_label_problem(namespace)
        if problem:
            raise CommandError(
                messages.LOGS_BAD_NAMESPACE.format(name=code(namespace[:80]), reason=problem)
            )
    if values.get("all_namespaces"):
        values.pop("namespaces", None)  # stern: -A ignores -n; the request holds what runs
    for state in values.get("container_states", ()):
        if state not in ("running", "waiting", "terminated", "all"):
            raise CommandError(messages.LOGS_BAD_STATE.format(value=code(state[:40])))
    if values.get("selector"):
        check_selector("--selector", str(values["selector"]))
    if values.get("field_selector"):
        check_selector("--field-selector", str(values["field_selector"]), field=True)
    if values.get("node"):
        check_name("node", str(values["node"]))
    return PodLogs(**values)


def actions(request: PodLogs | NodeLogs) -> list[Action]:
    """Logs are decided per namespace, with every flag the request has: each namespace named
    must be allowed; ``-A`` is decided for "any namespace" (the namespaces a rule keeps from
    this person are then left out by :func:`leave_out_refused`)."""
    if isinstance(request, NodeLogs):
        return [
            Action(
                verb=request.verb,
                target=request.target,
                node=request.node,
                flags=request.flags,
                read_only=True,
            )
        ]
    return namespace_actions(
        "logs",
        request.target,
        request.flags,
        request.namespaces,
        all_namespaces=request.all_namespaces,
    )


def leave_out_refused(context: Context, request: PodLogs | NodeLogs) -> PodLogs | NodeLogs:
    """For ``-A``: leave out each namespace the policy names that this person may not read
    freely on the command's cluster, so one restricted namespace does not refuse the whole
    fetch."""
    if not isinstance(request, PodLogs) or not request.all_namespaces:
        return request
    refused = refused_namespaces(context, "logs", request.target, request.flags)
    return request.model_copy(update={"excluded_namespaces": refused})


def thread_parts(result: LogsResult, job_id: str) -> ThreadParts:
    """The summary in the channel, the lines in its thread (phones open files; walls of text
    bury a thread)."""
    return ThreadParts(
        summary=render_logs.summary(result),
        body=render_logs.body(result),
        file_name=render_logs.file_name(job_id, result),
    )


def perform(request: PodLogs | NodeLogs, kube: KubeClient, control: Control) -> LogsResult:
    if isinstance(request, NodeLogs):
        return logs.node_logs(request, kube, control)
    return logs.pod_logs(request, kube, control)


COMMANDS = (
    Command(
        verb="logs",
        rank=70,
        usage=LOGS_USAGE,
        summary=messages.HELP_LOGS_SUMMARY,
        details=messages.HELP_LOGS_DETAILS,
        documentation="stern's selection (pod-name regex or `KIND/NAME`), fetched once from every "
        "matching container, merged in time order, secrets masked; a summary in the channel and "
        "the lines in its thread ([docs/logs.md](docs/logs.md)); `logs node/NODE --query "
        "SERVICE` reads the kubelet's node log query (policy verb `node-logs`)",
        parse=parse_logs,
        flags=LOGS_FLAGS,
        policy_verbs={"logs": Access.READ, "node-logs": Access.READ},
        actions=actions,
        explain_denial=explain_denial,
        prepare=leave_out_refused,
        request_kinds=("logs", "node_logs"),
        perform=perform,
        render=render_logs.render_logs,
        thread_parts=thread_parts,
    ),
)
