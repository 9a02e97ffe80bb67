"""``runtime ps`` and ``runtime logs`` as people read them: ``crictl pods`` and ``crictl ps -a``
columns and values (13-character ids, ``5 minutes ago``), and a container's log like ``logs``
(a summary in the channel, the lines in its thread).
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.commands.registry import ThreadParts
from bot.commands.render import table
from bot.commands.render_images import ID_LENGTH, agent_line, problem_sentence, unreached_parts
from core import messages
from core.text import code
from handlers.images_models import NodeUnreached, RuntimeContainers, RuntimeLogLines

#: CRI's enum names (as a runtime reports them) → crictl's words.
_STATES = {
    "CONTAINER_CREATED": "Created",
    "CONTAINER_RUNNING": "Running",
    "CONTAINER_EXITED": "Exited",
    "CONTAINER_UNKNOWN": "Unknown",
    "SANDBOX_READY": "Ready",
    "SANDBOX_NOTREADY": "NotReady",
}


def crictl_age(seconds: float) -> str:
    """go-units' ``HumanDuration`` plus `` ago``, as crictl prints CREATED (crictl's words in
    every language, as kubectl's lines are)."""
    whole = int(seconds)
    if whole < 1:
        text = "Less than a second"
    elif whole == 1:
        text = "1 second"
    elif whole < 60:
        text = f"{whole} seconds"
    elif whole // 60 == 1:
        text = "About a minute"
    elif whole // 60 < 60:
        text = f"{whole // 60} minutes"
    elif (hours := int(seconds / 3600 + 0.5)) == 1:
        text = "About an hour"
    elif hours < 48:
        text = f"{hours} hours"
    elif hours < 24 * 7 * 2:
        text = f"{hours // 24} days"
    elif hours < 24 * 30 * 2:
        text = f"{hours // 24 // 7} weeks"
    elif hours < 24 * 365 * 2:
        text = f"{hours // 24 // 30} months"
    else:
        text = f"{int(seconds / 3600) // 24 // 365} years"
    return f"{text} ago"


def _state(state: str) -> str:
    return _STATES.get(state, state)


def _image(image: str) -> str:
    """crictl shows an image id (kubelet's containers name their image by id) truncated."""
    algorithm, _, digest = image.partition(":")
    if algorithm == "sha256" and len(digest) == 64:
        return digest[:ID_LENGTH]
    return image


def render_ps(result: RuntimeContainers, now: datetime | None = None) -> str:
    moment = now or datetime.now(UTC)
    pods = table(
        ("POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT"),
        [
            (
                pod.pod_id[:ID_LENGTH],
                crictl_age((moment - pod.created).total_seconds()),
                _state(pod.state),
                pod.name,
                pod.namespace,
                str(pod.attempt),
            )
            for pod in result.pods
        ],
    )
    containers = table(
        ("CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID", "POD", "NAMESPACE"),
        [
            (
                c.container_id[:ID_LENGTH],
                _image(c.image),
                crictl_age((moment - c.created).total_seconds()),
                _state(c.state),
                c.name,
                str(c.attempt),
                c.pod_id[:ID_LENGTH],
                c.pod_name,
                c.pod_namespace,
            )
            for c in result.containers
        ],
    )
    head = messages.RUNTIME_PS_SUMMARY.format(
        pods=messages.RUNTIME_PODS.format(count=len(result.pods)),
        containers=messages.LOGS_CONTAINERS.format(count=len(result.containers)),
        node=result.agent.node,
    )
    return "\n".join(
        [
            head,
            agent_line(result.agent, now=moment),
            "",
            messages.RUNTIME_PS_PODS.format(),
            pods,
            "",
            messages.RUNTIME_PS_CONTAINERS.format(),
            containers,
        ]
    )


def render_runtime(
    result: RuntimeContainers | RuntimeLogLines | NodeUnreached, now: datetime | None = None
) -> str:
    if isinstance(result, NodeUnreached):
        return problem_sentence(result.node, result.reason, result.detail)
    if isinstance(result, RuntimeContainers):
        return render_ps(result, now)
    lines = "\n".join(result.lines)
    return f"{logs_summary(result)}\n{lines}" if lines else logs_summary(result)


def logs_summary(result: RuntimeLogLines) -> str:
    text = messages.RUNTIME_LOGS_SUMMARY.format(
        lines=messages.LOGS_LINES.format(count=len(result.lines)),
        container=code(result.container_name or result.container_id[:ID_LENGTH]),
        container_id=result.container_id[:ID_LENGTH],
        node=result.node,
        masked=messages.LOGS_REDACTIONS.format(count=result.masked),
    )
    notes = [text]
    if result.omitted:
        notes.append(messages.RUNTIME_LOGS_OMITTED.format(count=result.omitted))
    if not result.lines:
        notes.append(messages.RUNTIME_LOGS_EMPTY.format())
    return "\n".join(notes)


def thread_parts(
    result: RuntimeContainers | RuntimeLogLines | NodeUnreached, job_id: str
) -> ThreadParts | None:
    """Log lines go in the thread (as ``logs`` does); ``ps`` posts whole; a node not reached
    is one sentence, posted as text."""
    if isinstance(result, NodeUnreached):
        return unreached_parts(result)
    if not isinstance(result, RuntimeLogLines):
        return None
    return ThreadParts(
        summary=logs_summary(result),
        body="\n".join(result.lines),
        file_name=f"runtime-logs-{result.node}-job-{job_id}.log",
    )
