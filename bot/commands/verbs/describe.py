"""``describe node NODE`` / ``describe pod NAME -n NS``: is this node or pod OK?

Decided under the policy verb ``get`` (describing only reads, and kubectl's describe needs
nothing beyond get/list), so every role that may list nodes may describe them, and no role has
to be widened. A pod is decided in its namespace, so a rule that keeps a namespace from a role
keeps its pods' descriptions too.
"""

from __future__ import annotations

from bot.commands import namespaced, render_describe, render_describe_pod
from bot.commands.flags import Flag, parse_flags
from bot.commands.namespaced import namespace_actions
from bot.commands.parsing import check_name
from bot.commands.registry import Command, ThreadParts, single_action, suggest
from core import messages
from core.errors import CommandError
from core.names import dns1123_label_problem
from core.text import code
from handlers import describe, describe_pod
from handlers.control import Control
from handlers.describe_models import DescribeNode, DescribePod, NodeDescription, PodDescription
from handlers.kube import KubeClient
from policies.model import Access, Action

USAGE = "describe node NODE | describe pod NAME -n NS"

DESCRIBE_FLAGS = (Flag("namespace", "namespace", "text", "kube-system", short="n"),)

_NODE_WORDS = ("node", "nodes", "no")
_POD_WORDS = ("pod", "pods", "po")


def _kind_and_name(positional: list[str]) -> tuple[str, str | None, list[str]]:
    """``node NAME``, ``node/NAME`` (as kubectl takes both): the kind word, the name, the rest."""
    first = positional[0]
    if "/" in first:
        word, _, name = first.partition("/")
        return word, name, positional[1:]
    return first, positional[1] if len(positional) > 1 else None, positional[2:]


def parse_describe(args: list[str]) -> DescribeNode | DescribePod:
    positional, values = parse_flags(USAGE, args, DESCRIBE_FLAGS, suggest)
    if not positional:
        raise CommandError(messages.MISSING_ARGUMENT.format(usage=code(USAGE), what="node | pod"))
    word, name, extra = _kind_and_name(positional)
    if extra:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(usage=code(USAGE), extra=code(" ".join(extra)))
        )
    kind = word.lower()
    if kind in _NODE_WORDS:
        if not name:
            raise CommandError(
                messages.MISSING_ARGUMENT.format(usage=code("describe node NODE"), what="NODE")
            )
        if "namespace" in values:
            raise CommandError(
                messages.UNKNOWN_FLAG.format(command=code("describe node"), flag=code("-n"))
            )
        check_name("node", name)
        return DescribeNode(node=name)
    if kind in _POD_WORDS:
        if not name:
            raise CommandError(
                messages.MISSING_ARGUMENT.format(usage=code("describe pod NAME -n NS"), what="NAME")
            )
        check_name("pod", name)
        namespace = str(values.get("namespace") or "default")
        problem = dns1123_label_problem(namespace)
        if problem:
            raise CommandError(
                messages.LOGS_BAD_NAMESPACE.format(name=code(namespace[:80]), reason=problem)
            )
        return DescribePod(name=name, namespace=namespace)
    raise CommandError(
        messages.DESCRIBE_WHICH.format(usage=code(USAGE), word=code(word[:40]))
        + suggest(word, [*_NODE_WORDS[:1], *_POD_WORDS[:1]])
    )


def actions(request: DescribeNode | DescribePod) -> list[Action]:
    """A node is one read of ``node/NAME``; a pod is a read in its namespace."""
    if isinstance(request, DescribeNode):
        return single_action(request)
    return namespace_actions(request.verb, request.target, request.flags, [request.namespace])


def explain_denial(action: Action, reason: str) -> str:
    return namespaced.explain_denial(action, reason) if action.namespace else reason


def perform(
    request: DescribeNode | DescribePod, kube: KubeClient, control: Control
) -> NodeDescription | PodDescription:
    if isinstance(request, DescribeNode):
        return describe.describe_node(request, kube, control)
    return describe_pod.describe_pod(request, kube, control)


def render_description(result: NodeDescription | PodDescription) -> str:
    """The shell's (and a job record's) whole answer: the summary, then the sections."""
    if isinstance(result, NodeDescription):
        return render_describe.node_summary(result) + "\n\n" + render_describe.node_body(result)
    return render_describe_pod.pod_summary(result) + "\n\n" + render_describe_pod.pod_body(result)


def thread_parts(result: NodeDescription | PodDescription, job_id: str) -> ThreadParts:
    """The summary in the channel, kubectl's sections in its thread."""
    if isinstance(result, NodeDescription):
        return ThreadParts(
            summary=render_describe.node_summary(result),
            body=render_describe.node_body(result),
            file_name=f"describe-node-{result.name}-job-{job_id}.txt",
        )
    return ThreadParts(
        summary=render_describe_pod.pod_summary(result),
        body=render_describe_pod.pod_body(result),
        file_name=f"describe-pod-{result.namespace}-{result.name}-job-{job_id}.txt",
    )


COMMANDS = (
    Command(
        verb="describe",
        rank=12,
        usage=USAGE,
        summary=messages.HELP_DESCRIBE_SUMMARY,
        documentation="`kubectl describe`'s facts with the judgement added: for a node its "
        "conditions and how long ago each changed, whether its Lease is late against the "
        "node-monitor grace period (50 s assumed, Kubernetes' default), versions, taints, "
        "allocated requests and limits with percentages, pods against max pods, events, and "
        "when a NotReady node's pods are evicted; for a pod its node, status, containers, "
        "conditions, tolerations and events. A summary in the channel, the sections in its "
        "thread ([docs/reads.md](docs/reads.md#describe)); policy verb `get`",
        parse=parse_describe,
        flags=DESCRIBE_FLAGS,
        policy_verbs={"get": Access.READ},
        actions=actions,
        explain_denial=explain_denial,
        request_kinds=("describe_node", "describe_pod"),
        perform=perform,
        render=render_description,
        thread_parts=thread_parts,
    ),
)
