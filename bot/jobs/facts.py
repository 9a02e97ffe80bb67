"""Cluster facts for policy decisions, published by workers and read by the bot.

The bot has no cluster credentials, yet rules may select nodes by label and limit how many
nodes are unschedulable. Workers publish what the policy needs — each node's labels and
whether it is unschedulable, plus totals — into Redis with every heartbeat
(:class:`bot.jobs.clusters.Heartbeat`), per cluster; the bot reads the snapshot of the cluster a
command is for. When no snapshot exists the facts are unknown, and the engine then applies
restrictive rules to be safe.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import redis

from bot.jobs.model import node_facts_key
from handlers.kube import KubeClient, resource_for

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


#: Nothing is known: no worker has published, or the question is about no one cluster.
UNKNOWN = NodeFacts(labels=None, unschedulable=None, total_nodes=None, unschedulable_nodes=None)


def read(client: redis.Redis, cluster: str | None, node: str | None) -> NodeFacts:
    """What the workers of ``cluster`` last published about it and about ``node``."""
    if cluster is None:
        return UNKNOWN
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
