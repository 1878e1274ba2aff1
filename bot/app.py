"""The Bot: composes the store and the extensions in `setup_hook`, and closes them on shutdown.

Not sharded (no `[discord] shard_count`), CalBot is a plain `commands.Bot`: one gateway connection, every
guild. Sharded, `CalBot(config)` builds a `ShardedCalBot`, discord.py's `AutoShardedBot` on the configured
shards: one connection per shard, and only those shards' guilds. Its reminder engine and event sync then
take only those guilds' work from the shared database (DMs excepted: any process may send those).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace

import aiohttp
import discord
import yarl
from discord.ext import commands

from bot.api import ApiServer
from bot.config import Config
from bot.domain.models import GuildSettings
from bot.domain.shards import Shards
from bot.exts import EXTENSIONS
from bot.exts.delivery import DiscordSender
from bot.exts.follow_up import FollowUp
from bot.exts.tree import CalbotTree
from bot.metrics import Metrics, OpsServer, Readiness, outbox_backlog
from bot.reminders import ByChannel, ReminderEngine
from bot.reminders.feeds import FeedPoller
from bot.reminders.mail import MailSender
from bot.reminders.sms import SmsSender
from bot.reminders.webhooks import WebhookSender
from bot.storage import Store, open_store

log = logging.getLogger(__name__)

COMMANDS_HASH_KEY = "global_commands_sha256"


def route_to(bot: discord.Client, api_base_url: str, gateway_url: str | None) -> None:
    """Send every REST call to `api_base_url` and, if set, every gateway connection to `gateway_url`.

    discord.py builds REST URLs from `Route.BASE`, interaction responses included. Its first gateway
    connection goes to a fixed URL and resumes go to READY's `resume_gateway_url`, but both pass through
    `HTTPClient.ws_connect`, so rewriting the URL there covers them all (the query string is kept). An
    AutoShardedClient opens each shard's connection, resumes included, through the same method.
    Without `gateway_url`, Discord's own URLs are used, resume URLs included, as Discord asks.
    """
    discord.http.Route.BASE = api_base_url
    if gateway_url is None:
        return
    connect, base = bot.http.ws_connect, yarl.URL(gateway_url)

    async def ws_connect(url: str, *, compress: int = 0):
        return await connect(str(base.with_query(yarl.URL(url).query)), compress=compress)

    bot.http.ws_connect = ws_connect


def discord_trace(metrics: Metrics) -> aiohttp.TraceConfig:
    """Counts every HTTP response from Discord, and the 429s by their scope (global, user, shared)."""
    trace = aiohttp.TraceConfig()

    async def on_request_end(_session: object, _context: SimpleNamespace, params: aiohttp.TraceRequestEndParams):
        metrics.count_discord_response(params.response.status, params.response.headers.get("X-RateLimit-Scope"))

    trace.on_request_end.append(on_request_end)
    return trace


class CalBot(commands.Bot):
    def __new__(cls, config: Config, **_options: object) -> CalBot:
        """With shards configured, a ShardedCalBot: the same bot on discord.py's AutoShardedBot."""
        if cls is CalBot and config.discord.shards is not None:
            cls = ShardedCalBot
        return super().__new__(cls)

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime] = discord.utils.utcnow,
        metrics: Metrics | None = None,
    ) -> None:
        # calbot never joins voice; without this discord.py warns at every start that voice is unsupported.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        # The shards this process runs; None: not sharded, it serves every guild. (AutoShardedClient has a
        # `shards` property of its own: the live connections.)
        self.own_shards: Shards | None = config.discord.shards
        own = self.own_shards
        sharding = {} if own is None else {"shard_count": own.count, "shard_ids": list(own.ids)}
        self.metrics = metrics or Metrics()
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents(guilds=True, guild_scheduled_events=True),  # the Events tab (exts/native.py)
            tree_cls=CalbotTree,
            help_command=None,
            # Nothing the bot sends pings anyone unless a send names who may be pinged.
            allowed_mentions=discord.AllowedMentions.none(),
            http_trace=discord_trace(self.metrics),
            **sharding,
        )
        self.config = config
        self.clock = clock
        self._store: Store | None = None
        self._reminders: ReminderEngine | None = None
        self._api: ApiServer | None = None
        self._ops: OpsServer | None = None
        self.readiness = Readiness(self.metrics)
        self.readiness.add("database", self._database_problem)
        self.readiness.add("gateway", self._gateway_problem)
        self.readiness.add("dispatcher", self._dispatcher_problem)
        self.metrics.backlog = lambda: outbox_backlog(self.store.reminders, self.clock())
        self.metrics.watch_gateway(self._latencies)
        # The senders of the channels beyond Discord; mail and sms are None until configured.
        self.mail: MailSender | None = None
        self.sms: SmsSender | None = None
        self.webhooks: WebhookSender | None = None
        self.feeds: FeedPoller | None = None  # polls the outside feeds calendars subscribe to; from setup_hook
        self.follow_up = FollowUp(self)  # what every write of an event is followed by on Discord's side
        route_to(self, config.discord.api_base_url, config.discord.gateway_url)

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the store is opened in setup_hook")
        return self._store

    @property
    def reminders(self) -> ReminderEngine:
        if self._reminders is None:
            raise RuntimeError("the reminder engine starts in setup_hook")
        return self._reminders

    def now(self) -> datetime:
        return self.clock()

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """The guild's stored settings, or the configured defaults until it changes one."""
        return await self.store.settings.get(guild_id) or self.config.defaults.for_guild(guild_id)

    async def prepare(self) -> None:
        """What needs no Discord: open (and migrate) the database, and serve /metrics, /healthz and /readyz
        when `[metrics] enabled`. `python -m bot run` calls it before logging in; setup_hook if nobody did."""
        if self._store is None:
            database = self.config.database
            self._store = await open_store(
                database.url, clock=self.clock, pool_min_size=database.pool_min_size,
                pool_max_size=database.pool_max_size,
            )  # fmt: skip
        settings = self.config.metrics
        if settings.enabled and self._ops is None:
            ops = OpsServer(self.metrics, self.readiness, settings.host, settings.port)
            await ops.start()
            self._ops = ops

    async def _database_problem(self) -> str | None:
        if self._store is None:
            return "not opened"
        await self._store.reminders.backlog(self.clock())  # raises what the database answers
        return None

    async def _gateway_problem(self) -> str | None:
        if self.is_closed():
            return "the client is closed"
        if not self.is_ready():
            return "not connected yet (logging in, or reconnecting)"
        down = self._shards_down()
        return f"disconnected: {down}" if down else None

    def _shards_down(self) -> str | None:
        return None if self.ws is not None and self.ws.open else "the gateway connection"

    def _latencies(self) -> list[tuple[int | None, float]]:
        return [(None, self.latency)]

    async def _dispatcher_problem(self) -> str | None:
        if self._reminders is None:
            return "not started yet (it starts once logged in)"
        return self._reminders.stuck()

    async def setup_hook(self) -> None:
        await self.prepare()
        self._reminders = ReminderEngine(
            self.store, self._senders(), clock=self.clock, shards=self.own_shards, metrics=self.metrics
        )
        await self._reminders.start()
        self.feeds = FeedPoller(self.store, self.config.subscriptions, clock=self.clock, settings=self.guild_settings)
        await self.feeds.start()
        for extension in EXTENSIONS:
            await self.load_extension(extension)  # runs the module's code: synchronous, tens of ms each
            await asyncio.sleep(0)  # so /healthz, the reminders and the API are served between them
        await self.sync_commands()
        if self.config.api.enabled:  # its writes reach the cogs through store.sync, as from another process
            self._api = ApiServer(
                self.store, self.config, clock=self.clock, metrics=self.metrics, readiness=self.readiness
            )
            await self._api.start()

    def _senders(self) -> ByChannel:
        """A sender for every channel calbot is configured for."""
        config, discord_sender = self.config, DiscordSender(self)
        senders = {"discord_public": discord_sender, "discord_private": discord_sender}
        self.webhooks = senders["broadcast"] = WebhookSender(self.store, config.broadcast, self.clock)
        if config.mail.enabled:
            self.mail = senders["mail"] = MailSender(self.store, config.mail, self.clock)
        if config.sms.enabled:
            self.sms = senders["sms"] = SmsSender(self.store, config.sms, self.clock)
        missing = {
            "mail": "mail is not set up on this calbot ([mail] in its configuration)",
            "sms": "sms is not set up on this calbot ([sms] in its configuration)",
        }
        return ByChannel(senders, missing)

    async def close_senders(self) -> None:
        """Close the mail, sms and webhook senders' connections."""
        for sender in (self.mail, self.sms, self.webhooks):
            if sender is not None:
                await sender.close()
        self.mail = self.sms = self.webhooks = None

    async def sync_commands(self) -> None:
        """Sync to the configured guilds (instant), or globally only when the command set changed.

        Sharded, only the process running shard 0 syncs. Commands belong to the application, not to a shard,
        so one sync serves every shard; each process syncing would race on the stored hash and spend
        Discord's daily quota of command creations once per process. Every deployment that covers all
        shards runs shard 0 in exactly one process.
        """
        if self.own_shards is not None and 0 not in self.own_shards.ids:
            log.info("Commands are synced by the process running shard 0, not by this one (%s)", self.own_shards)
            return
        guilds = self.config.discord.command_guilds
        if guilds:
            for guild_id in guilds:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                try:
                    await self.tree.sync(guild=guild)
                except discord.HTTPException as error:  # e.g. the bot is not in that guild
                    log.warning("Could not sync commands to guild %s (discord.command_guilds): %s", guild_id, error)
                else:
                    log.info("Synced commands to guild %s", guild_id)
            return
        # Keyed by application too: a new token for another application must sync again.
        commands_ = [c.to_dict(self.tree) for c in self.tree.get_commands()]
        payload = json.dumps({"application": self.application_id, "commands": commands_}, sort_keys=True)
        digest = hashlib.sha256(payload.encode()).hexdigest()
        if await self.store.meta.get(COMMANDS_HASH_KEY) == digest:
            log.info("Global commands unchanged; not syncing")
            return
        await self.tree.sync()
        await self.store.meta.set(COMMANDS_HASH_KEY, digest)
        log.info("Synced global commands")

    async def on_ready(self) -> None:
        on = f" on {self.own_shards}" if self.own_shards is not None else ""
        log.info("Logged in as %s (%s)%s in %d guilds", self.user, getattr(self.user, "id", "?"), on, len(self.guilds))

    async def close(self) -> None:
        try:
            if self._api is not None:
                await self._api.stop()
                self._api = None
            if self.feeds is not None:
                await self.feeds.stop()
                self.feeds = None
            if self._reminders is not None:
                await self._reminders.stop()
                self._reminders = None
            await self.close_senders()
            if self._ops is not None:
                await self._ops.stop()
                self._ops = None
            await super().close()
        finally:
            if self._store is not None:
                await self._store.close()
                self._store = None


class ShardedCalBot(CalBot, commands.AutoShardedBot):
    """CalBot on discord.py's AutoShardedBot, running the shards `[discord] shard_count`/`shard_ids` name.

    Build it with `CalBot(config)`. (Python puts commands.Bot before AutoShardedBot here; neither defines
    anything at run time but their bases, so every client method is AutoShardedClient's.)
    """

    def __init__(
        self,
        config: Config,
        *,
        clock: Callable[[], datetime] = discord.utils.utcnow,
        metrics: Metrics | None = None,
    ) -> None:
        if config.discord.shards is None:
            raise ValueError("ShardedCalBot needs [discord] shard_count")
        super().__init__(config, clock=clock, metrics=metrics)

    def _shards_down(self) -> str | None:
        down = [shard_id for shard_id, shard in self.shards.items() if shard.is_closed()]
        return f"shard(s) {', '.join(map(str, down))}" if down else None

    def _latencies(self) -> list[tuple[int | None, float]]:
        return list(self.latencies)
