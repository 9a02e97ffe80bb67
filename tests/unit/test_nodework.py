"""The worker↔agent wire format (core.nodework): tasks and events survive the trip through
Redis as JSON, keys are per cluster and node, and a task knows when it is stale."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from core import limits, nodework
from core.nodework import (
    EventKind,
    FailReason,
    ImageName,
    ItemAction,
    LogsOp,
    PruneItem,
    PruneOp,
    PruneReply,
    RemoveImageOp,
    Task,
    TaskEvent,
)


def test_tasks_round_trip_with_their_operation() -> None:
    task = Task.make(PruneOp(dry_run=True, keep=["^x"], older_than_seconds=60), timeout=30)
    again = Task.model_validate_json(task.model_dump_json())
    assert again == task and isinstance(again.work, PruneOp) and again.work.keep == ["^x"]
    logs = Task.model_validate_json(Task.make(LogsOp(container="web", tail=5), 5).model_dump_json())
    assert isinstance(logs.work, LogsOp) and logs.work.tail == 5


def test_a_task_past_its_deadline_is_stale() -> None:
    task = Task.make(RemoveImageOp(image="x"), timeout=10)
    assert not task.stale()
    assert task.stale(datetime.now(UTC) + timedelta(seconds=11))
    assert Task.make(RemoveImageOp(image="x"), timeout=0).stale()


def test_an_unknown_operation_does_not_validate() -> None:
    raw = (
        Task.make(RemoveImageOp(image="x"), 10).model_dump_json().replace('"rmi"', '"format-disk"')
    )
    with pytest.raises(ValidationError):
        Task.model_validate_json(raw)


def test_events_carry_items_and_replies() -> None:
    name = ImageName(reference="x:1", image_id="sha256:" + "a" * 64, size_bytes=7)
    item = TaskEvent(
        kind=EventKind.ITEM,
        task_id="t1",
        agent="n/1/x",
        item=PruneItem(action=ItemAction.REMOVED, image=name, window_us=420),
    )
    assert TaskEvent.model_validate_json(item.model_dump_json()) == item
    done = TaskEvent(
        kind=EventKind.DONE,
        task_id="t1",
        agent="n/1/x",
        reply=PruneReply(dry_run=False, removed=[name]),
    )
    again = TaskEvent.model_validate_json(done.model_dump_json())
    assert isinstance(again.reply, PruneReply) and again.reply.removed == [name]
    failed = TaskEvent(kind=EventKind.FAILED, task_id="t1", agent="a", reason=FailReason.STALE)
    assert TaskEvent.model_validate_json(failed.model_dump_json()).reason is FailReason.STALE


def test_keys_are_per_cluster_and_node() -> None:
    assert nodework.tasks_key("prod", "n1") == "k8s-chatops:prod:agent:n1:tasks"
    assert nodework.agent_key("prod", "n1") != nodework.agent_key("dev", "n1")
    assert nodework.task_events_key("prod", "t") == "k8s-chatops:prod:task:t:events"
    assert nodework.task_lease_key("prod", "t") == "k8s-chatops:prod:task:t:lease"


def test_the_log_caps_are_bounded() -> None:
    with pytest.raises(ValidationError):
        LogsOp(container="", tail=1)
    with pytest.raises(ValidationError):
        LogsOp(container="x", tail=-1)


def test_a_change_held_to_its_approval_has_an_op_no_older_agent_takes() -> None:
    """An agent from before approvals were carried would ignore ``approved_ids`` (it ignores
    fields it does not know) and remove everything unused. A held task has its own op, which
    such an agent does not parse: it answers ``bad-task`` and removes nothing."""
    held = Task.make(PruneOp(op="prune-approved", approved_ids=["sha256:1"]), 10)
    again = Task.model_validate_json(held.model_dump_json())
    assert isinstance(again.work, PruneOp) and again.work.approved_ids == ["sha256:1"]

    class OlderPruneOp(BaseModel):  # the shape the agents of the first release parse
        model_config = ConfigDict(extra="ignore")
        op: Literal["prune"] = "prune"
        dry_run: bool = False

    with pytest.raises(ValidationError):
        OlderPruneOp.model_validate_json(held.work.model_dump_json())
    rmi = Task.make(RemoveImageOp(op="rmi-approved", image="x", approved_ids=[]), 10)
    assert '"op":"rmi-approved"' in rmi.model_dump_json()


@pytest.mark.parametrize(
    "op",
    [
        lambda: PruneOp(approved_ids=["sha256:1"]),  # ids on a plain prune: would be ignored
        lambda: PruneOp(op="prune-approved"),  # held, to nothing said
        lambda: RemoveImageOp(image="x", approved_ids=[]),
        lambda: RemoveImageOp(op="rmi-approved", image="x"),
    ],
)
def test_approved_ids_go_with_their_op_and_only_with_it(op: Callable[[], object]) -> None:
    with pytest.raises(ValidationError, match="approved_ids go with the op"):
        op()


_KEEP = "^" + "k" * (limits.MAX_KEEP_PATTERN_CHARS - 1)


@pytest.mark.parametrize(
    "op",
    [
        lambda: PruneOp(keep=["^a"] * (limits.MAX_KEEP_PATTERNS + 1)),
        lambda: PruneOp(keep=[_KEEP + "k"]),
        lambda: PruneOp(keep=[""]),
        lambda: PruneOp(policy_keep=["^a"] * (limits.MAX_POLICY_KEEP_PATTERNS + 1)),
        lambda: PruneOp(policy_keep=[_KEEP + "k"]),
        lambda: PruneOp(older_than_seconds=limits.MAX_PRUNE_OLDER_THAN_SECONDS + 1),
        lambda: PruneOp(older_than_seconds=-1),
        lambda: PruneOp(
            op="prune-approved", approved_ids=["sha256:1"] * (nodework.MAX_APPROVED_IDS + 1)
        ),
        lambda: PruneOp(op="prune-approved", approved_ids=["s" * (nodework.MAX_ID_CHARS + 1)]),
        lambda: PruneOp(op="prune-approved", approved_ids=['sha256:"1']),
        lambda: LogsOp(container="x", tail=limits.MAX_RUNTIME_LOGS_TAIL + 1),
        lambda: LogsOp(container="x", max_lines=limits.MAX_LOGS_LINES + 1),
        lambda: LogsOp(container="x", max_bytes=limits.MAX_LOGS_BYTES + 1),
        lambda: LogsOp(container="x", max_line_bytes=limits.MAX_LOG_LINE_BYTES + 1),
    ],
)
def test_every_list_and_cap_in_a_task_has_a_ceiling(op: Callable[[], object]) -> None:
    with pytest.raises(ValidationError):
        op()


def test_the_largest_task_a_worker_can_send_fits_under_what_an_agent_reads() -> None:
    """The agent refuses a task over MAX_TASK_BYTES without parsing it; no valid task is that
    big, even with every list full and every character one JSON writes as ``\\u00XX``."""
    worst = "\x01" * limits.MAX_KEEP_PATTERN_CHARS
    prune = PruneOp(
        op="prune-approved",
        keep=[worst] * limits.MAX_KEEP_PATTERNS,
        policy_keep=[worst] * limits.MAX_POLICY_KEEP_PATTERNS,
        older_than_seconds=limits.MAX_PRUNE_OLDER_THAN_SECONDS,
        approved_ids=["s" * nodework.MAX_ID_CHARS] * nodework.MAX_APPROVED_IDS,
    )
    size = len(Task.make(prune, 10).model_dump_json().encode())
    assert nodework.MAX_APPROVED_IDS * nodework.MAX_ID_CHARS < size <= nodework.MAX_TASK_BYTES
    logs = LogsOp(container="c" * 128, tail=limits.MAX_RUNTIME_LOGS_TAIL)
    assert len(Task.make(logs, 10).model_dump_json().encode()) <= nodework.MAX_TASK_BYTES
