"""``clusters``: every cluster the bot knows, whether workers serve it, and what waits for it.

Answered by the bot from Redis: workers' heartbeats (Kubernetes version, node count) and each
cluster's queue. A cluster whose workers have all gone is listed as such; jobs sent to it
wait in its queue until a worker starts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from bot.commands.parsing import no_arguments
from bot.commands.registry import Command, Context
from bot.commands.render import human_duration, table
from bot.commands.replies import Reply
from bot.jobs import clusters
from bot.jobs.clusters import ClusterStatus
from core import messages
from handlers.base import RequestBase
from policies.model import Access


class ClustersRequest(RequestBase):
    kind: Literal["clusters_request"] = "clusters_request"

    @property
    def verb(self) -> str:
        return "get"

    @property
    def target(self) -> str:
        return "clusters"


def parse_clusters(args: list[str]) -> ClustersRequest:
    no_arguments("clusters", args)
    return ClustersRequest()


def render_clusters(statuses: list[ClusterStatus], *, now: datetime | None = None) -> str:
    """A kubectl-style table, then a line for each cluster nobody serves."""
    if not statuses:
        return messages.CLUSTERS_NONE.format()
    moment = now or datetime.now(UTC)
    rows = []
    notes = []
    for status in statuses:
        latest = status.latest
        queue = status.queue
        oldest = "-"
        if queue.oldest_at is not None:
            age = human_duration((moment - queue.oldest_at).total_seconds())
            oldest = f"{age} (job {queue.oldest_job})" if queue.oldest_job else age
        rows.append(
            (
                status.name,
                str(len(status.workers)) if status.served else "none",
                (latest.kubernetes_version if latest else None) or "-",
                str(latest.nodes) if latest and latest.nodes is not None else "-",
                f"{queue.waiting}+" if queue.more else str(queue.waiting),
                oldest,
            )
        )
        if not status.served:
            waiting = f"{queue.waiting}+" if queue.more else str(queue.waiting)
            notes.append(messages.CLUSTERS_UNSERVED.format(cluster=status.name, waiting=waiting))
        elif latest is not None and latest.nodes is None:
            notes.append(messages.CLUSTER_API_SILENT.format(cluster=status.name))
    header = ("CLUSTER", "WORKERS", "VERSION", "NODES", "QUEUED", "OLDEST")
    return "\n".join([table(header, rows), *notes])


def show_clusters(context: Context, request: ClustersRequest) -> Reply:
    names = [context.cluster] if context.cluster else context.known_clusters()
    redis = context.store.redis
    return Reply(render_clusters([clusters.status(redis, name) for name in names]))


COMMANDS = (
    Command(
        verb="clusters",
        rank=16,
        usage="clusters",
        summary=messages.HELP_CLUSTERS_SUMMARY,
        documentation="every known cluster: live workers (heartbeats), Kubernetes version, node "
        "count, jobs waiting in its queue and the oldest of them; a cluster with no live worker "
        "says so, and its jobs wait for one",
        parse=parse_clusters,
        policy_verbs={"get": Access.READ},
        answer=show_clusters,
    ),
)
