"""The worker↔agent wire format (core.nodework): tasks and events survive the trip through
Redis as JSON, keys are per cluster and node, and a task knows when it is stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from core import nodework
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
