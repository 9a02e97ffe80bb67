"""Which images a prune removes, and why it keeps the others: one pure function shared by the
node agent (which decides again right before it removes) and the worker (plans and
``images --all``'s reclaimable bytes).

The candidates are ``crictl rmi --prune``'s: every image no container uses, running or exited,
and that is not pinned. We then also keep the runtime's sandbox (pause) image even if a
runtime forgot to pin it, images a keep pattern matches (the policy's list and ``--keep``),
and, with ``--older-than``, images built too recently. CRI images carry no timestamps: "built"
is the image config's ``created``, and an image without one is kept (``too-new``) — a prune
that cannot tell an image's age leaves it, rather than guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
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
        names = [*image.repo_tags, *image.repo_digests, image.id]
        return any(self.searcher.search(name) is not None for name in names)


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
