"""Images and containers on nodes, through the node agents: ``images``, ``prune images``,
``rmi``, ``runtime ps`` and ``runtime logs``.

The Kubernetes API cannot see a node's images; each node's agent answers over CRI
(:mod:`nodeagent`), and ``control.agents`` carries the work to it. One node, or every node
(``--all``) or those a label selector picks (``-l``): the node list comes from the API server
(retried like every request), the nodes are worked on side by side (at most
:data:`MAX_PARALLEL_NODES` at once), and a node without a live agent is named rather than
skipped. A prune holds each node's lock (``node/NAME``) while it works there, so it never
runs on a node a drain or another prune is busy with.

``runtime ps`` and ``runtime logs`` never touch the API server: they are what still answers
when it is down.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar

from core import messages
from core.errors import ChatOpsError
from core.image_prune import KeepPattern, decide, keep_patterns
from core.nodework import (
    AgentBeat,
    ContainerInfo,
    EventKind,
    FailReason,
    FsUsage,
    ImageName,
    ImagesReply,
    ItemAction,
    ListImagesOp,
    LogsOp,
    LogsReply,
    PruneItem,
    PruneOp,
    PruneReply,
    PsOp,
    PsReply,
    RemoveImageOp,
    RemoveImageReply,
    TaskEvent,
    WireImage,
)
from handlers.agents import AgentLost, AgentProblem, NodeAgents
from handlers.control import Control
from handlers.images_models import (
    AgentInfo,
    ContainerRow,
    FailedImage,
    FleetImageRow,
    FleetImages,
    ImageFs,
    ImageRef,
    ImageRow,
    KeptImage,
    ListImages,
    NodeImages,
    NodeProblem,
    NodePruneOutcome,
    NodePrunePlan,
    NodeScope,
    NodeUnreached,
    PodSandboxRow,
    PruneImages,
    PrunePlan,
    PruneResult,
    RemoveImage,
    RemoveImageResult,
    RuntimeContainers,
    RuntimeLogLines,
    RuntimeLogs,
    RuntimePs,
)
from handlers.kube import KubeClient, KubeNotFound, resource_for
from handlers.retry import retrying

log = logging.getLogger(__name__)
#: Nodes worked on at once by ``--all`` / ``-l``.
MAX_PARALLEL_NODES = 8
#: Why an agent did nothing at all: its node was not reached, rather than left part-way.
_NOTHING_DONE = ("no-agent", "runtime-unreachable", "agent-outdated")
_T = TypeVar("_T")


def _agents(control: Control) -> NodeAgents:
    if control.agents is None:
        raise ChatOpsError(messages.AGENTS_NOT_CONNECTED.format())
    return control.agents


# --- Conversions from the wire -----------------------------------------------------------


def _fs(usages: Iterable[FsUsage]) -> list[ImageFs]:
    return [
        ImageFs(
            mountpoint=u.mountpoint,
            used_bytes=u.used_bytes,
            inodes_used=u.inodes_used,
            capacity_bytes=u.capacity_bytes,
            available_bytes=u.available_bytes,
        )
        for u in usages
    ]


def _ref(name: ImageName) -> ImageRef:
    return ImageRef(reference=name.reference, image_id=name.image_id, size_bytes=name.size_bytes)


def _agent(beat: AgentBeat) -> AgentInfo:
    return AgentInfo(
        node=beat.node,
        runtime_name=beat.runtime_name,
        runtime_version=beat.runtime_version,
        seen_at=beat.at,
        started_at=beat.started_at,
    )


def _agent_of(agents: NodeAgents, node: str) -> AgentInfo:
    """The agent that just answered for ``node``, as its heartbeat describes it (a blank one
    when the heartbeat expired in between)."""
    beat = agents.live().get(node)
    if beat is not None:
        return _agent(beat)
    return AgentInfo(node=node, runtime_name="", runtime_version="", seen_at=datetime.now(UTC))


def _repo_tag_pairs(image: WireImage) -> list[tuple[str, str]]:
    """``crictl images``' rows for one image: one per tag; ``<none>`` without one."""
    if not image.repo_tags:
        repository = image.repo_digests[0].split("@", 1)[0] if image.repo_digests else "<none>"
        return [(repository, "<none>")]
    pairs = []
    for repo_tag in image.repo_tags:
        repository, colon, tag = repo_tag.rpartition(":")
        pairs.append((repository, tag) if colon and "/" not in tag else (repo_tag, "<none>"))
    return pairs


def image_rows(images: Iterable[WireImage]) -> list[ImageRow]:
    rows = [
        ImageRow(
            repository=repository,
            tag=tag,
            image_id=image.id,
            size_bytes=image.size_bytes,
            pinned=image.pinned,
            sandbox_image=image.sandbox_image,
            used_by=tuple(image.used_by),
            created=image.created,
        )
        for image in images
        for repository, tag in _repo_tag_pairs(image)
    ]
    return sorted(rows, key=lambda r: (r.repository, r.tag, r.image_id))


def _kept(item: PruneItem) -> KeptImage:
    assert item.reason is not None
    return KeptImage(image=_ref(item.image), reason=item.reason.value, detail=item.detail)


def _reason(error: AgentProblem) -> str:
    """An agent that answers ``bad-task`` could not parse what this worker sent: it is older
    than the worker (an approved prune's op, say, during an upgrade), and did nothing."""
    return "agent-outdated" if error.reason == FailReason.BAD_TASK.value else error.reason


def _problem(error: AgentProblem) -> NodeProblem:
    reason = _reason(error)
    if reason not in (
        "no-agent",
        "runtime-unreachable",
        "agent-lost",
        "node-gone",
        "timeout",
        "agent-outdated",
    ):
        return NodeProblem(node=error.node, reason="agent-lost", detail=f"{reason} {error.detail}")
    return NodeProblem(node=error.node, reason=reason, detail=error.detail)


# --- Which nodes --------------------------------------------------------------------------


def _cluster_nodes(kube: KubeClient, control: Control, request: NodeScope) -> list[str]:
    """The nodes ``--all`` or ``-l`` names, from the API server (retried)."""
    kube = retrying(kube, control, verb=request.verb)
    path = resource_for("Node").path()
    return sorted(
        node["metadata"]["name"] for node in kube.list_pages(path, label_selector=request.selector)
    )


def _node_gone(kube: KubeClient, control: Control, verb: str, node: str) -> bool:
    """Whether the API server says ``node`` is not a node (any more); False when unsure."""
    try:
        retrying(kube, control, verb=verb).get(resource_for("Node").path(name=node))
    except KubeNotFound:
        return True
    except ChatOpsError:
        return False
    return False


def _unreached(
    kube: KubeClient | None, control: Control, verb: str, error: AgentProblem
) -> NodeUnreached:
    reason, detail = _reason(error), error.detail
    if (
        kube is not None
        and reason in ("no-agent", "agent-lost")
        and _node_gone(kube, control, verb, error.node)
    ):
        reason, detail = "node-gone", messages.IMAGES_NOT_A_NODE.format(node=error.node)
    return NodeUnreached(node=error.node, reason=reason, detail=detail)


def _each_node(
    nodes: list[str], work: Callable[[str], _T], control: Control
) -> list[tuple[str, _T | AgentProblem]]:
    """``work`` on every node, side by side; each node's answer or its problem, in order."""
    done = 0
    lock = threading.Lock()

    def run(node: str) -> _T | AgentProblem:
        nonlocal done
        try:
            answer: _T | AgentProblem = work(node)
        except AgentProblem as error:
            answer = error
        except Exception:  # one node's surprise must not lose the other nodes' results
            incident = uuid.uuid4().hex[:8]
            log.exception("work on node %s failed (incident %s)", node, incident)
            answer = AgentLost(node, f"incident {incident}")
        with lock:
            done += 1
            count = done
        if len(nodes) > 1:
            control.progress(
                messages.IMAGES_PROGRESS_NODE.format(node=node, done=count, total=len(nodes))
            )
        return answer

    if len(nodes) <= 1:
        return [(node, run(node)) for node in nodes]
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_NODES, len(nodes))) as pool:
        return list(zip(nodes, pool.map(run, nodes), strict=True))


# --- images -------------------------------------------------------------------------------


def list_images(
    request: ListImages, kube: KubeClient, control: Control
) -> NodeImages | FleetImages | NodeUnreached:
    agents = _agents(control)
    if request.node is not None:
        try:
            reply = agents.call(request.node, ListImagesOp())
        except AgentProblem as error:
            return _unreached(kube, control, request.verb, error)
        assert isinstance(reply, ImagesReply)
        return NodeImages(
            agent=_agent_of(agents, request.node),
            rows=image_rows(reply.images),
            fs=_fs(reply.fs),
        )
    keep = _keep(request.policy_keep, ())
    nodes = _cluster_nodes(kube, control, request)
    live = agents.live()
    problems = [NodeProblem(node=n, reason="no-agent") for n in nodes if n not in live]
    reached = [n for n in nodes if n in live]

    def one(node: str) -> ImagesReply:
        reply = agents.call(node, ListImagesOp())
        assert isinstance(reply, ImagesReply)
        return reply

    rows = []
    now = datetime.now(UTC)
    for node, answer in _each_node(reached, one, control):
        if isinstance(answer, AgentProblem):
            problems.append(_problem(answer))
            continue
        beat = live[node]
        rows.append(
            FleetImageRow(
                node=node,
                images=len(answer.images),
                bytes=sum(image.size_bytes for image in answer.images),
                reclaimable_bytes=decide(answer.images, keep=keep, now=now).bytes_to_free,
                agent_seen_at=beat.at,
                agent_started_at=beat.started_at,
            )
        )
    return FleetImages(rows=rows, problems=sorted(problems, key=lambda p: p.node))


# --- prune images and rmi -----------------------------------------------------------------


def _keep(policy_keep: Sequence[str], keep: Sequence[str]) -> list[KeepPattern]:
    """The keep patterns, compiled; a bad one is a sentence naming it."""
    try:
        return keep_patterns(policy_keep, keep)
    except ValueError as error:
        bad = next(p for p in (*policy_keep, *keep) if not _compiles(p))
        raise ChatOpsError(messages.IMAGES_BAD_KEEP.format(pattern=bad, reason=error)) from None


def _prune_op(request: PruneImages, *, dry_run: bool) -> PruneOp:
    _keep(request.policy_keep, request.keep)
    return PruneOp(
        dry_run=dry_run,
        keep=list(request.keep),
        policy_keep=list(request.policy_keep),
        older_than_seconds=request.older_than_seconds,
    )


def _held_to(op: PruneOp, approved: tuple[str, ...] | None) -> PruneOp:
    """``op`` for one node, holding it to the image ids approved there (None: no approval)."""
    if approved is None:
        return op
    return op.model_copy(update={"op": PruneOp.approved_op, "approved_ids": list(approved)})


def _compiles(pattern: str) -> bool:
    try:
        keep_patterns((), (pattern,))
    except ValueError:
        return False
    return True


def _targets(
    request: PruneImages, kube: KubeClient, control: Control
) -> tuple[list[str], list[NodeProblem]]:
    if request.node is not None:
        return [request.node], []
    nodes = _cluster_nodes(kube, control, request)
    live = _agents(control).live()
    return [n for n in nodes if n in live], [
        NodeProblem(node=n, reason="no-agent") for n in nodes if n not in live
    ]


def _outcome(node: str, reply: PruneReply) -> NodePruneOutcome:
    return NodePruneOutcome(
        node=node,
        removed=[_ref(name) for name in reply.removed],
        kept=[_kept(item) for item in reply.kept],
        failed=[FailedImage(image=_ref(i.image), error=i.detail) for i in reply.failed],
        fs_before=_fs(reply.fs_before),
        fs_after=_fs(reply.fs_after),
        window_median_us=reply.window.median_us if reply.window.count else None,
        window_max_us=reply.window.max_us if reply.window.count else None,
    )


def _partial(error: AgentProblem) -> NodePruneOutcome:
    """What a node's agent reported, item by item, before it stopped."""
    items = [event.item for event in error.done if event.item is not None]
    windows = [i.window_us for i in items if i.action is ItemAction.REMOVED and i.window_us]
    return NodePruneOutcome(
        node=error.node,
        removed=[_ref(i.image) for i in items if i.action is ItemAction.REMOVED],
        kept=[_kept(i) for i in items if i.action is ItemAction.KEPT and i.reason is not None],
        failed=[
            FailedImage(image=_ref(i.image), error=i.detail)
            for i in items
            if i.action is ItemAction.FAILED
        ],
        problem=_problem(error),
        window_max_us=max(windows) if windows else None,
    )


def _progress_removals(node: str, control: Control) -> Callable[[TaskEvent], None]:
    def seen(event: TaskEvent) -> None:
        item = event.item
        if event.kind is EventKind.ITEM and item is not None and item.action is ItemAction.REMOVED:
            control.progress(
                messages.IMAGES_PROGRESS_REMOVED.format(node=node, image=item.image.reference)
            )

    return seen


def _within_approved(
    request: PruneImages, nodes: list[str], problems: list[NodeProblem]
) -> tuple[list[str], list[NodeProblem], list[str]]:
    """An approved prune works only on the nodes of its approved plan: (nodes to work on,
    problems of those, the other nodes the request names now — left untouched)."""
    approved = request.approved
    if approved is None or request.dry_run:
        return nodes, problems, []
    named = [*nodes, *(p.node for p in problems)]
    outside = sorted({node for node in named if node not in approved.nodes})
    return (
        [node for node in nodes if node in approved.nodes],
        [p for p in problems if p.node in approved.nodes],
        outside,
    )


def prune_images(request: PruneImages, kube: KubeClient, control: Control) -> PruneResult:
    """Remove unused images on each node (``--dry-run``: say what would go, remove nothing).
    An approved prune removes only what its approvers saw (``request.approved``): the
    images of its plan that are still unused, on the nodes of its plan."""
    agents = _agents(control)
    op = _prune_op(request, dry_run=request.dry_run)
    nodes, problems = _targets(request, kube, control)
    nodes, problems, not_in_plan = _within_approved(request, nodes, problems)
    approved = None if request.dry_run else request.approved

    def one(node: str) -> PruneReply:
        held = _held_to(op, approved.nodes[node] if approved is not None else None)
        reply = agents.call(
            node, held, on_event=_progress_removals(node, control), exclusive=not request.dry_run
        )
        assert isinstance(reply, PruneReply)
        return reply

    outcomes = []
    for node, answer in _each_node(nodes, one, control):
        if isinstance(answer, AgentProblem):
            if request.node is not None and answer.reason == "no-agent" and not answer.done:
                unreached = _unreached(kube, control, request.verb, answer)
                problems.append(
                    NodeProblem(node=node, reason=unreached.reason, detail=unreached.detail)
                )
            elif _reason(answer) in _NOTHING_DONE and not answer.done:
                problems.append(_problem(answer))
            else:
                outcomes.append(_partial(answer))
            continue
        outcomes.append(_outcome(node, answer))
    return PruneResult(
        dry_run=request.dry_run,
        nodes=outcomes,
        problems=sorted(problems, key=lambda p: p.node),
        not_in_plan=not_in_plan,
    )


def plan_prune(kube: KubeClient, request: PruneImages | RemoveImage, control: Control) -> PrunePlan:
    """What approvers see: per node, what a prune (or ``rmi``) would remove and keep. Computed
    by the agents as a dry run; the prune itself decides again when it runs."""
    agents = _agents(control)
    if isinstance(request, RemoveImage):
        try:
            reply = agents.call(request.node, RemoveImageOp(image=request.image, dry_run=True))
        except AgentProblem as error:
            return PrunePlan(nodes=[], problems=[_problem(error)])
        assert isinstance(reply, RemoveImageReply)
        plan = NodePrunePlan(node=request.node, remove=[])
        if reply.image is not None and reply.dry_run:
            plan = NodePrunePlan(node=request.node, remove=[_ref(reply.image)])
        elif reply.image is not None and reply.reason in ("pinned", "sandbox-image", "in-use"):
            kept = KeptImage(
                image=_ref(reply.image),
                reason=reply.reason,
                detail=", ".join(reply.used_by[:5]),
            )
            plan = NodePrunePlan(node=request.node, remove=[], kept=[kept])
        return PrunePlan(nodes=[plan])
    dry = prune_images(request.model_copy(update={"dry_run": True}), kube, control)
    plans = [
        NodePrunePlan(node=o.node, remove=o.removed, kept=o.kept)
        for o in dry.nodes
        if o.problem is None
    ]
    problems = [o.problem for o in dry.nodes if o.problem is not None] + dry.problems
    return PrunePlan(nodes=plans, problems=problems)


def remove_image(request: RemoveImage, kube: KubeClient, control: Control) -> RemoveImageResult:
    """``rmi NODE IMAGE``: refused while any container uses it, or when it is pinned or the
    runtime's sandbox image; once approved, also when the reference names another image than
    the one on the plan (``not-approved``)."""
    agents = _agents(control)
    work = RemoveImageOp(image=request.image)
    if request.approved is not None:  # only the image the approvers saw, if any
        approved = request.approved.nodes.get(request.node, ())
        work = RemoveImageOp(
            op=RemoveImageOp.approved_op, image=request.image, approved_ids=list(approved)
        )
    try:
        reply = agents.call(request.node, work, exclusive=True)
    except AgentProblem as error:
        removed = [e.item for e in error.done if e.item and e.item.action is ItemAction.REMOVED]
        return RemoveImageResult(
            node=request.node,
            image=_ref(removed[0].image) if removed else None,
            removed=bool(removed),
            reason=None if removed else _unreached(kube, control, request.verb, error).reason,
        )
    assert isinstance(reply, RemoveImageReply)
    return RemoveImageResult(
        node=request.node,
        image=_ref(reply.image) if reply.image else None,
        removed=reply.removed,
        reason=reply.reason,
        used_by=tuple(reply.used_by),
        fs_before=_fs(reply.fs_before),
        fs_after=_fs(reply.fs_after),
        window_us=reply.window_us,
    )


# --- runtime ps / logs: no API server -----------------------------------------------------


def runtime_ps(
    request: RuntimePs, kube: KubeClient, control: Control
) -> RuntimeContainers | NodeUnreached:
    del kube  # the point of this command: it answers while the API server does not
    agents = _agents(control)
    try:
        reply = agents.call(request.node, PsOp())
    except AgentProblem as error:
        return _unreached(None, control, request.verb, error)
    assert isinstance(reply, PsReply)
    return RuntimeContainers(
        agent=_agent_of(agents, request.node),
        pods=[
            PodSandboxRow(
                pod_id=p.id,
                name=p.name,
                namespace=p.namespace,
                state=p.state,
                created=p.created,
                attempt=p.attempt,
            )
            for p in reply.pods
        ],
        containers=[_container(c) for c in reply.containers],
    )


def _container(c: ContainerInfo) -> ContainerRow:
    return ContainerRow(
        container_id=c.id,
        image=c.image,
        created=c.created,
        state=c.state,
        name=c.name,
        attempt=c.attempt,
        pod_id=c.pod_id,
        pod_name=c.pod_name,
        pod_namespace=c.pod_namespace,
    )


def runtime_logs(
    request: RuntimeLogs, kube: KubeClient, control: Control
) -> RuntimeLogLines | NodeUnreached:
    """A container's log file, read and masked on the node (the worker's redaction rules are
    the agent's too: built in, plus its ``K8S_CHATOPS_REDACT_PATTERNS_FILE``)."""
    del kube
    caps = control.caps
    work = LogsOp(
        container=request.container,
        tail=request.tail,
        max_lines=caps.max_lines,
        max_bytes=caps.max_bytes,
        max_line_bytes=caps.max_line_bytes,
    )
    try:
        reply = _agents(control).call(request.node, work)
    except AgentProblem as error:
        return _unreached(None, control, request.verb, error)
    assert isinstance(reply, LogsReply)
    # Masked on the agent already; masking again here changes nothing that was masked, and
    # catches what this worker's own patterns know and the agent's did not.
    lines, masked = [], reply.masked
    for text, count in control.redactor.redact_lines(reply.lines):
        lines.append(text)
        masked += count
    return RuntimeLogLines(
        node=request.node,
        container_id=reply.container_id,
        container_name=reply.container_name,
        lines=lines,
        omitted=reply.omitted,
        masked=masked,
    )
