"""The team-visible card for a request: who asked, what, what policy says, and its buttons.

Built with ``slack_sdk.models.blocks`` so Slack's size limits are checked when the card is
serialised. The same card is re-rendered as the job moves (approved, queued, finished) and
loses its buttons when nothing more can be done. Everything on it that a person typed or the
cluster said is escaped (``bot.surfaces.slack_text``); only the bot's own markup stays live.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.commands.registry import registry
from bot.jobs.model import Job, JobState, state_name
from bot.surfaces.slack_text import code_span, escape, fit, shorten
from core import formats, messages
from core.i18n import joined
from handlers.drain_models import DrainPlan, Fate, capacity_name, fate_name

APPROVE = "k8s_approve"
DENY = "k8s_deny"
CANCEL = "k8s_cancel"

_STATE_LINE = {
    JobState.AWAITING_APPROVAL: messages.CARD_AWAITING_APPROVAL,
    JobState.QUEUED: messages.CARD_APPROVED_AND_QUEUED,
    JobState.RUNNING: messages.CARD_RUNNING,
    JobState.SUCCEEDED: messages.CARD_SUCCEEDED,
    JobState.FAILED: messages.CARD_FAILED,
    JobState.CANCELLED: messages.CARD_CANCELLED,
    JobState.DENIED: messages.CARD_DENIED,
    JobState.EXPIRED: messages.CARD_EXPIRED,
}
#: Escaped lengths on the card's first section, which Slack caps at 3000 characters.
_COMMAND_LIMIT = 2000
_SUMMARY_LIMIT = 600
_FLAG_WARNINGS = {
    "disable-eviction": messages.CARD_WARN_DISABLE_EVICTION,
    "force": messages.CARD_WARN_FORCE,
    "delete-emptydir-data": messages.CARD_WARN_DELETE_EMPTYDIR_DATA,
}


def _approval_lines(job: Job) -> list[str]:
    if job.approval is None:
        return []
    requirement = job.approval.requirement
    lines: list[str] = [
        messages.CARD_NEEDS.format(
            needed=escape(requirement.describe()), expires=formats.clock(job.approval.expires_at)
        )
    ]
    if job.approval.approvals:
        who = formats.listing(
            messages.CARD_APPROVER_REASON.format(
                user=f"<@{escape(a.by)}>", time=formats.clock(a.at), reason=escape(a.reason)
            )
            if a.reason
            else messages.CARD_APPROVER.format(user=f"<@{escape(a.by)}>", time=formats.clock(a.at))
            for a in job.approval.approvals
        )
        lines.append(
            messages.CARD_APPROVED_BY.format(
                who=who, have=len(job.approval.approvals), need=requirement.count
            )
        )
    return lines


def _buttons(job: Job) -> ActionsBlock | None:
    elements: list[ButtonElement] = []
    if job.state is JobState.AWAITING_APPROVAL:
        confirm = (
            ConfirmObject(
                title=messages.CARD_CONFIRM_TITLE.format(),
                text=messages.CARD_CONFIRM_TEXT.format(
                    command=code_span(job.request.command_text(), 240)
                ),
                confirm=messages.CARD_CONFIRM_YES.format(),
                deny=messages.CARD_CONFIRM_NO.format(),
            )
            if job.request.mutating
            else None
        )
        elements += [
            ButtonElement(
                text=messages.CARD_BUTTON_APPROVE.format(),
                action_id=APPROVE,
                value=job.id,
                style="primary",
                confirm=confirm,
            ),
            ButtonElement(
                text=messages.CARD_BUTTON_DENY.format(),
                action_id=DENY,
                value=job.id,
                style="danger",
            ),
        ]
    if job.state in (JobState.AWAITING_APPROVAL, JobState.QUEUED, JobState.RUNNING):
        elements.append(
            ButtonElement(text=messages.CARD_BUTTON_CANCEL.format(), action_id=CANCEL, value=job.id)
        )
    return ActionsBlock(block_id=f"job-{job.id}", elements=elements) if elements else None


def plan_text(plan: DrainPlan, limit: int = 2900) -> str:
    """The drain plan in a few lines for approvers: counts, then what needs a look."""
    counts = Counter(p.fate for p in plan.pods)
    lines: list[str] = [
        messages.PLAN_CARD_HEAD.format(
            counts=joined(
                (
                    messages.PLAN_CARD_COUNT.format(fate=fate_name(fate), count=counts[fate])
                    for fate in Fate
                    if counts[fate]
                ),
                messages.PLAN_CARD_COUNT_SEPARATOR,
            )
        )
    ]
    lines += [
        messages.PLAN_CARD_BLOCKED.format(pod=code_span(p.key), message=escape(p.message))
        for p in plan.pods
        if p.fate is Fate.BLOCKED
    ]
    lines += [
        messages.PLAN_CARD_DATA_LOST.format(pod=code_span(p.key), loss=escape(p.data_loss))
        for p in plan.pods
        if p.data_loss
    ]
    lines += [messages.PLAN_PDB.format(text=escape(text)) for text in plan.pdb_blocked]
    capacity = messages.PLAN_CARD_CAPACITY.format(
        capacity=capacity_name(plan.capacity), detail=escape(plan.capacity_detail)
    )
    if plan.unplaceable:
        capacity = messages.PLAN_NO_ROOM.format(
            capacity=capacity, workloads=escape(formats.listing(plan.unplaceable))
        )
    lines.append(capacity)
    lines += [messages.PLAN_RISK.format(risk=escape(risk)) for risk in plan.risks]
    return shorten("\n".join(lines), limit)


def state_line(job: Job) -> str:
    """The card's state line, with its emoji."""
    if job.state is JobState.QUEUED and job.approval is None:
        return messages.CARD_QUEUED.format()
    return _STATE_LINE[job.state].format()


def _plan_section(job: Job, plan: BaseModel) -> str | None:
    """Drain's compact plan, or the plan as its command renders it, escaped for the card."""
    if isinstance(plan, DrainPlan):
        return plan_text(plan)
    text = registry().plan_text(job.request, plan)
    return fit(text, 2900) if text else None


def card(
    job: Job, summary: str = "", plan: BaseModel | None = None, *, unserved: bool = False
) -> tuple[str, list[dict[str, Any]]]:
    """Fallback text and blocks for ``job`` in its current state (with its plan, if any), in
    the language of the current context (the job's channel's: see ``slack_app``).
    ``unserved``: no live worker serves the job's cluster, so it waits for one."""
    command = job.request.command_text()
    state = state_line(job)
    if summary:
        state = messages.CARD_STATE_DETAIL.format(state=state, detail=fit(summary, _SUMMARY_LIMIT))
    asks = messages.CARD_ASKS.format(
        requester=f"<@{escape(job.requester)}>",
        command=code_span(command, _COMMAND_LIMIT),
        cluster=escape(job.cluster),
    )
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"{asks}\n{state}"))]
    warnings = [
        messages.CARD_WARNING.format(flag=code_span(f"--{flag}"), warning=warning)
        for flag, warning in _FLAG_WARNINGS.items()
        if flag in job.request.flags
    ]
    if unserved and not job.state.finished and job.state is not JobState.RUNNING:
        warnings.insert(0, ":warning: " + escape(messages.NO_WORKER.format(cluster=job.cluster)))
    details = _approval_lines(job) + warnings
    if details:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(details))))
    shown = _plan_section(job, plan) if plan is not None and not job.state.finished else None
    if shown:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=shown)))
    buttons = _buttons(job)
    if buttons is not None:
        blocks.append(buttons)
    context = messages.CARD_CONTEXT.format(
        job_id=job.id, cluster=job.cluster, decision=job.decision
    )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=fit(context, 300))]))
    fallback = escape(
        messages.CARD_FALLBACK.format(
            requester=job.requester,
            command=command,
            cluster=job.cluster,
            state=state_name(job.state),
        )
    )
    return fallback, [b.to_dict() for b in blocks]
