"""``k8s-chatops``: one entry point for the bot, the worker, the shell and policy reviews.

The sandbox is ``k8s-chatops-sandbox`` (``sandbox/commands.py``), kept out of the product."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from typing import TYPE_CHECKING, Any

from bot import logs
from bot.settings import ChatSettings, SlackSettings, SlackSocketSettings, WorkerSettings, load
from core import messages
from core.errors import ChatOpsError
from core.i18n import ENGLISH, LANGUAGES

if TYPE_CHECKING:
    from bot.commands.dispatcher import Dispatcher
    from bot.jobs.store import JobStore
    from core.redaction import Redactor
    from nodeagent.settings import NodeAgentSettings

log = logging.getLogger("k8s-chatops")


def _dispatcher(settings: ChatSettings, **options: Any) -> tuple[Dispatcher, JobStore]:
    from bot.commands.dispatcher import Dispatcher  # noqa: PLC0415 - keep `policy` start-up light
    from bot.commands.registry import registry  # noqa: PLC0415
    from bot.jobs.store import JobStore, connect  # noqa: PLC0415
    from policies.loader import PolicyWatcher  # noqa: PLC0415

    watcher = PolicyWatcher(settings.policy_file, vocabulary=registry().vocabulary()).start()
    store = JobStore(
        connect(settings.redis_target()),
        # The bot reads no queue; a job goes to the cluster the dispatcher routes it to.
        settings.cluster or "default",
        retention_seconds=settings.job_retention_seconds,
        audit_retention_seconds=settings.audit_retention_seconds,
    )
    dispatcher = Dispatcher(
        lambda: watcher.policy, store, default_cluster=settings.cluster, **options
    )
    return dispatcher, store


def run_shell(args: argparse.Namespace) -> int:
    from bot.surfaces.shell import Shell  # noqa: PLC0415

    settings = load(ChatSettings)
    logs.configure("WARNING" if settings.log_level == "INFO" else settings.log_level)
    dispatcher, store = _dispatcher(settings)
    return Shell(dispatcher, store, user=args.user, job_timeout=args.timeout, lang=args.lang).run()


def _redactor(settings: WorkerSettings | NodeAgentSettings) -> Redactor:
    """The built-in secret patterns plus the operator's file, checked before any job runs."""
    from core.redaction import build_redactor, load_extra_patterns  # noqa: PLC0415

    extra: list[str] = []
    if settings.redact_patterns_file:
        try:
            extra = load_extra_patterns(settings.redact_patterns_file)
            return build_redactor(extra)
        except (OSError, ValueError) as error:
            raise ChatOpsError(
                messages.SETTING_INVALID.format(
                    name="K8S_CHATOPS_REDACT_PATTERNS_FILE", detail=error
                )
            ) from None
    return build_redactor(extra)


def run_worker(args: argparse.Namespace) -> int:
    from bot.commands.registry import registry  # noqa: PLC0415
    from bot.jobs.agents import RedisNodeAgents  # noqa: PLC0415
    from bot.jobs.clusters import Heartbeat  # noqa: PLC0415
    from bot.jobs.store import JobStore, connect  # noqa: PLC0415
    from bot.jobs.worker import Worker  # noqa: PLC0415
    from handlers.control import OutputCaps  # noqa: PLC0415
    from handlers.kube import KubeClient  # noqa: PLC0415

    settings = load(WorkerSettings)
    logs.configure(settings.log_level, cluster=settings.cluster)
    kube = KubeClient.connect(settings.kubeconfig)
    store = JobStore(
        connect(settings.redis_target()),
        settings.cluster,
        retention_seconds=settings.job_retention_seconds,
        audit_retention_seconds=settings.audit_retention_seconds,
    )
    commands = registry()
    worker = Worker(
        store,
        kube,
        perform=commands.perform,
        planner=commands.plan,
        name=settings.worker_name,
        reclaim_idle_seconds=settings.reclaim_idle_seconds,
        max_disrupted_nodes=settings.max_disrupted_nodes,
        impersonate=settings.impersonate,
        redactor=_redactor(settings),
        caps=OutputCaps(
            max_lines=settings.logs_max_lines,
            max_bytes=settings.logs_max_bytes,
            max_line_bytes=settings.logs_max_line_bytes,
        ),
        agents=RedisNodeAgents(
            store.redis,
            settings.cluster,
            lock_lease_ms=int(settings.reclaim_idle_seconds * 1000),
        ),
    )
    worker.install_signal_handlers()
    heartbeat = Heartbeat(
        kube,
        store.redis,
        settings.cluster,
        worker.name,
        served_changed=lambda: store.refresh_waiting_cards(settings.cluster),
    )
    heartbeat.start()
    log.info(
        "worker %s serving cluster %s (API server %s; Redis at %s)",
        worker.name,
        settings.cluster,
        kube.server,
        settings.redis_target().describe(),
    )
    try:
        worker.run(burst=args.burst)
    finally:
        heartbeat.stop()  # `/k8s clusters` shows it gone at once, not after the expiry
    return 0


def run_node_agent(args: argparse.Namespace) -> int:
    """One per node: CRI on the node's runtime socket, tasks from Redis (nodeagent)."""
    import signal  # noqa: PLC0415

    from bot.jobs.store import connect  # noqa: PLC0415
    from nodeagent.agent import NodeAgent  # noqa: PLC0415
    from nodeagent.health import serve_health  # noqa: PLC0415
    from nodeagent.ops import NodeRuntime  # noqa: PLC0415
    from nodeagent.runtime import RuntimeClient  # noqa: PLC0415
    from nodeagent.settings import NodeAgentSettings  # noqa: PLC0415

    del args
    settings = load(NodeAgentSettings)
    logs.configure(settings.log_level, cluster=settings.cluster)
    redactor = _redactor(settings)  # a pattern file it cannot run stops it before anything
    target = settings.redis_target()
    client = connect(target, connect_timeout=2.0, socket_timeout=10.0)
    log.info("node agent %s: Redis at %s", settings.node_name, target.describe())
    runtime = NodeRuntime(
        RuntimeClient(settings.runtime_endpoint),
        pod_log_dir=settings.pod_log_dir,
        redactor=redactor,
        image_fs_path=settings.image_fs_path,
        fs_resample_wait=settings.image_fs_resample_seconds,
    )
    agent = NodeAgent(
        client,
        cluster=settings.cluster,
        node=settings.node_name,
        runtime=runtime,
        runtime_give_up=settings.runtime_give_up_seconds or None,
    )
    health = serve_health(agent, port=settings.health_port) if settings.health_port else None
    signal.signal(signal.SIGTERM, agent.stop)
    signal.signal(signal.SIGINT, agent.stop)
    try:
        agent.run()
    finally:
        if health is not None:
            health.shutdown()
        runtime.client.close()
    return 3 if agent.gave_up else 0


def run_bot(args: argparse.Namespace) -> int:
    import waitress  # noqa: PLC0415

    from bot.surfaces.http import make_wsgi  # noqa: PLC0415
    from bot.surfaces.slack_app import SlackGroups, SlackNotifier, create_app, web_client  # noqa: PLC0415

    settings: SlackSettings = load(SlackSocketSettings if args.socket else SlackSettings)
    logs.configure(settings.log_level)
    client = web_client(settings)
    dispatcher, store = _dispatcher(settings, resolve_groups=SlackGroups(client))
    app = create_app(settings, dispatcher, client, verify_requests=not args.socket)
    notifier_client = web_client(settings, wait_on_rate_limit=False)
    notifier = SlackNotifier(store, notifier_client, name=f"bot-{os.getpid()}")
    threading.Thread(target=notifier.run, name="slack-notifier", daemon=True).start()
    if args.socket:
        from slack_bolt.adapter.socket_mode import SocketModeHandler  # noqa: PLC0415

        assert settings.slack_app_token is not None  # required by SlackSocketSettings
        log.info("bot connecting to Slack in Socket Mode")
        SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()  # type: ignore[no-untyped-call]
        return 0
    log.info("bot listening on http://%s:%d/slack/events", args.host, args.port)
    waitress.serve(
        make_wsgi(app, store.redis),
        host=args.host,
        port=args.port,
        threads=8,
        ident="k8s-chatops",
        _quiet=True,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="k8s-chatops", description="Kubernetes maintenance from Slack or a terminal."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    shell = sub.add_parser("shell", help="terminal chat against the same queue and workers")
    shell.add_argument("--user", default="U0SHELL", help="chat user id to act as (policy)")
    shell.add_argument("--timeout", type=float, default=120.0, help="seconds to wait per job")
    shell.add_argument(
        "--lang", choices=LANGUAGES, default=ENGLISH, help="the language of replies and results"
    )
    shell.set_defaults(run=run_shell)

    worker = sub.add_parser("worker", help="run jobs from the queue against the cluster")
    worker.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    worker.set_defaults(run=run_worker)

    agent = sub.add_parser(
        "node-agent", help="serve one node's container runtime (CRI) to the workers"
    )
    agent.set_defaults(run=run_node_agent)

    bot = sub.add_parser("bot", help="the Slack app")
    mode = bot.add_mutually_exclusive_group(required=True)
    mode.add_argument("--http", action="store_true", help="HTTP mode: serve /slack/events")
    mode.add_argument("--socket", action="store_true", help="Socket Mode (needs SLACK_APP_TOKEN)")
    bot.add_argument("--host", default="127.0.0.1", help="address to bind (0.0.0.0 in a pod)")
    bot.add_argument("--port", type=int, default=3000)
    bot.set_defaults(run=run_bot)

    from bot.commands import policy_check  # noqa: PLC0415

    policy_check.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ChatOpsError as error:
        print(error.user_message, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
