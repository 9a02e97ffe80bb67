"""The worker↔agent wire format (core.nodework): tasks and events survive the trip through
Redis as JSON, keys are per cluster and node, and a task knows when it is stale."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

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
