"""The team-visible card for a request: who asked, what, what policy says, and its buttons.

Built with ``slack_sdk.models.blocks`` so Slack's size limits are checked when the card is
serialised. The same card is re-rendered as the job moves (approved, queued, finished) and
loses its buttons when nothing more can be done. Everything on it that a person typed or the
cluster said is escaped (``bot.surfaces.slack_text``); only the bot's own markup stays live.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.jobs.model import Job, JobState
from bot.surfaces.slack_text import code_span, escape, fit, shorten
from core import messages
from handlers.drain_models import DrainPlan, Fate

APPROVE = "k8s_approve"
DENY = "k8s_deny"
CANCEL = "k8s_cancel"

_STATE_LINE = {
    JobState.AWAITING_APPROVAL: ":hourglass_flowing_sand: waiting for approval",
    JobState.QUEUED: ":inbox_tray: approved and queued",
    JobState.RUNNING: ":gear: running",
    JobState.SUCCEEDED: ":white_check_mark: done",
    JobState.FAILED: ":x: failed",
    JobState.CANCELLED: ":no_entry_sign: cancelled",
    JobState.DENIED: ":no_entry: denied",
    JobState.EXPIRED: ":alarm_clock: expired: nobody approved in time",
}
#: Escaped lengths on the card's first section, which Slack caps at 3000 characters.
_COMMAND_LIMIT = 2000
_SUMMARY_LIMIT = 600
_FLAG_WARNINGS = {
    "disable-eviction": "deletes pods instead of evicting them: PodDisruptionBudgets are bypassed",
    "force": "also deletes pods that no controller will re-create",
    "delete-emptydir-data": "deletes the data in emptyDir volumes",
}


def _approval_lines(job: Job) -> list[str]:
    if job.approval is None:
        return []
    requirement = job.approval.requirement
    lines = [
        f"*Needs* {escape(requirement.describe())}; expires "
        f"{job.approval.expires_at.strftime('%H:%M UTC')}."
    ]
    if job.approval.approvals:
        who = ", ".join(
            f"<@{escape(a.by)}> at {a.at:%H:%M} UTC"
            + (f" ({escape(a.reason)})" if a.reason else "")
            for a in job.approval.approvals
        )
        lines.append(f"*Approved by* {who} ({len(job.approval.approvals)}/{requirement.count})")
    return lines


def _buttons(job: Job) -> ActionsBlock | None:
    elements: list[ButtonElement] = []
    if job.state is JobState.AWAITING_APPROVAL:
        confirm = (
            ConfirmObject(
                title="Approve this change?",
                text=f"{code_span(job.request.command_text(), 240)} will run on the cluster "
                "once approved.",
                confirm="Approve",
                deny="Not yet",
            )
            if job.request.mutating
            else None
        )
        elements += [
            ButtonElement(
                text="Approve", action_id=APPROVE, value=job.id, style="primary", confirm=confirm
            ),
            ButtonElement(text="Deny", action_id=DENY, value=job.id, style="danger"),
        ]
    if job.state in (JobState.AWAITING_APPROVAL, JobState.QUEUED, JobState.RUNNING):
        elements.append(ButtonElement(text="Cancel", action_id=CANCEL, value=job.id))
    return ActionsBlock(block_id=f"job-{job.id}", elements=elements) if elements else None


def plan_text(plan: DrainPlan, limit: int = 2900) -> str:
    """The drain plan in a few lines for approvers: counts, then what needs a look."""
    counts = Counter(p.fate for p in plan.pods)
    lines = [
        "*Plan:* " + " · ".join(f"{fate.value} {counts[fate]}" for fate in Fate if counts[fate])
    ]
    lines += [
        f"• blocked: {code_span(p.key)}: {escape(p.message)}"
        for p in plan.pods
        if p.fate is Fate.BLOCKED
    ]
    lines += [
        f"• data lost: {code_span(p.key)}: {escape(p.data_loss)}" for p in plan.pods if p.data_loss
    ]
    lines += [f"• PDB: {escape(text)}" for text in plan.pdb_blocked]
    capacity = f"• capacity: *{plan.capacity.value}* ({escape(plan.capacity_detail)})"
    if plan.unplaceable:
        capacity += "; no room for " + escape(", ".join(plan.unplaceable))
    lines.append(capacity)
    lines += [f"• risk: {escape(risk)}" for risk in plan.risks]
    return shorten("\n".join(lines), limit)


def card(
    job: Job, summary: str = "", plan: DrainPlan | None = None, *, unserved: bool = False
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks for ``job`` in its current state (with its plan, if any).
    ``unserved``: no live worker serves the job's cluster, so it waits for one."""
    command = job.request.command_text()
    state = _STATE_LINE.get(job.state, job.state.value)
    if job.state is JobState.QUEUED and job.approval is None:
        state = ":inbox_tray: queued"
    cluster = escape(job.cluster)
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"<@{escape(job.requester)}> asks: {code_span(command, _COMMAND_LIMIT)} "
                f"on *{cluster}*"
                f"\n{state}" + (f": {fit(summary, _SUMMARY_LIMIT)}" if summary else "")
            )
        ),
    ]
    warnings = [
        f":warning: `--{flag}` {text}"
        for flag, text in _FLAG_WARNINGS.items()
        if flag in job.request.flags
    ]
    if unserved and not job.state.finished and job.state is not JobState.RUNNING:
        warnings.insert(0, ":warning: " + escape(messages.NO_WORKER.format(cluster=job.cluster)))
    details = _approval_lines(job) + warnings
    if details:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(details))))
    if plan is not None and not job.state.finished:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=plan_text(plan))))
    buttons = _buttons(job)
    if buttons is not None:
        blocks.append(buttons)
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=fit(f"Job {job.id} · cluster {job.cluster} · policy: {job.decision}", 300)
                )
            ]
        )
    )
    fallback = escape(f"{job.requester} asks: {command} on {job.cluster} ({job.state.value})")
    return fallback, [b.to_dict() for b in blocks]
