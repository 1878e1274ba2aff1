"""The `broadcast` channel: every notification POSTed as JSON to the guild's webhooks, signed as the
Standard Webhooks specification says (`webhook-id`, `webhook-timestamp`, `webhook-signature`; the
`standardwebhooks` library signs). `webhook-id` is the delivery key, so a receiver drops a repeat.

Outbound requests go to addresses users typed, so they are fenced: http(s) only; every address the name
resolves to must be public (no private, loopback, link-local, multicast or reserved ones), checked when the
webhook is added and again by the resolver of every request (a name that later resolves inward, DNS
rebinding, is refused too) unless `[broadcast] allow_private_targets`; redirects are not followed; each
request has a timeout and at most `max_response_bytes` of the answer is read. A webhook that fails
`failure_threshold` times in a row is disabled, and /notifications tells the guild's managers.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.resolver import DefaultResolver
from standardwebhooks.webhooks import Webhook as Signer

from bot.config import BroadcastConfig
from bot.domain.broadcast import broadcast_payload
from bot.domain.errors import InvalidField, NotFound
from bot.domain.occurrences import Occurrence
from bot.domain.reminders import Reminder, Verdict
from bot.net import PrivateTarget, PublicOnlyResolver, check_host, is_public, literal_is_public  # noqa: F401 - is_public: as before
from bot.storage import Store
from bot.storage.webhooks import Webhook

from .engine import RetryLater, Undeliverable

log = logging.getLogger(__name__)

URL_MAX = 2048
IMAGE_MAX = 8 * 1024 * 1024  # bytes of a cover image read at most
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def parse_target(text: str) -> str:
    """The URL's shape: http or https, a host, no user info, bounded. Its addresses are checked by `check`."""
    url = text.strip()
    parts = urlsplit(url)
    if len(url) > URL_MAX:
        raise InvalidField("url", f"is {len(url)} characters long; the limit is {URL_MAX}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidField("url", "must be an http:// or https:// address")
    if parts.username or parts.password:
        raise InvalidField("url", "must not carry a user name or password; the signature authenticates calbot")
    try:
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        raise InvalidField("url", "has a port that is not a number from 1 to 65535") from None
    return url


class WebhookSender:
    """Delivers `broadcast` reminders: one row per webhook of the guild (target: the webhook's id)."""

    def __init__(self, store: Store, config: BroadcastConfig, clock: Callable[[], datetime]) -> None:
        self.store, self.config, self.clock = store, config, clock
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            resolver = DefaultResolver() if self.config.allow_private_targets else PublicOnlyResolver()
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=resolver, limit=100),
                timeout=aiohttp.ClientTimeout(total=self.config.timeout_seconds),
            )
        return self._session

    async def check(self, url: str) -> str:
        """`url`, once its shape and (unless private targets are allowed) every address it resolves to are fine."""
        url = parse_target(url)
        if self.config.allow_private_targets:
            return url
        await check_host(url)
        return url

    async def fetch_image(self, url: str, limit: int = IMAGE_MAX) -> str:
        """An image at an address a user gave (an event's cover for Discord's Events tab) as the data URI
        Discord takes, fetched behind the same fence as webhooks: at most `limit` bytes."""
        url = await self.check(url)
        async with self._client().get(url, allow_redirects=False) as response:
            if response.status != 200:
                raise ValueError(f"the image address answered HTTP {response.status}")
            kind = response.content_type
            if kind not in IMAGE_TYPES:
                raise ValueError(f"{kind} is not an image Discord takes as a cover")
            data = await response.content.read(limit + 1)
        if len(data) > limit:
            raise ValueError(f"the image is larger than {limit} bytes")
        return f"data:{kind};base64,{base64.b64encode(data).decode()}"

    async def deliver(self, reminder: Reminder, occurrence: Occurrence, verdict: Verdict) -> int | None:
        try:
            webhook = await self.store.webhooks.get(reminder.guild_id, reminder.target)
        except NotFound:
            raise Undeliverable("the webhook was removed") from None
        if not webhook.enabled:
            raise Undeliverable("the webhook is disabled")
        try:
            await self.post(webhook, reminder.key, broadcast_payload(reminder, occurrence, verdict))
        except (RetryLater, Undeliverable) as error:
            if await self.store.webhooks.failed(webhook.id, error.reason, self.config.failure_threshold):
                log.warning("Disabled webhook %s of guild %s after %d failures", webhook.id, webhook.guild_id,
                            self.config.failure_threshold)  # fmt: skip
                raise Undeliverable(f"{error.reason}; the webhook is now disabled") from None
            raise
        if webhook.failures:  # a write only when there is a count to reset
            await self.store.webhooks.succeeded(webhook.id)
        return None

    async def post(self, webhook: Webhook, message_id: str, body: dict[str, Any]) -> int:
        """POST `body` signed; returns the status. Raises RetryLater (timeouts, 429, 5xx) or Undeliverable."""
        if not self.config.allow_private_targets and not literal_is_public(webhook.url):
            # aiohttp connects to an address written in the URL without asking the resolver
            raise Undeliverable("the webhook's address is not public")
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        # The signature's timestamp is the real time of sending: receivers check it against their clock.
        sent_at = datetime.fromtimestamp(int(time.time()), UTC)
        headers = {
            "content-type": "application/json",
            "user-agent": "calbot-webhooks",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Signer(webhook.secret).sign(message_id, sent_at, data),
        }
        try:
            async with self._client().post(
                webhook.url, data=data.encode(), headers=headers, allow_redirects=False
            ) as response:
                await response.content.read(self.config.max_response_bytes)  # bounded; the rest is dropped
                status = response.status
                retry_after = response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            refused = isinstance(error, PrivateTarget) or isinstance(getattr(error, "os_error", None), PrivateTarget)
            reason = "the webhook's address is not public" if refused else f"could not reach it: {type(error).__name__}"
            raise (Undeliverable(reason) if refused else RetryLater(reason)) from None
        if 200 <= status < 300:
            return status
        reason = f"the webhook answered {status}"
        if status == 429 or status >= 500:
            raise RetryLater(reason, float(retry_after) if retry_after and retry_after.isdigit() else None)
        if 300 <= status < 400:
            raise Undeliverable(f"{reason} (a redirect; calbot does not follow them)")
        raise Undeliverable(reason)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
