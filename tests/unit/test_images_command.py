"""``images``, ``prune images``, ``rmi`` and ``runtime``: the words, what the policy sees of
them, the policy's keep list on the request, and the default policy's decisions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from policy_probe import Probe

from bot.commands import grammar
from bot.commands.registry import Context, registry
from bot.commands.verbs.images import with_policy_keep
from core.errors import CommandError
from core.i18n import CHINESE, language
from handlers.images_models import (
    ListImages,
    PruneImages,
    RemoveImage,
    RuntimeLogs,
    RuntimePs,
)
from policies.loader import load_policy, parse_policy
from policies.model import Access, Outcome, PolicyDocument

REPO = Path(__file__).resolve().parents[2]
DAY = 86400


def refused(text: str) -> str:
    with pytest.raises(CommandError) as error:
        grammar.parse(text)
    return error.value.user_message


# --- Words → requests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "wanted"),
    [
        ("images k8s-node1", ListImages(node="k8s-node1")),
        ("images --all", ListImages(all_nodes=True)),
        ("images -l pool=batch", ListImages(selector="pool=batch")),
        ("images --selector=pool=batch", ListImages(selector="pool=batch")),
        ("prune images k8s-node1", PruneImages(node="k8s-node1")),
        ("PRUNE Images k8s-node1 --dry-run", PruneImages(node="k8s-node1", dry_run=True)),
        (
            "prune images --all --older-than 7d --keep '^registry\\.k8s\\.io/' --keep debug",
            PruneImages(
                all_nodes=True, older_than_seconds=7 * DAY, keep=("^registry\\.k8s\\.io/", "debug")
            ),
        ),
        (
            "prune images -l pool=a --older-than 1d12h",
            PruneImages(selector="pool=a", older_than_seconds=36 * 3600),
        ),
        ("prune images n1 --older-than 90m", PruneImages(node="n1", older_than_seconds=5400)),
        (
            "rmi k8s-node1 registry.k8s.io/pause:3.10",
            RemoveImage(node="k8s-node1", image="registry.k8s.io/pause:3.10"),
        ),
        ("rmi k8s-node1 873ed751027", RemoveImage(node="k8s-node1", image="873ed751027")),
        ("rmi n1 repo@sha256:" + "a" * 64, RemoveImage(node="n1", image="repo@sha256:" + "a" * 64)),
        ("runtime ps k8s-node1", RuntimePs(node="k8s-node1")),
        ("runtime logs k8s-node1 nginx", RuntimeLogs(node="k8s-node1", container="nginx")),
        (
            "runtime LOGS k8s-node1 3f9c1a2e --tail 50",
            RuntimeLogs(node="k8s-node1", container="3f9c1a2e", tail=50),
        ),
    ],
)
def test_parses(text: str, wanted: Any) -> None:
    assert grammar.parse(text) == wanted


def test_the_command_text_can_be_typed_again() -> None:
    for text in (
        "prune images --all --dry-run --older-than 7d --keep 'a b' --keep x",
        "prune images -l pool=a --older-than 1d12h",
        "images -l pool=a",
        "runtime logs n1 c --tail 5",
        "rmi n1 img:1",
    ):
        request = grammar.parse(text)
        assert grammar.parse(request.command_text()) == request


def test_a_cluster_is_named_before_the_verb() -> None:
    parsed = grammar.parse_command("-C prod prune images --all --dry-run")
    assert parsed.cluster == "prod" and parsed.request == PruneImages(all_nodes=True, dry_run=True)


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("images", "NODE, --all or -l SELECTOR is missing"),
        (
            "images n1 --all",
            "takes one of NODE, `--all` or `-l SELECTOR`, but got `NODE (n1) --all`",
        ),
        ("images --all -l a=b", "but got `--all -l`"),
        ("images n1 n2", "takes no more arguments, but got `n2`"),
        ("images N1", "`N1` is not a valid node name"),
        ("images -l 'a in (b'", "must be a valid label selector"),
        ("images --force", "has no flag `--force`"),
        (
            "prune k8s-node1",
            "`prune` removes images only: write `prune images k8s-node1 --dry-run`",
        ),
        ("prune containers --all", "`prune` removes images only"),
        ("prune", "`prune` removes images only"),
        ("prune images", "NODE, --all or -l SELECTOR is missing"),
        ("prune images --older-than 7", "`--older-than=7` is not a duration (examples: 12h, 7d"),
        ("prune images n1 --older-than 7days", "is not a duration"),
        ("prune images n1 --older-than 3651d", "`--older-than=3651d`: must be at most 3650d"),
        ("prune images n1 --older-than 0", "must be at least 1s"),
        ("prune images n1 --older-than=inf", "is not a duration"),
        (
            "prune images n1 --keep '('",
            "`--keep` `(` is not a regular expression I can use: missing )",
        ),
        ("prune images n1 --keep " + "x" * 201, "longer than 200 characters"),
        (
            "prune images n1 " + " ".join(["--keep x"] * 17),
            "17 `--keep` patterns is too many; the limit is 16",
        ),
        ("prune images n1 --keep", "`--keep` needs a value"),
        ("rmi", "`rmi NODE IMAGE`: NODE is missing"),
        ("rmi n1", "`rmi NODE IMAGE`: IMAGE is missing"),
        ("rmi n1 a b", "takes no more arguments, but got `b`"),
        ("rmi n1 'a b'", "`a b` is not an image reference or id"),
        ("rmi 0 ''", "is not an image reference or id"),
        ("runtime logs n1 ''", "is not a container id or name"),
        ("rmi n1 'img;rm -rf'", "is not an image reference or id"),
        ("rmi n1 " + "a" * 513, "is not an image reference or id"),
        ("rmi n1 img --force", "has no flag `--force`"),
        ("runtime", "ps | logs is missing"),
        ("runtime top n1", "`runtime` takes `ps` or `logs`, not `top`"),
        ("runtime pss n1", "Did you mean `ps`?"),
        ("runtime ps", "`runtime ps NODE`: NODE is missing"),
        ("runtime ps n1 extra", "takes no more arguments, but got `extra`"),
        ("runtime ps n1 --tail 5", "`runtime ps NODE` has no flag `--tail`"),
        ("runtime logs n1", "CONTAINER is missing"),
        ("runtime logs n1 'c/../x'", "is not a container id or name"),
        ("runtime logs n1 c --tail 0", "must be at least 1"),
        ("runtime logs n1 c --tail 100001", "must be at most 100000"),
    ],
)
def test_bad_input_gets_a_sentence(text: str, sentence: str) -> None:
    assert sentence in refused(text)


def test_refusals_are_said_in_chinese_too() -> None:
    with language(CHINESE):
        assert "`prune` 只清理镜像" in refused("prune k8s-node1")
        assert "不是时长（例如：12h、7d、1d12h）" in refused("prune images n1 --older-than 7")
        assert "只接受 NODE、`--all` 或 `-l SELECTOR` 中的一个" in refused("images n1 --all")


# --- What the policy sees ----------------------------------------------------------------------


def actions(text: str) -> list[tuple[str, str, str | None, list[str], bool]]:
    parsed = grammar.parse_command(text)
    return [
        (a.verb, a.target, a.node, sorted(a.flags), a.read_only)
        for a in parsed.command.actions(parsed.request)
    ]


def test_each_command_is_decided_under_its_own_verb() -> None:
    assert actions("images n1") == [("images", "node/n1", "n1", [], True)]
    assert actions("images --all") == [("images", "nodes", None, ["all"], True)]
    assert actions("images -l a=b") == [("images", "nodes", None, ["selector"], True)]
    assert actions("prune images n1") == [("prune-images", "node/n1", "n1", [], False)]
    assert actions("prune images --all --keep x") == [
        ("prune-images", "nodes", None, ["all", "keep"], False)
    ]
    assert actions("prune images -l a=b --older-than 7d") == [
        ("prune-images", "nodes", None, ["older-than", "selector"], False)
    ]
    assert actions("rmi n1 img:1") == [("prune-images", "node/n1", "n1", [], False)]
    assert actions("runtime ps n1") == [("runtime", "node/n1", "n1", [], True)]
    assert actions("runtime logs n1 c --tail 3") == [("runtime", "node/n1", "n1", ["tail"], True)]


def test_a_dry_run_prune_is_decided_as_images() -> None:
    assert actions("prune images --all --dry-run") == [
        ("images", "nodes", None, ["all", "dry-run"], True)
    ]


def test_the_vocabulary_has_the_verbs_and_their_flags() -> None:
    vocabulary = registry().vocabulary()
    assert vocabulary.verbs["images"] is Access.READ
    assert vocabulary.verbs["runtime"] is Access.READ
    assert vocabulary.verbs["prune-images"] is Access.WRITE
    assert {"all", "selector", "dry-run", "older-than", "keep"} <= vocabulary.flags["prune-images"]
    assert {"all", "selector", "dry-run"} <= vocabulary.flags["images"]
    assert vocabulary.flags["runtime"] == frozenset({"tail"})


def test_rules_may_name_the_flags_and_a_typo_is_refused() -> None:
    text = """
roles: {op: {verbs: [images, prune-images]}}
rules:
  - {name: fleet, verbs: [prune-images], flags: [all], effect: deny}
  - {name: sel, verbs: [prune-images], flags: [selector], effect: deny}
"""
    parse_policy(text, "ok.yaml", registry().vocabulary())
    with pytest.raises(Exception, match=r"unknown flag\(s\) l for verb\(s\) prune-images"):
        parse_policy(text.replace("[selector]", "[l]"), "bad.yaml", registry().vocabulary())
    with pytest.raises(Exception, match=r"unknown verb\(s\) prune"):
        parse_policy(
            text.replace("images, prune-images", "prune"), "bad.yaml", registry().vocabulary()
        )


# --- The default policy -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def default() -> PolicyDocument:
    return load_policy(REPO / "policies" / "default.yaml", registry().vocabulary())


def decide(policy: PolicyDocument, user: str, text: str) -> tuple[Outcome, str, int]:
    probe = Probe(policy)
    decision = probe.decide(probe.subject(user, None), grammar.parse(text))
    count = decision.requirement.count if decision.requirement else 0
    return decision.outcome, decision.rule, count


ONCALL = "U0ONCALL01"
SOMEONE = "U0SOMEONE"


@pytest.mark.parametrize(
    ("user", "text", "outcome", "rule", "approvals"),
    [
        (ONCALL, "images k8s-node1", Outcome.ALLOW, "role operator", 0),
        (ONCALL, "images --all", Outcome.ALLOW, "role operator", 0),
        (ONCALL, "runtime ps k8s-node1", Outcome.ALLOW, "role operator", 0),
        (ONCALL, "runtime logs k8s-node1 web", Outcome.ALLOW, "role operator", 0),
        (ONCALL, "prune images k8s-node1 --dry-run", Outcome.ALLOW, "role operator", 0),
        (ONCALL, "prune images --all --dry-run", Outcome.ALLOW, "role operator", 0),
        (
            ONCALL,
            "prune images k8s-node1",
            Outcome.NEEDS_APPROVAL,
            "image-removal-needs-a-second-person, protected target",
            2,
        ),
        (
            ONCALL,
            "prune images --all",
            Outcome.NEEDS_APPROVAL,
            "image-removal-needs-a-second-person, fleet-wide-prunes-need-two",
            2,
        ),
        (
            ONCALL,
            "prune images -l pool=batch --older-than 7d",
            Outcome.NEEDS_APPROVAL,
            "image-removal-needs-a-second-person, selector-prunes-need-two",
            2,
        ),
        (SOMEONE, "images k8s-node1", Outcome.DENY, "default deny", 0),
        (SOMEONE, "prune images k8s-node1 --dry-run", Outcome.DENY, "default deny", 0),
        (SOMEONE, "runtime ps k8s-node1", Outcome.DENY, "default deny", 0),
        (SOMEONE, "rmi k8s-node1 img:1", Outcome.DENY, "default deny", 0),
    ],
)
def test_default_policy(
    default: PolicyDocument, user: str, text: str, outcome: Outcome, rule: str, approvals: int
) -> None:
    # The probe knows no node labels, so one-node changes meet the protected control-plane
    # selector too (unknown labels: restrictions apply); fleet-wide ones name no node.
    assert decide(default, user, text) == (outcome, rule, approvals)


def test_the_default_policy_keeps_the_control_planes_images(default: PolicyDocument) -> None:
    assert default.images.keep == ["^registry\\.k8s\\.io/"]


def context(policy: PolicyDocument) -> Context:
    return Context(
        store=cast(Any, None),
        policy=policy,
        subject=cast(Any, None),
        origin=cast(Any, None),
        decision=cast(Any, None),
        commands=registry(),
        reaches=lambda channel: True,
        now=datetime.now(UTC),
        decide_job=lambda job, now: cast(Any, None),
    )


def test_the_policys_keep_list_travels_with_a_fleet_listing(default: PolicyDocument) -> None:
    """``images --all`` shows RECLAIMABLE, what a prune could free: the policy's keep list
    must reach the worker for that, as it does for ``prune``."""
    (command,) = [c for c in registry().commands if c.verb == "images"]
    assert command.prepare is not None
    request = grammar.parse("images --all")
    prepared = command.prepare(context(default), request)
    assert prepared.policy_keep == ("^registry\\.k8s\\.io/",)
    assert prepared.command_text() == request.command_text()


def test_the_policys_keep_list_travels_with_the_prune(default: PolicyDocument) -> None:
    request = grammar.parse("prune images --all --keep debug")
    prepared = with_policy_keep(context(default), request)
    assert prepared.policy_keep == ("^registry\\.k8s\\.io/",)
    assert prepared.keep == ("debug",)
    assert prepared.command_text() == request.command_text()  # the list is not the person's
    bare = parse_policy("roles: {a: {verbs: [get]}}", "p")
    assert with_policy_keep(context(bare), request) is request


def test_help_lists_the_commands_for_those_who_may_run_them() -> None:
    mine = registry().help_text(allowed=["images"])
    assert "/k8s images NODE | --all | -l SELECTOR" in mine
    assert "/k8s prune images" in mine  # a dry run is decided as images
    assert "/k8s rmi" not in mine and "/k8s runtime" not in mine
    assert "/k8s runtime ps NODE" in registry().help_text(allowed=["runtime"])
    assert "--older-than" in registry().help_text("prune")
    with language(CHINESE):
        assert "删除没有容器使用的镜像" in registry().help_text("prune")
