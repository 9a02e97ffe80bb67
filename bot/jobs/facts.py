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
    mapping: dict[str, str] = {}
    unschedulable = 0
    for node in kube.list_pages(resource_for("Node").path()):
        off = bool(node["spec"].get("unschedulable"))
        unschedulable += off
        mapping[node["metadata"]["name"]] = json.dumps(
            {"labels": node["metadata"].get("labels") or {}, "unschedulable": off}
        )
    mapping[_SUMMARY] = json.dumps({"total": len(mapping), "unschedulable": unschedulable})
    key = node_facts_key(cluster)
    pipe = client.pipeline(transaction=True)
    pipe.delete(key)
    pipe.hset(key, mapping=cast(Any, mapping))
    pipe.expire(key, ttl)
    pipe.execute()
    return len(mapping) - 1


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
