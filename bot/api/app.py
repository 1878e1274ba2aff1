"""The aiohttp application: JSON errors, body limits, the routes, and the server.

What the routes share (the `Api`: tokens, rate limits, caches) lives in `context.py`; every route goes
through `Api.authenticate`, so a token only ever reaches its own guild's data.

Writes go to the store and queue the event for the bot (`store.sync`) in the same transaction; the
bot then posts or updates the card and schedules or cancels the reminders, whether it runs in this
process (`python -m bot run` with `[api] enabled`) or in another (`python -m bot api`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.config import Config
from bot.domain.errors import Conflict, DomainError, InvalidField, NotFound
from bot.domain.permissions import NotAllowed
from bot.metrics import Backlog, Metrics, OpsServer, Readiness, add_health_routes, outbox_backlog
from bot.storage import Store

from . import calendar_page, discal, ics, notifications, openapi, perscom
from .context import API_KEY, RATE_KEY, SAVED_KEY, WRITE_KEY, Api, json_response
from .errors import ApiError
from .outage import RETRY_AFTER, classify, message
from .protocol import HEADER_TIMEOUT, MAX_BODY, ApiRunner

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 2.0  # seconds open requests get to finish when the API stops

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# ---- middlewares


DISCAL_PATHS = frozenset(
    f"{prefix}/{name}"
    for prefix in discal.PREFIXES
    for name in ("list/month", "list/date", "get", "create", "update", "delete")
)
STATUS_MESSAGES = {
    404: "No such route. GET /openapi.json lists them.",
    405: "This route does not take that method.",
    413: f"The body is larger than {MAX_BODY // (1024 * 1024)} MiB.",
}


def _error_response(request: web.Request, status: int, body: dict, headers: dict[str, str] | None = None):
    route = request.match_info.route.name or ""
    if route.startswith("discal") or request.path in DISCAL_PATHS:
        body = {"Message": body["message"], **body}  # what DisCal clients read
    return json_response(body, status=status, headers=headers)


def refusal(error: NotAllowed) -> str:
    """Why a token may not do this: a token acts with the standing of the member who created it."""
    if error.own_only:
        return f"This token acts as an organiser and may not {error.action}: it changes only its creator's events."
    return f"This token acts as {error.standing.value} and may not {error.action}."


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error is JSON; nothing a client sends can cause a 500 or show a traceback."""
    close = False
    try:
        length = request.content_length
        if length is not None and length > MAX_BODY:
            raise ApiError(413, STATUS_MESSAGES[413])
        response = await handler(request)
    except ApiError as error:
        response = _error_response(request, error.status, error.body(), error.headers)
        close = error.close
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
    except NotAllowed as error:
        response = _error_response(request, 403, {"message": refusal(error)})
    except DomainError as error:
        response = _error_response(request, 422, {"message": str(error)})
    except asyncio.CancelledError:
        raise
    except Exception as error:
        response = _unexpected(request, error)
    rate = request.get(RATE_KEY)
    if rate is not None:
        response.headers["X-RateLimit-Limit"] = str(int(rate[0]))
        response.headers["X-RateLimit-Remaining"] = str(rate[1])
    if close:
        response.force_close()
    return response


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _unexpected(request: web.Request, error: Exception) -> web.Response:
    """An error no route turned into an answer: the client gone, the database unavailable (503), or a bug (500)."""
    if isinstance(error, ConnectionError) and _client_gone(request):
        # The client went away mid-request (e.g. while sending its body): not our fault, and nobody reads this.
        log.debug("%s %s: the client went away", request.method, request.rel_url.path)
        return _error_response(request, 400, {"message": "The connection was lost while reading the request."})
    outcome = classify(error)
    if outcome is not None:
        log.warning(
            "%s %s: the database is unavailable (%s: %s)",
            request.method, request.rel_url.path, type(error).__name__, error,
        )  # fmt: skip
        text = message(outcome, write=request.get(WRITE_KEY, False), saved=request.get(SAVED_KEY, []))
        return _error_response(request, 503, {"message": text}, {"Retry-After": str(RETRY_AFTER)})
    log.error("%s %s failed", request.method, request.rel_url.path, exc_info=error)
    return _error_response(request, 500, {"message": "Something went wrong on our side; it has been logged."})


def counting_middleware(metrics: Metrics):
    """Counts each request by method, route (its pattern: `/v2/events/{id}`, never an id or a feed's secret)
    and status; outermost, so it sees the status every error was turned into."""

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        finally:
            resource = request.match_info.route.resource
            route = resource.canonical if resource is not None else "unmatched"
            metrics.api_requests.labels(request.method, route, str(status)).inc()

    return count


class AccessLogger(AbstractAccessLogger):
    """One DEBUG line per request; a feed's secret is never written down."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if not self.logger.isEnabledFor(logging.DEBUG):
            return
        path = request.path
        if path.startswith("/ics/"):
            path = "/ics/<secret>.ics"
        elif path.startswith("/calendars/"):
            path = "/calendars/<secret>"
        self.logger.debug("%s %s %s %.1f ms", request.method, path, response.status, time * 1000)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.DEBUG)


def create_app(
    store: Store,
    config: Config,
    *,
    clock: Callable[[], datetime] | None = None,
    metrics: Metrics | None = None,
    readiness: Readiness | None = None,
) -> web.Application:
    """The API; with `metrics`, its requests are counted; with `readiness`, it answers /healthz and /readyz."""
    counting = [counting_middleware(metrics)] if metrics is not None else []
    app = web.Application(middlewares=[*counting, errors_middleware], client_max_size=MAX_BODY)
    api = Api(store, config, clock=clock)
    app[API_KEY] = api
    discal.add_routes(app)  # first: its fixed paths under /v1/events/ must win over /v1/events/{id}
    perscom.add_routes(app)
    notifications.add_routes(app)
    ics.add_routes(app)
    calendar_page.add_routes(app)
    openapi.add_routes(app)
    if readiness is not None:
        add_health_routes(app, readiness)
    return app


class CannotListen(Exception):
    """The API's address is taken or not ours to listen on."""

    def __init__(self, address: str, reason: object) -> None:
        super().__init__(f"{address}: {reason}")
        self.address, self.reason = address, reason


class ApiServer:
    """The API on `[api] host:port`, started and stopped with whatever runs it. Its connections are
    protocol.py's: aiohttp's own errors in JSON, and `header_timeout` seconds for each request's headers."""

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        clock: Callable[[], datetime] | None = None,
        header_timeout: float = HEADER_TIMEOUT,
        metrics: Metrics | None = None,
        readiness: Readiness | None = None,
    ) -> None:
        self.config = config
        self.app = create_app(store, config, clock=clock, metrics=metrics, readiness=readiness)
        self.header_timeout = header_timeout
        self._runner: web.AppRunner | None = None

    @property
    def addresses(self) -> list:
        """Where it listens (with the port the system chose, for port 0)."""
        return self._runner.addresses if self._runner is not None else []

    async def start(self) -> None:
        self._runner = ApiRunner(
            self.app,
            access_log_class=AccessLogger,
            access_log=logging.getLogger("bot.api.access"),
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            header_timeout=self.header_timeout,
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
    metrics = Metrics()
    readiness = Readiness(metrics)

    async def backlog() -> Backlog:
        return await outbox_backlog(store.reminders, datetime.now(UTC))

    async def database_problem() -> str | None:
        await backlog()  # raises what the database answers
        return None

    metrics.backlog = backlog
    readiness.add("database", database_problem)  # no gateway and no dispatcher in this process
    ops = OpsServer(metrics, readiness, config.metrics.host, config.metrics.port) if config.metrics.enabled else None
    try:
        server = ApiServer(store, config, metrics=metrics, readiness=readiness)
        await server.start()
        try:
            if ops is not None:
                await ops.start()
            await stop.wait()
        finally:
            if ops is not None:
                await ops.stop()
            await server.stop()
    finally:
        await store.close()
