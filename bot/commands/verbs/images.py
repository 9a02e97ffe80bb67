"""``images``, ``prune images`` and ``rmi``: a node's images, as its container runtime sees
them, through the node agent on each node (docs/images.md).

The Kubernetes API cannot list or remove a node's images; a worker hands the work to the node
agents over Redis and gathers their answers (``handlers.images``). Here: the words, the
policy's view (``images`` to read; ``prune-images`` to remove, with ``--all`` and ``-l`` as
flags so a rule can ask for approval of fleet-wide prunes), the policy's keep list put on the
request, and the plan approvers see.
"""

from __future__ import annotations

from typing import Any, TypeVar

from bot.commands import render_images, render_prune
from bot.commands.flags import Flag, parse_flags
from bot.commands.parsing import check_regex, check_selector, reject_flags
from bot.commands.registry import Command, Context, single_action, suggest
from core import limits, messages
from core.errors import CommandError
from core.names import dns1123_subdomain_problem
from core.text import code
from handlers import images
from handlers.images_models import (
    MAX_IMAGE_REFERENCE,
    MAX_KEEP_PATTERN,
    MAX_KEEP_PATTERNS,
    ListImages,
    PruneImages,
    PrunePlan,
    RemoveImage,
)
from policies.model import Access, Action

SCOPE_FLAGS = (
    Flag("all", "all_nodes", "switch"),
    Flag("selector", "selector", "text", "pool=batch", short="l"),
)
PRUNE_FLAGS = (
    *SCOPE_FLAGS,
    Flag("dry-run", "dry_run", "switch"),
    Flag(
        "older-than",
        "older_than_seconds",
        "duration",
        "7d",
        minimum=1,
        maximum=limits.MAX_PRUNE_OLDER_THAN_SECONDS,
        days=True,
    ),
    Flag("keep", "keep", "text", "^registry.k8s.io/", maximum=MAX_KEEP_PATTERN, repeat=True),
)

IMAGES_USAGE = "images NODE | --all | -l SELECTOR"
PRUNE_USAGE = "prune images NODE | --all | -l SELECTOR [--dry-run] [--older-than 7d] [--keep RE]"
RMI_USAGE = "rmi NODE IMAGE"

#: What an image reference or id may hold: a registry host and port, a path, a tag, a digest.
_REFERENCE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@")


def check_node(name: str) -> str:
    problem = dns1123_subdomain_problem(name)
    if problem:
        raise CommandError(messages.INVALID_NODE_NAME.format(name=code(name[:80]), reason=problem))
    return name


def _scope(usage: str, positional: list[str], values: dict[str, Any]) -> dict[str, Any]:
    """Exactly one of NODE, ``--all`` and ``-l SELECTOR``, checked: the request's scope."""
    if len(positional) > 1:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(
                usage=code(usage), extra=code(" ".join(positional[1:]))
            )
        )
    given = [f"NODE ({positional[0]})"] if positional else []
    given += ["--all"] if values.get("all_nodes") else []
    given += ["-l"] if values.get("selector") is not None else []
    if not given:
        raise CommandError(
            messages.MISSING_ARGUMENT.format(usage=code(usage), what="NODE, --all or -l SELECTOR")
        )
    if len(given) > 1:
        raise CommandError(
            messages.IMAGES_ONE_SCOPE.format(usage=code(usage), given=code(" ".join(given)[:120]))
        )
    if positional:
        return {"node": check_node(positional[0])}
    if values.get("selector") is not None:
        check_selector("-l", str(values["selector"]))
    return {}


def parse_images(args: list[str]) -> ListImages:
    positional, values = parse_flags("images", args, SCOPE_FLAGS, suggest)
    return ListImages(**values, **_scope(IMAGES_USAGE, positional, values))


def _keep_patterns(patterns: tuple[str, ...]) -> tuple[str, ...]:
    if len(patterns) > MAX_KEEP_PATTERNS:
        raise CommandError(
            messages.IMAGES_TOO_MANY_KEEPS.format(count=len(patterns), limit=MAX_KEEP_PATTERNS)
        )
    for pattern in patterns:
        check_regex("--keep", pattern)
    return patterns


def parse_prune(args: list[str]) -> PruneImages:
    """``prune images …``: the word ``images`` is required, so that ``prune NODE`` (or a
    later ``prune containers``) is never read as an image prune."""
    if not args or args[0].lower() != "images":
        raise CommandError(
            messages.PRUNE_NEEDS_IMAGES.format(
                example=code("prune images k8s-node1 --dry-run"), usage=code(PRUNE_USAGE)
            )
        )
    positional, values = parse_flags("prune images", args[1:], PRUNE_FLAGS, suggest)
    if "older_than_seconds" in values:
        values["older_than_seconds"] = max(1, round(float(values["older_than_seconds"])))
    values["keep"] = _keep_patterns(tuple(values.get("keep", ())))
    return PruneImages(**values, **_scope(PRUNE_USAGE, positional, values))


def check_image_reference(text: str) -> str:
    if not text or len(text) > MAX_IMAGE_REFERENCE or not set(text) <= _REFERENCE_CHARS:
        raise CommandError(
            messages.RMI_BAD_IMAGE.format(image=code(text[:80]), limit=MAX_IMAGE_REFERENCE)
        )
    return text


def parse_rmi(args: list[str]) -> RemoveImage:
    reject_flags(RMI_USAGE, args)
    if len(args) < 2:
        what = "IMAGE" if args else "NODE"
        raise CommandError(messages.MISSING_ARGUMENT.format(usage=code(RMI_USAGE), what=what))
    if len(args) > 2:
        raise CommandError(
            messages.TOO_MANY_ARGUMENTS.format(
                usage=code(RMI_USAGE), extra=code(" ".join(args[2:]))
            )
        )
    return RemoveImage(node=check_node(args[0]), image=check_image_reference(args[1]))


def prune_actions(request: PruneImages) -> list[Action]:
    """A prune is ``prune-images`` on its node (or on ``nodes``, with the flag ``all`` or
    ``selector`` a rule can name). A dry run removes nothing and shows what ``images`` shows,
    so it is decided as ``images``: whoever may list a node's images may see what a prune
    would take, before asking for one that needs approval."""
    (action,) = single_action(request)
    return [action.model_copy(update={"verb": "images"})] if request.dry_run else [action]


_KeepsPolicy = TypeVar("_KeepsPolicy", ListImages, PruneImages)


def with_policy_keep(context: Context, request: _KeepsPolicy) -> _KeepsPolicy:
    """The policy's keep list travels with the request: workers hold no policy file. It is
    the list in force when the prune was asked for (a job waiting for approval keeps it). A
    listing needs it too: its RECLAIMABLE is what a prune under this policy could free."""
    keep = tuple(context.policy.images.keep)
    return request.model_copy(update={"policy_keep": keep}) if keep else request


COMMANDS = (
    Command(
        verb="images",
        rank=90,
        usage=IMAGES_USAGE,
        summary=messages.HELP_IMAGES_SUMMARY,
        details=messages.HELP_IMAGES_DETAILS,
        documentation="a node's images as `crictl images` shows them (IMAGE, TAG, IMAGE ID, "
        "SIZE) plus what uses each, pinned, and the image filesystem; `--all` / `-l`: per node "
        "counts, bytes, reclaimable bytes, and the nodes without a live node agent "
        "([docs/images.md](docs/images.md))",
        parse=parse_images,
        flags=SCOPE_FLAGS,
        policy_verbs={"images": Access.READ},
        request_kinds=("images",),
        prepare=with_policy_keep,
        perform=images.list_images,
        render=render_images.render_images,
        tabular=True,
        thread_parts=render_images.thread_parts,
    ),
    Command(
        verb="prune",
        rank=92,
        usage=PRUNE_USAGE,
        summary=messages.HELP_PRUNE_SUMMARY,
        details=messages.HELP_PRUNE_DETAILS,
        documentation="removes the images no container uses (running or exited), never a "
        "pinned one, the runtime's sandbox image or one on a keep list, re-checking use right "
        "before each removal; approvers see per node what goes and the bytes it frees; "
        "`--dry-run` is decided as `images` ([docs/images.md](docs/images.md))",
        parse=parse_prune,
        flags=PRUNE_FLAGS,
        policy_verbs={"prune-images": Access.WRITE, "images": Access.READ},
        actions=prune_actions,
        prepare=with_policy_keep,
        request_kinds=("prune_images",),
        perform=images.prune_images,
        plan=images.plan_prune,
        plan_model=PrunePlan,
        render_plan=render_prune.render_plan,
        render=render_prune.render_prune,
        tabular=True,
        thread_parts=render_prune.thread_parts,
    ),
    Command(
        verb="rmi",
        rank=94,
        usage=RMI_USAGE,
        summary=messages.HELP_RMI_SUMMARY,
        documentation="removes one image (the guide's targeted `crictl rmi`), refused while "
        "any container uses it, when it is pinned, or when it is the sandbox image (policy "
        "verb `prune-images`)",
        parse=parse_rmi,
        policy_verbs={"prune-images": Access.WRITE},
        request_kinds=("rmi",),
        perform=images.remove_image,
        plan=images.plan_prune,
        plan_model=PrunePlan,
        render_plan=render_prune.render_plan,
        render=render_prune.render_rmi,
    ),
)
