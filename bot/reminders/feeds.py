"""Polling the outside ICS feeds calendars subscribe to (`/calendar subscribe`), as a durable, leased job like the
reminder outbox: every process runs a poller; each claims the feeds due (bot/storage/subscriptions.py), so a
feed is polled by one process at a time, and a process that dies leaves its claim to expire.

A poll is one conditional GET (If-None-Match / If-Modified-Since). A 304, or a body whose hash is the last one's,
costs no write to the calendar; a new body is parsed (bot/domain/feeds.py, in a thread: a big feed must not hold
the event loop) and imported in one transaction. The next poll comes after the interval asked, or the feed's own
REFRESH-INTERVAL when longer, with jitter; a failure backs off, and `failure_threshold` failures in a row pause
the feed (the guild's managers see it in /notifications; subscribing again resumes it).

The fetch is fenced like webhooks (bot/net.py): http(s) only, every address public (checked by the resolver of
each connection, and before it for an address written in the URL) unless `[subscriptions] allow_private_targets`
or a `trusted_networks` entry allows it; redirects are followed by hand, each hop fenced, at most
`max_redirects`; the body is capped at `max_body_bytes` and the whole fetch at `timeout_seconds`. Errors never
carry the feed's address: a Google "secret address" is a password.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urljoin

import aiohttp
from aiohttp.resolver import DefaultResolver

from bot.config import SubscriptionsConfig
from bot.domain.errors import InvalidField
from bot.domain.feeds import Defaults, InvalidFeed, feed_url, next_poll, parse_feed, poll_interval
from bot.domain.models import GuildSettings
from bot.net import PrivateTarget, PublicOnlyResolver, literal_is_public
from bot.storage import Store
from bot.storage.database import Unavailable
from bot.storage.interface import FEEDS_CHANNEL
from bot.storage.subscriptions import Subscription

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # longer than a fetch and an import take
BATCH = 10  # feeds claimed at once by one process
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 65_536
IDLE = 3600.0  # the longest a poller sleeps (a notification of a feed subscribed wakes it sooner)


class FeedError(Exception):
    """A fetch that failed, in words a manager may read (never the feed's address)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Fetched:
    body: bytes | None  # None: not modified since (304)
    etag: str | None
    last_modified: str | None


class FeedFetcher:
    def __init__(self, config: SubscriptionsConfig) -> None:
        self.config = config
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            fenced = not self.config.allow_private_targets
            resolver = PublicOnlyResolver(self.config.trusted_networks) if fenced else DefaultResolver()
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=resolver, limit=20),
                timeout=aiohttp.ClientTimeout(total=self.config.timeout_seconds),
            )
        return self._session

    async def fetch(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """GET the feed, following redirects by hand (each hop fenced). Raises FeedError."""
        headers = {"user-agent": "calbot-feeds", "accept": "text/calendar, */*;q=0.5"}
        if etag:
            headers["if-none-match"] = etag
        if last_modified:
            headers["if-modified-since"] = last_modified
        try:
            async with asyncio.timeout(self.config.timeout_seconds):
                for _hop in range(self.config.max_redirects + 1):
                    location = await self._get(url, headers)
                    if isinstance(location, Fetched):
                        return location
                    url = location
        except TimeoutError:
            raise FeedError(f"no answer within {self.config.timeout_seconds:g} seconds") from None
        raise FeedError(f"more than {self.config.max_redirects} redirects")

    async def _get(self, url: str, headers: dict[str, str]) -> Fetched | str:
        """The answer to one GET, or the address it redirects to."""
        fenced = not self.config.allow_private_targets
        if fenced and not literal_is_public(url, self.config.trusted_networks):
            raise FeedError("the feed's address is not public; calbot does not call it")
        try:
            async with self._client().get(url, headers=headers, allow_redirects=False) as response:
                if response.status in REDIRECTS:
                    target = response.headers.get("Location")
                    if not target:
                        raise FeedError(f"the feed answered {response.status} without saying where to")
                    try:
                        return feed_url(urljoin(url, target))
                    except InvalidField as error:
                        raise FeedError(f"the feed redirects to an address that {error.reason}") from None
                if response.status == 304:
                    return Fetched(None, headers.get("if-none-match"), headers.get("if-modified-since"))
                if response.status != 200:
                    raise FeedError(f"the feed answered {response.status}")
                return Fetched(
                    await self._body(response), response.headers.get("ETag"), response.headers.get("Last-Modified")
                )
        except (aiohttp.ClientError, OSError) as error:
            refused = isinstance(error, PrivateTarget) or isinstance(getattr(error, "os_error", None), PrivateTarget)
            if refused:
                raise FeedError("the feed's address is not public; calbot does not call it") from None
            raise FeedError(f"could not reach it: {type(error).__name__}") from None

    async def _body(self, response: aiohttp.ClientResponse) -> bytes:
        limit = self.config.max_body_bytes
        too_big = FeedError(f"the feed is larger than {limit // 1_048_576 or 1} MB; calbot reads at most that")
        if response.content_length is not None and response.content_length > limit:
            raise too_big
        body = bytearray()
        async for chunk in response.content.iter_chunked(CHUNK):
            body += chunk
            if len(body) > limit:
                raise too_big
        return bytes(body)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


@dataclass(frozen=True, slots=True)
class PollResult:
    subscription_id: int
    outcome: str  # "imported", "unchanged", "failed", "lost" (another process took the feed over)
    detail: str = ""


class FeedPoller:
    """Claims the feeds due and polls them; `start` runs it in the background, `poll_due` runs one pass."""

    def __init__(
        self,
        store: Store,
        config: SubscriptionsConfig,
        *,
        clock: Callable[[], datetime],
        settings: Callable[[int], Awaitable[GuildSettings]],
        lease: timedelta = LEASE,
        batch: int = BATCH,
    ) -> None:
        self.store, self.config, self.clock, self.settings = store, config, clock, settings
        self.lease, self.batch = lease, batch
        self.fetcher = FeedFetcher(config)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.tick = config.poll_seconds
        self._task: asyncio.Task[None] | None = None
        self._soon: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.store.subscribe(FEEDS_CHANNEL, lambda _guild: self.wake())
        self._task = asyncio.get_running_loop().create_task(self._run(), name="feed poller")

    def wake(self) -> None:
        """Poll what is due now, not at the next tick (a feed was just subscribed)."""
        if self._soon is None or self._soon.done():
            self._soon = asyncio.get_running_loop().create_task(self._pass(), name="feed poller, woken")

    async def stop(self) -> None:
        for task in (self._task, self._soon):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._soon = None
        await self.fetcher.close()

    async def _run(self) -> None:
        while True:
            await self._pass()
            await asyncio.sleep(await self._until_next())

    async def _until_next(self) -> float:
        """Seconds to sleep: until the next feed falls due (at least `tick`, at most IDLE, or `tick` if longer);
        IDLE with no feed to follow. A feed subscribed meanwhile wakes the poller (`wake`, FEEDS_CHANNEL)."""
        try:
            due = await self.store.subscriptions.next_due()
        except Exception:  # the database away for a moment: look again soon
            log.exception("Could not read when the next feed is due")
            return self.tick
        longest = max(IDLE, self.tick)
        if due is None:
            return longest
        return min(max((due - self.clock()).total_seconds(), self.tick), longest)

    async def _pass(self) -> None:
        try:
            await self.poll_due()
        except Exception:  # the database away for a moment: the next tick tries again
            log.exception("A pass of the feed poller failed")

    async def poll_due(self) -> list[PollResult]:
        """Claim the feeds due and poll each (a few at once); what each poll did."""
        results: list[PollResult] = []
        while claimed := await self.store.subscriptions.claim(self.clock(), self.worker, self.lease, self.batch):
            results += await asyncio.gather(*(self.poll(s) for s in claimed))
            if len(claimed) < self.batch:
                break
        return results

    async def poll(self, subscription: Subscription) -> PollResult:
        """Poll one claimed feed. Never raises for the feed's own faults: they are recorded on it."""
        try:
            fetched = await self.fetcher.fetch(subscription.url, subscription.etag, subscription.last_modified)
            digest = None if fetched.body is None else await asyncio.to_thread(_digest, fetched.body)
            now = self.clock()
            if fetched.body is None or digest == subscription.body_hash:
                result = "not modified" if fetched.body is None else "unchanged"
                due = next_poll(now, subscription.every, 0, random.random())
                held = await self.store.subscriptions.unchanged(subscription, self.worker, due, result)
                return PollResult(subscription.id, "unchanged" if held else "lost", result)
            guild = await self.settings(subscription.guild_id)
            defaults = Defaults(
                subscription.guild_id, subscription.calendar_id, guild.timezone, guild.default_reminders,
                guild.default_channels,
            )  # fmt: skip
            parsed = await asyncio.to_thread(parse_feed, fetched.body, defaults, max_events=self.config.max_events)
            interval = poll_interval(subscription.every, parsed.refresh)
            imported = await self.store.subscriptions.apply(
                subscription, self.worker, parsed,
                next_poll=next_poll(now, interval, 0, random.random()),
                etag=fetched.etag, last_modified=fetched.last_modified, body_hash=digest,
            )  # fmt: skip
        except (FeedError, InvalidFeed) as error:
            return await self._failed(subscription, str(error))
        except Unavailable:
            raise  # the database: the lease runs out and the feed is polled again
        except Exception as error:  # a fault of ours with this feed: recorded on it, the other feeds go on
            log.exception("Could not import the feed of calendar %s (guild %s)", subscription.calendar_id,
                          subscription.guild_id)  # fmt: skip
            return await self._failed(subscription, f"calbot could not import it ({type(error).__name__})")
        if imported is None:
            return PollResult(subscription.id, "lost")
        log.info(
            "Imported feed of calendar %s (guild %s): %d written, %d removed",
            subscription.calendar_id, subscription.guild_id, imported.written, imported.removed,
        )  # fmt: skip
        return PollResult(subscription.id, "imported", f"{imported.written} written, {imported.removed} removed")

    async def _failed(self, subscription: Subscription, reason: str) -> PollResult:
        failures = subscription.failures + 1
        due = next_poll(self.clock(), subscription.every, failures, random.random())
        after = await self.store.subscriptions.failed(
            subscription, self.worker, due, reason, pause_after=self.config.failure_threshold
        )
        if after is not None and after.paused:
            log.warning(
                "Paused the feed of calendar %s (guild %s) after %d failed polls: %s",
                subscription.calendar_id, subscription.guild_id, after.failures, reason,
            )  # fmt: skip
        return PollResult(subscription.id, "failed" if after is not None else "lost", reason)


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
