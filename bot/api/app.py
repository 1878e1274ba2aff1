"""The aiohttp application: JSON errors, body limits, tokens, rate limits, caches, and the server.

Every route goes through `Api.authenticate`: the token names its guild, and every store call the
routes make is scoped by that guild, so a token only ever reaches its own guild's data.

Writes go to the store and queue the event for the bot (`store.sync`) in the same transaction; the
bot then posts or updates the card and schedules or cancels the reminders, whether it runs in this
process (`python -m bot run` with `[api] enabled`) or in another (`python -m bot api`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.config import Config
from bot.domain.errors import Conflict, DomainError, InvalidField, NotFound
from bot.domain.models import Calendar, GuildSettings
from bot.storage import Store
from bot.storage.tokens import ApiToken

from .auth import RateLimiter, retry_after, token_text
from .errors import ApiError, bad_request, forbidden, unauthorized

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # 1 MiB
TOKEN_CACHE = 1000
RESPONSE_CACHE = 256
RESPONSE_CACHE_BYTES = 64 * 1024 * 1024
TOUCH_EVERY = 60.0
SHUTDOWN_TIMEOUT = (
    2.0  # seconds open requests get to finish when the API stops  # seconds between writes of a token's last_used_at
)
DEFAULT_CALENDAR = "General"
JSON = "application/json"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
API_KEY: web.AppKey[Api] = web.AppKey("api")
_RequestKey = getattr(web, "RequestKey", None)  # aiohttp 3.13+; plain strings before


def _request_key(name: str, kind: type) -> Any:
    return _RequestKey(name, kind) if _RequestKey is not None else name


VERSION_KEY = _request_key("calbot.version", tuple)
TOKEN_KEY = _request_key("calbot.token", ApiToken)
RATE_KEY = _request_key("calbot.rate", tuple)


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
        text = token_text(request.headers.get("Authorization"))
        if text is None:
            raise unauthorized()
        version = await self.version(request)
        key = hashlib.sha256(text.encode()).digest()  # the token itself is not kept, even in memory
        hit = self._tokens.get(key)
        if hit is not None and hit[1] == version:
            token = hit[0]
        else:
            token = await self.store.tokens.verify(text)
            if token is None:
                self._tokens.pop(key, None)
                raise unauthorized("The API token is not valid (unknown, revoked or mistyped).")
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
            await self.store.tokens.touch(token.id)
        request[TOKEN_KEY] = token
        return token

    @staticmethod
    def same_guild(token: ApiToken, guild_id: int) -> None:
        if guild_id != token.guild_id:
            raise forbidden("This token belongs to another guild.")

    # ---- guild data the routes need

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        return await self.store.settings.get(guild_id) or self.config.defaults.for_guild(guild_id)

    async def default_calendar(self, guild_id: int) -> Calendar:
        """Where an event without a calendar goes: "General", else the guild's only or first calendar; a
        guild without calendars gets "General", as its first slash-command event does."""
        calendars = await self.store.calendars.list(guild_id)
        for calendar in calendars:
            if calendar.name.casefold() == DEFAULT_CALENDAR.casefold():
                return calendar
        if calendars:
            return min(calendars, key=lambda c: c.id)
        return await self.store.calendars.get_or_create(guild_id, DEFAULT_CALENDAR)

    # ---- request bodies

    @staticmethod
    async def body(request: web.Request) -> Any:
        """The JSON body (400 when it is not JSON, 413 beyond 1 MiB)."""
        raw = await request.read()
        if not raw.strip():
            raise bad_request("The body is empty; send a JSON object.")
        try:
            data = json.loads(raw, parse_constant=_no_constants)
            # "\ud800" is valid JSON but not text: a lone surrogate cannot be stored or shown anywhere.
            json.dumps(data, ensure_ascii=False).encode()
            return data
        except UnicodeEncodeError:
            raise bad_request("The body holds a lone UTF-16 surrogate (like \\ud800), which is not text.") from None
        except UnicodeDecodeError:
            raise bad_request("The body is not JSON in UTF-8.") from None
        except json.JSONDecodeError as error:
            where = f"line {error.lineno}, column {error.colno}"
            raise bad_request(f"The body is not valid JSON: {error.msg} ({where}).") from None
        except (ValueError, RecursionError):
            raise bad_request("The body is not valid JSON.") from None

    async def object_body(self, request: web.Request) -> dict[str, Any]:
        data = await self.body(request)
        if not isinstance(data, dict):
            raise bad_request("The body must be a JSON object.")
        return data


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# ---- middlewares


DISCAL_PATHS = frozenset(
    f"/v1/events/{name}" for name in ("list/month", "list/date", "get", "create", "update", "delete")
)
STATUS_MESSAGES = {
    404: "No such route. GET /openapi.json lists them.",
    405: "This route does not take that method.",
    413: "The body is larger than 1 MiB.",
}


def _error_response(request: web.Request, status: int, body: dict, headers: dict[str, str] | None = None):
    route = request.match_info.route.name or ""
    if route.startswith("discal") or request.path in DISCAL_PATHS:
        body = {"Message": body["message"], **body}  # what DisCal clients read
    return json_response(body, status=status, headers=headers)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error is JSON; nothing a client sends can cause a 500 or show a traceback."""
    try:
        length = request.content_length
        if length is not None and length > MAX_BODY:
            raise ApiError(413, STATUS_MESSAGES[413])
        response = await handler(request)
    except ApiError as error:
        response = _error_response(request, error.status, error.body(), error.headers)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        headers = {}
        if isinstance(error, web.HTTPMethodNotAllowed):
            allowed = sorted(error.allowed_methods)
            headers["Allow"] = ", ".join(allowed)
            message = f"{request.method} is not allowed here; use {', '.join(allowed)}."
        else:
            message = STATUS_MESSAGES.get(error.status, error.reason)
        response = _error_response(request, error.status, {"message": message}, headers)
    except (InvalidField, Conflict) as error:
        response = _error_response(
            request, 422, {"message": "The given data was invalid.", "errors": {error.field: [error.reason]}}
        )
    except NotFound as error:
        response = _error_response(request, 404, {"message": f"No such {error.kind}."})
    except DomainError as error:
        response = _error_response(request, 422, {"message": str(error)})
    except asyncio.CancelledError:
        raise
    except ConnectionError:  # the client went away mid-request (e.g. while sending its body): not our fault
        log.debug("%s %s: the client went away", request.method, request.rel_url.path)
        response = _error_response(request, 400, {"message": "The connection was lost while reading the request."})
    except Exception:
        log.exception("%s %s failed", request.method, request.rel_url.path)
        response = _error_response(request, 500, {"message": "Something went wrong on our side; it has been logged."})
    rate = request.get(RATE_KEY)
    if rate is not None:
        response.headers["X-RateLimit-Limit"] = str(int(rate[0]))
        response.headers["X-RateLimit-Remaining"] = str(rate[1])
    return response


class AccessLogger(AbstractAccessLogger):
    """One DEBUG line per request; a feed's secret is never written down."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if not self.logger.isEnabledFor(logging.DEBUG):
            return
        path = request.path
        if path.startswith("/ics/"):
            path = "/ics/<secret>.ics"
        self.logger.debug("%s %s %s %.1f ms", request.method, path, response.status, time * 1000)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.DEBUG)


def create_app(store: Store, config: Config, *, clock: Callable[[], datetime] | None = None) -> web.Application:
    from . import discal, ics, openapi, perscom

    app = web.Application(middlewares=[errors_middleware], client_max_size=MAX_BODY)
    api = Api(store, config, clock=clock)
    app[API_KEY] = api
    discal.add_routes(app)  # first: its fixed paths under /v1/events/ must win over /v1/events/{id}
    perscom.add_routes(app)
    ics.add_routes(app)
    openapi.add_routes(app)
    return app


class CannotListen(Exception):
    """The API's address is taken or not ours to listen on."""

    def __init__(self, address: str, reason: object) -> None:
        super().__init__(f"{address}: {reason}")
        self.address, self.reason = address, reason


class ApiServer:
    """The API on `[api] host:port`, started and stopped with whatever runs it."""

    def __init__(self, store: Store, config: Config, *, clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.app = create_app(store, config, clock=clock)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(
            self.app,
            access_log_class=AccessLogger,
            access_log=logging.getLogger("bot.api.access"),
            shutdown_timeout=SHUTDOWN_TIMEOUT,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.api.host, self.config.api.port)
        try:
            await site.start()
        except BaseException as error:
            await self._runner.cleanup()
            self._runner = None
            if isinstance(error, OSError):
                raise CannotListen(f"{self.config.api.host}:{self.config.api.port}", error.strerror or error) from None
            raise
        log.info("HTTP API listening on http://%s:%s", self.config.api.host, self.config.api.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            log.info("HTTP API stopped")


async def serve(config: Config, stop: asyncio.Event) -> None:
    """`python -m bot api`: the API alone, without Discord, until `stop` is set."""
    from bot.storage import open_store

    store = await open_store(
        config.database.url, pool_min_size=config.database.pool_min_size, pool_max_size=config.database.pool_max_size
    )
    try:
        server = ApiServer(store, config)
        await server.start()
        try:
            await stop.wait()
        finally:
            await server.stop()
    finally:
        await store.close()
