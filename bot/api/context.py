"""What the API's route modules share: the `Api` (store, config, tokens, rate limits, caches), the request
and application keys, and JSON answers. Route modules import this, never the app that composes them.

Every route goes through `Api.authenticate`: the token names its guild, and every store call the
routes make is scoped by that guild, so a token only ever reaches its own guild's data.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.config import Config
from bot.domain.cards import NO_CARD_CHANNEL, card_channel
from bot.domain.models import Calendar, Event, GuildSettings
from bot.domain.permissions import Actor, token_standing
from bot.storage import Store
from bot.storage.tokens import ApiToken

from .auth import RateLimiter, retry_after, token_text
from .errors import ApiError, bad_request, forbidden, invalid, unauthorized
from .outage import classify
from .protocol import BODY_TIMEOUT

log = logging.getLogger(__name__)

TOKEN_CACHE = 1000
RESPONSE_CACHE = 256
RESPONSE_CACHE_BYTES = 64 * 1024 * 1024
TOUCH_EVERY = 60.0  # seconds between writes of a token's last_used_at
DEFAULT_CALENDAR = "General"
JSON = "application/json"

API_KEY: web.AppKey[Api] = web.AppKey("api")
_RequestKey = getattr(web, "RequestKey", None)  # aiohttp 3.13+; plain strings before


def _request_key(name: str, kind: type) -> Any:
    return _RequestKey(name, kind) if _RequestKey is not None else name


VERSION_KEY = _request_key("calbot.version", tuple)
TOKEN_KEY = _request_key("calbot.token", ApiToken)
RATE_KEY = _request_key("calbot.rate", tuple)
WRITE_KEY = _request_key("calbot.write", bool)  # the route asked for a write token: it means to change something
SAVED_KEY = _request_key("calbot.saved", list)  # what this request has committed so far, for an honest 503
NUL_REFUSED = "must not contain the NUL character (U+0000)"
MAX_NUL_PATHS = 20


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=dumps(data), status=status, content_type=JSON, headers=headers)


class Api:
    """What the routes share: the store, the config, the rate limiter and the caches."""

    def __init__(self, store: Store, config: Config, *, clock: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.config = config
        self.clock = clock or (lambda: datetime.now(UTC))
        self.limiter = RateLimiter(config.api.rate_limit_per_minute)
        self.body_timeout = BODY_TIMEOUT
        self._tokens: OrderedDict[bytes, tuple[ApiToken, tuple[int, int]]] = OrderedDict()
        self._responses: OrderedDict[tuple, tuple[tuple[int, int], Any, int]] = OrderedDict()
        self._cached_bytes = 0
        self._flights: dict[tuple, asyncio.Future] = {}
        self._touched: dict[int, float] = {}

    # ---- the database's version: caches are valid while it stays the same

    async def version(self, request: web.Request) -> tuple[int, int]:
        """Read once per request: any write, here or in another process, changes it."""
        if VERSION_KEY not in request:
            request[VERSION_KEY] = await self.store.tokens.data_version()
        return request[VERSION_KEY]

    def cached(self, key: tuple, version: tuple[int, int]) -> Any:
        hit = self._responses.get(key)
        if hit is None or hit[0] != version:
            return None
        self._responses.move_to_end(key)
        return hit[1]

    def remember(self, key: tuple, version: tuple[int, int], value: Any, size: int) -> None:
        """Keep an answer (of `size` bytes) for as long as the database stays at `version`; the least
        recently used go first beyond RESPONSE_CACHE answers or RESPONSE_CACHE_BYTES."""
        old = self._responses.pop(key, None)
        if old is not None:
            self._cached_bytes -= old[2]
        self._responses[key] = (version, value, size)
        self._cached_bytes += size
        while self._responses and (len(self._responses) > RESPONSE_CACHE or self._cached_bytes > RESPONSE_CACHE_BYTES):
            _key, (_version, _value, dropped) = self._responses.popitem(last=False)
            self._cached_bytes -= dropped

    async def answer(self, key: tuple, version: tuple[int, int], compute: Callable[[], Awaitable[tuple[Any, int]]]):
        """The cached answer for `key` at `version`, else `compute()`'s (value, size), kept. Requests that
        arrive while it is being computed wait for that computation instead of starting their own, so a
        change under load costs one computation, not one per waiting request."""
        hit = self.cached(key, version)
        if hit is not None:
            return hit
        flight = self._flights.get((key, version))
        if flight is None:
            flight = asyncio.ensure_future(compute())
            self._flights[(key, version)] = flight

            def landed(done: asyncio.Future) -> None:
                self._flights.pop((key, version), None)
                if not done.cancelled():
                    done.exception()  # retrieved here too, in case every caller went away meanwhile

            flight.add_done_callback(landed)
        value, size = await asyncio.shield(flight)  # a caller that goes away leaves it to the others
        self.remember(key, version, value, size)
        return value

    def link_base(self, request: web.Request) -> str:
        """Where links in answers point: `[api] public_url`, else the address the request came to."""
        return self.config.api.public_url or str(request.url.origin())

    # ---- who is calling

    async def authenticate(self, request: web.Request, *, write: bool) -> ApiToken:
        """The caller's token (401 without a valid one), within its rate (429), allowed to write (403)."""
        request[WRITE_KEY] = write
        text = token_text(request.headers.get("Authorization"))
        if text is None:
            raise unauthorized()
        if not (text.isascii() and text.isprintable()):
            # aiohttp decodes header bytes that are not UTF-8 as lone surrogates; no token holds them (or
            # anything but printable ASCII), and they could not be hashed or looked up.
            raise unauthorized(INVALID_TOKEN)
        version = await self.version(request)
        key = hashlib.sha256(text.encode()).digest()  # the token itself is not kept, even in memory
        hit = self._tokens.get(key)
        if hit is not None and hit[1] == version:
            token = hit[0]
        else:
            token = await self.store.tokens.verify(text)
            if token is None:
                self._tokens.pop(key, None)
                raise unauthorized(INVALID_TOKEN)
            # Recorded before the touch below: the version read above is the one the token was checked at.
            self._tokens[key] = (token, version)
            while len(self._tokens) > TOKEN_CACHE:
                self._tokens.popitem(last=False)
        allowed, left, wait = self.limiter.take(("token", token.id))
        request[RATE_KEY] = (self.limiter.capacity, left)
        if not allowed:
            raise ApiError(
                429,
                f"Too many requests: this token may make {int(self.limiter.capacity)} a minute.",
                headers={"Retry-After": retry_after(wait)},
            )
        if write and not token.can_write:
            raise forbidden("This token may only read (scope read); create a write token to change events.")
        now = time.monotonic()
        if now - self._touched.get(token.id, -TOUCH_EVERY) >= TOUCH_EVERY:
            self._touched[token.id] = now
            try:
                await self.store.tokens.touch(token.id)
            except Exception as error:
                # Bookkeeping: a database that cannot take writes now (locked, full) still serves reads.
                if classify(error) is None:
                    raise
                self._touched.pop(token.id, None)  # tried again on the next call
                log.info("Could not record the use of API token %s: the database is unavailable", token.id)
        request[TOKEN_KEY] = token
        return token

    @staticmethod
    def saved(request: web.Request, what: str) -> None:
        """Record that `what` is committed: if the database fails later in this request, the 503 says so."""
        if SAVED_KEY not in request:
            request[SAVED_KEY] = []
        request[SAVED_KEY].append(what)

    @staticmethod
    def same_guild(token: ApiToken, guild_id: int) -> None:
        if guild_id != token.guild_id:
            raise forbidden("This token belongs to another guild.")

    async def actor(self, token: ApiToken) -> Actor:
        """The token as the permission rules see it: acting with its creator's standing (bot/domain/permissions.py)."""
        settings = await self.guild_settings(token.guild_id)
        return Actor(token_standing(token.role, settings), token.created_by, settings)

    # ---- guild data the routes need

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        return await self.store.settings.get(guild_id) or self.config.defaults.for_guild(guild_id)

    async def default_calendar(self, guild_id: int, request: web.Request | None = None) -> Calendar:
        """Where an event without a calendar goes: "General", else the guild's only or first calendar; a
        guild without calendars gets "General", as its first slash-command event does."""
        calendars = await self.store.calendars.list(guild_id)
        for calendar in calendars:
            if calendar.name.casefold() == DEFAULT_CALENDAR.casefold():
                return calendar
        if calendars:
            return min(calendars, key=lambda c: c.id)
        calendar = await self.store.calendars.get_or_create(guild_id, DEFAULT_CALENDAR)
        if request is not None:
            self.saved(request, f"the calendar {DEFAULT_CALENDAR}")
        return calendar

    async def card_warnings(self, guild_id: int, events: list[Event]) -> list[str]:
        """What a client should know about the events it just wrote: those whose card has nowhere to go (the
        bot records the same in /notifications when it gets to them)."""
        settings = await self.guild_settings(guild_id)
        calendars = {c.id: c for c in await self.store.calendars.list(guild_id)}
        return [
            f"Event {event.id}: {NO_CARD_CHANNEL}."
            for event in events
            if event.calendar_id in calendars and card_channel(event, calendars[event.calendar_id], settings) is None
        ]

    # ---- request bodies

    async def body(self, request: web.Request) -> Any:
        """The JSON body (400 when it is not JSON, 413 beyond 1 MiB, 408 when it does not arrive within
        `body_timeout` seconds, 422 naming each field that holds a NUL character)."""
        try:
            async with asyncio.timeout(self.body_timeout):
                raw = await request.read()
        except TimeoutError:
            raise ApiError(408, f"The body did not arrive within {self.body_timeout:g} seconds.", close=True) from None
        if not raw.strip():
            raise bad_request("The body is empty; send a JSON object.")
        try:
            data = json.loads(raw, parse_constant=_no_constants)
            # "\ud800" is valid JSON but not text: a lone surrogate cannot be stored or shown anywhere. JSON can
            # only carry one escaped, so only a body holding such an escape is written out again to find it (for
            # a 1 MiB list, that doubled the time the body held the loop).
            if _SURROGATE_ESCAPE.search(raw):
                json.dumps(data, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise bad_request("The body holds a lone UTF-16 surrogate (like \\ud800), which is not text.") from None
        except UnicodeDecodeError:
            raise bad_request("The body is not JSON in UTF-8.") from None
        except json.JSONDecodeError as error:
            where = f"line {error.lineno}, column {error.colno}"
            raise bad_request(f"The body is not valid JSON: {error.msg} ({where}).") from None
        except (ValueError, RecursionError):
            raise bad_request("The body is not valid JSON.") from None
        # JSON can only carry U+0000 escaped: without that escape there is nothing to look for (a 1 MiB list
        # walked for nothing held the loop for 280 ms).
        nul = nul_paths(data) if b"\\u0000" in raw else []
        if nul:
            # PostgreSQL's text cannot hold U+0000 (and nothing shows it): refused on every field, on both
            # backends alike, before any of it is read.
            raise invalid({path: [NUL_REFUSED] for path in nul})
        return data

    async def object_body(self, request: web.Request) -> dict[str, Any]:
        data = await self.body(request)
        if not isinstance(data, dict):
            raise bad_request("The body must be a JSON object.")
        return data


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")  # \ud800 to \udfff, in either case


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


INVALID_TOKEN = "The API token is not valid (unknown, revoked or mistyped)."


def nul_paths(data: Any) -> list[str]:
    """The paths (`resources.0.name`) of the strings in `data`, keys included, that hold U+0000; at most
    MAX_NUL_PATHS. Walked without recursion: the JSON may nest as deep as the parser allowed."""
    found: list[str] = []
    todo: list[tuple[str, Any]] = [("", data)]
    while todo and len(found) < MAX_NUL_PATHS:
        path, value = todo.pop()
        if isinstance(value, str):
            if "\x00" in value:
                found.append(path or "body")
        elif isinstance(value, dict):
            for key, item in value.items():
                inner = f"{path}.{key}" if path else str(key)
                if "\x00" in key:
                    found.append(inner)
                else:
                    todo.append((inner, item))
        elif isinstance(value, list):
            todo.extend(
                (f"{path}.{index}" if path else str(index), item)
                for index, item in enumerate(value)
                if isinstance(item, str | dict | list)  # numbers hold no NUL: no path made for them
            )
    return sorted(found)
