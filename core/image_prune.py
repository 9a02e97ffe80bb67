"""Which images a prune removes, and why it keeps the others: one pure function shared by the
node agent (which decides again right before it removes) and the worker (plans and
``images --all``'s reclaimable bytes).

The candidates are ``crictl rmi --prune``'s: every image no container uses, running or exited,
and that is not pinned. We then also keep the runtime's sandbox (pause) image even if a
runtime forgot to pin it, images a keep pattern matches (the policy's list and ``--keep``),
and, with ``--older-than``, images built too recently. CRI images carry no timestamps: "built"
is the image config's ``created``, and an image without one is kept (``too-new``) — a prune
that cannot tell an image's age leaves it, rather than guessing.

A prune that was approved is held to what its approvers saw (:func:`within_approved`): of what
the rules would remove now, only the images the plan on the card named go; the others are
kept (``not-approved``). The rules still apply to the approved ones, so the plan can only
shrink: an approved image that gained a container since is kept as ``in-use``.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.nodework import KeptReason, WireImage
from core.regex import Searcher, compile_user_regex


@dataclass(frozen=True)
class KeepPattern:
    """A keep pattern, compiled (RE2), and which list it came from (``policy`` or ``--keep``)."""

    text: str
    source: str
    searcher: Searcher

    @classmethod
    def compile(cls, text: str, source: str) -> KeepPattern:
        """Raises ValueError with RE2's reason for a pattern that does not compile."""
        return cls(text, source, compile_user_regex(text))

    def matches(self, image: WireImage) -> bool:
        """Whether any of the image's references, or its short Docker Hub form (``nginx:1.25``
        for ``docker.io/library/nginx:1.25``, as people write it), contains a match."""
        names = [*image.repo_tags, *image.repo_digests, image.id]
        names += [short for name in names for short in _short_forms(name)]
        return any(self.searcher.search(name) is not None for name in names)


_DOCKER_HUB = "docker.io/"
_OFFICIAL = "docker.io/library/"


def _short_forms(name: str) -> list[str]:
    """The names Docker Hub's images also go by: without ``docker.io/``, and without
    ``docker.io/library/`` for official images."""
    if name.startswith(_OFFICIAL):
        return [name.removeprefix(_DOCKER_HUB), name.removeprefix(_OFFICIAL)]
    if name.startswith(_DOCKER_HUB):
        return [name.removeprefix(_DOCKER_HUB)]
    return []


def keep_patterns(policy_keep: Sequence[str], keep: Sequence[str]) -> list[KeepPattern]:
    return [KeepPattern.compile(p, "policy") for p in policy_keep] + [
        KeepPattern.compile(p, "--keep") for p in keep
    ]


@dataclass(frozen=True)
class Kept:
    image: WireImage
    reason: KeptReason
    detail: str = ""


@dataclass(frozen=True)
class PruneDecision:
    remove: list[WireImage] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)

    @property
    def bytes_to_free(self) -> int:
        return sum(image.size_bytes for image in self.remove)


def why_kept(
    image: WireImage,
    *,
    keep: Sequence[KeepPattern] = (),
    older_than: timedelta | None = None,
    now: datetime,
) -> Kept | None:
    """The reason ``image`` stays, or None when a prune may remove it."""
    if image.sandbox_image:
        return Kept(image, KeptReason.SANDBOX_IMAGE)
    if image.pinned:
        return Kept(image, KeptReason.PINNED)
    if image.used_by:
        return Kept(image, KeptReason.IN_USE, ", ".join(image.used_by[:5]))
    for pattern in keep:
        if pattern.matches(image):
            return Kept(image, KeptReason.KEEP, f"{pattern.source}: {pattern.text}")
    if older_than is not None:
        if image.created is None:
            return Kept(image, KeptReason.TOO_NEW, "no creation time in its config")
        if image.created > now - older_than:
            return Kept(image, KeptReason.TOO_NEW, image.created.isoformat())
    return None


def decide(
    images: Sequence[WireImage],
    *,
    keep: Sequence[KeepPattern] = (),
    older_than: timedelta | None = None,
    now: datetime,
) -> PruneDecision:
    """Split ``images`` into what a prune removes and what it keeps, largest first."""
    decision = PruneDecision()
    for image in sorted(images, key=lambda i: (-i.size_bytes, i.reference)):
        kept = why_kept(image, keep=keep, older_than=older_than, now=now)
        if kept is None:
            decision.remove.append(image)
        else:
            decision.kept.append(kept)
    return decision


def within_approved(decision: PruneDecision, approved: Collection[str] | None) -> PruneDecision:
    """``decision`` held to the image ids its approvers saw (``approved``): an image it would
    remove that is not among them is kept, ``not-approved``. None: nothing was approved
    because nothing needed approval, and the decision stands as it is."""
    if approved is None:
        return decision
    allowed = frozenset(approved)
    held = PruneDecision(kept=list(decision.kept))
    for image in decision.remove:
        if image.id in allowed:
            held.remove.append(image)
        else:
            held.kept.append(Kept(image, KeptReason.NOT_APPROVED))
    return held
