"""Which language a Slack channel and a Slack user read.

A card and every message in a channel are read by everyone in it, so they are in the
channel's language: the policy file's ``languages.channels`` (English where it says nothing).
What only one person sees — the slash command's ephemeral answer, a refusal after a button —
is in that person's language: the policy file's ``languages.users`` if it names them, else
their Slack locale (``users.info`` with ``include_locale``), else their channel's.

A job remembers its channel's language when it is asked (``Origin.language``), so its card,
plan, progress and result stay in one language however the policy changes meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from core.i18n import ENGLISH, from_locale
from policies.model import PolicyDocument

log = logging.getLogger(__name__)


def channel_language(policy: PolicyDocument, channel: str | None) -> str:
    """The language of everything posted in ``channel``."""
    return policy.channel_language(channel) or ENGLISH


class SlackLocales:
    """People's Slack locales, cached: ``users.info`` is asked at most once per person every
    ``ttl`` seconds. A failure (no ``users:read`` scope, Slack unreachable) is remembered for
    ``retry_after`` seconds as "no locale", so a slash command never waits on it twice.

    It asks with its own client: a short timeout and no retries, because the slash command's
    answer waits for it (Slack allows 3 seconds).
    """

    def __init__(self, client: WebClient, ttl: float = 3600.0, retry_after: float = 60.0) -> None:
        self.client = WebClient(token=client.token, base_url=client.base_url, timeout=2)
        self.ttl = ttl
        self.retry_after = retry_after
        self._cache: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def locale(self, user: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(user)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            response = self.client.users_info(user=user, include_locale=True)
            found = (response.get("user") or {}).get("locale")
            locale, keep = (str(found) if found else None), self.ttl
        except (SlackClientError, OSError) as error:
            said = error.response.get("error") if isinstance(error, SlackApiError) else error
            log.warning("users.info for %s failed: %s", user, said)
            locale, keep = (cached[1] if cached else None), self.retry_after
        with self._lock:
            self._cache[user] = (now + keep, locale)
        return locale

    def language(self, policy: PolicyDocument, user: str, channel: str | None) -> str:
        """The language ``user`` reads their own replies in (see the module docstring)."""
        chosen = policy.user_language(user)
        if chosen:
            return chosen
        return from_locale(self.locale(user)) or channel_language(policy, channel)
