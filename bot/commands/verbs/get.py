"""``get RESOURCE …``: kubectl's read-only listings, one verb for every resource.

Each resource (``nodes``, ``pods``, ``events`` …) is declared once, in its own module, as a
:class:`Resource`: its words, its parser, the handler a worker runs, and how its result is
shown. This module only assembles them into the one ``get`` command, so adding a resource adds
one entry to :data:`RESOURCES` and touches nothing else here.
"""

from __future__ import annotations

from bot.commands.flags import Flag
from bot.commands.registry import Command, Context, ThreadParts, suggest
from bot.commands.resources import Resource
from bot.commands.verbs import nodes, pods
from core import messages
from core.errors import CommandError
from core.text import code
from handlers.base import RequestBase, ResultBase
from handlers.control import Control
from handlers.kube import KubeClient
from policies.model import Access, Action

RESOURCES: tuple[Resource, ...] = (nodes.GET_NODES, pods.GET_PODS, pods.GET_EVENTS)

_BY_WORD = {word: resource for resource in RESOURCES for word in resource.words}
_BY_KIND = {kind: resource for resource in RESOURCES for kind in resource.request_kinds}
_BY_RESULT = {result: resource for resource in RESOURCES for result in resource.results}
_NAMES = [resource.words[0] for resource in RESOURCES]


def parse_get(args: list[str]) -> RequestBase:
    if not args:
        raise CommandError(
            messages.MISSING_ARGUMENT.format(usage=code("get RESOURCE"), what="RESOURCE")
        )
    resource = _BY_WORD.get(args[0].lower())
    if resource is None:
        raise CommandError(
            messages.UNKNOWN_RESOURCE.format(verb=code("get"), word=code(args[0][:40]))
            + suggest(args[0], sorted(_BY_WORD))
        )
    return resource.parse(args[1:])


def _for_request(request: RequestBase) -> Resource:
    return _BY_KIND[request.kind]


def _for_result(result: ResultBase) -> Resource:
    for kind, resource in _BY_RESULT.items():
        if isinstance(result, kind):
            return resource
    raise LookupError(f"no get resource renders {type(result).__name__}")


def perform(request: RequestBase, kube: KubeClient, control: Control) -> ResultBase:
    return _for_request(request).perform(request, kube, control)


def render(result: ResultBase) -> str:
    return _for_result(result).render(result)


def thread_parts(result: ResultBase, job_id: str) -> ThreadParts | None:
    split = _for_result(result).thread_parts
    return split(result, job_id) if split is not None else None


def actions(request: RequestBase) -> list[Action]:
    return _for_request(request).actions(request)


def explain_denial(action: Action, reason: str) -> str:
    """The refusal in the words of the resource the action is about (its target starts with
    the resource's name: ``pods in default``)."""
    resource = _BY_WORD.get(action.target.split(" ", 1)[0])
    if resource is None or resource.explain_denial is None:
        return reason
    return resource.explain_denial(action, reason)


def prepare(context: Context, request: RequestBase) -> RequestBase:
    adjust = _for_request(request).prepare
    return adjust(context, request) if adjust is not None else request


def _flags() -> tuple[Flag, ...]:
    """Every resource's flags, once each (help and the docs list them)."""
    seen: dict[str, Flag] = {}
    for resource in RESOURCES:
        for flag in resource.flags:
            seen.setdefault(flag.name, flag)
    return tuple(seen.values())


COMMANDS = (
    Command(
        verb="get",
        rank=10,
        usage="get " + " | ".join(_NAMES),
        summary=messages.HELP_GET_SUMMARY,
        documentation="; ".join(r.documentation for r in RESOURCES if r.documentation),
        parse=parse_get,
        flags=_flags(),
        policy_verbs={"get": Access.READ},
        actions=actions,
        explain_denial=explain_denial,
        prepare=prepare,
        request_kinds=tuple(kind for r in RESOURCES for kind in r.request_kinds),
        perform=perform,
        render=render,
        tabular=True,
        thread_parts=thread_parts,
    ),
)
