"""Drain plans and results as text: kubectl's lines first, then what kubectl never says."""

from __future__ import annotations

from core import messages
from handlers.drain import aggregate
from handlers.drain_models import DrainPlan, DrainResult, Fate, PodOutcome

_FATE_LABEL = {
    Fate.EVICT: "evict",
    Fate.DELETE: "delete (no eviction, PDBs bypassed)",
    Fate.IGNORED: "ignored",
    Fate.SKIPPED: "skipped (mirror pod or long-deleted)",
    Fate.BLOCKED: "blocked",
}


def render_plan(plan: DrainPlan) -> str:
    lines = [messages.PLAN_HEADER.format(node=plan.node, pods=len(plan.pods))]
    for fate in Fate:
        members = [p for p in plan.pods if p.fate is fate]
        if not members:
            continue
        lines.append(f"• {_FATE_LABEL[fate]} ({len(members)}):")
        for pod in members:
            why = f" — {pod.message}" if pod.message and fate is not Fate.EVICT else ""
            lines.append(f"    {pod.key} ({pod.workload}){why}")
    losses = [p for p in plan.pods if p.data_loss]
    if losses:
        lines.append("• data lost: " + "; ".join(f"{p.key}: {p.data_loss}" for p in losses))
    for blocked in plan.pdb_blocked:
        lines.append(f"• PDB: {blocked}")
    capacity = f"• capacity: {plan.capacity.value} ({plan.capacity_detail})"
    if plan.unplaceable:
        capacity += "; no room for " + ", ".join(plan.unplaceable)
    lines.append(capacity)
    lines.extend(f"• risk: {risk}" for risk in plan.risks)
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
    lines.extend(f"• changed since the plan: {change}" for change in result.changes_since_plan)
    lines.append("")
    lines.append(render_plan(result.plan))
    return "\n".join(lines).rstrip()


def _summary(result: DrainResult) -> str:
    removed = result.count(PodOutcome.EVICTED) + result.count(PodOutcome.DELETED)
    ignored = sum(1 for p in result.plan.pods if p.fate in (Fate.IGNORED, Fate.SKIPPED))
    if result.cancelled:
        left = [k for k, o in result.outcomes.items() if o is PodOutcome.PENDING]
        return messages.DRAIN_CANCELLED.format(node=result.node, left=", ".join(left) or "none")
    if result.dry_run != "none":
        planned = len(result.plan.removed())
        return messages.DRAIN_DRY_RUN.format(
            node=result.node, mode=result.dry_run, count=planned, ignored=ignored
        )
    if result.drained:
        return messages.DRAIN_DONE.format(
            node=result.node, seconds=result.seconds, removed=removed, ignored=ignored
        )
    return messages.DRAIN_FAILED.format(
        node=result.node, seconds=result.seconds, removed=removed, failed=len(result.errors)
    )
