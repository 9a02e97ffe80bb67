"""The bot and ``k8s-chatops policy check`` give the same decision and rule (issue 13).

One corpus of commands — every verb, flags that change the decision, ``logs -A`` and
``-n a,b``, dry-run drains, protected nodes, limits, change windows, rules and limits scoped to
one cluster, and approve, deny and cancel on a job — goes through both paths: the Dispatcher
on a real Redis, with node facts written into Redis as workers publish them (for each
cluster), a clock, and a job created first where the command answers one; and ``python -m
bot.cli policy check`` in a subprocess, with the same facts as flags. Each must give the
decision and rule the corpus expects.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.commands.dispatcher import Dispatcher
from bot.commands.registry import registry
from bot.jobs import facts
from bot.jobs.model import JobState, Origin
from bot.jobs.store import JobStore
from policies.loader import parse_policy

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
FRIDAY = datetime(2030, 1, 11, 10, 0, tzinfo=UTC)
SATURDAY = datetime(2030, 1, 12, 10, 0, tzinfo=UTC)
RATE = 3
#: The bot's own default cluster (the store's): where a command naming none goes.
DEFAULT_CLUSTER = "sandbox"
PROD = "prod"

POLICY = f"""
version: 1
clusters: [{DEFAULT_CLUSTER}, {PROD}]
groups:
  platform: {{users: [U_ADMIN]}}
channels:
  ops: [C0OPS]
roles:
  member: {{verbs: [help, whoami, get, jobs, logs]}}
  operator: {{verbs: [help, whoami, get, jobs, audit, logs, node-logs, cordon, uncordon, drain,
                     approve, cancel, images, runtime, prune-images]}}
  admin: {{verbs: ["*"]}}
  reviewer: {{verbs: [approve]}}
bindings:
  - {{role: member, everyone: true}}
  - {{role: operator, users: [U_OPS, U_OPS2, U_BUSY]}}
  - {{role: operator, users: [U_CHAN], channels: [ops]}}
  - {{role: admin, groups: [platform]}}
  - {{role: reviewer, users: [U_REVIEWER]}}
rules:
  - name: drain-needs-a-second-person
    verbs: [drain]
    effect: require_approval
    approval: {{count: 1, approvers: {{roles: [operator, admin]}}, expires_in: 3d}}
  - {{name: anyone-may-dry-run, verbs: [drain], flags: [dry-run], effect: allow}}
  - {{name: disable-eviction-is-for-admins, verbs: [drain], flags: [disable-eviction],
     unless: {{roles: [admin]}}, effect: deny}}
  - {{name: team-nodes-by-name, verbs: [drain], nodes: {{names: ["k8s-node3"]}},
     subjects: {{users: [U_OPS2]}}, effect: deny}}
  - {{name: previous-logs-are-for-operators, verbs: [logs], flags: [previous],
     unless: {{roles: [operator, admin]}}, effect: deny}}
  - {{name: all-namespaces-is-for-operators, verbs: [logs], flags: [all-namespaces],
     unless: {{roles: [operator, admin]}}, effect: deny}}
  - {{name: kube-system-logs-are-for-operators, verbs: [logs], namespaces: [kube-system],
     unless: {{roles: [operator, admin]}}, effect: deny}}
  - {{name: no-approvals-by-ops2, verbs: [approve], subjects: {{users: [U_OPS2]}}, effect: deny}}
  - {{name: no-cancels-by-ops2, verbs: [cancel], subjects: {{users: [U_OPS2]}}, effect: deny}}
  - name: image-removal-needs-a-second-person
    verbs: [prune-images]
    effect: require_approval
    approval: {{count: 1, approvers: {{roles: [operator, admin]}}, expires_in: 3d}}
  - name: fleet-wide-prunes-need-two
    verbs: [prune-images]
    flags: [all]
    effect: require_approval
    approval: {{count: 2, approvers: {{roles: [operator, admin]}}, expires_in: 3d}}
  - name: prod-cordons-need-a-second-person
    clusters: [{PROD}]
    verbs: [cordon]
    effect: require_approval
    approval: {{count: 1, approvers: {{roles: [operator, admin]}}, expires_in: 3d}}
protected:
  nodes: {{selector: node-role.kubernetes.io/control-plane}}
  approval: {{count: 2, approvers: {{roles: [operator, admin]}}, expires_in: 30m}}
limits:
  max_unschedulable: 2
  rate: {{requests: {RATE}, per: 1h}}
  change_windows:
    - {{days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00", timezone: UTC}}
  per_cluster:
    {PROD}:
      max_unschedulable: 1
      change_windows:
        - {{days: [mon, tue, wed, thu, fri, sat, sun], start: "09:00", end: "17:00",
           timezone: UTC}}
"""

NODES = {
    "k8s-master": {
        "kubernetes.io/hostname": "k8s-master",
        "node-role.kubernetes.io/control-plane": "",
    },
    "k8s-node1": {"kubernetes.io/hostname": "k8s-node1"},
    "k8s-node2": {"kubernetes.io/hostname": "k8s-node2"},
    "k8s-node3": {"kubernetes.io/hostname": "k8s-node3"},
}


@dataclass(frozen=True)
class Job:
    """A job asked for first, through the Dispatcher, that the case's command answers."""

    requester: str
    command: str
    cordoned: tuple[str, ...] = ()
    #: Asked with ``-C``; None: the bot's default.
    cluster: str | None = None


@dataclass(frozen=True)
class Case:
    user: str
    command: str
    decision: str
    rule: str
    #: The node the facts describe (the command's target, or the job's).
    node: str = "k8s-node1"
    cordoned: tuple[str, ...] = ()
    at: datetime = FRIDAY
    recent: int = 0
    channel: str | None = None
    #: The job the command answers (``JOB`` in it), asked first, on Friday inside the window.
    job: Job | None = None
    #: Named with ``-C`` to the bot and ``--cluster`` to ``policy check``; None: the bot's
    #: default (for an answer: the job's cluster).
    cluster: str | None = None

    @property
    def id(self) -> str:
        on = f"-C {self.cluster} " if self.cluster else ""
        job = (
            f" (-C {self.job.cluster} {self.job.command})" if self.job and self.job.cluster else ""
        )
        job = job or (f" ({self.job.command})" if self.job else "")
        return f"{self.user}: {on}{self.command}{job}"


OPS_DRAIN = Job("U_OPS", "drain k8s-node1 --ignore-daemonsets")
VIEW_DRY_RUN = Job("U_VIEW", "drain k8s-node1 --dry-run=server")
VIEW_GET = Job("U_VIEW", "get nodes")
OPS2_CORDON = Job("U_OPS2", "cordon k8s-node2")
PROD_CORDON = Job("U_OPS", "cordon k8s-node1", cluster=PROD)

CORPUS = [
    # Reads, and who may read what.
    Case("U_VIEW", "get nodes", "allow", "role member"),
    Case("U_VIEW", "version", "allow", "role member"),
    Case("U_VIEW", "help", "allow", "role member"),
    Case("U_VIEW", "whoami", "allow", "role member"),
    Case("U_VIEW", "jobs", "allow", "role member"),
    Case("U_VIEW", "audit", "deny", "default deny"),
    Case("U_OPS", "audit 5", "allow", "role operator"),
    Case("U_VIEW", "get nodes", "allow", "role member", at=SATURDAY),  # reads any time
    # Node changes: roles, protected nodes, the unschedulable limit, windows, the rate.
    Case("U_VIEW", "cordon k8s-node1", "deny", "default deny"),
    Case("U_OPS", "cordon k8s-node1", "allow", "role operator"),
    Case("U_OPS", "cordon k8s-master", "needs_approval", "protected target", node="k8s-master"),
    Case("U_OPS", "cordon k8s-node1", "deny", "limits", cordoned=("k8s-node2", "k8s-node3")),
    Case(
        "U_OPS",
        "cordon k8s-node2",
        "allow",
        "role operator",
        node="k8s-node2",
        cordoned=("k8s-node2", "k8s-node3"),
    ),
    Case("U_OPS", "uncordon k8s-node2", "allow", "role operator", node="k8s-node2"),
    Case("U_OPS", "cordon k8s-node1", "deny", "limits", at=SATURDAY),
    Case("U_BUSY", "cordon k8s-node1", "deny", "limits", recent=RATE),
    Case("U_BUSY", "get nodes", "allow", "role member", recent=RATE),  # reads are not counted
    Case("U_CHAN", "cordon k8s-node1", "allow", "role operator", channel="C0OPS"),
    Case("U_CHAN", "cordon k8s-node1", "deny", "default deny", channel="C0ELSEWHERE"),
    # Drains: approval, flags, dry runs, nodes named by a rule.
    Case(
        "U_OPS",
        "drain k8s-node1 --ignore-daemonsets",
        "needs_approval",
        "drain-needs-a-second-person",
    ),
    Case(
        "U_OPS",
        "drain k8s-master --ignore-daemonsets",
        "needs_approval",
        "drain-needs-a-second-person, protected target",
        node="k8s-master",
    ),
    Case("U_OPS", "drain k8s-node1 --disable-eviction", "deny", "disable-eviction-is-for-admins"),
    Case(
        "U_ADMIN",
        "drain k8s-node1 --disable-eviction",
        "needs_approval",
        "drain-needs-a-second-person",
    ),
    Case("U_VIEW", "drain k8s-node1", "deny", "default deny"),
    Case(
        "U_VIEW",
        "drain k8s-node1 --dry-run=server",
        "needs_approval",
        "drain-needs-a-second-person",
    ),
    Case(
        "U_OPS",
        "drain k8s-master --dry-run=client",
        "needs_approval",
        "drain-needs-a-second-person",
        node="k8s-master",
        at=SATURDAY,
    ),  # a dry run changes nothing: no window, no protected target
    Case("U_OPS2", "drain k8s-node3", "deny", "team-nodes-by-name", node="k8s-node3"),
    # Logs: flags, namespaces, -A, node logs.
    Case("U_VIEW", "logs web", "allow", "role member"),
    Case("U_VIEW", "logs web -p", "deny", "previous-logs-are-for-operators"),
    Case("U_OPS", "logs web --previous", "allow", "role member"),  # the first role granting
    Case("U_VIEW", "logs web -A", "deny", "all-namespaces-is-for-operators"),
    Case("U_OPS", "logs web -A", "allow", "role member"),
    Case("U_VIEW", "logs web -n default,kube-system", "deny", "kube-system-logs-are-for-operators"),
    Case("U_OPS", "logs web -n default,kube-system", "allow", "role member"),
    Case("U_VIEW", "logs deploy/web -n shop -c app --tail 10", "allow", "role member"),
    Case("U_VIEW", "logs node/k8s-node1 --query kubelet", "deny", "default deny"),
    Case("U_OPS", "logs node/k8s-node1 --query kubelet", "allow", "role operator"),
    # Reads of pods, events and nodes: `get` for every resource, and for `describe`.
    Case("U_VIEW", "get pods -n shop -o wide", "allow", "role member"),
    Case("U_VIEW", "get events -A --types Warning", "allow", "role member"),
    Case("U_VIEW", "get nodes --problems", "allow", "role member", at=SATURDAY),
    Case("U_VIEW", "describe node k8s-node1", "allow", "role member"),
    Case("U_VIEW", "describe pod web-0 -n shop", "allow", "role member"),
    # Images and the runtime: reads, a dry run decided as `images`, removal, fleet-wide flags.
    Case("U_VIEW", "images k8s-node1", "deny", "default deny"),
    Case("U_OPS", "images --all", "allow", "role operator", at=SATURDAY),
    Case("U_OPS", "runtime logs k8s-node1 web --tail 5", "allow", "role operator"),
    Case("U_OPS", "prune images -l pool=a --dry-run", "allow", "role operator", at=SATURDAY),
    Case(
        "U_OPS",
        "prune images k8s-node1 --older-than 7d",
        "needs_approval",
        "image-removal-needs-a-second-person",
    ),
    Case(
        "U_OPS",
        "prune images --all --keep debug",
        "needs_approval",
        "image-removal-needs-a-second-person, fleet-wide-prunes-need-two",
    ),
    Case(
        "U_OPS",
        "rmi k8s-master registry.k8s.io/pause:3.10",
        "needs_approval",
        "image-removal-needs-a-second-person, protected target",
        node="k8s-master",
    ),
    Case("U_OPS", "prune images k8s-node1", "deny", "limits", at=SATURDAY),
    # Answers to a job: the verb's policy, the approver rules, the job decided again.
    Case("U_ADMIN", "approve JOB", "allow", "role admin", job=OPS_DRAIN),
    Case("U_OPS2", "approve JOB", "deny", "no-approvals-by-ops2", job=OPS_DRAIN),
    Case("U_REVIEWER", "approve JOB", "deny", "approvers", job=OPS_DRAIN),
    Case("U_VIEW", "approve JOB", "deny", "default deny", job=OPS_DRAIN),
    Case("U_OPS", "approve JOB", "deny", "approvers", job=OPS_DRAIN),  # one's own
    Case("U_ADMIN", "approve JOB", "deny", "limits", job=OPS_DRAIN, at=SATURDAY),
    Case(
        "U_ADMIN",
        "approve JOB looks fine",
        "deny",
        "limits",
        job=OPS_DRAIN,
        cordoned=("k8s-node2", "k8s-node3"),
    ),  # the limit was reached while it waited
    Case("U_ADMIN", "deny JOB not now", "allow", "role admin", job=OPS_DRAIN, at=SATURDAY),
    Case("U_VIEW", "deny JOB", "allow", "own job", job=VIEW_DRY_RUN),
    Case("U_VIEW", "deny JOB", "deny", "default deny", job=OPS_DRAIN),
    Case("U_REVIEWER", "deny JOB", "deny", "approvers", job=OPS_DRAIN),
    Case("U_VIEW", "cancel JOB", "allow", "own job", job=VIEW_GET),
    Case("U_VIEW", "cancel JOB", "deny", "default deny", job=OPS2_CORDON),
    Case("U_OPS2", "cancel JOB", "deny", "no-cancels-by-ops2", job=OPS2_CORDON),
    Case("U_OPS", "cancel JOB", "allow", "role operator", job=VIEW_GET, at=SATURDAY),
    # Clusters: rules and limits scoped to one, and answers decided on the job's cluster.
    Case("U_VIEW", "clusters", "allow", "role member"),
    Case(
        "U_OPS",
        "cordon k8s-node1",
        "needs_approval",
        "prod-cordons-need-a-second-person",
        cluster=PROD,
    ),
    Case("U_OPS", "cordon k8s-node1", "deny", "limits", cordoned=("k8s-node2",), cluster=PROD),
    Case("U_OPS", "cordon k8s-node1", "allow", "role operator", cordoned=("k8s-node2",)),
    Case(
        "U_OPS",
        "uncordon k8s-node2",
        "allow",
        "role operator",
        node="k8s-node2",
        at=SATURDAY,
        cluster=PROD,
    ),
    Case("U_OPS", "uncordon k8s-node2", "deny", "limits", node="k8s-node2", at=SATURDAY),
    Case("U_ADMIN", "approve JOB", "allow", "role admin", job=PROD_CORDON, at=SATURDAY),
    Case("U_ADMIN", "approve JOB", "deny", "limits", job=PROD_CORDON, cordoned=("k8s-node2",)),
    Case("U_OPS", "approve JOB", "deny", "approvers", job=PROD_CORDON),  # one's own
]


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def publish(store: JobStore, cordoned: tuple[str, ...]) -> None:
    """The same nodes in each cluster, as each cluster's workers publish them."""
    for cluster in (store.cluster, PROD):
        facts.write(
            store.redis, cluster, {n: (labels, n in cordoned) for n, labels in NODES.items()}
        )


def on(cluster: str | None, command: str) -> str:
    return f"-C {cluster} {command}" if cluster else command


def routed(command: str) -> bool:
    """The bot sends it to one cluster: a job, or a command naming a job."""
    found = registry().find(command.split(maxsplit=1)[0])
    return found is not None and (found.perform is not None or found.names_a_job)


def through_the_bot(store: JobStore, case: Case) -> tuple[str, str]:
    clock = Clock(FRIDAY)
    assert store.cluster == DEFAULT_CLUSTER
    dispatcher = Dispatcher(parse_policy(POLICY, "agreement"), store, clock=clock)
    command = on(case.cluster, case.command)
    if case.job is not None:
        publish(store, case.job.cordoned)
        job_command = on(case.job.cluster, case.job.command)
        asked = dispatcher.submit(job_command, user=case.job.requester, origin=SHELL)
        assert asked.job is not None, asked.text
        command = command.replace("JOB", asked.job.id)
    for _ in range(case.recent):
        store.count_recent(case.user, 3600, record=True)
    publish(store, case.cordoned)
    clock.now = case.at
    origin = Origin(surface="slack", channel=case.channel) if case.channel else SHELL
    reply = dispatcher.submit(command, user=case.user, origin=origin)
    if not reply.ok:
        return "deny", reply.rule
    job = reply.job if reply.created else None
    waits = job is not None and job.state is JobState.AWAITING_APPROVAL
    return ("needs_approval" if waits else "allow"), reply.rule


def through_policy_check(agreement_file: Path, case: Case) -> tuple[str, str]:
    labels = ",".join(f"{k}={v}" for k, v in NODES[case.node].items())
    args = [
        "--file", str(agreement_file), "--user", case.user, "--command",
        case.command.replace("JOB", "7"), "--groups", "", "--channel", case.channel or "",
        "--node-labels", labels, "--unschedulable", str(len(case.cordoned)),
        "--nodes", str(len(NODES)),
        "--target-unschedulable", "yes" if case.node in case.cordoned else "no",
        "--recent", str(case.recent), "--at", case.at.isoformat(),
    ]  # fmt: skip
    if case.job is not None:
        args += ["--requester", case.job.requester, "--requester-groups", ""]
        args += ["--job-command", on(case.job.cluster, case.job.command)]
    if case.cluster is not None:
        args += ["--cluster", case.cluster]
    elif routed(case.command) and (case.job is None or case.job.cluster is None):
        # The bot's own default (K8S_CHATOPS_CLUSTER), which the file cannot know.
        args += ["--cluster", DEFAULT_CLUSTER]
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "policy", "check", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    shown = dict(line.split(":", 1) for line in result.stdout.splitlines())
    return shown["decision"].strip(), shown["rule"].strip()


SHELL = Origin(surface="shell")


@pytest.fixture(scope="module")
def agreement_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("agreement") / "policy.yaml"
    path.write_text(POLICY)
    return path


@pytest.mark.parametrize("case", CORPUS, ids=[case.id for case in CORPUS])
def test_the_bot_and_policy_check_agree(store: JobStore, agreement_file: Path, case: Case) -> None:
    expected = (case.decision, case.rule)
    assert through_the_bot(store, case) == expected
    assert through_policy_check(agreement_file, case) == expected


def test_the_corpus_covers_every_command() -> None:
    asked = {case.command.split()[0] for case in CORPUS}
    assert asked >= {command.verb for command in registry().commands}
