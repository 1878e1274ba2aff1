"""A local stand-in for Discord's REST API and gateway.

A real discord.py client can be pointed at it with two URLs:

* ``api_base_url`` (``http://HOST:PORT/api/v10``) -> ``discord.http.Route.BASE``
* ``gateway_url`` (``ws://HOST:PORT/gateway``) -> every websocket URL discord.py
  opens (keep the query string; ``compress=zlib-stream`` is honoured).

The stand-in keeps a small world (guilds, channels, roles, members, DM
channels), answers the REST routes a typical slash-command bot uses with
Discord-shaped payloads and errors (guild scheduled events: _scheduled_events.py), speaks the gateway protocol (HELLO,
IDENTIFY/READY/GUILD_CREATE, heartbeats, RESUME with replay, member chunks, shards) and
can act as a user (slash commands, autocomplete, component clicks, modal
submits, plain messages, reactions).  Everything runs on the current asyncio
loop; only aiohttp is required.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime
import inspect
import json
import logging
import re
import secrets
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from ._scheduled_events import GUILD_SCHEDULED_EVENTS_INTENT, ScheduledEventsMixin
from ._validate import (
    DiscordError,
    form_error,
    validate_choices,
    validate_command,
    validate_commands,
    validate_message,
    validate_modal,
)

__all__ = [
    "DiscordError",
    "DiscordStandIn",
    "Injection",
    "Intents",
    "Permissions",
    "RequestRecord",
    "StandInError",
    "StandInTimeout",
]

log = logging.getLogger("tests.standin")

# Note: the public coroutines take ``timeout=`` arguments on purpose (the test
# helpers' API); hence the ``noqa: ASYNC109`` markers below.

DISCORD_EPOCH_MS = 1420070400000
DEFAULT_BOT_USER_ID = 1100000000000000001
DEFAULT_APP_OWNER_ID = 1100000000000000009


class Permissions:
    """Discord permission bits (subset) used by the stand-in."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    STREAM = 1 << 9
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_EVENTS = 1 << 33
    CREATE_PUBLIC_THREADS = 1 << 35
    SEND_MESSAGES_IN_THREADS = 1 << 38
    CREATE_EVENTS = 1 << 44
    USE_EXTERNAL_APPS = 1 << 50
    ALL = (1 << 53) - 1

    DEFAULT_EVERYONE = (
        CREATE_INSTANT_INVITE
        | ADD_REACTIONS
        | STREAM
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_EXTERNAL_EMOJIS
        | CONNECT
        | SPEAK
        | CHANGE_NICKNAME
        | USE_APPLICATION_COMMANDS
        | CREATE_PUBLIC_THREADS
        | SEND_MESSAGES_IN_THREADS
        | USE_EXTERNAL_APPS
    )
    DEFAULT_BOT = (
        VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | ADD_REACTIONS
        | USE_EXTERNAL_EMOJIS
        | SEND_MESSAGES_IN_THREADS
        | USE_APPLICATION_COMMANDS
    )


class Intents:
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    MESSAGE_CONTENT = 1 << 15
    GUILD_SCHEDULED_EVENTS = GUILD_SCHEDULED_EVENTS_INTENT
    PRIVILEGED = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT


# gateway opcodes
OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE, OP_VOICE_STATE = 0, 1, 2, 3, 4
OP_RESUME, OP_RECONNECT, OP_REQUEST_MEMBERS, OP_INVALID_SESSION = 6, 7, 8, 9
OP_HELLO, OP_HEARTBEAT_ACK = 10, 11

# interaction types / callback types
IX_PING, IX_COMMAND, IX_COMPONENT, IX_AUTOCOMPLETE, IX_MODAL_SUBMIT = 1, 2, 3, 4, 5
CB_PONG, CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE, CB_AUTOCOMPLETE, CB_MODAL = 1, 4, 5, 6, 7, 8, 9
ALLOWED_CALLBACKS = {
    IX_PING: {CB_PONG},
    IX_COMMAND: {CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_MODAL},
    IX_COMPONENT: {CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE, CB_MODAL},
    IX_AUTOCOMPLETE: {CB_AUTOCOMPLETE},
    IX_MODAL_SUBMIT: {CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE},
}

MSG_FLAG_EPHEMERAL = 1 << 6
MSG_FLAG_LOADING = 1 << 7
SELECT_TYPES = (3, 5, 6, 7, 8)
PRIVATE_MESSAGE_KEYS = ("allowed_mentions",)
UNRESUMABLE_CLOSE_CODES = (4004, 4010, 4011, 4012, 4013, 4014)


def _now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()


def _sid(value: Any) -> str:
    return str(int(getattr(value, "id", value)))


class StandInError(AssertionError):
    """A test-side misuse or an unexpected bot behaviour detected by the stand-in."""


class StandInTimeout(StandInError, TimeoutError):
    """Waiting for the bot timed out."""


class RequestRecord(tuple):
    """``(method, path, json)`` as received; extra data as attributes.

    Attributes: ``method``, ``path`` (relative to the API base, e.g.
    ``/channels/1/messages``), ``json`` (parsed JSON body, or the
    ``payload_json`` part of multipart bodies), ``query`` (dict), ``files``
    (list of uploaded file dicts), ``status`` (the HTTP status answered),
    ``injected`` (answered by a fault injection), ``at`` (monotonic time).
    """

    def __new__(
        cls,
        method: str,
        path: str,
        body: Any,
        *,
        query: dict[str, str] | None = None,
        files: list[dict[str, Any]] | None = None,
    ):
        self = super().__new__(cls, (method, path, body))
        self.query = dict(query or {})
        self.files = list(files or [])
        self.status: int | None = None
        self.injected = False
        self.at = time.monotonic()
        return self

    @property
    def method(self) -> str:
        return self[0]

    @property
    def path(self) -> str:
        return self[1]

    @property
    def json(self) -> Any:
        return self[2]

    def __repr__(self) -> str:
        return f"RequestRecord({self[0]} {self[1]} -> {self.status})"


@dataclass
class Injection:
    """A fault injection; see :meth:`DiscordStandIn.inject`."""

    method: str | None
    pattern: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int | None
    delay: float = 0.0
    hits: int = 0
    _owner: Any = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.times is None or self.hits < self.times

    def matches(self, method: str, path: str) -> bool:
        if not self.active:
            return False
        if self.method not in (None, "*") and self.method.upper() != method:
            return False
        return self.pattern.search(path) is not None

    def remove(self) -> None:
        if self._owner is not None and self in self._owner._injections:
            self._owner._injections.remove(self)


class _Guild:
    def __init__(self, gid: int, name: str, owner_id: int):
        self.id = gid
        self.name = name
        self.owner_id = owner_id
        self.roles: dict[int, dict[str, Any]] = {}
        self.channel_ids: list[int] = []
        self.members: dict[int, dict[str, Any]] = {}
        self.bot_role_id: int | None = None
        self.joined_at = _now_iso()
        self.system_channel_id: int | None = None
        self.scheduled_events: dict[int, dict[str, Any]] = {}  # see _scheduled_events.py
        self.scheduled_users: dict[int, set[int]] = {}  # scheduled event → members interested


class _Conn:
    """One gateway websocket connection with an ordered writer queue."""

    def __init__(self, ws: web.WebSocketResponse, compress: bool):
        self.ws = ws
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.zlib = zlib.compressobj() if compress else None
        self.session: _Session | None = None
        self.closing = False
        self.server_closed = False
        self.task: asyncio.Task | None = None

    def send_text(self, text: str) -> None:
        if not self.closing:
            self.queue.put_nowait(("send", text))

    def send(self, op: int, d: Any) -> None:
        self.send_text(json.dumps({"op": op, "d": d, "s": None, "t": None}))

    def close(self, code: int) -> None:
        if not self.closing:
            self.closing = True
            self.server_closed = True
            self.queue.put_nowait(("close", code))

    async def writer(self) -> None:
        while True:
            kind, arg = await self.queue.get()
            try:
                if kind == "close":
                    await self.ws.close(code=arg, message=b"closed by stand-in")
                    return
                if self.zlib is not None:
                    data = self.zlib.compress(arg.encode()) + self.zlib.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(arg)
            except Exception as exc:  # connection went away
                log.debug("gateway writer stopped: %r", exc)
                return


class _Session:
    def __init__(self, sid: str, token: str, intents: int, shard: list[int] | None):
        self.id = sid
        self.token = token
        self.intents = intents
        self.shard = shard
        self.seq = 0
        self.buffer: list[tuple[int, str]] = []
        self.conn: _Conn | None = None
        self.ready = False
        self.invalid = False
        self.created = time.monotonic()

    def has(self, intent: int) -> bool:
        return bool(self.intents & intent)

    def dispatch(self, event: str, data: Any) -> int:
        self.seq += 1
        text = json.dumps({"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data})
        self.buffer.append((self.seq, text))
        if self.conn is not None:
            self.conn.send_text(text)
        return self.seq


class _Interaction:
    def __init__(
        self,
        iid: int,
        token: str,
        itype: int,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        name: str | None,
        source_message_id: int | None,
        origin: _Interaction | None,
    ):
        self.id = iid
        self.token = token
        self.type = itype
        self.guild_id = guild_id
        self.channel_id = channel_id
        self.user_id = user_id
        self.name = name
        self.source_message_id = source_message_id
        self.origin = origin
        self.created = time.monotonic()
        self.last_activity = self.created
        self.original_id: int | None = None
        self.loading = False
        self.failed: str | None = None
        self.rejected_at: float | None = None
        self.payload: dict[str, Any] = {}
        self.result: dict[str, Any] = {
            "interaction_id": iid,
            "interaction_type": itype,
            "name": name,
            "guild_id": guild_id,
            "channel_id": channel_id,
            "user_id": user_id,
            "type": None,
            "content": None,
            "embeds": [],
            "components": [],
            "flags": 0,
            "ephemeral": False,
            "message": None,
            "followups": [],
            "choices": None,
            "modal": None,
            "deleted": False,
            "edits": 0,
            "errors": [],
        }

    def touch(self) -> None:
        self.last_activity = time.monotonic()


Handler = Callable[..., Any]


class _Req:
    def __init__(self, request: web.Request, rel: str, body: Any, files: list[dict[str, Any]]):
        self.request = request
        self.method = request.method
        self.path = rel
        self.query = request.query
        self.json = body
        self.files = files


class DiscordStandIn(ScheduledEventsMixin):
    """Local Discord stand-in (REST + gateway) for end-to-end bot tests.

    Observation attributes:

    * ``commands``: ``{None: [global cmds], guild_id: [guild cmds]}`` as last
      bulk-overwritten (PUT) by the bot, each with ``id``/``application_id``.
    * ``command_puts``: ``Counter`` of PUTs per scope (``None`` or guild id).
    * ``messages``: ``channel_id -> [message dicts]`` the bot created via
      ``POST /channels/{id}/messages`` (live: edits are applied in place;
      deleted ones are removed and appended to ``deleted_messages``).  The
      dicts also carry ``nonce`` and the request's ``allowed_mentions``.
    * ``interaction_messages``: ``channel_id -> [message dicts]`` created by
      interaction responses / follow-ups (non-ephemeral ones only).
    * ``history``: ``channel_id -> [message dicts]`` everything visible in the
      channel, in order (bot posts, interaction messages, simulated users).
    * ``interactions``: list of interaction result dicts (see :meth:`slash`).
    * ``requests``: list of :class:`RequestRecord` ``(method, path, json)``.
    * ``unknown_routes``: ``[(method, path)]`` answered with 404 Unknown route.
    * ``resumes`` / ``identifies``: counts of RESUME / IDENTIFY ops received.
    * ``gateway_received``: list of ``(op, d)`` received from bots.
    * ``nonce_hits``: messages deduplicated through ``enforce_nonce``.
    * ``rate_limited``: number of 429 answers sent by the global limiter.
    """

    def __init__(
        self,
        *,
        bot_user_id: int = DEFAULT_BOT_USER_ID,
        application_id: int | None = None,
        token: str = "test-token",
        bot_name: str = "calbot",
        app_owner_id: int = DEFAULT_APP_OWNER_ID,
        heartbeat_interval: float = 41.25,
        interaction_deadline: float | None = 3.0,
        rejection_grace: float = 1.0,
        nonce_window: float = 300.0,
        rate_limit_per_second: float | None = None,
        rate_limit_window: float = 1.0,
        allowed_intents: int | None = None,
        gateway_compression: bool = True,
        control_api: bool = True,
        resume_gateway_url: str | None = None,
    ) -> None:
        self.bot_user_id = int(bot_user_id)
        self.application_id = int(application_id if application_id is not None else bot_user_id)
        self.token = token
        self.app_owner_id = int(app_owner_id)
        self.heartbeat_interval = heartbeat_interval
        self.interaction_deadline = interaction_deadline
        self.rejection_grace = rejection_grace
        self.nonce_window = nonce_window
        self.rate_limit_per_second = rate_limit_per_second
        self.rate_limit_window = rate_limit_window
        self.allowed_intents = allowed_intents
        self.gateway_compression = gateway_compression
        self.control_api = control_api
        # What READY hands out for resumes; None: this server's own gateway URL. Point it somewhere
        # unreachable to prove a bot sends resumes to its configured gateway instead.
        self.resume_gateway_url = resume_gateway_url

        self.host = "127.0.0.1"
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

        self._last_snowflake = 0
        self._increment = 0

        self.users: dict[int, dict[str, Any]] = {}
        self.guilds: dict[int, _Guild] = {}
        self.channels: dict[int, dict[str, Any]] = {}
        self._dm_by_user: dict[int, int] = {}
        self.dms_closed: set = set()

        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.command_puts: collections.Counter[int | None] = collections.Counter()
        self._command_ids: dict[tuple[int | None, int, str], int] = {}

        self.messages: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
        self.interaction_messages: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
        self.history: dict[int, list[dict[str, Any]]] = collections.defaultdict(list)
        self.deleted_messages: list[dict[str, Any]] = []
        self._msgs: dict[int, dict[str, Any]] = {}
        self._nonces: dict[tuple[int, int, str], tuple[int, float]] = {}
        self.attachments_data: dict[int, bytes] = {}
        self.nonce_hits = 0

        self.interactions: list[dict[str, Any]] = []
        self._ix_by_token: dict[str, _Interaction] = {}
        self._ix_by_id: dict[int, _Interaction] = {}

        self.requests: list[RequestRecord] = []
        self.unknown_routes: list[tuple[str, str]] = []
        self._injections: list[Injection] = []
        self._rate_window: collections.deque[float] = collections.deque()
        self.rate_limited = 0

        self.sessions: list[_Session] = []
        self._conns: set = set()
        self.resumes = 0
        self.identifies = 0
        self.gateway_received: list[tuple[int, Any]] = []

        self._init_scheduled_events()

        self._add_user(self.bot_user_id, bot_name, bot=True)
        self._add_user(self.app_owner_id, "app-owner")
        self._routes = self._build_routes()

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def bot_user(self) -> dict[str, Any]:
        return self.users[self.bot_user_id]

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._ws_handler)
        app.router.add_get("/gateway/", self._ws_handler)
        app.router.add_get("/attachments/{aid}/{filename}", self._attachment_handler)
        if self.control_api:
            app.router.add_route("*", "/_standin/{action}", self._control_handler)
        app.router.add_route("*", "/api/{tail:.*}", self._rest_handler)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.host = host
        self.port = self._runner.addresses[0][1]
        log.info("Discord stand-in listening on %s (gateway %s)", self.api_base_url, self.gateway_url)

    async def close(self) -> None:
        for conn in list(self._conns):
            conn.close(1001)
        if self._conns:
            with contextlib.suppress(StandInTimeout):
                await self.wait_for(lambda: not self._conns, timeout=2.0)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordStandIn:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # ------------------------------------------------------------------ ids & helpers

    def snowflake(self) -> int:
        """A fresh, strictly increasing, time-based snowflake."""
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        self._increment = (self._increment + 1) & 0xFFF
        value = (ms << 22) | (1 << 17) | self._increment
        if value <= self._last_snowflake:
            value = self._last_snowflake + 1
        self._last_snowflake = value
        return value

    def _add_user(self, uid: int, name: str, *, bot: bool = False) -> dict[str, Any]:
        user = self.users.get(uid)
        if user is None:
            user = {
                "id": str(uid),
                "username": name,
                "global_name": None if bot else name,
                "discriminator": "0",
                "avatar": None,
                "bot": bot,
                "public_flags": 0,
            }
            self.users[uid] = user
        return user

    def add_user(self, user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
        """Register a user that is not (necessarily) a member of any guild."""
        return self._add_user(int(user_id), name, bot=bot)

    def _guild(self, guild_id: Any) -> _Guild:
        try:
            return self.guilds[int(guild_id)]
        except (KeyError, TypeError, ValueError):
            raise DiscordError(404, 10004, "Unknown Guild") from None

    def _channel(self, channel_id: Any) -> dict[str, Any]:
        try:
            return self.channels[int(channel_id)]
        except (KeyError, TypeError, ValueError):
            raise DiscordError(404, 10003, "Unknown Channel") from None

    def _guild_of_channel(self, channel: dict[str, Any]) -> _Guild | None:
        gid = channel.get("guild_id")
        return self.guilds.get(int(gid)) if gid else None

    # ------------------------------------------------------------------ world building

    def add_guild(
        self,
        name: str,
        *,
        owner_id: int | None = None,
        guild_id: int | None = None,
        everyone_permissions: int = Permissions.DEFAULT_EVERYONE,
        bot_permissions: int = Permissions.DEFAULT_BOT,
    ) -> int:
        """Create a guild the bot is a member of; returns its id.

        Without ``owner_id`` an owner member named ``"owner"`` is created.  The
        bot gets a managed role (``bot_permissions``).  Connected bots receive
        ``GUILD_CREATE``.
        """
        gid = int(guild_id) if guild_id is not None else self.snowflake()
        if owner_id is None:
            owner_id = self.snowflake()
            self._add_user(owner_id, "owner")
        g = _Guild(gid, name, int(owner_id))
        self.guilds[gid] = g
        g.roles[gid] = self._role_payload(gid, "@everyone", everyone_permissions, position=0)
        bot_role = self.snowflake()
        g.roles[bot_role] = self._role_payload(
            bot_role,
            self.bot_user["username"],
            bot_permissions,
            position=1,
            managed=True,
            tags={"bot_id": str(self.bot_user_id)},
        )
        g.bot_role_id = bot_role
        g.members[self.bot_user_id] = self._member_record(self.bot_user_id, [bot_role], None)
        if int(owner_id) in self.users:
            g.members[int(owner_id)] = self._member_record(int(owner_id), [], None)
        for session in self._guild_sessions(gid):
            if session.has(Intents.GUILDS):
                session.dispatch("GUILD_CREATE", self._guild_create_payload(g, session))
        return gid

    def remove_guild(self, guild_id: int) -> None:
        """The bot is removed from the guild (GUILD_DELETE)."""
        g = self._guild(guild_id)
        for cid in list(g.channel_ids):
            self.channels.pop(cid, None)
        del self.guilds[g.id]
        self.commands.pop(g.id, None)
        for session in self._guild_sessions(g.id):
            if session.has(Intents.GUILDS):
                session.dispatch("GUILD_DELETE", {"id": str(g.id)})

    def add_channel(
        self,
        guild_id: int,
        name: str,
        *,
        type: int = 0,
        parent_id: int | None = None,
        overwrites: Sequence[dict[str, Any]] = (),
        topic: str | None = None,
        channel_id: int | None = None,
    ) -> int:
        """Create a guild channel (0 text, 2 voice, 4 category, 5 news, 13 stage, 15 forum).

        ``overwrites``: ``[{"id": role_or_user_id, "type": 0 role / 1 member,
        "allow": int, "deny": int}]``.
        """
        g = self._guild(guild_id)
        cid = int(channel_id) if channel_id is not None else self.snowflake()
        channel: dict[str, Any] = {
            "id": str(cid),
            "type": type,
            "guild_id": str(g.id),
            "name": name,
            "position": len(g.channel_ids),
            "permission_overwrites": [self._overwrite_payload(o) for o in overwrites],
            "nsfw": False,
            "topic": topic,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": str(parent_id) if parent_id else None,
            "flags": 0,
        }
        if type in (2, 13):
            channel.update(bitrate=64000, user_limit=0, rtc_region=None, video_quality_mode=1)
        if type in (15, 16):
            channel.update(
                available_tags=[],
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
                default_thread_rate_limit_per_user=0,
            )
        self.channels[cid] = channel
        g.channel_ids.append(cid)
        if g.system_channel_id is None and type == 0:
            g.system_channel_id = cid
        self._dispatch_guild_event(g, "CHANNEL_CREATE", channel, Intents.GUILDS)
        return cid

    def remove_channel(self, channel_id: int) -> None:
        channel = self._channel(channel_id)
        g = self._guild_of_channel(channel)
        del self.channels[int(channel_id)]
        if g is not None:
            g.channel_ids.remove(int(channel_id))
            self._dispatch_guild_event(g, "CHANNEL_DELETE", channel, Intents.GUILDS)

    def set_overwrite(self, channel_id: int, target_id: int, *, allow: int = 0, deny: int = 0, type: int = 0) -> None:
        """Set a channel permission overwrite (type 0 role, 1 member); sends CHANNEL_UPDATE."""
        channel = self._channel(channel_id)
        ows = [o for o in channel["permission_overwrites"] if o["id"] != str(target_id)]
        ows.append(self._overwrite_payload({"id": target_id, "type": type, "allow": allow, "deny": deny}))
        channel["permission_overwrites"] = ows
        g = self._guild_of_channel(channel)
        if g is not None:
            self._dispatch_guild_event(g, "CHANNEL_UPDATE", channel, Intents.GUILDS)

    def add_role(self, guild_id: int, name: str, *, permissions: int = 0, role_id: int | None = None) -> int:
        g = self._guild(guild_id)
        rid = int(role_id) if role_id is not None else self.snowflake()
        g.roles[rid] = self._role_payload(rid, name, permissions, position=len(g.roles))
        self._dispatch_guild_event(
            g, "GUILD_ROLE_CREATE", {"guild_id": str(g.id), "role": g.roles[rid]}, Intents.GUILDS
        )
        return rid

    def add_member(
        self,
        guild_id: int,
        user_id: int,
        name: str,
        *,
        roles: Iterable[int] = (),
        permissions: int | str | None = None,
        nick: str | None = None,
    ) -> None:
        """Add (or update) a guild member.

        ``permissions`` overrides the computed permission bitfield that is put
        into interactions' ``member.permissions`` (normally computed from the
        roles, channel overwrites and guild ownership like Discord does).
        """
        g = self._guild(guild_id)
        uid = int(user_id)
        self._add_user(uid, name)
        role_ids = [int(getattr(r, "id", r)) for r in roles]
        for rid in role_ids:
            if rid not in g.roles:
                raise StandInError(f"role {rid} does not exist in guild {g.id}")
        override = int(permissions) if permissions is not None else None
        existed = uid in g.members
        record = self._member_record(uid, role_ids, override, nick=nick)
        if existed:
            record["joined_at"] = g.members[uid]["joined_at"]
        g.members[uid] = record
        event = "GUILD_MEMBER_UPDATE" if existed else "GUILD_MEMBER_ADD"
        payload = self._member_payload(g, uid)
        payload["guild_id"] = str(g.id)
        self._dispatch_guild_event(g, event, payload, Intents.GUILD_MEMBERS)

    def remove_member(self, guild_id: int, user_id: int) -> None:
        g = self._guild(guild_id)
        g.members.pop(int(user_id), None)
        self._dispatch_guild_event(
            g, "GUILD_MEMBER_REMOVE", {"guild_id": str(g.id), "user": self.users[int(user_id)]}, Intents.GUILD_MEMBERS
        )

    def close_dms(self, user_id: int, closed: bool = True) -> None:
        """Make DMs to ``user_id`` fail with 403 / 50007 like a user with closed DMs."""
        (self.dms_closed.add if closed else self.dms_closed.discard)(int(user_id))

    # ------------------------------------------------------------------ payload builders

    @staticmethod
    def _role_payload(
        rid: int,
        name: str,
        permissions: int,
        *,
        position: int,
        managed: bool = False,
        tags: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        role = {
            "id": str(rid),
            "name": name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": position,
            "permissions": str(int(permissions)),
            "managed": managed,
            "mentionable": False,
            "flags": 0,
        }
        if tags is not None:
            role["tags"] = tags
        return role

    @staticmethod
    def _overwrite_payload(o: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": _sid(o["id"]),
            "type": int(o.get("type", 0)),
            "allow": str(int(o.get("allow", 0))),
            "deny": str(int(o.get("deny", 0))),
        }

    @staticmethod
    def _member_record(uid: int, roles: list[int], override: int | None, *, nick: str | None = None) -> dict[str, Any]:
        return {"user_id": uid, "roles": list(roles), "permissions": override, "nick": nick, "joined_at": _now_iso()}

    def _member_payload(self, g: _Guild, uid: int, *, with_user: bool = True) -> dict[str, Any]:
        m = g.members[uid]
        payload: dict[str, Any] = {
            "roles": [str(r) for r in m["roles"]],
            "nick": m["nick"],
            "avatar": None,
            "banner": None,
            "joined_at": m["joined_at"],
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            payload["user"] = self.users[uid]
        return payload

    def _guild_payload(self, g: _Guild) -> dict[str, Any]:
        return {
            "id": str(g.id),
            "name": g.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(g.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": list(g.roles.values()),
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(g.system_channel_id) if g.system_channel_id else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
        }

    def _guild_create_payload(self, g: _Guild, session: _Session | None) -> dict[str, Any]:
        payload = self._guild_payload(g)
        if session is not None and session.has(Intents.GUILD_PRESENCES) and session.has(Intents.GUILD_MEMBERS):
            member_ids = list(g.members)
        else:
            # Like Discord without presences: only the bot itself is included,
            # the rest has to be requested with REQUEST_GUILD_MEMBERS (op 8).
            member_ids = [self.bot_user_id] if self.bot_user_id in g.members else []
        payload.update(
            joined_at=g.joined_at,
            large=False,
            unavailable=False,
            member_count=len(g.members),
            members=[self._member_payload(g, uid) for uid in member_ids],
            channels=[self.channels[c] for c in g.channel_ids if self.channels[c]["type"] not in (10, 11, 12)],
            threads=[],
            presences=[],
            voice_states=[],
            stage_instances=[],
            guild_scheduled_events=[self._event_payload(g, e) for e in g.scheduled_events.values()],
            soundboard_sounds=[],
        )
        return payload

    def _dm_payload(self, cid: int) -> dict[str, Any]:
        return self.channels[cid]

    def _get_dm(self, user_id: int) -> int:
        uid = int(user_id)
        if uid not in self.users:
            raise DiscordError(400, 50033, "Invalid Recipient(s)")
        cid = self._dm_by_user.get(uid)
        if cid is None:
            cid = self.snowflake()
            self.channels[cid] = {
                "id": str(cid),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.users[uid]],
                "recipient_id": str(uid),
            }
            self._dm_by_user[uid] = cid
        return cid

    def dm_channel_id(self, user_id: int) -> int:
        """The DM channel id between the bot and ``user_id`` (created on demand)."""
        return self._get_dm(user_id)

    # ------------------------------------------------------------------ permissions

    def base_permissions(self, guild_id: int, user_id: int) -> int:
        g = self._guild(guild_id)
        uid = int(user_id)
        if uid == g.owner_id:
            return Permissions.ALL
        member = g.members.get(uid)
        if member is None:
            return 0
        if member["permissions"] is not None:
            return member["permissions"]
        perms = int(g.roles[g.id]["permissions"])
        for rid in member["roles"]:
            role = g.roles.get(rid)
            if role is not None:
                perms |= int(role["permissions"])
        if perms & Permissions.ADMINISTRATOR:
            return Permissions.ALL
        return perms

    def channel_permissions(self, channel_id: int, user_id: int) -> int:
        """Permissions of a member in a channel, computed like Discord does."""
        channel = self._channel(channel_id)
        g = self._guild_of_channel(channel)
        if g is None:
            return Permissions.ALL & ~(Permissions.ADMINISTRATOR | Permissions.MANAGE_GUILD)
        uid = int(user_id)
        member = g.members.get(uid)
        base = self.base_permissions(g.id, uid)
        if base & Permissions.ADMINISTRATOR or (member is not None and member["permissions"] is not None):
            return base
        perms = base
        ows = {(o["id"], o["type"]): o for o in channel.get("permission_overwrites", [])}
        everyone = ows.get((str(g.id), 0))
        if everyone:
            perms = (perms & ~int(everyone["deny"])) | int(everyone["allow"])
        allow = deny = 0
        for rid in (member or {}).get("roles", []):
            o = ows.get((str(rid), 0))
            if o:
                allow |= int(o["allow"])
                deny |= int(o["deny"])
        perms = (perms & ~deny) | allow
        o = ows.get((str(uid), 1))
        if o:
            perms = (perms & ~int(o["deny"])) | int(o["allow"])
        if not perms & Permissions.VIEW_CHANNEL:
            return 0
        if not perms & Permissions.SEND_MESSAGES:
            perms &= ~(
                Permissions.SEND_TTS_MESSAGES
                | Permissions.MENTION_EVERYONE
                | Permissions.EMBED_LINKS
                | Permissions.ATTACH_FILES
            )
        return perms

    # ------------------------------------------------------------------ gateway

    def _live_sessions(self) -> list[_Session]:
        return [s for s in self.sessions if not s.invalid and s.ready]

    @staticmethod
    def _serves(session: _Session, guild_id: int | None) -> bool:
        """Whether Discord sends `session` the events of `guild_id` (None: events outside guilds, DMs).

        Unsharded, a session gets everything. A session identified with ``shard = [id, count]`` gets the
        guilds with ``(guild_id >> 22) % count == id``; events outside any guild go to shard 0 only.
        """
        if session.shard is None:
            return True
        shard_id, count = session.shard
        if guild_id is None:
            return shard_id == 0
        return (int(guild_id) >> 22) % count == shard_id

    def _guild_sessions(self, guild_id: int | None) -> list[_Session]:
        """The live sessions that receive the events of `guild_id` (None: DMs and other guildless events)."""
        return [s for s in self._live_sessions() if self._serves(s, guild_id)]

    @staticmethod
    def shard_of(guild_id: int, shard_count: int) -> int:
        """The shard Discord puts a guild on."""
        return (int(guild_id) >> 22) % shard_count

    def guild_id_on_shard(self, shard_id: int, shard_count: int) -> int:
        """A fresh guild id that falls on `shard_id` of `shard_count` (pass it to ``add_guild``)."""
        while True:
            gid = self.snowflake()
            if self.shard_of(gid, shard_count) == shard_id:
                return gid
            self._last_snowflake = ((gid >> 22) + 1) << 22  # on to the next millisecond

    def shard_guilds(self) -> dict[tuple[int, int] | None, list[int]]:
        """For each live session's shard (``(id, count)``, None when unsharded): the guild ids it got a
        GUILD_CREATE for, in order. What each shard of a sharded bot has been told about."""
        seen: dict[tuple[int, int] | None, list[int]] = {}
        for session in self._live_sessions():
            key = tuple(session.shard) if session.shard is not None else None
            guilds = seen.setdefault(key, [])
            for _seq, text in session.buffer:
                payload = json.loads(text)
                if payload.get("t") == "GUILD_CREATE":
                    guilds.append(int(payload["d"]["id"]))
        return seen

    def _primary_session(self) -> _Session:
        live = self._live_sessions()
        if not live:
            raise StandInError("no bot session is connected to the stand-in gateway (did it IDENTIFY?)")
        return live[-1]

    def _dispatch_guild_event(self, g: _Guild, event: str, data: Any, intent: int) -> None:
        for session in self._guild_sessions(g.id):
            if session.has(intent):
                session.dispatch(event, data)

    async def _ws_handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        compress = self.gateway_compression and request.query.get("compress") == "zlib-stream"
        conn = _Conn(ws, compress)
        conn.task = asyncio.create_task(conn.writer())
        self._conns.add(conn)
        conn.send(OP_HELLO, {"heartbeat_interval": int(self.heartbeat_interval * 1000), "_trace": ["standin"]})
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        payload = json.loads(msg.data)
                    except ValueError:
                        conn.close(4002)
                        continue
                    self._on_gateway_payload(conn, payload)
                elif msg.type == WSMsgType.BINARY:
                    conn.close(4002)
        finally:
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                if not conn.server_closed and ws.close_code in (1000, 1001):
                    session.invalid = True  # a clean client close ends the session
            conn.closing = True
            if conn.task is not None and not conn.task.done():
                conn.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await conn.task
            self._conns.discard(conn)
        return ws

    def _on_gateway_payload(self, conn: _Conn, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        d = payload.get("d")
        self.gateway_received.append((op, d))
        if op == OP_HEARTBEAT:
            conn.send(OP_HEARTBEAT_ACK, None)
        elif op == OP_IDENTIFY:
            self._on_identify(conn, d or {})
        elif op == OP_RESUME:
            self._on_resume(conn, d or {})
        elif conn.session is None:
            conn.close(4003)  # Not authenticated
        elif op == OP_REQUEST_MEMBERS:
            self._on_request_members(conn.session, d or {})
        elif op in (OP_PRESENCE, OP_VOICE_STATE):
            pass
        else:
            conn.close(4001)  # Unknown opcode

    def _on_identify(self, conn: _Conn, d: dict[str, Any]) -> None:
        if conn.session is not None:
            conn.close(4005)  # Already authenticated
            return
        if d.get("token") != self.token:
            conn.close(4004)  # Authentication failed
            return
        intents = d.get("intents")
        if intents is None:
            conn.close(4013)
            return
        intents = int(intents)
        if self.allowed_intents is not None and intents & Intents.PRIVILEGED & ~self.allowed_intents:
            conn.close(4014)  # Disallowed intent(s)
            return
        shard = d.get("shard")
        if shard is not None:
            valid = (
                isinstance(shard, list)
                and len(shard) == 2
                and all(isinstance(n, int) and not isinstance(n, bool) for n in shard)
                and 0 <= shard[0] < shard[1]
            )
            if not valid:
                conn.close(4010)  # Invalid shard
                return
        self.identifies += 1
        session = _Session(secrets.token_hex(16), self.token, intents, shard)
        session.conn = conn
        conn.session = session
        self.sessions.append(session)
        ready: dict[str, Any] = {
            "v": 10,
            "user": dict(self.bot_user, verified=True, mfa_enabled=False, flags=0, email=None),
            "guilds": [{"id": str(gid), "unavailable": True} for gid in self.guilds if self._serves(session, gid)],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url or self.gateway_url,
            "application": {"id": str(self.application_id), "flags": (1 << 15) | (1 << 19)},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth": {},
            "_trace": ["standin"],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        session.dispatch("READY", ready)
        for g in list(self.guilds.values()):
            if self._serves(session, g.id):
                session.dispatch("GUILD_CREATE", self._guild_create_payload(g, session))
        session.ready = True

    def _on_resume(self, conn: _Conn, d: dict[str, Any]) -> None:
        session = next((s for s in self.sessions if s.id == d.get("session_id")), None)
        if session is None or session.invalid or d.get("token") != session.token:
            conn.send(OP_INVALID_SESSION, False)
            return
        old = session.conn
        if old is not None and old is not conn:
            old.close(4000)
        self.resumes += 1
        session.conn = conn
        conn.session = session
        try:
            seq = int(d.get("seq") or 0)
        except (TypeError, ValueError):
            seq = 0
        for s, text in session.buffer:
            if s > seq:
                conn.send_text(text)
        session.dispatch("RESUMED", {"_trace": ["standin"]})

    def _on_request_members(self, session: _Session, d: dict[str, Any]) -> None:
        gids = d.get("guild_id")
        gids = gids if isinstance(gids, list) else [gids]
        for gid in gids:
            g = self.guilds.get(int(gid))
            if g is None or not self._serves(session, g.id):
                continue
            user_ids = d.get("user_ids")
            not_found: list[str] = []
            if user_ids:
                user_ids = user_ids if isinstance(user_ids, list) else [user_ids]
                found = [int(u) for u in user_ids if int(u) in g.members]
                not_found = [str(u) for u in user_ids if int(u) not in g.members]
            else:
                if not session.has(Intents.GUILD_MEMBERS):
                    session.conn and session.conn.close(4013)
                    return
                query = (d.get("query") or "").lower()
                found = [uid for uid in g.members if self.users[uid]["username"].lower().startswith(query)]
                limit = int(d.get("limit") or 0)
                if limit:
                    found = found[:limit]
            chunk: dict[str, Any] = {
                "guild_id": str(g.id),
                "members": [self._member_payload(g, uid) for uid in found],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": not_found,
            }
            if d.get("nonce") is not None:
                chunk["nonce"] = d["nonce"]
            if d.get("presences"):
                chunk["presences"] = []
            session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    async def drop_connection(self, code: int = 4000, *, wait: bool | None = None, timeout: float = 10.0) -> str | None:  # noqa: ASYNC109
        """Close the bot's gateway websocket with ``code``.

        By default (for resumable codes) waits until the bot either RESUMEs
        (returns ``"resumed"``) or re-IDENTIFYs (returns ``"identified"``).
        Events dispatched while it is away are buffered and replayed on RESUME.
        """
        session = self._primary_session()
        conn = session.conn
        if conn is None:
            raise StandInError("the bot session is not connected right now")
        resumes, identifies = self.resumes, self.identifies
        session.conn = None
        conn.close(code)
        if wait is None:
            wait = code not in UNRESUMABLE_CLOSE_CODES
        if not wait:
            return None
        await self.wait_for(
            lambda: self.resumes > resumes or self.identifies > identifies,
            timeout=timeout,
            message=f"bot did not reconnect after close code {code}",
        )
        return "resumed" if self.resumes > resumes else "identified"

    def send_reconnect(self) -> None:
        """Send op 7 RECONNECT to the bot (it should reconnect and RESUME)."""
        session = self._primary_session()
        if session.conn is not None:
            session.conn.send(OP_RECONNECT, None)

    def invalidate_session(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; with ``resumable=False`` the session is discarded."""
        session = self._primary_session()
        conn = session.conn
        if not resumable:
            session.invalid = True
        if conn is not None:
            conn.send(OP_INVALID_SESSION, resumable)

    def dispatch(self, event: str, data: Any) -> None:
        """Send an arbitrary dispatch event to all live bot sessions (of a sharded bot: to the shard of the
        event's ``guild_id``, if it names one)."""
        guild_id = data.get("guild_id") if isinstance(data, dict) else None
        for session in self._live_sessions():
            if guild_id is None or self._serves(session, int(guild_id)):
                session.dispatch(event, data)

    # ------------------------------------------------------------------ observation

    async def wait_for(
        self,
        predicate: Callable[[], Any],
        timeout: float = 10.0,  # noqa: ASYNC109
        *,
        interval: float = 0.01,
        message: str | None = None,
    ) -> Any:
        """Poll ``predicate`` (sync or async) until truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            if time.monotonic() >= deadline:
                raise StandInTimeout(message or f"condition not met within {timeout}s")
            await asyncio.sleep(interval)

    async def wait_ready(self, timeout: float = 20.0) -> str:  # noqa: ASYNC109
        """Wait until a bot IDENTIFYed and got READY + GUILD_CREATEs; returns the session id."""

        def ready() -> _Session | None:
            for session in self._live_sessions():
                # READY and the GUILD_CREATEs have been written to the socket
                if session.conn is not None and session.conn.queue.empty():
                    return session
            return None

        session = await self.wait_for(ready, timeout=timeout, message="no bot identified with the stand-in gateway")
        return session.id

    @property
    def connected(self) -> bool:
        """Whether any bot session currently has an open gateway connection."""
        return any(s.conn is not None for s in self.sessions)

    def requests_to(self, method: str | None = None, path_regex: str = "") -> list[RequestRecord]:
        rx = re.compile(path_regex)
        return [r for r in self.requests if (method is None or r.method == method.upper()) and rx.search(r.path)]

    def all_messages(self, channel_id: int) -> list[dict[str, Any]]:
        return list(self.history.get(int(channel_id), []))

    def get_message(self, message_id: Any) -> dict[str, Any]:
        return self._msgs[int(message_id)]

    # ------------------------------------------------------------------ fault injection

    def inject(
        self,
        method: str | None,
        path_regex: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int | None = 1,
        *,
        retry_after: float = 0.1,
        is_global: bool = False,
        delay: float = 0.0,
    ) -> Injection:
        """Answer the next ``times`` matching requests (``None`` = forever) with ``status``.

        ``path_regex`` is searched in the path relative to the API base (e.g.
        ``r"^/channels/\\d+/messages$"``); ``method`` ``None``/``"*"`` matches any.
        Default bodies/headers are Discord-shaped: 429 gets ``retry_after``,
        ``global``, ``Retry-After``, ``X-RateLimit-*`` and ``Via`` headers
        (discord.py only retries 429s that carry ``Via``); 403 defaults to
        50013 Missing Permissions; 5xx to a plain server error.  ``delay``
        sleeps before answering (slow responses).
        """
        hdrs: dict[str, str] = {}
        if body is None:
            if status == 429:
                body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
                if is_global:
                    body["code"] = 0
            elif status == 403:
                body = {"message": "Missing Permissions", "code": 50013}
            elif status == 404:
                body = {"message": "404: Not Found", "code": 0}
            elif status >= 500:
                body = {"message": f"{status}: Internal Server Error", "code": 0}
            else:
                body = {"message": f"{status}", "code": 0}
        if status == 429:
            ra = body.get("retry_after", retry_after) if isinstance(body, dict) else retry_after
            hdrs.update(
                {
                    "Retry-After": str(max(1, int(ra + 0.999))),
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset-After": str(ra),
                    "X-RateLimit-Bucket": "standin-injected",
                    "X-RateLimit-Scope": "global" if is_global else "user",
                }
            )
            if is_global:
                hdrs["X-RateLimit-Global"] = "true"
        hdrs.update(headers or {})
        inj = Injection(method, re.compile(path_regex), status, body, hdrs, times, delay, _owner=self)
        self._injections.append(inj)
        return inj

    def clear_injections(self) -> None:
        self._injections.clear()

    def _global_rate_limited(self, path: str) -> float | None:
        limit = self.rate_limit_per_second
        if not limit or path.startswith(("/interactions/", "/webhooks/")):
            return None  # interaction endpoints are not bound to the global limit
        now = time.monotonic()
        window = self._rate_window
        span = self.rate_limit_window
        while window and now - window[0] >= span:
            window.popleft()
        if len(window) >= limit:
            return max(0.001, span - (now - window[0]))
        window.append(now)
        return None

    # ------------------------------------------------------------------ REST plumbing

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], Handler, bool]]:
        table = [
            # (method, path, handler, needs_bot_auth)
            ("GET", r"/users/@me", self._r_me, True),
            ("GET", r"/users/@me/guilds", self._r_my_guilds, True),
            ("DELETE", r"/users/@me/guilds/(?P<gid>\d+)", self._r_leave_guild, True),
            ("POST", r"/users/@me/channels", self._r_create_dm, True),
            ("GET", r"/users/(?P<uid>\d+)", self._r_user, True),
            ("GET", r"/gateway", self._r_gateway, False),
            ("GET", r"/gateway/bot", self._r_gateway_bot, True),
            ("GET", r"/oauth2/applications/@me", self._r_app_info, True),
            ("GET", r"/applications/@me", self._r_app_info, True),
            ("GET", r"/applications/(?P<app>\d+)/commands", self._r_get_commands, True),
            ("PUT", r"/applications/(?P<app>\d+)/commands", self._r_put_commands, True),
            ("POST", r"/applications/(?P<app>\d+)/commands", self._r_post_command, True),
            ("GET", r"/applications/(?P<app>\d+)/commands/(?P<cid>\d+)", self._r_get_command, True),
            ("PATCH", r"/applications/(?P<app>\d+)/commands/(?P<cid>\d+)", self._r_patch_command, True),
            ("DELETE", r"/applications/(?P<app>\d+)/commands/(?P<cid>\d+)", self._r_delete_command, True),
            ("GET", r"/applications/(?P<app>\d+)/guilds/(?P<gid>\d+)/commands", self._r_get_commands, True),
            ("PUT", r"/applications/(?P<app>\d+)/guilds/(?P<gid>\d+)/commands", self._r_put_commands, True),
            ("POST", r"/applications/(?P<app>\d+)/guilds/(?P<gid>\d+)/commands", self._r_post_command, True),
            (
                "GET",
                r"/applications/(?P<app>\d+)/guilds/(?P<gid>\d+)/commands/permissions",
                self._r_command_perms,
                True,
            ),
            ("GET", r"/applications/(?P<app>\d+)/guilds/(?P<gid>\d+)/commands/(?P<cid>\d+)", self._r_get_command, True),
            (
                "PATCH",
                r"/applications/(?P<app>\d+)/guilds/(?P<gid>\d+)/commands/(?P<cid>\d+)",
                self._r_patch_command,
                True,
            ),
            (
                "DELETE",
                r"/applications/(?P<app>\d+)/guilds/(?P<gid>\d+)/commands/(?P<cid>\d+)",
                self._r_delete_command,
                True,
            ),
            ("GET", r"/channels/(?P<cid>\d+)", self._r_get_channel, True),
            ("GET", r"/channels/(?P<cid>\d+)/messages", self._r_list_messages, True),
            ("POST", r"/channels/(?P<cid>\d+)/messages", self._r_create_message, True),
            ("GET", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._r_get_message, True),
            ("PATCH", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._r_edit_message, True),
            ("DELETE", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._r_delete_message, True),
            (
                "PUT",
                r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)/reactions/(?P<emoji>[^/]+)/@me",
                self._r_add_reaction,
                True,
            ),
            (
                "DELETE",
                r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)/reactions/(?P<emoji>[^/]+)/@me",
                self._r_remove_reaction,
                True,
            ),
            ("POST", r"/channels/(?P<cid>\d+)/typing", self._r_typing, True),
            ("GET", r"/guilds/(?P<gid>\d+)", self._r_get_guild, True),
            ("GET", r"/guilds/(?P<gid>\d+)/channels", self._r_guild_channels, True),
            ("GET", r"/guilds/(?P<gid>\d+)/roles", self._r_guild_roles, True),
            ("GET", r"/guilds/(?P<gid>\d+)/members", self._r_guild_members, True),
            ("GET", r"/guilds/(?P<gid>\d+)/members/search", self._r_search_members, True),
            ("GET", r"/guilds/(?P<gid>\d+)/members/(?P<uid>\d+)", self._r_guild_member, True),
            ("GET", r"/guilds/(?P<gid>\d+)/scheduled-events", self._r_list_scheduled, True),
            ("POST", r"/guilds/(?P<gid>\d+)/scheduled-events", self._r_create_scheduled, True),
            ("GET", r"/guilds/(?P<gid>\d+)/scheduled-events/(?P<eid>\d+)", self._r_get_scheduled, True),
            ("PATCH", r"/guilds/(?P<gid>\d+)/scheduled-events/(?P<eid>\d+)", self._r_edit_scheduled, True),
            ("DELETE", r"/guilds/(?P<gid>\d+)/scheduled-events/(?P<eid>\d+)", self._r_delete_scheduled, True),
            ("GET", r"/guilds/(?P<gid>\d+)/scheduled-events/(?P<eid>\d+)/users", self._r_scheduled_users, True),
            ("POST", r"/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback", self._r_interaction_callback, False),
            ("POST", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)", self._r_followup, False),
            (
                "GET",
                r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
                self._r_webhook_get,
                False,
            ),
            (
                "PATCH",
                r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
                self._r_webhook_edit,
                False,
            ),
            (
                "DELETE",
                r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
                self._r_webhook_delete,
                False,
            ),
        ]
        return [(m, re.compile(p), h, auth) for m, p, h, auth in table]

    @staticmethod
    def _json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> web.Response:
        hdrs = {"Via": "1.1 google"}
        hdrs.update(headers or {})
        if status == 204 or data is None:
            return web.Response(status=204 if data is None else status, headers=hdrs)
        # Exactly "application/json" (no charset), like Discord: discord.py compares the header verbatim.
        hdrs["Content-Type"] = "application/json"
        return web.Response(status=status, body=json.dumps(data).encode(), headers=hdrs)

    async def _read_body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        files: list[dict[str, Any]] = []
        if not request.can_read_body:
            return None, files
        ctype = request.content_type
        if ctype.startswith("multipart/"):
            body: Any = None
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                else:
                    data = await part.read()
                    files.append(
                        {
                            "field": part.name,
                            "filename": part.filename,
                            "size": len(data),
                            "content_type": part.headers.get("Content-Type"),
                            "data": data,
                        }
                    )
            return body, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError:
            return raw.decode("utf-8", "replace"), files

    async def _rest_handler(self, request: web.Request) -> web.StreamResponse:
        m = re.match(r"^/api(?:/v\d+)?(/.*)$", request.path)
        rel = m.group(1) if m else request.path
        if len(rel) > 1:
            rel = rel.rstrip("/")
        method = request.method.upper()
        try:
            body, files = await self._read_body(request)
        except ValueError:
            body, files = None, []
        record = RequestRecord(method, rel, body, query=dict(request.query), files=files)
        self.requests.append(record)

        inj = next((i for i in self._injections if i.matches(method, rel)), None)
        if inj is not None:
            inj.hits += 1
            if inj.delay:
                await asyncio.sleep(inj.delay)
            record.status, record.injected = inj.status, True
            return self._json_response(inj.status, inj.body, inj.headers)

        retry = self._global_rate_limited(rel)
        if retry is not None:
            self.rate_limited += 1
            record.status = 429
            headers = {
                "Retry-After": str(max(1, int(retry + 0.999))),
                "X-RateLimit-Global": "true",
                "X-RateLimit-Scope": "global",
            }
            return self._json_response(
                429,
                {"message": "You are being rate limited.", "retry_after": round(retry, 3), "global": True, "code": 0},
                headers,
            )

        handler = None
        params: dict[str, str] = {}
        needs_auth = True
        for r_method, rx, fn, auth in self._routes:
            mm = rx.fullmatch(rel) if r_method == method else None
            if mm is not None:
                handler, params, needs_auth = fn, mm.groupdict(), auth
                break
        if handler is None:
            # Not implemented by the stand-in (whatever Discord would say): make it visible.
            self.unknown_routes.append((method, rel))
            log.warning("stand-in: unknown route %s %s", method, rel)
            record.status = 404
            return self._json_response(404, {"message": "Unknown route", "code": 0})

        if needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
            record.status = 401
            return self._json_response(401, {"message": "401: Unauthorized", "code": 0})

        req = _Req(request, rel, body, files)
        try:
            status, data = await handler(req, **params)
        except DiscordError as exc:
            status, data = exc.status, exc.body()
        except Exception:  # a stand-in bug must be loud but not hang the bot
            log.exception("stand-in: handler for %s %s crashed", method, rel)
            status, data = 500, {"message": "500: stand-in internal error", "code": 0}
        record.status = status
        return self._json_response(status, data)

    async def _attachment_handler(self, request: web.Request) -> web.Response:
        data = self.attachments_data.get(int(request.match_info["aid"]))
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data)

    # ------------------------------------------------------------------ REST: users, gateway, application

    async def _r_me(self, req: _Req):
        return 200, dict(self.bot_user, verified=True, mfa_enabled=False, flags=0, email=None, locale="en-US")

    async def _r_user(self, req: _Req, uid: str):
        user = self.users.get(int(uid))
        if user is None:
            raise DiscordError(404, 10013, "Unknown User")
        return 200, user

    async def _r_my_guilds(self, req: _Req):
        return 200, [
            {
                "id": str(g.id),
                "name": g.name,
                "icon": None,
                "banner": None,
                "owner": g.owner_id == self.bot_user_id,
                "permissions": str(self.base_permissions(g.id, self.bot_user_id)),
                "features": [],
            }
            for g in self.guilds.values()
        ]

    async def _r_leave_guild(self, req: _Req, gid: str):
        self.remove_guild(int(self._guild(gid).id))
        return 204, None

    async def _r_create_dm(self, req: _Req):
        body = req.json or {}
        cid = self._get_dm(int(body.get("recipient_id", 0)))
        return 200, self._dm_payload(cid)

    async def _r_gateway(self, req: _Req):
        return 200, {"url": self.gateway_url}

    async def _r_gateway_bot(self, req: _Req):
        return 200, {
            "url": self.gateway_url,
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1},
        }

    async def _r_app_info(self, req: _Req):
        return 200, {
            "id": str(self.application_id),
            "name": self.bot_user["username"],
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": (1 << 15) | (1 << 19),
            "owner": self.users[self.app_owner_id],
            "team": None,
            "guild_id": None,
            "rpc_origins": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "integration_types_config": {"0": {}},
            "approximate_guild_count": len(self.guilds),
            "bot": self.bot_user,
            "tags": [],
        }

    # ------------------------------------------------------------------ REST: application commands

    def _check_app(self, app: str) -> None:
        if int(app) != self.application_id:
            raise DiscordError(403, 50001, "Missing Access")

    def _scope(self, gid: str | None) -> int | None:
        if gid is None:
            return None
        return self._guild(gid).id

    def _normalize_command(self, scope: int | None, cmd: dict[str, Any]) -> dict[str, Any]:
        ctype = int(cmd.get("type") or 1)
        key = (scope, ctype, cmd["name"])
        cid = self._command_ids.get(key)
        if cid is None:
            cid = self._command_ids[key] = self.snowflake()
        out = {
            "id": str(cid),
            "application_id": str(self.application_id),
            "version": str(self.snowflake()),
            "type": ctype,
            "name": cmd["name"],
            "description": cmd.get("description", "") if ctype == 1 else "",
            "default_member_permissions": cmd.get("default_member_permissions"),
            "dm_permission": cmd.get("dm_permission", True) if scope is None else None,
            "contexts": cmd.get("contexts"),
            "integration_types": cmd.get("integration_types") or [0],
            "nsfw": bool(cmd.get("nsfw", False)),
            "name_localizations": cmd.get("name_localizations"),
            "description_localizations": cmd.get("description_localizations"),
        }
        if scope is not None:
            out["guild_id"] = str(scope)
        if cmd.get("options"):
            out["options"] = cmd["options"]
        return out

    async def _r_get_commands(self, req: _Req, app: str, gid: str | None = None):
        self._check_app(app)
        return 200, self.commands.get(self._scope(gid), [])

    async def _r_put_commands(self, req: _Req, app: str, gid: str | None = None):
        self._check_app(app)
        scope = self._scope(gid)
        validate_commands(req.json)
        result = [self._normalize_command(scope, c) for c in req.json]
        self.commands[scope] = result
        self.command_puts[scope] += 1
        return 200, result

    async def _r_post_command(self, req: _Req, app: str, gid: str | None = None):
        self._check_app(app)
        scope = self._scope(gid)
        errors: list[Any] = []
        validate_command(errors, req.json)
        if errors:
            raise form_error(errors)
        cmd = self._normalize_command(scope, req.json)
        cmds = [c for c in self.commands.get(scope, []) if c["id"] != cmd["id"]]
        cmds.append(cmd)
        self.commands[scope] = cmds
        return 201, cmd

    def _find_command_by_id(self, scope: int | None, cid: str) -> dict[str, Any]:
        for cmd in self.commands.get(scope, []):
            if cmd["id"] == cid:
                return cmd
        raise DiscordError(404, 10063, "Unknown application command")

    async def _r_get_command(self, req: _Req, app: str, cid: str, gid: str | None = None):
        self._check_app(app)
        return 200, self._find_command_by_id(self._scope(gid), cid)

    async def _r_patch_command(self, req: _Req, app: str, cid: str, gid: str | None = None):
        self._check_app(app)
        cmd = self._find_command_by_id(self._scope(gid), cid)
        for key in ("name", "description", "options", "default_member_permissions", "contexts", "nsfw"):
            if key in (req.json or {}):
                cmd[key] = req.json[key]
        return 200, cmd

    async def _r_delete_command(self, req: _Req, app: str, cid: str, gid: str | None = None):
        self._check_app(app)
        scope = self._scope(gid)
        cmd = self._find_command_by_id(scope, cid)
        self.commands[scope] = [c for c in self.commands[scope] if c is not cmd]
        return 204, None

    async def _r_command_perms(self, req: _Req, app: str, gid: str):
        self._check_app(app)
        return 200, []

    # ------------------------------------------------------------------ REST: guilds

    async def _r_get_guild(self, req: _Req, gid: str):
        g = self._guild(gid)
        payload = self._guild_payload(g)
        if req.query.get("with_counts") in ("true", "1", "True"):
            payload["approximate_member_count"] = len(g.members)
            payload["approximate_presence_count"] = 0
        return 200, payload

    async def _r_guild_channels(self, req: _Req, gid: str):
        g = self._guild(gid)
        return 200, [self.channels[c] for c in g.channel_ids]

    async def _r_guild_roles(self, req: _Req, gid: str):
        return 200, list(self._guild(gid).roles.values())

    async def _r_guild_member(self, req: _Req, gid: str, uid: str):
        g = self._guild(gid)
        if int(uid) not in g.members:
            raise DiscordError(404, 10007, "Unknown Member")
        return 200, self._member_payload(g, int(uid))

    async def _r_guild_members(self, req: _Req, gid: str):
        g = self._guild(gid)
        limit = int(req.query.get("limit", 1))
        after = int(req.query.get("after", 0))
        ids = sorted(uid for uid in g.members if uid > after)[:limit]
        return 200, [self._member_payload(g, uid) for uid in ids]

    async def _r_search_members(self, req: _Req, gid: str):
        g = self._guild(gid)
        query = req.query.get("query", "").lower()
        limit = int(req.query.get("limit", 1))
        ids = [uid for uid in g.members if self.users[uid]["username"].lower().startswith(query)][:limit]
        return 200, [self._member_payload(g, uid) for uid in ids]

    # ------------------------------------------------------------------ REST: channels & messages

    def _check_bot_can(self, channel: dict[str, Any], perm: int) -> None:
        g = self._guild_of_channel(channel)
        if g is None:
            return
        perms = self.channel_permissions(int(channel["id"]), self.bot_user_id)
        if not perms & Permissions.VIEW_CHANNEL:
            raise DiscordError(403, 50001, "Missing Access")
        if perm and not perms & perm:
            raise DiscordError(403, 50013, "Missing Permissions")

    async def _r_get_channel(self, req: _Req, cid: str):
        channel = self._channel(cid)
        self._check_bot_can(channel, 0)
        return 200, channel

    def _visible_message(self, cid: str, mid: str) -> dict[str, Any]:
        msg = self._msgs.get(int(mid))
        if msg is None or msg["channel_id"] != str(int(cid)) or msg["flags"] & MSG_FLAG_EPHEMERAL:
            raise DiscordError(404, 10008, "Unknown Message")
        return msg

    async def _r_list_messages(self, req: _Req, cid: str):
        channel = self._channel(cid)
        self._check_bot_can(channel, Permissions.READ_MESSAGE_HISTORY)
        msgs = self.history.get(int(cid), [])
        limit = max(1, min(100, int(req.query.get("limit", 50))))
        if "before" in req.query:
            before = int(req.query["before"])
            selected = [m for m in msgs if int(m["id"]) < before][-limit:]
        elif "after" in req.query:
            after = int(req.query["after"])
            selected = [m for m in msgs if int(m["id"]) > after][:limit]
        elif "around" in req.query:
            around = int(req.query["around"])
            idx = next((i for i, m in enumerate(msgs) if int(m["id"]) >= around), len(msgs))
            start = max(0, idx - limit // 2)
            selected = msgs[start : start + limit]
        else:
            selected = msgs[-limit:]
        return 200, [self._wire(m) for m in reversed(selected)]

    async def _r_get_message(self, req: _Req, cid: str, mid: str):
        channel = self._channel(cid)
        self._check_bot_can(channel, Permissions.READ_MESSAGE_HISTORY)
        return 200, self._wire(self._visible_message(cid, mid))

    async def _r_create_message(self, req: _Req, cid: str):
        channel = self._channel(cid)
        payload = req.json if isinstance(req.json, dict) else {}
        if channel["type"] == 1:
            uid = int(channel["recipient_id"])
            shares_guild = any(uid in g.members for g in self.guilds.values())
            if uid in self.dms_closed or not shares_guild:
                raise DiscordError(403, 50007, "Cannot send messages to this user")
        elif channel["type"] in (4, 15, 16):
            raise DiscordError(400, 50008, "Cannot send messages in a non-text channel")
        else:
            self._check_bot_can(channel, Permissions.SEND_MESSAGES)
            if req.files:
                self._check_bot_can(channel, Permissions.ATTACH_FILES)
        validate_message(payload, has_files=bool(req.files))
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):
            key = (self.bot_user_id, int(cid), str(nonce))
            hit = self._nonces.get(key)
            if hit is not None and time.monotonic() - hit[1] < self.nonce_window and hit[0] in self._msgs:
                self.nonce_hits += 1
                return 200, self._wire(self._msgs[hit[0]])
        msg = self._create_message(int(cid), self.bot_user_id, payload, req.files)
        if nonce is not None:
            self._nonces[(self.bot_user_id, int(cid), str(nonce))] = (int(msg["id"]), time.monotonic())
        self.messages[int(cid)].append(msg)
        return 200, self._wire(msg)

    async def _r_edit_message(self, req: _Req, cid: str, mid: str):
        self._channel(cid)
        msg = self._visible_message(cid, mid)
        payload = req.json if isinstance(req.json, dict) else {}
        if msg["author"]["id"] != str(self.bot_user_id) and set(payload) - {"flags"}:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        validate_message(payload, edit=True)
        self._apply_edit(msg, payload, req.files)
        return 200, self._wire(msg)

    async def _r_delete_message(self, req: _Req, cid: str, mid: str):
        channel = self._channel(cid)
        msg = self._visible_message(cid, mid)
        if msg["author"]["id"] != str(self.bot_user_id):
            self._check_bot_can(channel, Permissions.MANAGE_MESSAGES)
        self._delete_message(msg)
        return 204, None

    async def _r_add_reaction(self, req: _Req, cid: str, mid: str, emoji: str):
        channel = self._channel(cid)
        msg = self._visible_message(cid, mid)
        self._check_bot_can(channel, Permissions.ADD_REACTIONS)
        self._react(msg, self.bot_user_id, emoji, add=True)
        return 204, None

    async def _r_remove_reaction(self, req: _Req, cid: str, mid: str, emoji: str):
        self._channel(cid)
        msg = self._visible_message(cid, mid)
        self._react(msg, self.bot_user_id, emoji, add=False)
        return 204, None

    async def _r_typing(self, req: _Req, cid: str):
        self._channel(cid)
        return 204, None

    # ------------------------------------------------------------------ message store

    def _wire(self, msg: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in msg.items() if k not in PRIVATE_MESSAGE_KEYS}

    def _mentions(
        self, content: str, allowed: dict[str, Any] | None, channel: dict[str, Any], author_id: int
    ) -> tuple[list[dict[str, Any]], list[str], bool]:
        parse = ["users", "roles", "everyone"] if allowed is None else list(allowed.get("parse") or [])
        allowed_users = {str(u) for u in (allowed or {}).get("users") or []}
        allowed_roles = {str(r) for r in (allowed or {}).get("roles") or []}
        users: list[dict[str, Any]] = []
        for uid in dict.fromkeys(re.findall(r"<@!?(\d+)>", content)):
            if int(uid) in self.users and ("users" in parse or uid in allowed_users):
                users.append(self.users[int(uid)])
        g = self._guild_of_channel(channel)
        roles: list[str] = []
        if g is not None:
            for rid in dict.fromkeys(re.findall(r"<@&(\d+)>", content)):
                if int(rid) in g.roles and ("roles" in parse or rid in allowed_roles):
                    roles.append(rid)
        everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
        if everyone and g is not None:
            everyone = bool(self.channel_permissions(int(channel["id"]), author_id) & Permissions.MENTION_EVERYONE)
        return users, roles, everyone

    def _attachments_from_files(self, files: Sequence[dict[str, Any]], payload: dict[str, Any]) -> list[dict[str, Any]]:
        described = {}
        for a in payload.get("attachments") or []:
            if isinstance(a, dict):
                described[str(a.get("id"))] = a
        out = []
        for i, f in enumerate(files):
            aid = self.snowflake()
            self.attachments_data[aid] = f["data"]
            filename = f.get("filename") or f"file{i}"
            meta = described.get(str(i), {})
            url = f"{self.base_url}/attachments/{aid}/{filename}"
            out.append(
                {
                    "id": str(aid),
                    "filename": meta.get("filename", filename),
                    "size": f["size"],
                    "url": url,
                    "proxy_url": url,
                    "content_type": f.get("content_type"),
                    "description": meta.get("description"),
                }
            )
        return out

    def _create_message(
        self,
        channel_id: int,
        author_id: int,
        payload: dict[str, Any],
        files: Sequence[dict[str, Any]] = (),
        *,
        msg_type: int = 0,
        extra: dict[str, Any] | None = None,
        ephemeral: bool = False,
    ) -> dict[str, Any]:
        channel = self.channels[channel_id]
        mid = self.snowflake()
        content = payload.get("content") or ""
        users, roles, everyone = self._mentions(content, payload.get("allowed_mentions"), channel, author_id)
        flags = int(payload.get("flags") or 0)
        if ephemeral:
            flags |= MSG_FLAG_EPHEMERAL
        msg: dict[str, Any] = {
            "id": str(mid),
            "channel_id": str(channel_id),
            "author": self.users[author_id],
            "content": content,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts", False)),
            "mention_everyone": everyone,
            "mentions": users,
            "mention_roles": roles,
            "attachments": self._attachments_from_files(files, payload),
            "embeds": [dict(e, type=e.get("type", "rich")) for e in payload.get("embeds") or []],
            "components": list(payload.get("components") or []),
            "pinned": False,
            "type": msg_type,
            "flags": flags,
        }
        if payload.get("nonce") is not None:
            msg["nonce"] = payload["nonce"]
        if payload.get("message_reference"):
            ref = dict(payload["message_reference"])
            ref.setdefault("channel_id", str(channel_id))
            msg["message_reference"] = ref
            referenced = self._msgs.get(int(ref.get("message_id", 0) or 0))
            msg["referenced_message"] = self._wire(referenced) if referenced else None
            if referenced is not None:
                msg["type"] = 19
        if extra:
            msg.update(extra)
        msg["allowed_mentions"] = payload.get("allowed_mentions")
        self._msgs[mid] = msg
        if not flags & MSG_FLAG_EPHEMERAL:
            self.history[channel_id].append(msg)
            channel["last_message_id"] = str(mid)
            self._dispatch_message_event("MESSAGE_CREATE", msg)
        return msg

    def _apply_edit(self, msg: dict[str, Any], payload: dict[str, Any], files: Sequence[dict[str, Any]] = ()) -> None:
        channel = self.channels.get(int(msg["channel_id"]), {"id": msg["channel_id"]})
        if "content" in payload:
            msg["content"] = payload["content"] or ""
        if "embeds" in payload:
            msg["embeds"] = [dict(e, type=e.get("type", "rich")) for e in payload["embeds"] or []]
        if "components" in payload:
            msg["components"] = list(payload["components"] or [])
        if "allowed_mentions" in payload:
            msg["allowed_mentions"] = payload["allowed_mentions"]
        if "flags" in payload and payload["flags"] is not None:
            keep = msg["flags"] & (MSG_FLAG_EPHEMERAL | MSG_FLAG_LOADING)
            msg["flags"] = (int(payload["flags"]) & ~(MSG_FLAG_EPHEMERAL | MSG_FLAG_LOADING)) | keep
        if "attachments" in payload or files:
            keep_ids = {str(a.get("id")) for a in payload.get("attachments") or [] if isinstance(a, dict)}
            kept = (
                [a for a in msg["attachments"] if a["id"] in keep_ids]
                if "attachments" in payload
                else msg["attachments"]
            )
            msg["attachments"] = kept + self._attachments_from_files(files, payload)
        if "content" in payload or "allowed_mentions" in payload:
            users, roles, everyone = self._mentions(
                msg["content"], msg.get("allowed_mentions"), channel, int(msg["author"]["id"])
            )
            msg.update(mentions=users, mention_roles=roles, mention_everyone=everyone)
        msg["edited_timestamp"] = _now_iso()
        if not msg["flags"] & MSG_FLAG_EPHEMERAL:
            self._dispatch_message_event("MESSAGE_UPDATE", msg)

    def _delete_message(self, msg: dict[str, Any]) -> None:
        mid = int(msg["id"])
        cid = int(msg["channel_id"])
        self._msgs.pop(mid, None)
        for store in (self.messages, self.interaction_messages, self.history):
            lst = store.get(cid)
            if lst and msg in lst:
                lst.remove(msg)
        self.deleted_messages.append(msg)
        if not msg["flags"] & MSG_FLAG_EPHEMERAL:
            data = {"id": str(mid), "channel_id": str(cid)}
            channel = self.channels.get(cid)
            if channel and channel.get("guild_id"):
                data["guild_id"] = channel["guild_id"]
            self._dispatch_message_event("MESSAGE_DELETE", msg, data)

    def _react(self, msg: dict[str, Any], user_id: int, emoji: str, *, add: bool) -> None:
        reactions = msg.setdefault("reactions", [])
        entry = next((r for r in reactions if r["emoji"]["name"] == emoji), None)
        if add:
            if entry is None:
                entry = {
                    "emoji": {"id": None, "name": emoji},
                    "count": 0,
                    "me": False,
                    "burst_colors": [],
                    "count_details": {"burst": 0, "normal": 0},
                    "me_burst": False,
                    "burst_me": False,
                }
                reactions.append(entry)
            entry["count"] += 1
            entry["count_details"]["normal"] += 1
            if user_id == self.bot_user_id:
                entry["me"] = True
        elif entry is not None:
            entry["count"] -= 1
            entry["count_details"]["normal"] -= 1
            if user_id == self.bot_user_id:
                entry["me"] = False
            if entry["count"] <= 0:
                reactions.remove(entry)
        if not reactions:
            msg.pop("reactions", None)

    def _dispatch_message_event(self, event: str, msg: dict[str, Any], data: dict[str, Any] | None = None) -> None:
        channel = self.channels.get(int(msg["channel_id"]))
        if channel is None:
            return
        g = self._guild_of_channel(channel)
        intent = Intents.GUILD_MESSAGES if g is not None else Intents.DIRECT_MESSAGES
        for session in self._guild_sessions(g.id if g is not None else None):
            if not session.has(intent):
                continue
            if data is not None:
                session.dispatch(event, data)
                continue
            payload = self._wire(msg)
            if g is not None:
                payload["guild_id"] = str(g.id)
                author_id = int(msg["author"]["id"])
                if author_id in g.members:
                    payload["member"] = self._member_payload(g, author_id, with_user=False)
            author_is_bot_itself = msg["author"]["id"] == str(self.bot_user_id)
            mentioned = any(u["id"] == str(self.bot_user_id) for u in msg.get("mentions", []))
            if (
                g is not None
                and not author_is_bot_itself
                and not mentioned
                and not session.has(Intents.MESSAGE_CONTENT)
            ):
                payload.update(content="", embeds=[], attachments=[], components=[])
            session.dispatch(event, payload)

    # ------------------------------------------------------------------ acting as users: messages & reactions

    def user_message(
        self, channel_id: int, user_id: int, content: str, *, embeds: Sequence[dict[str, Any]] = ()
    ) -> dict[str, Any]:
        """Simulate a user posting a message (MESSAGE_CREATE to the bot)."""
        self._channel(channel_id)
        if int(user_id) not in self.users:
            raise StandInError(f"unknown user {user_id}")
        return self._create_message(int(channel_id), int(user_id), {"content": content, "embeds": list(embeds)})

    def react(self, channel_id: int, message_id: int, user_id: int, emoji: str, *, add: bool = True) -> None:
        """Simulate a user adding/removing a unicode emoji reaction."""
        channel = self._channel(channel_id)
        msg = self._visible_message(str(channel_id), str(message_id))
        uid = int(user_id)
        self._react(msg, uid, emoji, add=add)
        g = self._guild_of_channel(channel)
        data: dict[str, Any] = {
            "user_id": str(uid),
            "channel_id": str(channel_id),
            "message_id": str(message_id),
            "emoji": {"id": None, "name": emoji},
            "burst": False,
            "type": 0,
        }
        if g is not None:
            data["guild_id"] = str(g.id)
            if add and uid in g.members:
                data["member"] = self._member_payload(g, uid)
        if add:
            data["message_author_id"] = msg["author"]["id"]
        intent = Intents.GUILD_MESSAGE_REACTIONS if g is not None else Intents.DIRECT_MESSAGE_REACTIONS
        event = "MESSAGE_REACTION_ADD" if add else "MESSAGE_REACTION_REMOVE"
        for session in self._guild_sessions(g.id if g is not None else None):
            if session.has(intent):
                session.dispatch(event, data)

    # ------------------------------------------------------------------ acting as users: interactions

    def find_command(self, guild_id: int | None, name: str, *, type: int = 1) -> dict[str, Any]:
        """The synced command a user in ``guild_id`` would see (guild first, then global)."""
        scopes: list[int | None] = [int(guild_id), None] if guild_id is not None else [None]
        for scope in scopes:
            for cmd in self.commands.get(scope, []):
                if cmd["name"] == name and cmd.get("type", 1) == type:
                    return cmd
        synced = {str(k): [c["name"] for c in v] for k, v in self.commands.items()}
        raise StandInError(f"command {name!r} (type {type}) is not synced for guild {guild_id}; synced: {synced}")

    def _ix_context(self, guild_id: int | None, channel_id: int | None, user_id: int) -> tuple[_Guild | None, int, int]:
        uid = int(user_id)
        if uid not in self.users:
            raise StandInError(f"unknown user {uid}; add_member()/add_user() first")
        if guild_id is None:
            cid = int(channel_id) if channel_id is not None else self._get_dm(uid)
            return None, cid, uid
        g = self._guild(guild_id)
        if uid not in g.members:
            raise StandInError(f"user {uid} is not a member of guild {g.id}")
        if channel_id is None:
            raise StandInError("channel_id is required for guild interactions")
        channel = self._channel(channel_id)
        if channel.get("guild_id") != str(g.id):
            raise StandInError(f"channel {channel_id} is not in guild {g.id}")
        return g, int(channel_id), uid

    def _interaction_payload(
        self, ix: _Interaction, data: dict[str, Any], g: _Guild | None, message: dict[str, Any] | None, locale: str
    ) -> dict[str, Any]:
        channel = self.channels[ix.channel_id]
        payload: dict[str, Any] = {
            "id": str(ix.id),
            "application_id": str(self.application_id),
            "type": ix.type,
            "data": data,
            "token": ix.token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "channel_id": str(ix.channel_id),
        }
        if g is not None:
            perms = self.channel_permissions(ix.channel_id, ix.user_id)
            member = self._member_payload(g, ix.user_id)
            member["permissions"] = str(perms)
            payload.update(
                guild_id=str(g.id),
                guild={"id": str(g.id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member=member,
                channel=dict(channel, permissions=str(perms)),
                app_permissions=str(self.channel_permissions(ix.channel_id, self.bot_user_id)),
                authorizing_integration_owners={"0": str(g.id)},
                context=0,
            )
        else:
            payload.update(
                user=self.users[ix.user_id],
                channel=dict(channel, permissions=str(Permissions.DEFAULT_EVERYONE)),
                app_permissions=str(Permissions.DEFAULT_EVERYONE),
                authorizing_integration_owners={"1": str(ix.user_id)},
                context=1,
            )
        if message is not None:
            payload["message"] = self._wire(message)
        return payload

    def _new_interaction(
        self,
        itype: int,
        g: _Guild | None,
        channel_id: int,
        user_id: int,
        name: str | None,
        source_message_id: int | None = None,
        origin: _Interaction | None = None,
    ) -> _Interaction:
        ix = _Interaction(
            self.snowflake(),
            "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(32),
            itype,
            g.id if g else None,
            channel_id,
            user_id,
            name,
            source_message_id,
            origin,
        )
        self._ix_by_token[ix.token] = ix
        self._ix_by_id[ix.id] = ix
        self.interactions.append(ix.result)
        return ix

    def _resolve_value(
        self,
        g: _Guild | None,
        channel_id: int,
        user_id: int,
        otype: int,
        value: Any,
        resolved: dict[str, dict[str, Any]],
        spec: dict[str, Any] | None,
    ) -> Any:
        if otype == 3:
            return str(value)
        if otype == 4:
            if isinstance(value, bool) or int(value) != value:
                raise StandInError(f"integer option got {value!r}")
            return int(value)
        if otype == 5:
            return bool(value)
        if otype == 10:
            return float(value)
        if otype == 11:
            raise StandInError("attachment options are not supported by the stand-in")
        sid = _sid(value)
        oid = int(sid)
        if otype in (6, 9) and oid in self.users:
            resolved.setdefault("users", {})[sid] = self.users[oid]
            if g is not None and oid in g.members:
                m = self._member_payload(g, oid, with_user=False)
                m["permissions"] = str(self.channel_permissions(channel_id, oid))
                resolved.setdefault("members", {})[sid] = m
            return sid
        if otype in (8, 9) and g is not None and oid in g.roles:
            resolved.setdefault("roles", {})[sid] = g.roles[oid]
            return sid
        if otype == 7 and oid in self.channels:
            channel = self.channels[oid]
            allowed = (spec or {}).get("channel_types")
            if allowed and channel["type"] not in allowed:
                raise StandInError(f"channel {oid} (type {channel['type']}) not allowed; channel_types={allowed}")
            entry = {
                k: channel.get(k)
                for k in (
                    "id",
                    "name",
                    "type",
                    "parent_id",
                    "guild_id",
                    "topic",
                    "nsfw",
                    "position",
                    "flags",
                    "rate_limit_per_user",
                    "last_message_id",
                )
            }
            entry["permissions"] = str(self.channel_permissions(oid, user_id))
            resolved.setdefault("channels", {})[sid] = entry
            return sid
        raise StandInError(f"option value {value!r} cannot be resolved for option type {otype}")

    def _build_options(
        self,
        g: _Guild | None,
        channel_id: int,
        user_id: int,
        schema: list[dict[str, Any]],
        values: Any,
        resolved: dict[str, dict[str, Any]],
        *,
        focused: str | None = None,
        focused_value: Any = "",
        validate: bool = True,
    ) -> list[dict[str, Any]]:
        if isinstance(values, list):  # raw Discord-format options
            return values
        values = dict(values or {})
        by_name = {o["name"]: o for o in schema}
        for name in values:
            if name not in by_name:
                raise StandInError(f"unknown option {name!r}; command has {sorted(by_name)}")
        if focused is not None and focused not in by_name:
            raise StandInError(f"unknown focused option {focused!r}; command has {sorted(by_name)}")
        out = []
        for spec in schema:
            name, otype = spec["name"], spec["type"]
            if name == focused:
                if validate and not spec.get("autocomplete"):
                    raise StandInError(f"option {name!r} has no autocomplete")
                out.append({"name": name, "type": otype, "value": str(focused_value), "focused": True})
                continue
            if name not in values or values[name] is None:
                if validate and spec.get("required") and focused is None:
                    raise StandInError(f"required option {name!r} missing")
                continue
            value = self._resolve_value(g, channel_id, user_id, otype, values[name], resolved, spec)
            if validate and focused is None:
                self._check_option_value(spec, value)
            out.append({"name": name, "type": otype, "value": value})
        return out

    @staticmethod
    def _check_option_value(spec: dict[str, Any], value: Any) -> None:
        name = spec["name"]
        choices = spec.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise StandInError(f"option {name!r}: {value!r} is not one of the choices {[c['value'] for c in choices]}")
        if spec["type"] in (4, 10):
            if spec.get("min_value") is not None and value < spec["min_value"]:
                raise StandInError(f"option {name!r}: {value} < min_value {spec['min_value']}")
            if spec.get("max_value") is not None and value > spec["max_value"]:
                raise StandInError(f"option {name!r}: {value} > max_value {spec['max_value']}")
        if spec["type"] == 3:
            if spec.get("min_length") is not None and len(value) < spec["min_length"]:
                raise StandInError(f"option {name!r}: shorter than min_length {spec['min_length']}")
            if len(value) > (spec.get("max_length") or 6000):
                raise StandInError(f"option {name!r}: longer than max_length")

    def _command_data(
        self,
        g: _Guild | None,
        channel_id: int,
        user_id: int,
        name: str,
        subcommand_path: Sequence[str],
        options: Any,
        *,
        focused: str | None = None,
        focused_value: Any = "",
        validate: bool = True,
    ) -> dict[str, Any]:
        cmd = self.find_command(g.id if g else None, name)
        if validate:
            self._check_can_use(cmd, g, user_id)
        schema = cmd.get("options") or []
        wrappers = []
        if isinstance(subcommand_path, str):
            subcommand_path = subcommand_path.split()
        for part in subcommand_path:
            sub = next((o for o in schema if o["type"] in (1, 2) and o["name"] == part), None)
            if sub is None:
                raise StandInError(f"/{name}: no subcommand (group) {part!r}; has {[o['name'] for o in schema]}")
            wrappers.append(sub)
            schema = sub.get("options") or []
        if any(o["type"] in (1, 2) for o in schema):
            raise StandInError(
                f"/{name} {' '.join(subcommand_path)}: a subcommand is required: {[o['name'] for o in schema]}"
            )
        resolved: dict[str, dict[str, Any]] = {}
        nested = self._build_options(
            g,
            channel_id,
            user_id,
            schema,
            options,
            resolved,
            focused=focused,
            focused_value=focused_value,
            validate=validate,
        )
        for wrapper in reversed(wrappers):
            nested = [{"name": wrapper["name"], "type": wrapper["type"], "options": nested}]
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1}
        if nested:
            data["options"] = nested
        if resolved:
            data["resolved"] = resolved
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        return data

    def _check_can_use(self, cmd: dict[str, Any], g: _Guild | None, user_id: int) -> None:
        contexts = cmd.get("contexts")
        if g is None:
            if cmd.get("guild_id") or cmd.get("dm_permission") is False or (contexts is not None and 1 not in contexts):
                raise StandInError(f"/{cmd['name']} is not available in DMs")
            return
        if contexts is not None and 0 not in contexts:
            raise StandInError(f"/{cmd['name']} is not available in guilds (contexts={contexts})")
        dmp = cmd.get("default_member_permissions")
        if dmp is not None:
            perms = self.base_permissions(g.id, user_id)
            if not perms & Permissions.ADMINISTRATOR and (perms & int(dmp)) != int(dmp):
                raise StandInError(
                    f"user {user_id} lacks default_member_permissions={dmp} for /{cmd['name']} "
                    f"(Discord would not show the command)"
                )

    async def _run(
        self,
        ix: _Interaction,
        payload: dict[str, Any],
        timeout: float,  # noqa: ASYNC109
        settle: float,
        what: str,
    ) -> dict[str, Any]:
        guild_id = payload.get("guild_id")
        serving = self._guild_sessions(int(guild_id) if guild_id is not None else None)
        if not serving:
            self._primary_session()  # the usual error when no bot is connected at all
            raise StandInError(f"no connected bot session runs the shard of guild {guild_id}")
        session = serving[-1]
        ix.payload = payload
        ix.created = time.monotonic()
        session.dispatch("INTERACTION_CREATE", payload)
        deadline = time.monotonic() + timeout

        def responded() -> bool:
            if ix.result["type"] is not None or ix.failed is not None:
                return True
            # A rejected callback leaves the interaction unacknowledged; give the
            # bot a moment to recover (e.g. an error handler answering instead).
            return ix.rejected_at is not None and time.monotonic() - ix.rejected_at > self.rejection_grace

        try:
            await self.wait_for(responded, timeout=timeout)
        except StandInTimeout:
            raise StandInTimeout(
                self._explain(ix, f"{what}: the bot did not answer the interaction within {timeout}s")
            ) from None
        if ix.failed is not None:
            raise StandInError(self._explain(ix, f"{what}: {ix.failed}"))
        if ix.result["type"] is None:
            raise StandInError(self._explain(ix, f"{what}: the bot's interaction response was rejected"))
        if ix.loading:
            try:
                await self.wait_for(
                    lambda: not ix.loading or ix.result["deleted"], timeout=max(0.0, deadline - time.monotonic())
                )
            except StandInTimeout:
                raise StandInTimeout(
                    self._explain(ix, f"{what}: the bot deferred but never edited the response / sent a follow-up")
                ) from None
        while time.monotonic() - ix.last_activity < settle and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(min(settle, 0.02))
        return ix.result

    def _explain(self, ix: _Interaction, headline: str) -> str:
        lines = [headline]
        if ix.result["errors"]:
            lines.append(f"  rejected bot requests: {ix.result['errors']}")
        since = [r for r in self.requests if r.at >= ix.created]
        if since:
            lines.append(
                "  bot requests since the interaction: "
                + ", ".join(f"{r[0]} {r[1]} -> {r.status}" for r in since[-10:])
            )
        if self.unknown_routes:
            lines.append(f"  unknown routes so far: {self.unknown_routes[-10:]}")
        return "\n".join(lines)

    async def slash(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        name: str,
        *,
        subcommand_path: Sequence[str] = (),
        options: Any = None,
        timeout: float = 10.0,  # noqa: ASYNC109
        settle: float = 0.05,
        locale: str = "en-US",
        validate: bool = True,
    ) -> dict[str, Any]:
        """Invoke a synced chat-input command as ``user_id`` and wait for the bot's answer.

        ``options``: ``{name: value}`` for the leaf command (users/channels/
        roles by id; ``resolved`` is filled in) or a raw Discord options list.
        ``guild_id=None`` invokes it in the user's DM with the bot.

        Returns the live interaction result dict with ``type`` (callback
        type), ``content``, ``embeds``, ``components``, ``flags``,
        ``ephemeral``, ``message`` (the original response message dict),
        ``followups`` (message dicts), ``modal`` (type 9 data), ``deleted``,
        ``edits``, ``errors`` (bot requests the stand-in rejected) and ids.
        Deferred responses are awaited until edited (``@original``) or the
        first follow-up arrives; then it waits until ``settle`` seconds pass
        without further activity.  The dict keeps updating afterwards.
        """
        g, cid, uid = self._ix_context(guild_id, channel_id, user_id)
        data = self._command_data(g, cid, uid, name, subcommand_path, options, validate=validate)
        ix = self._new_interaction(IX_COMMAND, g, cid, uid, name)
        payload = self._interaction_payload(ix, data, g, None, locale)
        return await self._run(ix, payload, timeout, settle, f"/{name} {' '.join(subcommand_path)}".strip())

    async def autocomplete(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        name: str,
        focused: str,
        value: Any = "",
        *,
        subcommand_path: Sequence[str] = (),
        options: Any = None,
        timeout: float = 10.0,  # noqa: ASYNC109
        locale: str = "en-US",
    ) -> list[dict[str, Any]]:
        """Send an autocomplete interaction (type 4) for option ``focused`` typed as ``value``.

        Returns the ``choices`` list the bot answered (callback type 8).
        """
        g, cid, uid = self._ix_context(guild_id, channel_id, user_id)
        data = self._command_data(g, cid, uid, name, subcommand_path, options, focused=focused, focused_value=value)
        ix = self._new_interaction(IX_AUTOCOMPLETE, g, cid, uid, name)
        payload = self._interaction_payload(ix, data, g, None, locale)
        result = await self._run(ix, payload, timeout, 0.0, f"autocomplete /{name} {focused}")
        return result["choices"]

    @staticmethod
    def _find_component(components: Sequence[dict[str, Any]], custom_id: str) -> dict[str, Any] | None:
        for comp in components or []:
            if not isinstance(comp, dict):
                continue
            if comp.get("custom_id") == custom_id:
                return comp
            for key in ("components",):
                found = DiscordStandIn._find_component(comp.get(key) or [], custom_id)
                if found is not None:
                    return found
            for key in ("accessory", "component"):
                if isinstance(comp.get(key), dict):
                    found = DiscordStandIn._find_component([comp[key]], custom_id)
                    if found is not None:
                        return found
        return None

    def _resolve_message(self, message: Any) -> dict[str, Any]:
        mid = int(message["id"]) if isinstance(message, dict) else int(getattr(message, "id", message))
        msg = self._msgs.get(mid)
        if msg is None:
            raise StandInError(f"message {mid} does not exist (deleted?)")
        return msg

    async def click(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        message: Any,
        custom_id: str,
        *,
        values: Sequence[Any] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109
        settle: float = 0.05,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """Click a button / choose select ``values`` on ``message`` (dict or id) as ``user_id``.

        Sends a MESSAGE_COMPONENT interaction (type 3).  Returns the live
        result dict like :meth:`slash`; for callback 6/7 the ``message`` and
        ``content``/``embeds``/``components`` reflect the clicked message.
        """
        msg = self._resolve_message(message)
        if channel_id is None:
            channel_id = int(msg["channel_id"])
        if guild_id is None:
            gid = self.channels[int(channel_id)].get("guild_id")
            guild_id = int(gid) if gid else None
        g, cid, uid = self._ix_context(guild_id, channel_id, user_id)
        if str(cid) != msg["channel_id"]:
            raise StandInError(f"message {msg['id']} is not in channel {cid}")
        comp = self._find_component(msg.get("components") or [], custom_id)
        if comp is None:
            raise StandInError(f"message {msg['id']} has no component with custom_id {custom_id!r}")
        if comp.get("disabled"):
            raise StandInError(f"component {custom_id!r} is disabled")
        ctype = comp["type"]
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
        if ctype in SELECT_TYPES:
            chosen = list(values or [])
            lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
            if not lo <= len(chosen) <= hi:
                raise StandInError(f"select {custom_id!r} needs between {lo} and {hi} values, got {len(chosen)}")
            resolved: dict[str, dict[str, Any]] = {}
            if ctype == 3:
                allowed = [o["value"] for o in comp.get("options") or []]
                bad = [v for v in chosen if str(v) not in allowed]
                if bad:
                    raise StandInError(f"select {custom_id!r}: {bad} not in options {allowed}")
                data["values"] = [str(v) for v in chosen]
            else:
                otype = {5: 6, 6: 8, 7: 9, 8: 7}[ctype]
                data["values"] = [self._resolve_value(g, cid, uid, otype, v, resolved, comp) for v in chosen]
                data["resolved"] = resolved
        elif values:
            raise StandInError("values= only applies to select menus")
        ix = self._new_interaction(IX_COMPONENT, g, cid, uid, None, source_message_id=int(msg["id"]))
        payload = self._interaction_payload(ix, data, g, msg, locale)
        return await self._run(ix, payload, timeout, settle, f"click {custom_id!r}")

    async def submit_modal(
        self,
        result: dict[str, Any],
        values: dict[str, Any],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109
        settle: float = 0.05,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """Submit the modal the bot opened (a result with ``type == 9``).

        ``values`` maps text input custom_ids to strings (select custom_ids to
        lists).  Sends a MODAL_SUBMIT interaction (type 5) as the same user.
        """
        modal = result.get("modal")
        if result.get("type") != CB_MODAL or not modal:
            raise StandInError("result is not a modal response (callback type 9)")
        origin = self._ix_by_id[result["interaction_id"]]
        g = self.guilds.get(origin.guild_id) if origin.guild_id else None
        unused = set(values)

        def fill(comp: dict[str, Any]) -> dict[str, Any] | None:
            ctype = comp.get("type")
            if ctype == 1:
                return {"type": 1, "components": [c for c in (fill(x) for x in comp.get("components") or []) if c]}
            if ctype == 18:
                inner = fill(comp.get("component") or {})
                return {"type": 18, "component": inner} if inner else None
            cid = comp.get("custom_id")
            if cid is None:
                return None
            unused.discard(cid)
            if ctype == 4:
                value = values.get(cid, comp.get("value") or "")
                if comp.get("required", True) and not value:
                    raise StandInError(f"modal text input {cid!r} is required")
                if comp.get("max_length") and len(value) > comp["max_length"]:
                    raise StandInError(f"modal text input {cid!r} longer than max_length {comp['max_length']}")
                return {"type": 4, "custom_id": cid, "value": str(value)}
            if ctype in SELECT_TYPES:
                return {"type": ctype, "custom_id": cid, "values": [str(v) for v in values.get(cid, [])]}
            return {"type": ctype, "custom_id": cid}

        components = [c for c in (fill(c) for c in modal.get("components") or []) if c]
        if unused:
            raise StandInError(f"modal has no inputs {sorted(unused)}")
        data = {"custom_id": modal["custom_id"], "components": components}
        source_id = origin.source_message_id
        source = self._msgs.get(source_id) if source_id else None
        ix = self._new_interaction(
            IX_MODAL_SUBMIT,
            g,
            origin.channel_id,
            origin.user_id,
            origin.name,
            source_message_id=source_id if source else None,
            origin=origin,
        )
        payload = self._interaction_payload(ix, data, g, source, locale)
        return await self._run(ix, payload, timeout, settle, f"modal {modal['custom_id']!r}")

    # ------------------------------------------------------------------ REST: interaction callbacks & webhooks

    def _interaction_metadata(self, ix: _Interaction) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "id": str(ix.id),
            "type": ix.type,
            "user": self.users[ix.user_id],
            "authorizing_integration_owners": {"0": str(ix.guild_id)} if ix.guild_id else {"1": str(ix.user_id)},
        }
        if ix.type == IX_COMMAND:
            meta.update(name=ix.name, command_type=1)
        if ix.source_message_id:
            meta["interacted_message_id"] = str(ix.source_message_id)
        return meta

    def _interaction_message(
        self,
        ix: _Interaction,
        payload: dict[str, Any],
        files: Sequence[dict[str, Any]],
        *,
        ephemeral: bool,
        loading: bool = False,
        followup: bool = False,
    ) -> dict[str, Any]:
        extra: dict[str, Any] = {
            "webhook_id": str(self.application_id),
            "application_id": str(self.application_id),
            "interaction_metadata": self._interaction_metadata(ix),
        }
        if followup and ix.original_id:
            extra["interaction_metadata"]["original_response_message_id"] = str(ix.original_id)
        if not followup:
            extra["interaction"] = {
                "id": str(ix.id),
                "type": ix.type,
                "name": ix.name or "",
                "user": self.users[ix.user_id],
            }
        # CHAT_INPUT_COMMAND (20) for a slash command's own response, DEFAULT (0) otherwise.
        msg_type = 20 if ix.type == IX_COMMAND and not followup else 0
        body = dict(payload)
        if loading:
            body["flags"] = int(body.get("flags") or 0) | MSG_FLAG_LOADING
        msg = self._create_message(
            ix.channel_id, self.bot_user_id, body, files, msg_type=msg_type, extra=extra, ephemeral=ephemeral
        )
        if not msg["flags"] & MSG_FLAG_EPHEMERAL:
            self.interaction_messages[ix.channel_id].append(msg)
        return msg

    def _sync_result(self, ix: _Interaction) -> None:
        res = ix.result
        msg = self._msgs.get(ix.original_id) if ix.original_id else None
        if msg is not None:
            res.update(
                content=msg["content"],
                embeds=msg["embeds"],
                components=msg["components"],
                flags=msg["flags"],
                ephemeral=bool(msg["flags"] & MSG_FLAG_EPHEMERAL),
                message=msg,
            )
        ix.touch()

    async def _r_interaction_callback(self, req: _Req, iid: str, token: str):
        ix = self._ix_by_token.get(token)
        if ix is None or ix.id != int(iid):
            raise DiscordError(404, 10062, "Unknown interaction")
        body = req.json if isinstance(req.json, dict) else {}
        try:
            if self.interaction_deadline is not None and time.monotonic() - ix.created > self.interaction_deadline:
                ix.failed = (
                    f"the bot answered after {time.monotonic() - ix.created:.2f}s, past Discord's "
                    f"{self.interaction_deadline}s deadline (the user sees 'interaction failed')"
                )
                raise DiscordError(404, 10062, "Unknown interaction")
            if ix.result["type"] is not None:
                raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
            ctype = body.get("type")
            if ctype not in ALLOWED_CALLBACKS[ix.type] or (
                ctype in (CB_DEFERRED_UPDATE, CB_UPDATE) and ix.source_message_id is None
            ):
                raise form_error(
                    [
                        (
                            ("type",),
                            "INTERACTION_RESPONSE_TYPE_INVALID",
                            f"Interaction response type {ctype} is not valid for interaction type {ix.type}",
                        )
                    ]
                )
            data = body.get("data") or {}
            return 200, self._apply_callback(ix, ctype, data, req)
        except DiscordError as exc:
            ix.result["errors"].append((req.method, req.path, exc.status, exc.body()))
            if ix.result["type"] is None:
                ix.rejected_at = time.monotonic()
            ix.touch()
            raise

    def _apply_callback(self, ix: _Interaction, ctype: int, data: dict[str, Any], req: _Req) -> Any:
        res = ix.result
        message: dict[str, Any] | None = None
        if ctype == CB_MESSAGE:
            validate_message(data, has_files=bool(req.files))
            message = self._interaction_message(
                ix, data, req.files, ephemeral=bool(int(data.get("flags") or 0) & MSG_FLAG_EPHEMERAL)
            )
            ix.original_id = int(message["id"])
        elif ctype == CB_DEFERRED_MESSAGE:
            ephemeral = bool(int(data.get("flags") or 0) & MSG_FLAG_EPHEMERAL)
            message = self._interaction_message(ix, {"content": ""}, (), ephemeral=ephemeral, loading=True)
            ix.original_id = int(message["id"])
            ix.loading = True
        elif ctype == CB_DEFERRED_UPDATE:
            ix.original_id = ix.source_message_id
        elif ctype == CB_UPDATE:
            validate_message(data, edit=True)
            source = self._msgs.get(ix.source_message_id or 0)
            if source is None:
                raise DiscordError(404, 10008, "Unknown Message")
            self._apply_edit(source, data, req.files)
            ix.original_id = ix.source_message_id
            message = source
            res["edits"] += 1
        elif ctype == CB_AUTOCOMPLETE:
            choices = data.get("choices")
            validate_choices(choices)
            res["choices"] = choices
        elif ctype == CB_MODAL:
            validate_modal(data)
            res["modal"] = data
        res["type"] = ctype
        self._sync_result(ix)
        if req.query.get("with_response") not in ("1", "true", "True"):
            return None
        callback: dict[str, Any] = {
            "interaction": {
                "id": str(ix.id),
                "type": ix.type,
                "response_message_loading": ctype == CB_DEFERRED_MESSAGE,
                "response_message_ephemeral": bool(message and message["flags"] & MSG_FLAG_EPHEMERAL),
            },
            "resource": {"type": ctype},
        }
        if message is not None:
            callback["interaction"]["response_message_id"] = message["id"]
            callback["resource"]["message"] = self._wire(message)
        return callback

    def _webhook_ix(self, app: str, token: str) -> _Interaction:
        ix = self._ix_by_token.get(token)
        if ix is None or int(app) != self.application_id:
            raise DiscordError(404, 10015, "Unknown Webhook")
        return ix

    def _webhook_message(self, ix: _Interaction, mid: str) -> dict[str, Any]:
        if mid == "@original":
            msg = self._msgs.get(ix.original_id) if ix.original_id else None
        else:
            allowed = {ix.original_id} | {int(m["id"]) for m in ix.result["followups"]}
            msg = self._msgs.get(int(mid)) if int(mid) in allowed else None
        if msg is None:
            raise DiscordError(404, 10008, "Unknown Message")
        return msg

    async def _r_followup(self, req: _Req, app: str, token: str):
        ix = self._webhook_ix(app, token)
        payload = req.json if isinstance(req.json, dict) else {}
        try:
            if ix.result["type"] is None:
                raise DiscordError(404, 10015, "Unknown Webhook")
            validate_message(payload, has_files=bool(req.files))
        except DiscordError as exc:
            ix.result["errors"].append((req.method, req.path, exc.status, exc.body()))
            ix.touch()
            raise
        if ix.loading:
            # The first follow-up after a deferred (thinking) response replaces
            # the loading message, keeping the defer's ephemerality.
            msg = self._msgs[ix.original_id]
            edit = dict(payload)
            edit.pop("flags", None)
            msg["flags"] &= ~MSG_FLAG_LOADING
            ix.loading = False
            self._apply_edit(msg, edit, req.files)
        else:
            ephemeral = bool(int(payload.get("flags") or 0) & MSG_FLAG_EPHEMERAL)
            msg = self._interaction_message(ix, payload, req.files, ephemeral=ephemeral, followup=True)
            ix.result["followups"].append(msg)
        self._sync_result(ix)
        if req.query.get("wait") in ("1", "true", "True"):
            return 200, self._wire(msg)
        return 204, None

    async def _r_webhook_get(self, req: _Req, app: str, token: str, mid: str):
        ix = self._webhook_ix(app, token)
        return 200, self._wire(self._webhook_message(ix, mid))

    async def _r_webhook_edit(self, req: _Req, app: str, token: str, mid: str):
        ix = self._webhook_ix(app, token)
        payload = req.json if isinstance(req.json, dict) else {}
        try:
            msg = self._webhook_message(ix, mid)
            validate_message(payload, edit=True)
        except DiscordError as exc:
            ix.result["errors"].append((req.method, req.path, exc.status, exc.body()))
            ix.touch()
            raise
        if int(msg["id"]) == ix.original_id and ix.loading:
            msg["flags"] &= ~MSG_FLAG_LOADING
            ix.loading = False
        self._apply_edit(msg, payload, req.files)
        ix.result["edits"] += 1
        self._sync_result(ix)
        return 200, self._wire(msg)

    async def _r_webhook_delete(self, req: _Req, app: str, token: str, mid: str):
        ix = self._webhook_ix(app, token)
        msg = self._webhook_message(ix, mid)
        self._delete_message(msg)
        if int(msg["id"]) == ix.original_id:
            ix.result["deleted"] = True
            ix.loading = False
        else:
            ix.result["followups"] = [m for m in ix.result["followups"] if m is not msg]
        ix.touch()
        return 204, None

    # ------------------------------------------------------------------ control API (manual runs)

    async def _control_handler(self, request: web.Request) -> web.Response:
        """Tiny HTTP API to drive the stand-in by hand while a real bot runs.

        ``GET /_standin/state``; ``POST /_standin/{slash,autocomplete,click,
        modal,message,drop}`` with JSON bodies mirroring the Python methods.
        """
        action = request.match_info["action"]
        try:
            body = await request.json() if request.can_read_body else {}
            if action == "state":
                out: Any = self.state()
            elif action == "slash":
                out = await self.slash(
                    body.get("guild_id"),
                    body.get("channel_id"),
                    int(body["user_id"]),
                    body["name"],
                    subcommand_path=body.get("subcommand_path") or (),
                    options=body.get("options"),
                )
            elif action == "autocomplete":
                out = await self.autocomplete(
                    body.get("guild_id"),
                    body.get("channel_id"),
                    int(body["user_id"]),
                    body["name"],
                    body["focused"],
                    body.get("value", ""),
                    subcommand_path=body.get("subcommand_path") or (),
                    options=body.get("options"),
                )
            elif action == "click":
                out = await self.click(
                    body.get("guild_id"),
                    body.get("channel_id"),
                    int(body["user_id"]),
                    int(body["message_id"]),
                    body["custom_id"],
                    values=body.get("values"),
                )
            elif action == "modal":
                origin = self._ix_by_id[int(body["interaction_id"])]
                out = await self.submit_modal(origin.result, body.get("values") or {})
            elif action == "message":
                out = self.user_message(int(body["channel_id"]), int(body["user_id"]), body["content"])
            elif action == "drop":
                out = {"result": await self.drop_connection(int(body.get("code", 4000)))}
            else:
                return web.json_response({"error": f"unknown action {action!r}"}, status=404)
        except (StandInError, DiscordError, KeyError, ValueError, TypeError) as exc:
            return web.json_response({"error": f"{type(exc).__name__}: {exc}"}, status=400)
        return web.Response(text=json.dumps(out, default=str), content_type="application/json")

    def state(self) -> dict[str, Any]:
        """A JSON-able snapshot of the world and what the bot did."""
        return {
            "api_base_url": self.api_base_url,
            "gateway_url": self.gateway_url,
            "bot_user_id": str(self.bot_user_id),
            "application_id": str(self.application_id),
            "guilds": [
                {
                    "id": str(g.id),
                    "name": g.name,
                    "owner_id": str(g.owner_id),
                    "channels": [
                        {"id": str(c), "name": self.channels[c]["name"], "type": self.channels[c]["type"]}
                        for c in g.channel_ids
                    ],
                    "roles": [
                        {"id": r["id"], "name": r["name"], "permissions": r["permissions"]} for r in g.roles.values()
                    ],
                    "members": [
                        {"id": str(uid), "name": self.users[uid]["username"], "roles": [str(r) for r in m["roles"]]}
                        for uid, m in g.members.items()
                    ],
                }
                for g in self.guilds.values()
            ],
            "commands": {str(k): v for k, v in self.commands.items()},
            "messages": {str(k): [self._wire(m) for m in v] for k, v in self.history.items()},
            "sessions": [
                {"id": s.id, "connected": s.conn is not None, "invalid": s.invalid, "seq": s.seq} for s in self.sessions
            ],
            "resumes": self.resumes,
            "identifies": self.identifies,
            "unknown_routes": self.unknown_routes,
        }
