"""``-C``/``--cluster`` in the grammar, the routing rule, and where the cluster is shown:
``clusters``, ``jobs``, ``audit``, cards, log lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot import logs
from bot.commands import grammar
from bot.commands.registry import Parsed
from bot.commands.render import render_audit, render_jobs
from bot.commands.routing import ClusterRouter
from bot.commands.verbs.clusters import render_clusters
from bot.jobs.clusters import ClusterStatus, QueueState, WorkerBeat
from bot.jobs.model import Job, JobState, Origin
from bot.settings import ChatSettings, WorkerSettings, load
from bot.surfaces.slack_cards import card
from core.errors import CommandError
from handlers.models import CordonNode
from policies.loader import parse_policy
from policies.model import PolicyDocument

NOW = datetime(2026, 5, 13, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "-C prod cordon n1",
        "/k8s -C prod cordon n1",
        "--cluster prod cordon n1",
        "--cluster=prod cordon n1",
        "-C prod -C prod cordon n1",
    ],
)
def test_the_cluster_option_comes_before_the_verb(text: str) -> None:
    parsed = grammar.parse_command(text)
    assert parsed.cluster == "prod"
    assert parsed.request == CordonNode(node="n1")


def test_no_option_names_no_cluster() -> None:
    assert grammar.parse_command("cordon n1").cluster is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("-C", "`-C` needs a cluster name, as in `/k8s -C prod get nodes`."),
        ("--cluster=", "`` is not a valid cluster name"),
        ("-C Prod_1 get nodes", "`Prod_1` is not a valid cluster name"),
        ("-C a.b get nodes", "`a.b` is not a valid cluster name: it contains '.'"),
        ("-C prod --cluster qa get nodes", "That names two clusters, `prod` and `qa`; name one."),
        (
            "cordon n1 -C prod",
            "Put `-C` before the command, as in `/k8s -C prod get nodes`.",
        ),
        (
            "drain n1 --cluster=prod",
            "Put `--cluster` before the command",
        ),
        ("-C prod", "Type a command after /k8s"),
    ],
)
def test_bad_cluster_options_get_a_sentence(text: str, fragment: str) -> None:
    with pytest.raises(CommandError) as caught:
        grammar.parse_command(text)
    assert fragment in caught.value.user_message


def test_an_approval_reason_may_mention_the_option() -> None:
    parsed = grammar.parse_command("approve 7 moved -C to the runbook")
    assert parsed.cluster is None
    assert parsed.request.reason == "moved -C to the runbook"


POLICY = parse_policy(
    "clusters: [prod, staging]\n"
    "channels: {ops: [C0OPS]}\n"
    "channel_defaults: {ops: {cluster: prod}}\n"
    "roles: {a: {verbs: ['*']}}\n",
    "routing.yaml",
)
BARE = parse_policy("roles: {a: {verbs: ['*']}}\n", "bare.yaml")


def router(
    policy: PolicyDocument = POLICY, seen: tuple[str, ...] = (), default: str | None = None
) -> ClusterRouter:
    return ClusterRouter(lambda: policy, lambda: seen, default)


def route(r: ClusterRouter, text: str, channel: str | None = None, job: Job | None = None) -> str:
    cluster = r.route(grammar.parse_command(text), channel, job)
    assert cluster is not None
    return cluster


def _job(cluster: str) -> Job:
    return Job(
        id="7",
        cluster=cluster,
        request=CordonNode(node="n1"),
        requester="U1",
        origin=Origin(surface="slack", channel="C0OPS"),
        state=JobState.AWAITING_APPROVAL,
    )


def test_routing_order() -> None:
    r = router(seen=("dev",), default="staging")
    assert route(r, "-C dev cordon n1", "C0OPS") == "dev"  # named
    assert route(r, "cordon n1", "C0OPS") == "prod"  # the channel's default
    assert route(r, "cordon n1", "C0ELSE") == "staging"  # the bot's default
    assert route(router(BARE, seen=("only",)), "cordon n1") == "only"  # the one known


def test_known_clusters_come_from_workers_the_policy_and_the_default() -> None:
    assert router(seen=("dev", "prod"), default="qa").known() == ["dev", "prod", "qa", "staging"]
    assert router(BARE).known() == []


def test_without_a_cluster_and_a_default_the_command_is_refused_with_the_list() -> None:
    with pytest.raises(CommandError) as caught:
        route(router(), "cordon n1", "C0ELSE")
    assert caught.value.user_message == (
        "Which cluster? There is no default cluster here, so name one, as in "
        "`/k8s -C prod cordon n1`. Known clusters: `prod`, `staging`."
    )
    with pytest.raises(CommandError, match="No cluster is known yet"):
        route(router(BARE), "cordon n1")


def test_an_unknown_cluster_gets_did_you_mean() -> None:
    with pytest.raises(CommandError) as caught:
        route(router(seen=("dev",)), "-C prdo cordon n1", "C0OPS")
    assert caught.value.user_message == (
        "I know no cluster named `prdo`. Did you mean `prod`? "
        "Known clusters: `dev`, `prod`, `staging`."
    )
    with pytest.raises(CommandError) as far:
        route(router(), "-C zzz cordon n1")
    assert far.value.user_message == (
        "I know no cluster named `zzz`. Known clusters: `prod`, `staging`."
    )


def test_a_command_naming_a_job_acts_on_the_jobs_cluster() -> None:
    r = router(seen=("dev",))
    assert route(r, "approve 7", "C0OPS", _job("dev")) == "dev"
    assert route(r, "-C dev cancel 7", "C0OPS", _job("dev")) == "dev"
    with pytest.raises(CommandError) as caught:
        route(r, "-C prod approve 7", "C0OPS", _job("dev"))
    assert caught.value.user_message == ("Job 7 is on cluster `dev`, not `prod`; nothing was done.")


def test_commands_the_bot_answers_need_no_cluster() -> None:
    r = router()
    for text in ("jobs", "audit", "clusters", "help", "whoami"):
        assert r.route(grammar.parse_command(text), "C0ELSE") is None
    assert r.route(grammar.parse_command("-C staging jobs"), None) == "staging"
    with pytest.raises(CommandError, match="Did you mean `staging`"):
        r.route(grammar.parse_command("-C stagin jobs"), None)


def test_every_job_command_is_routed() -> None:
    """A job command added later is cluster-aware without saying so: routing reads
    ``perform`` from the registry."""
    from bot.commands.registry import registry  # noqa: PLC0415

    for command in registry().commands:
        if command.perform is None:
            continue
        parsed = Parsed(command, None)
        assert ClusterRouter(lambda: BARE, lambda: ("only",)).route(parsed, None) == "only"


def _status(
    name: str, workers: int, waiting: int = 0, nodes: int | None = 2, more: bool = False
) -> ClusterStatus:
    beats = [
        WorkerBeat(
            worker=f"w{n}",
            cluster=name,
            kubernetes_version="v1.37.2" if nodes is not None else None,
            nodes=nodes,
            at=NOW - timedelta(seconds=n),
        )
        for n in range(workers)
    ]
    queue = (
        QueueState(waiting, "12", NOW - timedelta(minutes=5), more=more)
        if waiting
        else QueueState(0)
    )
    return ClusterStatus(name, beats, queue)


def test_clusters_table() -> None:
    text = render_clusters(
        [_status("prod", 2), _status("staging", 0, waiting=3), _status("qa", 1, nodes=None)],
        now=NOW,
    )
    assert text.splitlines() == [
        "CLUSTER   WORKERS   VERSION   NODES   QUEUED   OLDEST",
        "prod      2         v1.37.2   2       0        -",
        "staging   none      -         -       3        5m (job 12)",
        "qa        1         -         -       0        -",
        "No worker for cluster staging is running; jobs waiting for one: 3.",
        "The workers of qa could not read its API server at their last report.",
    ]
    assert render_clusters([_status("big", 0, waiting=1000, more=True)], now=NOW).endswith(
        "jobs waiting for one: 1000+."
    )
    assert render_clusters([]).startswith("No cluster is known yet")


def test_jobs_and_audit_name_the_cluster() -> None:
    job = _job("staging").model_copy(update={"created_at": NOW})
    listing = render_jobs([job], now=NOW).splitlines()
    header = ["JOB", "CLUSTER", "STATE", "REQUESTER", "TARGET", "COMMAND", "AGE"]
    assert listing[0].split() == header
    assert listing[1].split()[:3] == ["7", "staging", "awaiting_approval"]
    entry = {"at": "2026-05-13T10:00:00", "event": "requested", "by": "U1", "job": "7"}
    line = render_audit([{**entry, "cluster": "staging", "command": "cordon n1"}])
    assert line == "2026-05-13 10:00:00  U1  requested job 7 on staging  `cordon n1`"


def test_cards_name_the_cluster_and_say_when_nobody_serves_it() -> None:
    job = _job("staging").model_copy(update={"state": JobState.QUEUED, "approval": None})
    fallback, blocks = card(job)
    first = blocks[0]["text"]["text"]
    assert "asks: `cordon n1` on *staging*" in first
    assert "staging" in fallback
    assert "cluster staging" in blocks[-1]["elements"][0]["text"]
    assert "No worker" not in json.dumps(blocks)
    _, waiting = card(job, unserved=True)
    assert (
        ":warning: No worker for cluster staging is running; the job waits until one starts."
        in json.dumps(waiting)
    )
    running = job.model_copy(update={"state": JobState.RUNNING})
    assert "No worker" not in json.dumps(card(running, unserved=True)[1])


@pytest.fixture
def log_lines() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("test.clusters")
    logger.addHandler(handler)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_log_lines_name_the_cluster(log_lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log_lines
    logger.warning("about nothing in particular")
    with logs.cluster_scope():
        logs.set_cluster("prod")
        logger.warning("inside a request")
    logger.warning("after it")
    with logs.about_cluster("staging"):
        logger.warning("a notification")
    logger.warning("explicit", extra={"cluster": "qa"})
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e.get("cluster") for e in entries] == [None, "prod", None, "staging", "qa"]


def test_a_workers_every_line_names_its_cluster(
    log_lines: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = log_lines
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        logs.configure("INFO", cluster="prod")
        logger.warning("claimed a job")
    finally:
        logs.configure("INFO")
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    assert json.loads(stream.getvalue())["cluster"] == "prod"


def test_the_bots_cluster_setting_is_optional_the_workers_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("K8S_CHATOPS_POLICY_FILE", "/tmp/p.yaml")
    monkeypatch.delenv("K8S_CHATOPS_CLUSTER", raising=False)
    assert load(ChatSettings).cluster is None
    assert load(WorkerSettings).cluster == "default"
    monkeypatch.setenv("K8S_CHATOPS_CLUSTER", "")
    assert load(ChatSettings).cluster is None
    monkeypatch.setenv("K8S_CHATOPS_CLUSTER", "prod")
    assert load(ChatSettings).cluster == "prod"
    assert load(WorkerSettings).cluster == "prod"
