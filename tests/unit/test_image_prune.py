"""Which images a prune removes and why it keeps the others (core.image_prune)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.image_prune import KeepPattern, decide, keep_patterns, why_kept, within_approved
from core.nodework import KeptReason, WireImage

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def image(name: str, size: int = 100, **fields: object) -> WireImage:
    values: dict = {
        "id": f"sha256:{abs(hash(name)):064x}"[:71],
        "repo_tags": [name],
        "size_bytes": size,
    }
    values.update(fields)
    return WireImage(**values)


def test_only_unused_unpinned_images_go_like_crictl_rmi_prune() -> None:
    images = [
        image("docker.io/a/unused:1", 300),
        image("docker.io/a/used:1", used_by=["default/web/app"]),
        image("docker.io/a/pinned:1", pinned=True),
        image("registry.k8s.io/pause:3.10", pinned=True, sandbox_image=True),
        image("docker.io/a/small:1", 10),
    ]
    decision = decide(images, now=NOW)
    assert [i.reference for i in decision.remove] == ["docker.io/a/unused:1", "docker.io/a/small:1"]
    reasons = {k.image.reference: k.reason for k in decision.kept}
    assert reasons == {
        "docker.io/a/used:1": KeptReason.IN_USE,
        "docker.io/a/pinned:1": KeptReason.PINNED,
        "registry.k8s.io/pause:3.10": KeptReason.SANDBOX_IMAGE,
    }
    assert decision.bytes_to_free == 310


def test_the_sandbox_image_is_kept_even_when_not_pinned() -> None:
    kept = why_kept(image("registry.k8s.io/pause:3.9", sandbox_image=True), now=NOW)
    assert kept is not None and kept.reason is KeptReason.SANDBOX_IMAGE


def test_keep_patterns_match_any_name_and_say_which_list() -> None:
    patterns = keep_patterns([r"^docker\.io/k8schatops/keep-"], ["sha256:beef"])
    first = image("docker.io/k8schatops/keep-me:v1")
    by_id = image("x/other:1", id="sha256:beef" + "0" * 60)
    by_digest = WireImage(
        id="sha256:" + "1" * 64,
        repo_digests=["docker.io/k8schatops/keep-x@sha256:" + "2" * 64],
        size_bytes=5,
    )
    kept = decide([first, by_id, by_digest, image("x/go:1")], keep=patterns, now=NOW)
    assert [i.reference for i in kept.remove] == ["x/go:1"]
    details = sorted(k.detail for k in kept.kept)
    assert details == [
        "--keep: sha256:beef",
        r"policy: ^docker\.io/k8schatops/keep-",
        r"policy: ^docker\.io/k8schatops/keep-",
    ]


@pytest.mark.parametrize(
    ("pattern", "name"),
    [
        ("^nginx", "docker.io/library/nginx:1.25"),
        ("^nginx:1.25$", "docker.io/library/nginx:1.25"),
        ("^myorg/app", "docker.io/myorg/app:v1"),
        ("^myorg/app", "docker.io/myorg/app@sha256:" + "3" * 64),
        (r"^docker\.io/library/nginx", "docker.io/library/nginx:1.25"),
    ],
)
def test_keep_patterns_also_match_the_short_name_people_write(pattern: str, name: str) -> None:
    """``^nginx`` is how people name ``docker.io/library/nginx:1.25`` (docker, crictl's
    input); a keep pattern written so must keep it, not let it be pruned."""
    (keep,) = keep_patterns([], [pattern])
    digest = "@" in name
    found = WireImage(
        id="sha256:" + "4" * 64,
        repo_tags=[] if digest else [name],
        repo_digests=[name] if digest else [],
        size_bytes=5,
    )
    assert keep.matches(found)
    assert not keep.matches(image("quay.io/nginx/nginx:1"))  # only docker.io's short forms


def test_a_bad_keep_pattern_is_refused_with_re2s_reason() -> None:
    with pytest.raises(ValueError, match="missing"):
        KeepPattern.compile("(unclosed", "--keep")


def test_older_than_uses_the_config_creation_time_and_keeps_images_without_one() -> None:
    old = image("x/old:1", created=NOW - timedelta(days=30))
    new = image("x/new:1", created=NOW - timedelta(hours=1))
    unknown = image("x/unknown:1")
    decision = decide([old, new, unknown], older_than=timedelta(days=7), now=NOW)
    assert [i.reference for i in decision.remove] == ["x/old:1"]
    assert {k.image.reference: k.reason for k in decision.kept} == {
        "x/new:1": KeptReason.TOO_NEW,
        "x/unknown:1": KeptReason.TOO_NEW,
    }
    assert decide([unknown], now=NOW).remove == [unknown]  # without --older-than, age is moot


def test_use_wins_over_keep_and_age_in_the_reason() -> None:
    used = image("docker.io/k8schatops/keep-me:v1", used_by=["a/b/c"], created=NOW)
    kept = why_kept(
        used, keep=keep_patterns(["keep-me"], []), older_than=timedelta(days=1), now=NOW
    )
    assert kept is not None and kept.reason is KeptReason.IN_USE and kept.detail == "a/b/c"


# --- Held to the approved plan ------------------------------------------------------------------


def test_an_approved_prune_keeps_what_the_approvers_did_not_see() -> None:
    seen, late = image("docker.io/a/seen:1", 300), image("docker.io/a/late:1", 200)
    used = image("docker.io/a/used:1", used_by=["default/web/app"])
    decision = decide([seen, late, used], now=NOW)
    held = within_approved(decision, {seen.id, used.id})
    assert held.remove == [seen]
    reasons = {k.image.reference: k.reason for k in held.kept}
    assert reasons == {
        "docker.io/a/late:1": KeptReason.NOT_APPROVED,
        # Approved, but in use now: the rules still win, and say the truer reason.
        "docker.io/a/used:1": KeptReason.IN_USE,
    }
    assert held.bytes_to_free == 300 and decision.bytes_to_free == 500


def test_an_empty_approval_removes_nothing_and_none_holds_nothing() -> None:
    images = [image("docker.io/a/one:1"), image("docker.io/a/two:1")]
    decision = decide(images, now=NOW)
    assert within_approved(decision, ()).remove == []
    assert {k.reason for k in within_approved(decision, ()).kept} == {KeptReason.NOT_APPROVED}
    assert within_approved(decision, None) is decision  # no approval needed: as before


def test_approval_never_adds_what_the_rules_keep() -> None:
    pinned = image("docker.io/a/pinned:1", pinned=True)
    kept = image("docker.io/k8schatops/keep-me:v1")
    new = image("docker.io/a/new:1", created=NOW - timedelta(hours=1))
    decision = decide(
        [pinned, kept, new],
        keep=keep_patterns([r"^docker\.io/k8schatops/keep-"], []),
        older_than=timedelta(days=7),
        now=NOW,
    )
    held = within_approved(decision, {pinned.id, kept.id, new.id})
    assert held.remove == []
    assert [k.reason for k in held.kept] == [k.reason for k in decision.kept]
