"""The Slack side: a Bolt app that turns ``/k8s`` into jobs, and a notifier that posts results.

The slash command is acknowledged as soon as the dispatcher has decided (parse, policy, queue:
a few milliseconds), always within Slack's 3 seconds; errors are ephemeral to the person who
typed the command. Results are posted by :class:`SlackNotifier`, which reads finished jobs
from a Redis consumer group, so any number of bot replicas can run and each result is posted
by exactly one of them.

Everything sent to Slack passes ``bot.surfaces.slack_text`` on the way out: the dispatcher's
replies and the rendered results are plain text for any surface, so they are escaped here, as
a whole.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, assert_never

import redis
from slack_bolt import Ack, App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

from bot.commands.dispatcher import Dispatcher
from bot.commands.registry import ThreadParts, registry
from bot.jobs import clusters
from bot.jobs.model import CardLocation, Job, JobState, Notification, NotifyKind, Origin
from bot.jobs.store import JobStore
from bot.settings import SlackSettings
from bot.surfaces import slack_cards as cards
from bot.surfaces.slack_languages import SlackLocales, channel_language
from bot.surfaces.slack_text import code_block, code_span, escape, fit
from core import formats, messages
from core.errors import ConfigurationError, JobNotFound
from core.i18n import language
from policies.model import PolicyDocument

log = logging.getLogger(__name__)

CHANNEL_PACE_SECONDS = 1.0
# Slack's limit for a section's text is 3000 characters; longer output goes in a file.
_SECTION_LIMIT = 2900
#: Log lines up to this size go in the thread as a code block; more go as a file.
LOG_BLOCK_CHARS = 2800
LOG_BLOCK_LINES = 40
#: A button's value is a job id and nothing else: it becomes part of a command.


def web_client(settings: SlackSettings, *, wait_on_rate_limit: bool = True) -> WebClient:
    """A Web API client that retries connection errors and 5xx; and 429 after Retry-After
    unless the caller schedules that itself (the notifier, so one channel's limit does not
    hold up the others)."""
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=10,
    )
    client.retry_handlers.extend(
        [ConnectionErrorRetryHandler(max_retry_count=2), ServerErrorRetryHandler(max_retry_count=3)]
    )
    if wait_on_rate_limit:
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=5))
    return client


class SlackGroups:
    """Slack user group memberships for policy groups with ``slack_usergroup``, cached.

    ``usergroups.users.list`` is asked at most once per group every ``ttl`` seconds; when Slack
    cannot be reached the last answer is kept (or, at first, nobody is in the group — the safe
    side: groups only ever grant).
    """

    def __init__(self, client: WebClient, ttl: float = 300.0) -> None:
        self.client = client
        self.ttl = ttl
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def members(self, usergroup: str) -> frozenset[str]:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(usergroup)
        if cached and now - cached[0] < self.ttl:
            return cached[1]
        try:
            response = self.client.usergroups_users_list(usergroup=usergroup)
            users = frozenset(response.get("users") or [])
        except SlackApiError as error:
            log.warning(
                "usergroups.users.list for %s failed: %s", usergroup, error.response.get("error")
            )
            users = cached[1] if cached else frozenset()  # keep the last answer for a ttl
        with self._lock:
            self._cache[usergroup] = (now, users)
        return users

    def __call__(self, user: str, policy: PolicyDocument) -> frozenset[str]:
        return frozenset(
            name
            for name, group in policy.groups.items()
            if group.slack_usergroup and user in self.members(group.slack_usergroup)
        )


def only_from(team_id: str) -> Callable[..., BoltResponse]:
    """Bolt middleware: requests from any workspace but ``team_id`` are answered with a refusal
    and go no further (nothing is queued, nothing is posted to either workspace)."""

    def only_our_workspace(
        context: BoltContext, body: dict[str, Any], next_: Callable[[], BoltResponse]
    ) -> BoltResponse:
        if context.team_id == team_id:
            return next_()
        log.warning(
            "refused a %s from workspace %s (user %s): this app is installed in %s",
            body.get("type") or "slash command",
            context.team_id,
            context.user_id,
            team_id,
        )
        return BoltResponse(
            status=200,
            body=json.dumps(
                {"response_type": "ephemeral", "text": messages.WRONG_WORKSPACE.format()}
            ),
            headers={"content-type": ["application/json;charset=utf-8"]},
        )

    return only_our_workspace


def create_app(
    settings: SlackSettings,
    dispatcher: Dispatcher,
    client: WebClient,
    *,
    verify_requests: bool = True,
    locales: SlackLocales | None = None,
) -> App:
    """The Bolt app. Replies only the asker sees are in their language (``locales``: their
    Slack locale, unless the policy names one); cards are in their channel's."""
    secret = settings.slack_signing_secret.get_secret_value()
    if verify_requests and not secret.strip():
        raise ConfigurationError(
            messages.SETTING_EMPTY.format(
                name="SLACK_SIGNING_SECRET", why=messages.NEEDED_TO_VERIFY_REQUESTS
            )
        )
    app = App(
        client=client,
        signing_secret=secret or None,
        request_verification_enabled=verify_requests,
    )
    if settings.slack_team_id:
        app.middleware(only_from(settings.slack_team_id))
    people = locales or SlackLocales(client)

    @app.command("/k8s")
    def on_k8s(ack: Ack, command: dict[str, Any]) -> None:
        policy = dispatcher.policy
        channel, user = command.get("channel_id"), command["user_id"]
        origin = Origin(
            surface="slack",
            channel=channel,
            response_url=command.get("response_url"),
            language=channel_language(policy, channel),
        )
        # Slack gives every invocation its own trigger_id; a redelivery carries the same one.
        key = f"slack:{command.get('team_id', '')}:{command.get('trigger_id', '')}"
        with language(people.language(policy, user, channel)):  # an ephemeral answer
            reply = dispatcher.submit(
                command.get("text", ""),
                user=user,
                origin=origin,
                idempotency=key if command.get("trigger_id") else None,
            )
        ack(response_type="ephemeral", text=escape(reply.text))
        # After the ack (Slack's 3 seconds are safe): changes get a card the whole channel sees;
        # reads are simply answered in the channel when their job is done.
        job = reply.job
        if (
            reply.created
            and job is not None
            and origin.channel
            and (job.request.mutating or job.state is JobState.AWAITING_APPROVAL)
        ):
            post_card(client, dispatcher.store, job)

    def on_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        verb = {cards.APPROVE: "approve", cards.DENY: "deny", cards.CANCEL: "cancel"}
        user = body["user"]["id"]
        channel = (body.get("channel") or {}).get("id")
        job_id = str(action.get("value", ""))
        policy = dispatcher.policy
        said_to = people.language(policy, user, channel)  # refusals are ephemeral: theirs
        if not (job_id.isascii() and job_id.isdigit() and 1 <= len(job_id) <= 12):
            # Our buttons carry a job id; anything else was not made by us.
            log.warning(
                "refused %s from %s: value %r is not a job id",
                action["action_id"],
                user,
                job_id[:40],
            )
            if channel:
                with language(said_to):
                    refusal = messages.BUTTON_NOT_A_JOB.format()
                client.chat_postEphemeral(channel=channel, user=user, text=escape(refusal))
            return
        with language(said_to):
            reply = dispatcher.submit(
                f"{verb[action['action_id']]} {job_id}",
                user=user,
                origin=Origin(
                    surface="slack", channel=channel, language=channel_language(policy, channel)
                ),
            )
        if not reply.ok and channel:
            client.chat_postEphemeral(channel=channel, user=user, text=escape(reply.text))
            return
        refresh_card(client, dispatcher.store, job_id)

    for action_id in (cards.APPROVE, cards.DENY, cards.CANCEL):
        app.action(action_id)(on_button)
    return app


def _unserved(store: JobStore, job: Job) -> bool:
    """Whether the job waits for a worker its cluster does not have (worth a line on its
    card): only before it runs."""
    if job.state not in (JobState.QUEUED, JobState.AWAITING_APPROVAL):
        return False
    return not clusters.live_workers(store.redis, job.cluster)


def post_card(client: WebClient, store: JobStore, job: Job) -> None:
    """Post the request's card in its channel and remember where, for the thread and updates."""
    with language(job.origin.language):
        text, blocks = cards.card(job, unserved=_unserved(store, job))
    try:
        posted = client.chat_postMessage(channel=job.origin.channel or "", text=text, blocks=blocks)
    except SlackApiError as error:
        log.error(
            "posting the card of job %s failed: %s",
            job.id,
            error.response.get("error"),
            extra={"cluster": job.cluster},
        )
        return
    store.save_card(job.id, CardLocation(channel=str(posted["channel"]), ts=str(posted["ts"])))


def refresh_card(client: WebClient, store: JobStore, job_id: str, summary: str = "") -> None:
    where = store.card(job_id)
    if where is None:
        return
    try:
        job = store.get(job_id)
    except JobNotFound:
        return  # expired, or unreadable (the store logged it): nothing to show
    model = registry().plan_model(job.request)
    plan = store.plan(job_id, model) if model is not None else None
    with language(job.origin.language):
        text, blocks = cards.card(job, summary, plan, unserved=_unserved(store, job))
    try:
        client.chat_update(channel=where.channel, ts=where.ts, text=text, blocks=blocks)
    except SlackApiError as error:
        log.error(
            "updating the card of job %s failed: %s",
            job_id,
            error.response.get("error"),
            extra={"cluster": job.cluster},
        )


def job_caption(job: Job) -> str:
    return messages.SLACK_JOB_CAPTION.format(
        job_id=job.id,
        command=code_span(job.request.command_text(), 2000),
        cluster=escape(job.cluster),
        requester=f"<@{escape(job.requester)}>",
    )


def result_body(job: Job, text: str) -> str:
    """A result as Slack section text: escaped, and tables in a fixed-width block."""
    return code_block(text) if registry().is_tabular(job) else escape(text)


def result_blocks(job: Job, body: str) -> list[dict[str, Any]]:
    """``body`` (already Slack text) and the job's caption under it."""
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=body)),
        ContextBlock(elements=[MarkdownTextObject(text=job_caption(job))]),
    ]
    return [block.to_dict() for block in blocks]


@dataclass(frozen=True)
class Delivered:
    """The result was posted, or there is nothing to post: acknowledge the entry."""


@dataclass(frozen=True)
class RetryLater:
    """Posting failed: leave the entry pending; it is offered again after the reclaim
    interval (to this replica or another)."""


@dataclass(frozen=True)
class WaitFor:
    """The channel is rate-limited: keep the entry here and try again in ``seconds``, while
    other channels' results go out."""

    seconds: float


#: What one attempt to post a job's result came to.
Delivery = Delivered | RetryLater | WaitFor


class SlackNotifier:
    """Posts each finished Slack job's result once, from whichever bot replica reads it."""

    def __init__(
        self, store: JobStore, client: WebClient, *, name: str, reclaim_idle_ms: int = 30_000
    ) -> None:
        self.store = store
        self.client = client
        self.name = name
        self.reclaim_idle_ms = reclaim_idle_ms
        self.stopping = threading.Event()
        #: Results waiting for their channel's rate limit to pass: entry id → (when, entry).
        self._deferred: dict[str, tuple[float, Notification]] = {}
        self._channel_free_at: dict[str, float] = {}

    def run(self) -> None:
        self.store.ensure_notify_group()
        while not self.stopping.is_set():
            try:
                self.poll(block_ms=1000)
            except redis.ConnectionError:
                log.warning("notifier: redis unreachable; retrying")
                self.stopping.wait(2.0)

    def poll(self, *, block_ms: int) -> int:
        now = time.monotonic()
        due = [entry for at, entry in self._deferred.values() if at <= now]
        for entry in due:
            del self._deferred[entry.entry_id]
        if self._deferred and not due:
            next_due = min(at for at, _ in self._deferred.values())
            block_ms = max(1, min(block_ms, int((next_due - now) * 1000)))
        entries = due + self.store.read_notifications(
            self.name,
            count=10,
            block_ms=None if due else block_ms,
            reclaim_idle_ms=self.reclaim_idle_ms,
        )
        for entry in entries:
            try:
                self._handle(entry)
            except redis.ConnectionError:
                raise
            except Exception:
                # One bad entry must not stop the loop that posts everyone's results; it stays
                # pending and is tried again after the reclaim interval.
                incident = uuid.uuid4().hex[:8]
                log.exception("notifier: entry %s failed (incident %s)", entry.entry_id, incident)
        return len(entries)

    def _handle(self, entry: Notification) -> None:
        """What one notify entry asks for: a card refresh or a result."""
        match entry.kind:
            case NotifyKind.PROGRESS:
                self.show_progress(entry.job_id, entry.line)
                self.store.ack_notification(entry.entry_id)  # best effort: never retried
            case NotifyKind.PLAN | NotifyKind.STATE:
                refresh_card(self.client, self.store, entry.job_id)
                self.store.ack_notification(entry.entry_id)
            case NotifyKind.RESULT:
                match self.deliver(entry.job_id):
                    case Delivered():
                        self.store.ack_notification(entry.entry_id)
                    case WaitFor(seconds):
                        self._deferred[entry.entry_id] = (time.monotonic() + seconds, entry)
                    case RetryLater():
                        pass  # left pending
                    case never:
                        assert_never(never)
            case never:
                assert_never(never)

    def show_progress(self, job_id: str, line: str) -> None:
        """The card's progress line, while the job runs (skipped once it has ended)."""
        try:
            if self.store.get(job_id).state is not JobState.RUNNING:
                return
        except JobNotFound:
            return
        refresh_card(self.client, self.store, job_id, summary=line)

    def deliver(self, job_id: str) -> Delivery:
        """Post the job's result once.

        A job that is gone (expired, or unreadable — the store logged that with an incident
        id) has nothing to post. Any other error reading it propagates, and the entry stays
        pending: a result is never acknowledged unless it was posted.
        """
        try:
            job = self.store.get(job_id)
        except JobNotFound:
            log.warning("notifier: job %s is gone; nothing to post", job_id)
            return Delivered()
        if job.origin.surface != "slack" or not job.origin.channel:
            return Delivered()
        # Whoever claims the job posts; a failed post releases it so a retry can post later.
        if not self.store.claim_notification(job_id, by=self.name):
            return Delivered()
        with language(job.origin.language):  # the channel's, as the card's
            return self._post_result(job, job.origin.channel)

    def _post_result(self, job: Job, channel: str) -> Delivery:
        job_id = job.id
        text = registry().render_job(job)
        posts_message = job.result is not None or self.store.card(job_id) is None
        wait = self._channel_free_at.get(channel, 0.0) - time.monotonic()
        if posts_message and wait > 0:
            self.store.release_notification(job_id)
            return WaitFor(wait)
        try:
            if self._post(job, text):
                # Slack allows about one message per second per channel: pace the next one.
                self._channel_free_at[channel] = time.monotonic() + CHANNEL_PACE_SECONDS
        except SlackApiError as error:
            if error.response.status_code == 429:
                delay = float(error.response.headers.get("Retry-After", "1") or 1)
                self._channel_free_at[channel] = time.monotonic() + delay
                log.warning(
                    "notifier: Slack rate-limits %s for %.0fs; job %s waits, others go on",
                    channel,
                    delay,
                    job_id,
                    extra={"cluster": job.cluster},
                )
                self.store.release_notification(job_id)
                return WaitFor(delay)
            log.error(
                "notifier: posting job %s failed: %s",
                job_id,
                error.response.get("error"),
                extra={"cluster": job.cluster},
            )
            self.store.release_notification(job_id)
            return RetryLater()
        return Delivered()

    def _post_in_parts(
        self, job: Job, parts: ThreadParts, channel: str, thread_ts: str | None
    ) -> None:
        """The summary as a message, and the lines in its thread: a code block when short, a
        file when long."""
        head = fit(parts.summary, _SECTION_LIMIT)
        posted = self.client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=head, blocks=result_blocks(job, head)
        )
        lines = parts.body
        if not lines:
            return
        thread = thread_ts or str(posted["ts"])
        if _short_enough_for_a_message(lines):
            self.client.chat_postMessage(channel=channel, thread_ts=thread, text=code_block(lines))
            return
        self.client.files_upload_v2(
            channel=channel,
            thread_ts=thread,
            content=lines,
            filename=parts.file_name,
            title=fit(job.request.command_text(), 200),
        )

    def _post(self, job: Job, text: str) -> bool:
        """Update the card and post the result; False when only the card changed."""
        channel = job.origin.channel
        assert channel is not None
        where = self.store.card(job.id)
        thread_ts = where.ts if where else job.origin.thread_ts
        if where:
            channel = where.channel
            refresh_card(self.client, self.store, job.id, summary=_summary(job))
        if job.result is None and where:
            return False  # denied, expired or cancelled before running: the card says it all
        parts = registry().thread_parts(job)
        if parts is not None:
            self._post_in_parts(job, parts, channel, thread_ts)
            return True
        body = result_body(job, text)
        if len(body) > _SECTION_LIMIT:
            self.client.files_upload_v2(
                channel=channel,
                thread_ts=thread_ts,
                content=text,
                filename=f"job-{job.id}.txt",
                initial_comment=job_caption(job),
            )
            return True
        self.client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=escape(text), blocks=result_blocks(job, body)
        )
        return True


def _short_enough_for_a_message(text: str) -> bool:
    return len(text) <= LOG_BLOCK_CHARS and text.count("\n") < LOG_BLOCK_LINES


def _summary(job: Job) -> str:
    """The final line on the card."""
    if job.error:
        return job.error[:200]
    if job.started_at and job.finished_at:
        took = formats.took((job.finished_at - job.started_at).total_seconds())
        return messages.CARD_DONE_IN.format(duration=took)
    return ""
