"""From ``/k8s …`` text to a typed request, or a specific message saying what is wrong.

The grammar is a table of :class:`CommandSpec`: a verb, its usage line, and a parser for its
arguments. Unknown words get a "did you mean" from :mod:`difflib`, as errbot does. Names are
validated here, before anything touches Redis or the cluster.
"""

from __future__ import annotations

import difflib
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from bot.commands.flags import Flag, parse_flags, parse_integer
from core import limits, messages
from core.errors import CommandError
from core.names import dns1123_label_problem, dns1123_subdomain_problem
from core.regex import compile_user_regex
from core.selectors import parse_field_selector, parse_selector
from core.text import code
from handlers.drain_models import DrainNode
from handlers.logs_models import RESOURCE_KINDS, NodeLogs, PodLogs
from handlers.models import CordonNode, GetNodes, UncordonNode

MAX_COMMAND_LENGTH = limits.MAX_COMMAND_CHARS


class HelpRequest(BaseModel):
    """``help`` is answered by the bot itself; it never becomes a job."""

    topic: str | None = None

    @property
    def verb(self) -> str:
        return "help"

    @property
    def target(self) -> str:
        return "help"


class JobsRequest(BaseModel):
    """``jobs``: active and recent jobs, answered from Redis by the bot."""

    @property
    def verb(self) -> str:
        return "jobs"

    @property
    def target(self) -> str:
        return "jobs"


class AuditRequest(BaseModel):
    count: int = 20

    @property
    def verb(self) -> str:
        return "audit"

    @property
    def target(self) -> str:
        return "audit"


class CancelRequest(BaseModel):
    job_id: str

    @property
    def verb(self) -> str:
        return "cancel"

    @property
    def target(self) -> str:
        return f"job/{self.job_id}"


class WhoamiRequest(BaseModel):
    @property
    def verb(self) -> str:
        return "whoami"

    @property
    def target(self) -> str:
        return "whoami"


class ApproveRequest(BaseModel):
    """``approve JOB [reason]`` or ``deny JOB [reason]``."""

    job_id: str
    approve: bool
    reason: str = ""

    @property
    def verb(self) -> str:
        return "approve"

    @property
    def target(self) -> str:
        return f"job/{self.job_id}"


#: Requests the bot answers itself, without a job.
Immediate = (
    HelpRequest | JobsRequest | AuditRequest | CancelRequest | WhoamiRequest | ApproveRequest
)
Parsed = Immediate | GetNodes | CordonNode | UncordonNode | DrainNode | PodLogs | NodeLogs


@dataclass(frozen=True)
class CommandSpec:
    verb: str
    usage: str
    summary: str
    parse: Callable[[list[str]], Parsed]
    #: More lines for ``help VERB`` (flags, forms), when the usage line cannot say it all.
    details: str = ""


def _suggest(word: str, choices: Sequence[str]) -> str:
    match = difflib.get_close_matches(word.lower(), choices, n=1, cutoff=0.6)
    return messages.DID_YOU_MEAN.format(suggestion=code(match[0])) if match else messages.SEE_HELP


def _reject_flags(spec_usage: str, args: list[str]) -> None:
    for arg in args:
        if arg.startswith("-"):
            raise CommandError(
                messages.UNKNOWN_FLAG.format(command=code(spec_usage), flag=code(arg))
            )


def _one_node(usage: str, args: list[str]) -> str:
    _reject_flags(usage, args)
    if not args:
        raise CommandError(messages.MISSING_ARGUMENT.format(usage=code(usage), what="NODE"))
    if len(args) > 1:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(usage=code(usage), extra=code(" ".join(args[1:])))
        )
    name = args[0]
    problem = dns1123_subdomain_problem(name)
    if problem:
        raise CommandError(messages.INVALID_NODE_NAME.format(name=code(name[:80]), reason=problem))
    return name


_GET_RESOURCES = {"nodes": "nodes", "node": "nodes", "no": "nodes"}


def _parse_get(args: list[str]) -> Parsed:
    usage = "get nodes"
    if not args:
        raise CommandError(
            messages.MISSING_ARGUMENT.format(usage=code("get RESOURCE"), what="RESOURCE")
        )
    resource, rest = args[0], args[1:]
    if resource.lower() not in _GET_RESOURCES:
        raise CommandError(
            messages.UNKNOWN_RESOURCE.format(verb=code("get"), word=code(resource))
            + _suggest(resource, sorted(_GET_RESOURCES))
        )
    _reject_flags(usage, rest)
    if rest:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(usage=code(usage), extra=code(" ".join(rest)))
        )
    return GetNodes()


DRAIN_FLAGS = (
    Flag("ignore-daemonsets", "ignore_daemonsets", "switch"),
    Flag("force", "force", "switch"),
    Flag("delete-emptydir-data", "delete_emptydir_data", "switch"),
    Flag("disable-eviction", "disable_eviction", "switch"),
    Flag(
        "grace-period",
        "grace_period",
        "int",
        "30",
        minimum=-1,
        maximum=limits.MAX_GRACE_PERIOD_SECONDS,
    ),
    Flag("timeout", "timeout_seconds", "duration", "5m", maximum=limits.MAX_DRAIN_TIMEOUT_SECONDS),
    Flag("pod-selector", "pod_selector", "text", "app=web"),
    Flag(
        "skip-wait-for-delete-timeout",
        "skip_wait_for_delete_timeout",
        "int",
        "60",
        minimum=0,
        maximum=limits.MAX_SKIP_WAIT_SECONDS,
    ),
    Flag("dry-run", "dry_run", "choice", "server", choices=("none", "client", "server")),
    Flag("chunk-size", "chunk_size", "int", "500", minimum=0, maximum=limits.MAX_CHUNK_SIZE),
)
DRAIN_USAGE = "drain NODE [--ignore-daemonsets] [--force] [--delete-emptydir-data] [...]"


def _check_selector(flag: str, text: str, *, field: bool = False) -> None:
    """Refuse a selector the API server would refuse, with the parser's reason."""
    try:
        if field:
            parse_field_selector(text)
        else:
            parse_selector(text)
    except ValueError as error:
        raise CommandError(
            messages.INVALID_SELECTOR.format(
                setting=code(f"{flag}={text[:80]}"),
                kind="field" if field else "label",
                detail=error,
            )
        ) from None


def _parse_drain(args: list[str]) -> Parsed:
    positional, values = parse_flags("drain NODE", args, DRAIN_FLAGS, _suggest)
    node = _one_node("drain NODE", positional)
    selector = values.get("pod_selector")
    if selector is not None:
        _check_selector("--pod-selector", selector)
    return DrainNode(node=node, **values)


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


def _check_regex(flag: str, value: str) -> None:
    try:
        compile_user_regex(value)
    except ValueError as error:
        raise CommandError(
            messages.LOGS_BAD_REGEX.format(flag=code(flag), value=code(value[:80]), detail=error)
        ) from None


def _check_name(kind: str, name: str) -> None:
    problem = dns1123_subdomain_problem(name)
    if problem:
        raise CommandError(
            messages.LOGS_BAD_NAME.format(name=code(name[:80]), kind=kind, reason=problem)
        )


def _logs_window(values: dict[str, Any]) -> None:
    """``--since 0`` means no time limit, as in kubectl."""
    if values.get("since_seconds") == 0:
        values["since_seconds"] = None
    elif "since_seconds" in values:
        values["since_seconds"] = max(1, round(float(str(values["since_seconds"]))))


def _parse_node_logs(node: str, values: dict[str, Any]) -> Parsed:
    _check_name("node", node)
    extra = [flag for field, flag in _POD_ONLY_FIELDS.items() if field in values]
    if extra:
        raise CommandError(messages.LOGS_NODE_FLAGS.format(flags=", ".join(extra)))
    for service in values.get("services", ()):
        if not all(c.isalnum() or c in "-_.@:" for c in service) or not service:
            raise CommandError(
                messages.INVALID_FLAG_VALUE.format(
                    setting=code(f"--query={service[:80]}"), detail="not a service name"
                )
            )
    return NodeLogs(node=node, **values)


def _parse_logs(args: list[str]) -> Parsed:
    positional, values = parse_flags("logs QUERY", args, LOGS_FLAGS, _suggest)
    if len(positional) > 1:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(
                usage=code("logs QUERY"), extra=code(" ".join(positional[1:]))
            )
        )
    _logs_window(values)
    for field, flag in _REGEX_FLAGS.items():
        given = values.get(field, ())
        for value in (given,) if isinstance(given, str) else given:
            _check_regex(flag, value)
    query = positional[0] if positional else None
    if query and "/" in query:
        word, _, name = query.partition("/")
        if word.lower() in _NODE_WORDS:
            return _parse_node_logs(name, values)
        kind = RESOURCE_KINDS.get(word.lower())
        if kind is None:
            raise CommandError(messages.LOGS_BAD_RESOURCE.format(word=code(word[:40])))
        _check_name(kind.lower(), name)
        values |= {"resource_kind": kind, "resource_name": name}
    elif query:
        _check_regex("QUERY", query)
        values["query"] = query
    elif not values.get("selector") and not values.get("field_selector"):
        raise CommandError(
            messages.MISSING_ARGUMENT.format(usage=code(messages.LOGS_USAGE), what="QUERY")
        )
    if "services" in values:
        raise CommandError(messages.LOGS_QUERY_NEEDS_NODE)
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
        _check_selector("--selector", str(values["selector"]))
    if values.get("field_selector"):
        _check_selector("--field-selector", str(values["field_selector"]), field=True)
    if values.get("node"):
        _check_name("node", str(values["node"]))
    return PodLogs(**values)


def _no_arguments(usage: str, args: list[str]) -> None:
    _reject_flags(usage, args)
    if args:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(usage=code(usage), extra=code(" ".join(args)))
        )


def _parse_jobs(args: list[str]) -> Parsed:
    _no_arguments("jobs", args)
    return JobsRequest()


def _parse_audit(args: list[str]) -> Parsed:
    _reject_flags("audit [N]", args)
    if len(args) > 1:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(
                usage=code("audit [N]"), extra=code(" ".join(args[1:]))
            )
        )
    if not args:
        return AuditRequest()
    try:
        count = parse_integer(args[0])
    except ValueError:
        count = 0
    if not 1 <= count <= limits.MAX_AUDIT_ENTRIES:
        raise CommandError(
            messages.BAD_COUNT.format(value=code(args[0][:20]), limit=limits.MAX_AUDIT_ENTRIES)
        )
    return AuditRequest(count=count)


def _job_id(usage: str, args: list[str]) -> str:
    if not args:
        raise CommandError(messages.MISSING_ARGUMENT.format(usage=code(usage), what="JOB"))
    return _checked_job_id(args[0])


def _checked_job_id(word: str) -> str:
    """``42`` or ``#42``: ASCII digits only (``isdigit`` alone accepts ``²``)."""
    job_id = word.removeprefix("#")
    if not (job_id.isascii() and job_id.isdigit()) or len(job_id) > limits.MAX_JOB_ID_DIGITS:
        raise CommandError(messages.BAD_JOB_ID.format(value=code(word[:20])))
    return str(int(job_id))


def _parse_approval(approve: bool) -> Callable[[list[str]], Parsed]:
    usage = f"{'approve' if approve else 'deny'} JOB [REASON]"

    def parse(args: list[str]) -> Parsed:
        job_id = _job_id(usage, args)
        return ApproveRequest(
            job_id=job_id, approve=approve, reason=" ".join(args[1:])[: limits.MAX_REASON_CHARS]
        )

    return parse


def _parse_whoami(args: list[str]) -> Parsed:
    _no_arguments("whoami", args)
    return WhoamiRequest()


def _parse_cancel(args: list[str]) -> Parsed:
    _reject_flags("cancel JOB", args)
    if not args:
        raise CommandError(messages.MISSING_ARGUMENT.format(usage=code("cancel JOB"), what="JOB"))
    if len(args) > 1:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(
                usage=code("cancel JOB"), extra=code(" ".join(args[1:]))
            )
        )
    return CancelRequest(job_id=_checked_job_id(args[0]))


def _parse_help(args: list[str]) -> Parsed:
    return HelpRequest(topic=args[0].lower() if args else None)


COMMANDS: dict[str, CommandSpec] = {
    spec.verb: spec
    for spec in (
        CommandSpec("help", "help [COMMAND]", "list commands, or explain one", _parse_help),
        CommandSpec("get", "get nodes", "list nodes like `kubectl get nodes`", _parse_get),
        CommandSpec(
            "cordon",
            "cordon NODE",
            "mark a node unschedulable",
            lambda args: CordonNode(node=_one_node("cordon NODE", args)),
        ),
        CommandSpec(
            "uncordon",
            "uncordon NODE",
            "mark a node schedulable again",
            lambda args: UncordonNode(node=_one_node("uncordon NODE", args)),
        ),
        CommandSpec(
            "jobs", "jobs", "active and recent jobs: state, requester, target, age", _parse_jobs
        ),
        CommandSpec(
            "cancel", "cancel JOB", "stop a queued or running job at a safe point", _parse_cancel
        ),
        CommandSpec(
            "approve",
            "approve JOB [REASON]",
            "approve a change someone else asked for",
            _parse_approval(True),
        ),
        CommandSpec(
            "deny",
            "deny JOB [REASON]",
            "refuse a change that waits for approval",
            _parse_approval(False),
        ),
        CommandSpec("whoami", "whoami", "your roles, groups, and what you may do", _parse_whoami),
        CommandSpec(
            "audit", "audit [N]", "the last N entries of the audit trail (default 20)", _parse_audit
        ),
        CommandSpec(
            "logs",
            messages.LOGS_USAGE,
            "recent log lines of pods, stern's query; `help logs` for the flags",
            _parse_logs,
            messages.LOGS_HELP,
        ),
        CommandSpec(
            "drain",
            DRAIN_USAGE,
            "cordon, then evict every pod like `kubectl drain` (same flags)",
            _parse_drain,
        ),
    )
}


def tokenize(text: str) -> list[str]:
    """Split like a shell, after dropping a leading ``/k8s`` (the shell lets people type it)."""
    if len(text) > MAX_COMMAND_LENGTH:
        raise CommandError(
            messages.COMMAND_TOO_LONG.format(length=len(text), limit=MAX_COMMAND_LENGTH)
        )
    try:
        words = shlex.split(text.replace("\u201c", '"').replace("\u201d", '"'))
    except ValueError as error:
        raise CommandError(messages.BAD_QUOTING.format(detail=str(error).lower())) from None
    if words and words[0] == "/k8s":
        words = words[1:]
    return words


def parse(text: str) -> Parsed:
    words = tokenize(text)
    if not words:
        raise CommandError(messages.EMPTY_COMMAND)
    verb, args = words[0].lower(), words[1:]
    spec = COMMANDS.get(verb)
    if spec is None:
        raise CommandError(
            messages.UNKNOWN_COMMAND.format(word=code(words[0][:40]))
            + _suggest(verb, sorted(COMMANDS))
        )
    return spec.parse(args)


#: Commands whose policy verb differs from their name.
POLICY_VERB = {"deny": "approve"}


def help_text(topic: str | None = None, *, allowed: set[str] | None = None) -> str:
    """All commands, or those whose verb is in ``allowed`` (what this person may run)."""
    if topic and topic in COMMANDS:
        spec = COMMANDS[topic]
        text = f"/k8s {spec.usage}\n    {spec.summary}"
        return f"{text}\n{spec.details}" if spec.details else text
    shown = [
        s
        for s in COMMANDS.values()
        if allowed is None or POLICY_VERB.get(s.verb, s.verb) in allowed
    ]
    lines = [messages.HELP_HEADER]
    width = max(len(spec.usage) for spec in shown)
    lines += [f"  /k8s {s.usage:<{width}}  {s.summary}" for s in shown]
    lines.append(messages.HELP_FOOTER)
    if topic:
        unknown = messages.UNKNOWN_COMMAND.format(word=code(topic[:40]))
        lines.insert(0, unknown + _suggest(topic, sorted(COMMANDS)))
    return "\n".join(lines)
