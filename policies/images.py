"""The policy file's ``images`` section: image references no prune removes, whatever is typed.

A prune never removes an image a container uses, a pinned one, or the runtime's sandbox image;
``images.keep`` adds the images a team wants to keep on every node (a base image that takes
long to pull, an emergency debug image). Each pattern is RE2 (Go's syntax, linear time),
matched against every reference of an image (``registry/repo:tag``, ``repo@sha256:…``),
and checked when the file is loaded, so a typo is an error with its line, not a pattern that
silently keeps nothing.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from core import limits
from core.regex import compile_user_regex


def _re2(pattern: str) -> str:
    try:
        compile_user_regex(pattern)
    except ValueError as error:
        raise ValueError(f"keep pattern {pattern!r} is not a valid RE2 regex: {error}") from None
    return pattern


KeepPattern = Annotated[
    str,
    Field(min_length=1, max_length=limits.MAX_KEEP_PATTERN_CHARS),
    AfterValidator(_re2),
]


class ImagesPolicy(BaseModel):
    """``images: {keep: [RE2, …]}``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    keep: list[KeepPattern] = Field(
        default_factory=list, max_length=limits.MAX_POLICY_KEEP_PATTERNS
    )
