"""Drain plans and results as text: kubectl's lines first (as kubectl prints them, in every
language), then what kubectl never says, in the request's language."""

from __future__ import annotations

from core import formats, messages
from core.i18n import joined
from handlers.drain import aggregate
from handlers.drain_models import (
    DrainPlan,
    DrainResult,
    Fate,
    PodOutcome,
    capacity_name,
    fate_name,
)

#: Group headings that need a word more than the fate's own name.
_GROUP_HEADING = {
    Fate.DELETE: messages.PLAN_GROUP_DELETE,
    Fate.SKIPPED: messages.PLAN_GROUP_SKIPPED,
}


def _heading(fate: Fate) -> str:
    heading = _GROUP_HEADING.get(fate)
    return heading.format() if heading is not None else fate_name(fate)


def render_plan(plan: DrainPlan) -> str:
    lines: list[str] = [messages.PLAN_HEADER.format(node=plan.node, pods=len(plan.pods))]
    for fate in Fate:
        members = [p for p in plan.pods if p.fate is fate]
        if not members:
            continue
        lines.append(messages.PLAN_GROUP.format(fate=_heading(fate), count=len(members)))
        for pod in members:
            if pod.message and fate is not Fate.EVICT:
                lines.append(
                    messages.PLAN_POD_WHY.format(
                        pod=pod.key, workload=pod.workload, why=pod.message
                    )
                )
            else:
                lines.append(messages.PLAN_POD.format(pod=pod.key, workload=pod.workload))
    losses = [
        messages.PLAN_DATA_LOSS.format(pod=p.key, loss=p.data_loss)
        for p in plan.pods
        if p.data_loss
    ]
    if losses:
        lines.append(
            messages.PLAN_DATA_LOST.format(losses=joined(losses, messages.CLAUSE_SEPARATOR))
        )
    lines += [messages.PLAN_PDB.format(text=blocked) for blocked in plan.pdb_blocked]
    capacity = capacity_name(plan.capacity)
    if plan.unplaceable:
        capacity = messages.PLAN_NO_ROOM.format(
            capacity=capacity, workloads=formats.listing(plan.unplaceable)
        )
    lines.append(messages.PLAN_CAPACITY.format(capacity=capacity, detail=plan.capacity_detail))
    lines += [messages.PLAN_RISK.format(risk=risk) for risk in plan.risks]
    return "\n".join(lines)


def render_drain(result: DrainResult) -> str:
    lines = list(result.lines)
    node = result.node
    if not result.drained and not result.cancelled:
        waiting = [
            k for k, o in result.outcomes.items() if o in (PodOutcome.FAILED, PodOutcome.PENDING)
        ]
        error = aggregate(result.errors)
        if waiting:
            lines.append(f'There are pending pods in node "{node}" when an error occurred: {error}')
            lines.extend(f"pod/{key.split('/', 1)[1]}" for key in waiting)
        lines.append(
            f'error: unable to drain node "{node}" due to error: {error}, continuing command...'
        )
        lines.append("There are pending nodes to be drained:")
        lines.append(f" {node}")
        lines.extend(result.errors)
    lines.append("")
    lines.append(_summary(result))
    lines += [messages.PLAN_CHANGED.format(change=change) for change in result.changes_since_plan]
    lines.append("")
    lines.append(render_plan(result.plan))
    return "\n".join(lines).rstrip()


def _summary(result: DrainResult) -> str:
    removed = result.count(PodOutcome.EVICTED) + result.count(PodOutcome.DELETED)
    ignored = sum(1 for p in result.plan.pods if p.fate in (Fate.IGNORED, Fate.SKIPPED))
    if result.cancelled:
        left = [k for k, o in result.outcomes.items() if o is PodOutcome.PENDING]
        return messages.DRAIN_CANCELLED.format(
            node=result.node, left=", ".join(left) or messages.DRAIN_NONE_LEFT
        )
    if result.dry_run != "none":
        planned = len(result.plan.removed())
        return messages.DRAIN_DRY_RUN.format(
            node=result.node,
            mode=result.dry_run,
            count=messages.PODS.format(count=planned),
            ignored=ignored,
        )
    if result.drained:
        return messages.DRAIN_DONE.format(
            node=result.node,
            duration=formats.took(result.seconds),
            removed=messages.PODS.format(count=removed),
            ignored=ignored,
        )
    return messages.DRAIN_FAILED.format(
        node=result.node,
        duration=formats.took(result.seconds),
        removed=messages.PODS.format(count=removed),
        failed=messages.ERRORS.format(count=len(result.errors)),
    )
