"""Cluster facts for policy decisions, published by workers and read by the bot.

The bot has no cluster credentials, yet rules may select nodes by label and limit how many
nodes are unschedulable. Workers publish what the policy needs — each node's labels and
whether it is unschedulable, plus totals — into Redis every ``interval`` seconds; the bot reads
the snapshot. When no snapshot exists the facts are unknown, and the engine then applies
restrictive rules to be safe.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import redis

from bot.jobs.model import node_facts_key
from handlers.kube import KubeClient, KubeError, resource_for

log = logging.getLogger(__name__)
_SUMMARY = "__summary__"


@dataclass(frozen=True)
class NodeFacts:
    labels: dict[str, str] | None
    unschedulable: bool | None
    total_nodes: int | None
    unschedulable_nodes: int | None


def publish(kube: KubeClient, client: redis.Redis, cluster: str, ttl: int = 300) -> int:
    """Write every node's labels and schedulability; return how many nodes there are."""
    nodes = {
        node["metadata"]["name"]: (
            node["metadata"].get("labels") or {},
            bool(node["spec"].get("unschedulable")),
        )
        for node in kube.list_pages(resource_for("Node").path())
    }
    write(client, cluster, nodes, ttl)
    return len(nodes)


def write(
    client: redis.Redis,
    cluster: str,
    nodes: Mapping[str, tuple[Mapping[str, str], bool]],
    ttl: int = 300,
) -> None:
    """Replace the snapshot with ``nodes``: each node's labels and whether it is
    unschedulable, and the totals the limits need."""
    mapping = {
        name: json.dumps({"labels": dict(labels), "unschedulable": off})
        for name, (labels, off) in nodes.items()
    }
    unschedulable = sum(off for _, off in nodes.values())
    mapping[_SUMMARY] = json.dumps({"total": len(nodes), "unschedulable": unschedulable})
    key = node_facts_key(cluster)
    pipe = client.pipeline(transaction=True)
    pipe.delete(key)
    pipe.hset(key, mapping=cast(Any, mapping))
    pipe.expire(key, ttl)
    pipe.execute()


def read(client: redis.Redis, cluster: str, node: str | None) -> NodeFacts:
    key = node_facts_key(cluster)
    fields = [_SUMMARY, node] if node else [_SUMMARY]
    values = cast(list[Any], client.hmget(key, fields))
    summary = json.loads(values[0]) if values[0] else None
    entry = json.loads(values[1]) if node and values[1] else None
    return NodeFacts(
        labels=entry["labels"] if entry else None,
        unschedulable=entry["unschedulable"] if entry else None,
        total_nodes=summary["total"] if summary else None,
        unschedulable_nodes=summary["unschedulable"] if summary else None,
    )


class Publisher(threading.Thread):
    """Keeps the snapshot fresh while a worker runs."""

    def __init__(
        self, kube: KubeClient, client: redis.Redis, cluster: str, interval: float = 15.0
    ) -> None:
        super().__init__(name="node-facts", daemon=True)
        self.kube, self.client, self.cluster, self.interval = kube, client, cluster, interval
        self.stopping = threading.Event()

    def run(self) -> None:
        while True:
            try:
                publish(self.kube, self.client, self.cluster, ttl=int(self.interval * 4))
            except (KubeError, redis.RedisError) as error:
                log.warning("could not publish node facts: %s", type(error).__name__)
            if self.stopping.wait(self.interval):
                return
