"""A node's images as people read them: ``crictl images``' columns and values (its 13-character
image ids, its human sizes), the columns crictl lacks (what uses each image, pinned), the image
filesystem, and per node counts for ``--all``. Also the one sentence for each reason a node
was not reached, which every images and runtime reply shares.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.commands.registry import ThreadParts
from bot.commands.render import human_duration, table
from core import formats, messages
from core.i18n import joined
from core.text import code
from handlers.images_models import (
    AgentInfo,
    FleetImages,
    ImageFs,
    ImageRow,
    NodeImages,
    NodeProblem,
    NodeUnreached,
)

#: crictl's ``truncatedIDLen``.
ID_LENGTH = 13
#: go-units' decimal abbreviations, as ``crictl images`` prints sizes.
_SIZE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
#: Users shown in the USED BY cell before "+N".
_USERS_SHOWN = 2
#: Rows a listing shows in one message; more go into its thread as a file.
MAX_ROWS_INLINE = 30


def human_size(size: float) -> str:
    """``units.HumanSizeWithPrecision(size, 3)``, as crictl prints an image's size: decimal
    units, three significant digits (``72.4MB``, ``320kB``)."""
    unit = 0
    while size >= 1000.0 and unit < len(_SIZE_UNITS) - 1:
        size /= 1000.0
        unit += 1
    return f"{size:.3g}{_SIZE_UNITS[unit]}"


def short_id(image_id: str) -> str:
    """crictl's truncated id: without ``sha256:``, 13 characters."""
    return image_id.removeprefix("sha256:")[:ID_LENGTH]


def _used_by(row: ImageRow) -> str:
    if not row.used_by:
        return "-"
    shown = ",".join(row.used_by[:_USERS_SHOWN])
    more = len(row.used_by) - _USERS_SHOWN
    return f"{shown},+{more}" if more > 0 else shown


def image_table(rows: Sequence[ImageRow]) -> str:
    return table(
        ("IMAGE", "TAG", "IMAGE ID", "SIZE", "USED BY", "PINNED"),
        [
            (
                row.repository or "<none>",
                row.tag or "<none>",
                short_id(row.image_id),
                human_size(row.size_bytes),
                _used_by(row),
                "true" if row.pinned else "false",
            )
            for row in rows
        ],
    )


def fs_line(fs: ImageFs) -> str:
    """The image filesystem: used bytes and inodes as CRI reports them; capacity only when the
    agent can see the filesystem itself (CRI reports none), and a sentence saying so when not."""
    parts = [messages.IMAGES_FS_USED.format(used=human_size(fs.used_bytes))]
    if fs.inodes_used is not None:
        parts.append(messages.IMAGES_FS_INODES.format(count=fs.inodes_used))
    if fs.capacity_bytes is not None:
        free = fs.available_bytes if fs.available_bytes is not None else 0
        parts.append(
            messages.IMAGES_FS_CAPACITY.format(
                available=human_size(free), capacity=human_size(fs.capacity_bytes)
            )
        )
    else:
        parts.append(messages.IMAGES_FS_NO_CAPACITY.format())
    return messages.IMAGES_FS_LINE.format(
        mountpoint=code(fs.mountpoint),
        details=joined(parts, messages.CLAUSE_SEPARATOR),
    )


def fs_used(filesystems: Sequence[ImageFs]) -> str:
    """Bytes used on the image filesystems, for ``before → after``."""
    return human_size(sum(fs.used_bytes for fs in filesystems))


def agent_line(agent: AgentInfo, *, now: datetime | None = None) -> str:
    seen = human_duration(((now or datetime.now(UTC)) - agent.seen_at).total_seconds())
    return messages.IMAGES_AGENT_LINE.format(
        node=agent.node, runtime=agent.runtime_name, version=agent.runtime_version, age=seen
    )


# --- Why a node was not reached -------------------------------------------------------------

_PROBLEMS = {
    "no-agent": messages.IMAGES_NO_AGENT,
    "runtime-unreachable": messages.IMAGES_RUNTIME_UNREACHABLE,
    "agent-lost": messages.IMAGES_AGENT_LOST,
    "node-gone": messages.IMAGES_NODE_GONE,
    "timeout": messages.IMAGES_TIMEOUT,
    "agent-outdated": messages.IMAGES_AGENT_OUTDATED,
    "container-not-found": messages.IMAGES_CONTAINER_NOT_FOUND,
    "ambiguous-container": messages.IMAGES_CONTAINER_AMBIGUOUS,
}


def problem_sentence(node: str, reason: str, detail: str = "") -> str:
    """One clear sentence for each reason a node gave no answer (docs/images.md)."""
    extra = messages.IMAGES_DETAIL.format(detail=code(detail[:200])) if detail else ""
    template = _PROBLEMS.get(reason)
    if template is None:
        return messages.IMAGES_PROBLEM_OTHER.format(node=node, reason=code(reason), detail=extra)
    listing = code(f"/k8s runtime ps {node}")
    return template.format(node=node, detail=extra, listing=listing)


def problem_lines(problems: Sequence[NodeProblem]) -> list[str]:
    if not problems:
        return []
    return [messages.IMAGES_NOT_REACHED.format()] + [
        "  " + problem_sentence(p.node, p.reason, p.detail) for p in problems
    ]


# --- images NODE | --all ---------------------------------------------------------------------


def _node_summary(result: NodeImages, now: datetime | None) -> list[str]:
    lines = [
        messages.IMAGES_NODE_SUMMARY.format(
            images=messages.IMAGES_COUNT.format(count=len({r.image_id for r in result.rows})),
            node=result.agent.node,
            size=human_size(sum({r.image_id: r.size_bytes for r in result.rows}.values())),
        )
        if result.rows
        else messages.IMAGES_NONE.format(node=result.agent.node)
    ]
    sandbox = sorted({f"{r.repository}:{r.tag}" for r in result.rows if r.sandbox_image})
    if sandbox:
        lines.append(
            messages.IMAGES_SANDBOX_NOTE.format(images=formats.listing(map(code, sandbox)))
        )
    lines += [fs_line(fs) for fs in result.fs] or [messages.IMAGES_FS_UNKNOWN.format()]
    lines.append(agent_line(result.agent, now=now))
    return lines


def _fleet_table(result: FleetImages, now: datetime) -> str:
    return table(
        ("NODE", "IMAGES", "SIZE", "RECLAIMABLE", "AGENT SEEN"),
        [
            (
                row.node,
                str(row.images),
                human_size(row.bytes),
                human_size(row.reclaimable_bytes),
                human_duration((now - row.agent_seen_at).total_seconds()),
            )
            for row in result.rows
        ],
    )


def _fleet_summary(result: FleetImages) -> list[str]:
    rows = result.rows
    head = messages.IMAGES_FLEET_SUMMARY.format(
        nodes=messages.IMAGES_NODES.format(count=len(rows)),
        images=messages.IMAGES_COUNT.format(count=sum(r.images for r in rows)),
        size=human_size(sum(r.bytes for r in rows)),
        reclaimable=human_size(sum(r.reclaimable_bytes for r in rows)),
    )
    return [head, *problem_lines(result.problems)]


def render_images(
    result: NodeImages | FleetImages | NodeUnreached, now: datetime | None = None
) -> str:
    moment = now or datetime.now(UTC)
    if isinstance(result, NodeUnreached):
        return problem_sentence(result.node, result.reason, result.detail)
    if isinstance(result, FleetImages):
        listing = _fleet_table(result, moment) if result.rows else ""
        return "\n".join([*([listing] if listing else []), "", *_fleet_summary(result)]).strip()
    listing = image_table(result.rows) if result.rows else ""
    return "\n".join([*([listing, ""] if listing else []), *_node_summary(result, moment)])


def thread_parts(
    result: NodeImages | FleetImages | NodeUnreached, job_id: str
) -> ThreadParts | None:
    """A long listing (a node with hundreds of images, a big fleet): the summary in the
    channel, the table in its thread. A node not reached is one sentence, posted as text."""
    now = datetime.now(UTC)
    if isinstance(result, NodeUnreached):
        return unreached_parts(result)
    if isinstance(result, NodeImages) and len(result.rows) > MAX_ROWS_INLINE:
        return ThreadParts(
            summary="\n".join(_node_summary(result, now)),
            body=image_table(result.rows),
            file_name=f"images-{result.agent.node}-job-{job_id}.txt",
        )
    if isinstance(result, FleetImages) and len(result.rows) > MAX_ROWS_INLINE:
        return ThreadParts(
            summary="\n".join(_fleet_summary(result)),
            body=_fleet_table(result, now),
            file_name=f"images-job-{job_id}.txt",
        )
    return None


def unreached_parts(result: NodeUnreached) -> ThreadParts:
    """A one-node command that got no answer: its sentence as a message, not a table."""
    return ThreadParts(
        summary=problem_sentence(result.node, result.reason, result.detail), body="", file_name=""
    )
