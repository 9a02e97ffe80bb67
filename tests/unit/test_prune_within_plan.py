"""An approved prune or ``rmi`` is held to the plan its approvers saw: what an approval
attaches to the request and when it refuses (on a real Redis), that a plan on a card is never
replaced, and how the result says what the plan did not name, in both languages. The agent's
side is in test_node_agent.py and test_image_prune.py; the whole path on real containerd in
tests/integration/test_approved_prune_agents.py."""

from __future__ import annotations

import pytest

from bot.commands import render_prune
from bot.commands.dispatcher import Dispatcher
from bot.jobs.model import JobState, Origin
from bot.jobs.store import JobStore
from core.i18n import CHINESE, language
from handlers.drain_models import DrainNode, DrainPlan
from handlers.images_models import (
    ApprovedRemovals,
    ImageRef,
    KeptImage,
    NodeProblem,
    NodePruneOutcome,
    NodePrunePlan,
    PruneImages,
    PrunePlan,
    PruneResult,
    RemoveImage,
    RemoveImageResult,
)
from policies.loader import parse_policy

SHELL = Origin(surface="shell")
POLICY = """
roles:
  op: {verbs: [help, jobs, images, prune-images, approve, drain]}
bindings:
  - {role: op, users: [U_A, U_B, U_C]}
rules:
  - name: image-removal-needs-two
    verbs: [prune-images]
    effect: require_approval
    approval: {count: 2, approvers: {roles: [op]}, expires_in: 1h}
  - name: drains-need-one
    verbs: [drain]
    effect: require_approval
    approval: {count: 1, approvers: {roles: [op]}, expires_in: 1h}
"""


def ref(name: str, digit: str, size: int = 10) -> ImageRef:
    return ImageRef(reference=name, image_id="sha256:" + digit * 64, size_bytes=size)


PLAN = PrunePlan(
    nodes=[
        NodePrunePlan(node="n1", remove=[ref("old:1", "1"), ref("old:2", "2")]),
        NodePrunePlan(
            node="n2", remove=[], kept=[KeptImage(image=ref("p:1", "3"), reason="pinned")]
        ),
    ],
    problems=[NodeProblem(node="n3", reason="no-agent")],
)


def test_the_approved_removals_are_the_plans_per_node() -> None:
    approved = ApprovedRemovals.of(PLAN)
    # n3 was not reached when the plan was made: nobody saw anything for it.
    assert approved.nodes == {"n1": ("sha256:" + "1" * 64, "sha256:" + "2" * 64), "n2": ()}
    held = PruneImages(all_nodes=True).as_approved(PLAN)
    assert held.approved == approved
    assert held.command_text() == "prune images --all"  # what people typed, unchanged
    assert RemoveImage(node="n1", image="old:1").as_approved(PLAN).approved == approved


def test_what_is_not_held() -> None:
    dry = PruneImages(node="n1", dry_run=True)
    assert not dry.runs_within_plan and dry.as_approved(PLAN) is dry  # a dry run removes nothing
    drain = DrainNode(node="n1")
    assert not drain.runs_within_plan and drain.as_approved(PLAN) is drain
    drain_plan = DrainPlan(node="n1", cordoned=False, pods=[])
    assert drain.as_approved(drain_plan).expected_plan == drain_plan  # drain compares, as before
    prune = PruneImages(node="n1")
    assert prune.runs_within_plan and prune.as_approved(drain_plan) is prune


@pytest.fixture
def bot(redis_client: object) -> Dispatcher:
    store = JobStore(redis_client, "sandbox")  # type: ignore[arg-type]
    store.ensure_groups()
    return Dispatcher(parse_policy(POLICY, "test"), store)


def test_no_one_approves_before_the_plan_is_shown_and_the_approval_carries_it(
    bot: Dispatcher,
) -> None:
    asked = bot.submit("prune images --all", user="U_A", origin=SHELL)
    assert asked.job is not None and asked.job.state is JobState.AWAITING_APPROVAL
    job_id = asked.job.id
    early = bot.submit(f"approve {job_id}", user="U_B", origin=SHELL)
    assert early.text == (
        f"Job {job_id} can't be approved yet: its plan (what it would remove) is not on its "
        "card, and an approved job removes only what its plan shows. Approve it once the plan "
        "is shown; if none appears, no worker could plan it: deny it and ask again."
    )
    assert not early.ok
    job = bot.store.get(job_id)
    assert job.approval is not None and job.approval.approvals == []  # not even one of two
    assert "approval refused" in [e["event"] for e in bot.store.audit_tail(5)]
    with language(CHINESE):
        assert "暂时不能批准" in bot.submit(f"approve {job_id}", user="U_B", origin=SHELL).text
    assert bot.submit(f"deny {job_id} later", user="U_C", origin=SHELL).ok  # a no needs no plan


def test_both_approvers_saw_the_one_plan_the_job_runs_within(bot: Dispatcher) -> None:
    asked = bot.submit("prune images --all", user="U_A", origin=SHELL)
    assert asked.job is not None
    job_id = asked.job.id
    assert bot.store.save_plan(job_id, PLAN)
    assert bot.submit(f"approve {job_id}", user="U_B", origin=SHELL).ok
    # A worker plans it again (its plan entry offered twice): the card keeps the first plan.
    later = PLAN.model_copy(update={"nodes": [*PLAN.nodes, NodePrunePlan(node="n9", remove=[])]})
    assert not bot.store.save_plan(job_id, later)
    assert bot.store.plan(job_id, PrunePlan) == PLAN
    assert bot.submit(f"approve {job_id}", user="U_C", origin=SHELL).ok
    job = bot.store.get(job_id)
    assert job.state is JobState.QUEUED
    assert isinstance(job.request, PruneImages)
    assert job.request.approved == ApprovedRemovals.of(PLAN)


def test_a_drain_is_approved_before_its_plan_as_before(bot: Dispatcher) -> None:
    asked = bot.submit("drain n1", user="U_A", origin=SHELL)
    assert asked.job is not None
    assert bot.submit(f"approve {asked.job.id}", user="U_B", origin=SHELL).ok
    job = bot.store.get(asked.job.id)
    assert job.state is JobState.QUEUED and isinstance(job.request, DrainNode)
    assert job.request.expected_plan is None


# --- What the result says ----------------------------------------------------------------------


def held_result() -> PruneResult:
    return PruneResult(
        dry_run=False,
        nodes=[
            NodePruneOutcome(
                node="n1",
                removed=[ref("old:1", "1", 10_000_000)],
                kept=[
                    KeptImage(image=ref("late:1", "4", 5), reason="not-approved"),
                    KeptImage(image=ref("late:2", "5", 5), reason="not-approved"),
                ],
            )
        ],
        not_in_plan=["n3", "n4"],
    )


def test_the_result_names_what_the_plan_did_not() -> None:
    text = render_prune.render_prune(held_result())
    lines = text.splitlines()
    assert lines[1] == "n1: removed 1 image (10MB); kept 2: 2 not in the approved plan"
    assert lines[2] == (
        "Not in the approved plan, so left untouched: n3, n4. Ask for a new prune to see their "
        "plan."
    )
    assert text.endswith(
        "kept: not in the plan the approvers saw (it became removable after the plan was shown)"
    )
    assert held_result().failure is None  # it did what was approved
    with language(CHINESE):
        chinese = render_prune.render_prune(held_result())
    assert "保留 2 个：2 个不在已批准的计划中" in chinese
    assert "不在已批准的计划中，因此未做任何操作：n3、n4。" in chinese
    assert "保留：不在批准人看到的计划中" in chinese


def test_an_approved_rmi_of_another_image_says_so() -> None:
    refused = RemoveImageResult(
        node="n1", image=ref("old:1", "6", 5), removed=False, reason="not-approved"
    )
    assert render_prune.render_rmi(refused) == (
        "Not removed: `old:1` (6666666666666) on n1 is not the image the approvers saw in the "
        "plan (the name points to another image now, or the plan had nothing to remove); "
        "nothing was removed. Ask again to see a new plan."
    )
    assert refused.failure == "nothing was removed from n1 (not-approved)"
    with language(CHINESE):
        assert render_prune.render_rmi(refused).startswith("未删除：n1 上的 `old:1`")
