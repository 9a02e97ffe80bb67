"""One mutating job per target at a time, and a cap on how many nodes we disrupt at once.

Target locks are Redis keys holding the job id, with a lease the worker renews while the job
runs; a dead worker's lock expires on its own. The disruption cap is a hash of the nodes that
are cordoned or draining because of us (node → job id); a job may add its node only if the
node is already there or fewer than ``cap`` nodes are, decided in one script so that two
concurrent requests can never both pass. Nodes someone uncordoned outside the bot are pruned
before each check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import redis

from bot.jobs.model import disrupted_key, lock_key

_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return holder end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
"""
_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""
_RESERVE = """
local present = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
if present or redis.call('HLEN', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return {}
end
return redis.call('HGETALL', KEYS[1])
"""
_PRUNE = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
return redis.call('HDEL', KEYS[1], ARGV[1])
"""


@dataclass(frozen=True)
class CapRefusal:
    cap: int
    holders: dict[str, str]  # node → job id


class Locks:
    def __init__(self, client: redis.Redis, cluster: str) -> None:
        self.redis = client
        self.cluster = cluster
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)
        self._reserve = client.register_script(_RESERVE)
        self._prune = client.register_script(_PRUNE)

    def acquire(self, target: str, job_id: str, lease_ms: int) -> str:
        """Take the target for ``job_id``; return the holder (``job_id`` when we got it)."""
        holder = self._acquire(keys=[lock_key(self.cluster, target)], args=[job_id, lease_ms])
        return str(holder)

    def renew(self, target: str, job_id: str, lease_ms: int) -> bool:
        return bool(self._renew(keys=[lock_key(self.cluster, target)], args=[job_id, lease_ms]))

    def release(self, target: str, job_id: str) -> None:
        self._release(keys=[lock_key(self.cluster, target)], args=[job_id])

    def disrupted(self) -> dict[str, str]:
        return cast(dict[str, str], self.redis.hgetall(disrupted_key(self.cluster)))

    def reserve_disruption(
        self,
        node: str,
        job_id: str,
        cap: int,
        *,
        still_disrupted: Callable[[str], bool],
        job_active: Callable[[str], bool],
    ) -> CapRefusal | None:
        """Count ``node`` as disrupted by ``job_id`` unless that would exceed ``cap``.

        A node is pruned only when the job that reserved it has ended and the node is
        schedulable again: a job that is still starting has not cordoned its node yet.
        """
        key = disrupted_key(self.cluster)
        for other, holder in self.disrupted().items():
            if other != node and not job_active(holder) and not still_disrupted(other):
                self._prune(keys=[key], args=[other, holder])
        answer = cast(list[Any], self._reserve(keys=[key], args=[node, job_id, cap]))
        if not answer:
            return None
        pairs = dict(zip(answer[::2], answer[1::2], strict=True))
        return CapRefusal(cap=cap, holders={str(k): str(v) for k, v in pairs.items()})

    def end_disruption(self, node: str) -> None:
        self.redis.hdel(disrupted_key(self.cluster), node)
