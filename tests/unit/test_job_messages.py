"""The job layer's typed messages: what a worker's run came to, and the stream entries."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.jobs.model import EventType, JobEvent, JobState, Notification, NotifyKind, Outcome
from handlers.models import NodeTable


def test_an_outcome_changes_only_the_fields_it_sets() -> None:
    table = NodeTable(rows=[])
    assert Outcome(JobState.SUCCEEDED, result=table).changes() == {"result": table}
    refused = Outcome(JobState.FAILED, error="at most 1 node(s)")
    assert refused.changes() == {"error": "at most 1 node(s)"}
    assert refused.reason == "at most 1 node(s)"
    assert Outcome(JobState.CANCELLED, result=table).reason == "done"


def test_a_notify_entry_without_a_kind_is_a_result() -> None:
    entry = Notification.model_validate({"entry_id": "1-0", "job_id": "7"})
    assert entry.kind is NotifyKind.RESULT and entry.line == ""
    progress = {"entry_id": "2-0", "job_id": "7", "kind": "progress", "line": "evicting"}
    assert Notification.model_validate(progress).kind is NotifyKind.PROGRESS


def test_a_notify_kind_this_version_does_not_know_is_refused() -> None:
    with pytest.raises(ValidationError):
        Notification.model_validate({"entry_id": "1-0", "job_id": "7", "kind": "confetti"})


def test_events_round_trip_with_their_type() -> None:
    event = JobEvent(type=EventType.FINISHED, job_id="7", state=JobState.FAILED)
    assert '"type":"finished"' in event.model_dump_json()
    assert JobEvent.model_validate_json(event.model_dump_json()).type is EventType.FINISHED
