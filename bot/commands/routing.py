"""Which cluster a command goes to.

One Slack app serves many clusters; each cluster has its own queue and its own workers. The
rule, in order (docs/architecture.md#clusters):

1. the cluster the command names: ``/k8s -C prod drain node1`` (it must be a known one);
2. a command naming a job (``approve``, ``deny``, ``cancel``) acts on that job's cluster;
3. the default of the channel it came from (``channel_defaults`` in the policy file);
4. the bot's own default, ``K8S_CHATOPS_CLUSTER``, if it is set;
5. the only known cluster, when exactly one is known — so a single-cluster install needs no
   configuration at all;
6. otherwise the command is refused with the list of known clusters.

Known clusters are those a worker reported from (heartbeats, remembered for the job
retention), those the policy file declares, and the bot's default. Commands the bot answers
itself (``jobs``, ``audit``, ``clusters``, ``help``) need no cluster: without ``-C`` they are
about all of them.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable

from bot.commands.registry import Parsed
from bot.jobs.model import Job
from core import messages
from core.errors import CommandError
from core.text import code
from policies.model import PolicyDocument


class ClusterRouter:
    def __init__(
        self,
        policy: Callable[[], PolicyDocument],
        seen: Callable[[], Iterable[str]],
        default: str | None = None,
    ) -> None:
        self.policy = policy
        #: Clusters workers have reported from (Redis).
        self.seen = seen
        self.default = default

    def known(self) -> list[str]:
        names = set(self.seen()) | set(self.policy().clusters)
        if self.default:
            names.add(self.default)
        return sorted(names)

    def check(self, name: str, known: list[str] | None = None) -> str:
        """``name`` if it is a known cluster; otherwise a refusal with "did you mean"."""
        known = self.known() if known is None else known
        if name in known:
            return name
        match = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = messages.DID_YOU_MEAN.format(suggestion=code(match[0])) if match else ""
        raise CommandError(
            messages.UNKNOWN_CLUSTER.format(name=code(name), hint=hint, known=_listed(known))
        )

    def route(self, parsed: Parsed, channel: str | None, job: Job | None = None) -> str | None:
        """The cluster ``parsed`` is for, or None for a command the bot answers about all."""
        named = parsed.cluster
        if job is not None:
            if named is not None and named != job.cluster:
                raise CommandError(
                    messages.JOB_ON_OTHER_CLUSTER.format(
                        job_id=job.id, cluster=code(job.cluster), named=code(named)
                    )
                )
            return job.cluster
        if parsed.command.perform is None:
            return self.check(named) if named is not None else None
        if named is not None:
            return self.check(named)
        chosen = self.policy().default_cluster(channel) or self.default
        if chosen:
            return chosen
        known = self.known()
        if len(known) == 1:
            return known[0]
        if not known:
            raise CommandError(messages.NO_CLUSTER_KNOWN.format())
        example = code(f"/k8s -C {known[0]} {parsed.request.command_text()}")
        raise CommandError(messages.WHICH_CLUSTER.format(example=example, known=_listed(known)))


def _listed(names: list[str]) -> str:
    return ", ".join(code(name) for name in names) or messages.NO_CLUSTERS_LISTED.format()
