"""What ``get`` lists: a :class:`Resource` per kind of thing, declared in the module of the
commands about it (``get nodes`` next to ``cordon``) and assembled by
:mod:`bot.commands.verbs.get`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.commands.flags import Flag
from bot.commands.registry import Context, ThreadParts, single_action
from handlers.base import RequestBase, ResultBase
from handlers.control import Control
from handlers.kube import KubeClient
from policies.model import Action


@dataclass(frozen=True)
class Resource:
    """One thing ``get`` lists."""

    #: The resource's words, kubectl's (``pods``, ``pod``, ``po``); the first is its name.
    words: tuple[str, ...]
    #: The words after the resource → its typed request, or ``CommandError``.
    parse: Callable[[list[str]], RequestBase]
    request_kinds: tuple[str, ...]
    perform: Callable[[Any, KubeClient, Control], ResultBase]
    #: The result types it produces, each rendered by ``render``.
    results: tuple[type[ResultBase], ...]
    render: Callable[[Any], str]
    #: Its part of the README's line for ``get``.
    documentation: str = ""
    flags: tuple[Flag, ...] = ()
    thread_parts: Callable[[Any, str], ThreadParts | None] | None = None
    #: What the policy decides (default: one read of the request's target).
    actions: Callable[[Any], list[Action]] = single_action
    #: A refusal in this resource's words (default: the policy's own sentence).
    explain_denial: Callable[[Action, str], str] | None = None
    #: Adjusts an allowed request before it runs (``get pods -A`` leaves out refused
    #: namespaces).
    prepare: Callable[[Context, Any], Any] | None = None
