"""Prunes and ``rmi`` as people read them: the plan approvers see (per node, what goes and the
bytes it frees, what stays and why, the nodes not reached, and that approving allows no more),
and the result (per node removed / kept-because / failed, bytes freed, the image filesystem
before → after; which images a node whose agent died had already removed, and that a re-run is
safe; what an approved prune left because its plan did not name it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bot.commands.registry import ThreadParts
from bot.commands.render import table
from bot.commands.render_images import (
    fs_used,
    human_size,
    problem_lines,
    problem_sentence,
    short_id,
)
from core import formats, messages
from core.i18n import joined
from core.text import code
from handlers.images_models import (
    ImageRef,
    KeptImage,
    NodePruneOutcome,
    PrunePlan,
    PruneResult,
    RemoveImageResult,
)

#: Images named per node on a plan; the rest are counted.
PLAN_IMAGES_SHOWN = 5
#: Detail rows a result shows in one message; more go into its thread.
MAX_DETAIL_INLINE = 15

_KEPT_COUNTS = {
    "in-use": messages.PRUNE_KEPT_IN_USE,
    "pinned": messages.PRUNE_KEPT_PINNED,
    "sandbox-image": messages.PRUNE_KEPT_SANDBOX,
    "keep": messages.PRUNE_KEPT_KEEP,
    "too-new": messages.PRUNE_KEPT_TOO_NEW,
    "in-use-now": messages.PRUNE_KEPT_IN_USE_NOW,
    "not-approved": messages.PRUNE_KEPT_NOT_APPROVED,
}
_KEPT_WHY = {
    "in-use": messages.PRUNE_WHY_IN_USE,
    "pinned": messages.PRUNE_WHY_PINNED,
    "sandbox-image": messages.PRUNE_WHY_SANDBOX,
    "keep": messages.PRUNE_WHY_KEEP,
    "too-new": messages.PRUNE_WHY_TOO_NEW,
    "in-use-now": messages.PRUNE_WHY_IN_USE_NOW,
    "not-approved": messages.PRUNE_WHY_NOT_APPROVED,
}


def _size_of(images: Sequence[ImageRef]) -> int:
    return sum(image.size_bytes for image in images)


def kept_because(kept: Sequence[KeptImage]) -> str:
    """``kept 4: 2 in use, 1 pinned, 1 sandbox image`` (empty when nothing was kept)."""
    if not kept:
        return ""
    counts = Counter[str](k.reason for k in kept)
    reasons = [
        template.format(count=counts[reason])
        for reason, template in _KEPT_COUNTS.items()
        if counts[reason]
    ]
    return messages.PRUNE_KEPT.format(count=len(kept), reasons=formats.listing(reasons))


def _clauses(*parts: str) -> str:
    return joined([p for p in parts if p], messages.CLAUSE_SEPARATOR)


# --- The plan -----------------------------------------------------------------------------------


def render_plan(plan: PrunePlan) -> str:
    """What approvers see. Plain text with code spans; the card escapes it."""
    removing = [image for node in plan.nodes for image in node.remove]
    nodes_removing = sum(1 for node in plan.nodes if node.remove)
    if removing:
        lines = [
            messages.PRUNE_PLAN_HEAD.format(
                images=messages.IMAGES_COUNT.format(count=len(removing)),
                size=human_size(_size_of(removing)),
                nodes=messages.IMAGES_NODES.format(count=nodes_removing),
            ),
            messages.PRUNE_PLAN_BOUND.format(),
        ]
    else:
        lines = [messages.PRUNE_PLAN_NOTHING.format()]
    for node in plan.nodes:
        what = (
            messages.PRUNE_PLAN_NODE.format(
                node=node.node,
                images=messages.IMAGES_COUNT.format(count=len(node.remove)),
                size=human_size(node.bytes_to_free),
            )
            if node.remove
            else messages.PRUNE_PLAN_NODE_NOTHING.format(node=node.node)
        )
        lines.append("• " + _clauses(what, kept_because(node.kept)))
        lines += [
            f"    {code(image.reference)} {human_size(image.size_bytes)}"
            for image in node.remove[:PLAN_IMAGES_SHOWN]
        ]
        if len(node.remove) > PLAN_IMAGES_SHOWN:
            lines.append(
                "    " + messages.PRUNE_PLAN_MORE.format(count=len(node.remove) - PLAN_IMAGES_SHOWN)
            )
    if plan.problems:
        lines.append(messages.PRUNE_PLAN_NOT_REACHED.format())
        lines += ["  " + problem_sentence(p.node, p.reason, p.detail) for p in plan.problems]
    return "\n".join(lines)


# --- The result ---------------------------------------------------------------------------------


def _node_line(outcome: NodePruneOutcome, dry_run: bool) -> list[str]:
    images = messages.IMAGES_COUNT.format(count=len(outcome.removed))
    size = human_size(outcome.bytes_freed)
    removed = (
        messages.PRUNE_NODE_WOULD_REMOVE.format(node=outcome.node, images=images, size=size)
        if dry_run
        else messages.PRUNE_NODE_REMOVED.format(node=outcome.node, images=images, size=size)
    )
    failed = messages.PRUNE_NODE_FAILED.format(count=len(outcome.failed)) if outcome.failed else ""
    fs = (
        messages.PRUNE_NODE_FS.format(
            before=fs_used(outcome.fs_before), after=fs_used(outcome.fs_after)
        )
        if outcome.fs_before and outcome.fs_after and not dry_run
        else ""
    )
    lines = [_clauses(removed, kept_because(outcome.kept), failed, fs)]
    problem = outcome.problem
    if problem is not None:
        lines.append("  " + problem_sentence(outcome.node, problem.reason, problem.detail))
        done = [code(image.reference) for image in outcome.removed]
        lines.append(
            "  "
            + (
                messages.PRUNE_ALREADY_REMOVED.format(images=formats.listing(done))
                if done and not dry_run
                else messages.PRUNE_NOTHING_REMOVED_YET.format()
            )
        )
    return lines


def summary(result: PruneResult) -> str:
    removed = [image for node in result.nodes for image in node.removed]
    counts = {
        "images": messages.IMAGES_COUNT.format(count=len(removed)),
        "size": human_size(_size_of(removed)),
        "nodes": messages.IMAGES_NODES.format(count=sum(1 for n in result.nodes if n.removed)),
    }
    if result.dry_run:
        head = messages.PRUNE_DRY_RUN_HEAD.format(**counts)
    elif removed:
        head = messages.PRUNE_DONE_HEAD.format(**counts)
    else:
        head = messages.PRUNE_NOTHING_REMOVED.format()
    lines = [head]
    for outcome in result.nodes:
        lines += _node_line(outcome, result.dry_run)
    lines += problem_lines(result.problems)
    if result.not_in_plan:
        lines.append(messages.PRUNE_NOT_IN_PLAN.format(nodes=formats.listing(result.not_in_plan)))
    return "\n".join(lines)


def details(result: PruneResult) -> str:
    """Every image the prune touched, one per line: removed, kept and why, failed and why (the
    outcome last, where words of any width keep the columns straight)."""
    done = (
        messages.PRUNE_OUTCOME_WOULD_REMOVE.format()
        if result.dry_run
        else messages.PRUNE_OUTCOME_REMOVED.format()
    )
    rows: list[tuple[str, str, str, str, str]] = []

    def row(node: str, image: ImageRef, outcome: str) -> tuple[str, str, str, str, str]:
        return (
            node,
            image.reference,
            short_id(image.image_id),
            human_size(image.size_bytes),
            outcome,
        )

    for outcome in result.nodes:
        rows += [row(outcome.node, image, done) for image in outcome.removed]
        rows += [
            row(
                outcome.node,
                failed.image,
                messages.PRUNE_OUTCOME_FAILED.format(error=failed.error[:200]),
            )
            for failed in outcome.failed
        ]
        rows += [
            row(
                outcome.node,
                kept.image,
                messages.PRUNE_OUTCOME_KEPT.format(
                    why=_KEPT_WHY[kept.reason].format()
                    + (
                        messages.IMAGES_DETAIL.format(detail=kept.detail[:200])
                        if kept.detail
                        else ""
                    )
                ),
            )
            for kept in outcome.kept
        ]
    if not rows:
        return ""
    return table(("NODE", "IMAGE", "IMAGE ID", "SIZE", "OUTCOME"), rows)


def render_prune(result: PruneResult) -> str:
    listed = details(result)
    return f"{summary(result)}\n\n{listed}" if listed else summary(result)


def thread_parts(result: PruneResult, job_id: str) -> ThreadParts | None:
    """A prune over many images: the summary in the channel, every image in its thread."""
    listed = details(result)
    if listed.count("\n") <= MAX_DETAIL_INLINE:
        return None
    return ThreadParts(
        summary=summary(result), body=listed, file_name=f"prune-images-job-{job_id}.txt"
    )


# --- rmi NODE IMAGE -----------------------------------------------------------------------------

_REFUSED = {
    "in-use": messages.RMI_IN_USE,
    "pinned": messages.RMI_PINNED,
    "sandbox-image": messages.RMI_SANDBOX_IMAGE,
}


def render_rmi(result: RemoveImageResult) -> str:
    image = result.image
    name = code(image.reference) if image is not None else ""
    if result.removed and image is not None:
        text = messages.RMI_REMOVED.format(
            image=name,
            image_id=short_id(image.image_id),
            size=human_size(image.size_bytes),
            node=result.node,
        )
        if result.fs_before and result.fs_after:
            text += " " + messages.RMI_FS.format(
                before=fs_used(result.fs_before), after=fs_used(result.fs_after)
            )
        return text
    reason = result.reason or ""
    if reason == "not-found" or (image is None and reason in _REFUSED):
        return messages.RMI_NOT_FOUND.format(
            node=result.node, listing=code(f"/k8s images {result.node}")
        )
    if reason == "not-approved" and image is not None:
        return messages.RMI_NOT_APPROVED.format(
            image=name, image_id=short_id(image.image_id), node=result.node
        )
    refused = _REFUSED.get(reason)
    if refused is not None:
        users = formats.listing(code(user) for user in result.used_by[:5])
        if len(result.used_by) > 5:
            users = messages.RMI_USERS_MORE.format(users=users, count=len(result.used_by) - 5)
        return refused.format(image=name, node=result.node, users=users or "-")
    return problem_sentence(result.node, reason or "unknown")
