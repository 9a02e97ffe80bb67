"""Every chat command, declared once; the grammar, help, policy vocabulary, the worker's
dispatch and rendering are read from here.

A command module under :mod:`bot.commands.verbs` holds everything about its command in one
:class:`Command` (in the spirit of kopf's handler registration and errbot's self-describing
commands): the verb and its aliases, usage and help, its flags with their bounds, the parser
that turns words into the typed request, what the policy sees, and either how the bot answers
it right away or which handler a worker runs and how the result is shown. Modules are found by
walking the package, so adding a command touches its own module, its tests and the docs.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import pkgutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.commands.flags import Flag
from bot.commands.replies import Reply
from bot.jobs.model import JobState, state_name
from core import messages
from core.errors import CommandError
from core.i18n import said
from core.text import code
from handlers.base import RequestBase, ResultBase
from policies.model import Access, Action, Vocabulary

if TYPE_CHECKING:
    from pydantic import BaseModel

    from bot.jobs.model import Job, Origin
    from bot.jobs.store import JobStore
    from handlers.control import Control
    from handlers.kube import KubeClient
    from policies.model import Decision, PolicyDocument, Subject


@dataclass(frozen=True)
class ThreadParts:
    """A result too long for one message: a summary for the channel, and lines for its thread
    (a code block when short, a file named ``file_name`` when long)."""

    summary: str
    body: str
    file_name: str


@dataclass(frozen=True)
class Context:
    """What a command answered by the bot itself may use."""

    store: JobStore
    policy: PolicyDocument
    subject: Subject
    origin: Origin
    decision: Decision
    commands: Registry
    #: Whether a job asked in this channel (None: the shell) may be seen and answered here.
    reaches: Callable[[str | None], bool]
    #: The moment this command was decided at; what it does is decided at the same moment.
    now: datetime
    #: A job's own request decided again now, for its requester (approvals need it).
    decide_job: Callable[[Job, datetime], Decision]
    #: The cluster the command is about: the one it named (``jobs -C prod``), or its job's;
    #: None for all of them.
    cluster: str | None = None
    #: Every cluster the bot knows (workers' heartbeats, the policy, its default), by name.
    known_clusters: Callable[[], list[str]] = list


def single_action(request: RequestBase) -> list[Action]:
    """What the policy sees of most requests: one action on one target."""
    target = request.target
    return [
        Action(
            verb=request.verb,
            target=target,
            node=target.removeprefix("node/") if target.startswith("node/") else None,
            flags=request.flags,
            disrupts=bool(request.disrupts),
            read_only=not request.mutating,
        )
    ]


@dataclass(frozen=True)
class Command:
    """One chat command. Exactly one of ``answer`` (the bot replies itself) and ``perform``
    (a worker runs it as a job) is set.

    Every command may name a cluster (``/k8s -C prod …``), and nothing here says how: a job
    command is routed to one cluster by the dispatcher before the policy decides; a command
    naming a job acts on that job's cluster; one the bot answers gets the cluster it named, if
    any, in its :class:`Context`.
    """

    verb: str
    usage: str
    summary: str
    #: Words after the verb → the typed request, or ``CommandError`` with a sentence.
    parse: Callable[[list[str]], Any]
    #: Policy verbs this command is decided under, and whether each changes anything.
    policy_verbs: Mapping[str, Access]
    details: str = ""
    aliases: tuple[str, ...] = ()
    flags: tuple[Flag, ...] = ()
    #: The actions the policy decides, all of which must be allowed.
    actions: Callable[[Any], list[Action]] = single_action
    #: The refusal in this command's words, from the refused action and the policy's reason.
    explain_denial: Callable[[Action, str], str] | None = None
    #: A job's own requester may do this without a role granting the verb (withdrawing a
    #: request: ``cancel``, ``deny``); an explicit deny rule still applies.
    owner_may: bool = False
    #: Adjusts an allowed request before it runs (``logs -A`` leaves out refused namespaces).
    prepare: Callable[[Context, Any], Any] | None = None
    answer: Callable[[Context, Any], Reply] | None = None
    #: Request kinds a worker runs for this command, and the handler that runs them.
    request_kinds: tuple[str, ...] = ()
    perform: Callable[[Any, KubeClient, Control], ResultBase] | None = None
    #: A plan for approvers, computed by a worker before the job may run.
    plan: Callable[[KubeClient, Any, Control], BaseModel] | None = None
    #: The plan's type, to read a saved one back (the job store keeps it as JSON).
    plan_model: type[BaseModel] | None = None
    #: The plan as plain text for approvers (the card escapes it); drain's card has its own.
    render_plan: Callable[[Any], str] | None = None
    #: A result as plain text (the shell prints it; Slack escapes and posts it).
    render: Callable[[Any], str] | None = None
    #: Results that read best in a fixed-width block (tables, kubectl's lines).
    tabular: bool = False
    #: Results posted as a summary with the rest in its thread: (result, job id) → parts, or
    #: None for a result short enough to post whole.
    thread_parts: Callable[[Any, str], ThreadParts | None] | None = None
    #: The first word is a job id, checked against the channel the job was asked in.
    names_a_job: bool = False
    #: The request answers a job waiting for approval (an ``ApproveRequest``): the approver
    #: rules apply once the policy allows the verb, in the bot and in ``policy check``.
    answers_approval: bool = False
    #: A line for the README's command table: what it does, beyond the summary.
    documentation: str = ""
    #: Where it stands in ``help`` and the README (lower first; ties by module name).
    rank: int = 100

    def __post_init__(self) -> None:
        if (self.answer is None) == (self.perform is None):
            raise TypeError(f"command {self.verb!r}: set exactly one of answer and perform")
        if self.perform is not None and (not self.request_kinds or self.render is None):
            raise TypeError(f"command {self.verb!r}: a job command needs request_kinds and render")
        if self.plan is not None and self.plan_model is None:
            raise TypeError(f"command {self.verb!r}: a plan needs its plan_model to be read back")


@dataclass(frozen=True)
class Parsed:
    command: Command
    request: Any
    #: The cluster named with ``-C``/``--cluster`` (None: the dispatcher routes it).
    cluster: str | None = None


@dataclass
class Registry:
    commands: tuple[Command, ...]
    _by_word: dict[str, Command] = field(init=False, default_factory=dict)
    _by_kind: dict[str, Command] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        for command in self.commands:
            for word in (command.verb, *command.aliases):
                if word in self._by_word:
                    raise TypeError(f"the word {word!r} names two commands")
                self._by_word[word] = command
            for kind in command.request_kinds:
                if kind in self._by_kind:
                    raise TypeError(f"request kind {kind!r} is run by two commands")
                self._by_kind[kind] = command

    # --- Text in ---------------------------------------------------------------------------

    def find(self, word: str) -> Command | None:
        return self._by_word.get(word.lower())

    def suggest(self, word: str) -> str:
        return suggest(word, sorted(self._by_word))

    def parse(self, words: Sequence[str]) -> Parsed:
        if not words:
            raise CommandError(messages.EMPTY_COMMAND.format())
        command = self.find(words[0])
        if command is None:
            raise CommandError(
                messages.UNKNOWN_COMMAND.format(word=code(words[0][:40])) + self.suggest(words[0])
            )
        return Parsed(command, command.parse(list(words[1:])))

    # --- Jobs ------------------------------------------------------------------------------

    def for_request(self, request: RequestBase) -> Command:
        command = self._by_kind.get(request.kind)
        if command is None:
            raise LookupError(f"no command runs requests of kind {request.kind!r}")
        return command

    def perform(self, request: RequestBase, kube: KubeClient, control: Control) -> ResultBase:
        """The worker's dispatch."""
        perform = self.for_request(request).perform
        assert perform is not None  # a command with request kinds performs them
        return perform(request, kube, control)

    def plan(self, kube: KubeClient, request: RequestBase, control: Control) -> BaseModel | None:
        """The plan approvers see, for commands that have one."""
        plan = self.for_request(request).plan
        return plan(kube, request, control) if plan is not None else None

    def plan_model(self, request: RequestBase) -> type[BaseModel] | None:
        """The type a saved plan of this request reads back as (None: it has no plan)."""
        return self.for_request(request).plan_model

    def plan_text(self, request: RequestBase, plan: BaseModel) -> str | None:
        """The plan as plain text, for commands that render their own."""
        render = self.for_request(request).render_plan
        return render(plan) if render is not None else None

    def render_result(self, request: RequestBase, result: ResultBase) -> str:
        render = self.for_request(request).render
        assert render is not None
        return render(result)

    def render_job(self, job: Job) -> str:
        """The final reply for a finished job."""
        if job.result is not None:
            return self.render_result(job.request, job.result)
        if job.state is JobState.CANCELLED:
            return messages.JOB_CANCELLED.format(job_id=job.id, reason=job.error or "")
        return messages.JOB_FAILED.format(job_id=job.id, reason=job.error or state_name(job.state))

    def thread_parts(self, job: Job) -> ThreadParts | None:
        if job.result is None:
            return None
        split = self.for_request(job.request).thread_parts
        return split(job.result, job.id) if split is not None else None

    def is_tabular(self, job: Job) -> bool:
        return job.result is not None and self.for_request(job.request).tabular

    # --- What the policy and help know -------------------------------------------------------

    def vocabulary(self) -> Vocabulary:
        """Every policy verb (with whether it changes anything) and the flags each may see."""
        verbs: dict[str, Access] = {}
        flags: dict[str, set[str]] = {}
        for command in self.commands:
            names = {flag.name for flag in command.flags}
            for verb, access in command.policy_verbs.items():
                verbs[verb] = access
                flags.setdefault(verb, set()).update(names)
        return Vocabulary(
            verbs=verbs, flags={verb: frozenset(names) for verb, names in flags.items()}
        )

    def help_text(self, topic: str | None = None, *, allowed: Iterable[str] | None = None) -> str:
        """All commands, or those this person may run (``allowed``: policy verbs)."""
        command = self.find(topic) if topic else None
        if command is not None:
            text = f"/k8s {command.usage}\n    {said(command.summary)}"
            return f"{text}\n{said(command.details)}" if command.details else text
        permitted = None if allowed is None else set(allowed)
        shown = [
            c
            for c in self.commands
            if permitted is None or any(verb in permitted for verb in c.policy_verbs)
        ]
        lines: list[str] = [messages.HELP_HEADER.format()]
        width = max((len(c.usage) for c in shown), default=0)
        lines += [f"  /k8s {c.usage:<{width}}  {said(c.summary)}" for c in shown]
        lines.append(messages.HELP_FOOTER.format())
        if topic:
            lines.insert(0, messages.UNKNOWN_COMMAND.format(word=code(topic)) + self.suggest(topic))
        return "\n".join(lines)


def suggest(word: str, choices: Sequence[str]) -> str:
    """ " Did you mean `x`?" for a near miss (difflib, as errbot does), else a pointer to help."""
    match = difflib.get_close_matches(word.lower(), choices, n=1, cutoff=0.6)
    if match:
        return messages.DID_YOU_MEAN.format(suggestion=code(match[0]))
    return messages.SEE_HELP.format()


def discover() -> Registry:
    """Every ``COMMANDS`` tuple in the modules of :mod:`bot.commands.verbs`, by ``rank``."""
    package = importlib.import_module("bot.commands.verbs")
    found: list[Command] = []
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"bot.commands.verbs.{module_info.name}")
        found.extend(getattr(module, "COMMANDS", ()))
    found.sort(key=lambda c: c.rank)
    return Registry(tuple(found))


@functools.cache
def registry() -> Registry:
    """The commands of this build, discovered once (lazily, so a command module may import
    this module without seeing a registry that does not hold it yet)."""
    return discover()
