"""The connection layer under the routes: aiohttp's own answers in JSON, a deadline for headers, the limits.

aiohttp answers what never reaches the application (a request line or header over its limit, a malformed
request, a method that is not one) from its low-level `RequestHandler.handle_error`, in plain text. The API
runs its own `RequestHandler` subclass, through its own runner, so those answers are JSON `{"message": ...}`
too; nothing is patched, so other users of aiohttp in the process (the bot's Discord client) are untouched.

The same handler closes a connection whose request headers do not arrive within `HEADER_TIMEOUT` (a
slow-loris client sends them a byte at a time to hold connections open). A body gets `BODY_TIMEOUT` to
arrive once the route reads it (context.py answers 408). The idle wait between keep-alive requests stays
aiohttp's own.
"""

from __future__ import annotations

import asyncio
import json
import logging
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod, BadStatusLine, HttpProcessingError, InvalidURLError, LineTooLong
from aiohttp.web_protocol import RequestHandler

log = logging.getLogger(__name__)

# ---- the limits (stated in the OpenAPI document too)

MAX_BODY = 1024 * 1024  # bytes of a request body: 1 MiB (413 beyond)
MAX_LINE = 8190  # bytes of the request line (aiohttp's default): 414 beyond
MAX_FIELD = 8192  # bytes of one header, name and value (8 KiB): 431 beyond. Unlike MAX_LINE, so the two tell apart
MAX_HEADERS = 128  # headers in one request (aiohttp's default): 431 beyond
HEADER_TIMEOUT = 10.0  # seconds for a request's headers, from the connection's opening or the request's first byte
BODY_TIMEOUT = 30.0  # seconds for a body, once a route reads it: 1 MiB at 35 KB/s (408 beyond)
LINGERING_TIME = 10.0  # aiohttp's default: how long a body left unread is drained after the answer, before closing

JSON_TYPE = "application/json"


def _json_body(message: str) -> bytes:
    return json.dumps({"message": message}, ensure_ascii=False).encode()


def parse_error(status: int, exc: BaseException | None) -> tuple[int, str]:
    """The status and message for a request aiohttp could not parse. aiohttp says 400 for all of them; a line
    or header over its limit gets the status that names it (RFC 9110's 414, RFC 6585's 431). The message never
    repeats the client's bytes (they may hold a token, and the answer may be logged by a proxy)."""
    if isinstance(exc, LineTooLong):
        limit = exc.args[1] if len(exc.args) > 1 else None
        if limit == MAX_FIELD:
            return 431, f"A header is longer than {MAX_FIELD} bytes."
        return 414, f"The request line is longer than {MAX_LINE} bytes."
    if isinstance(exc, HttpProcessingError) and exc.message == "Too many headers received":
        return 431, f"The request has more than {MAX_HEADERS} headers."
    if isinstance(exc, BadHttpMethod):
        if "HTTPS" in str(exc.message):
            return status, "This port speaks plain HTTP, not HTTPS."
        return status, "The request's method is not an HTTP method."
    if isinstance(exc, InvalidURLError):
        return status, "The request's target is not a valid URL."
    if isinstance(exc, BadStatusLine):
        return status, "The request line is not HTTP/1.1 (METHOD /path HTTP/1.1)."
    if isinstance(exc, HttpProcessingError):
        reason = str(exc.message).split("\n", 1)[0].split(":", 1)[0].strip().rstrip(".")[:100]
        return status, f"The request is not valid HTTP/1.1: {reason or 'malformed'}."
    if status == 504:
        return status, "The answer took too long to make."
    if status >= 500:
        return status, "Something went wrong on our side; it has been logged."
    try:
        return status, f"{HTTPStatus(status).phrase}."
    except ValueError:
        return status, "The request could not be handled."


class JsonRequestHandler(RequestHandler):
    """aiohttp's connection handler, with JSON errors and a deadline for each request's headers.

    The deadline starts when the connection opens, and on a kept-alive connection when the next request's
    first byte arrives (the wait before it is aiohttp's keep-alive timeout); it ends when the headers are
    complete. A connection past it is answered 408 (if it sent anything) and closed."""

    __slots__ = ("_head_partial", "_head_timer", "_header_timeout", "_last_payload")

    def __init__(self, manager: web.Server, *, header_timeout: float = HEADER_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._header_timeout = header_timeout
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_partial = False
        self._last_payload: Any = None

    # ---- the header deadline

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm(partial=False)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        waiting_for_head = self._waiting_for_head()
        before = self._request_count
        super().data_received(data)
        if self._request_count != before:  # headers complete (or refused as malformed)
            self._disarm()
            self._last_payload = self._messages[-1][1] if self._messages else None
        elif data and self._head_timer is not None:
            self._head_partial = True
        elif data and waiting_for_head and not (self._close or self._force_close):
            self._arm(partial=True)  # the first byte of the next request on a kept-alive connection

    def _waiting_for_head(self) -> bool:
        """Whether bytes arriving now start a request's head (not the body of the request before it)."""
        if self._upgraded or self._payload_parser is not None:
            return False
        return self._last_payload is None or self._last_payload.is_eof()

    def _arm(self, *, partial: bool) -> None:
        self._disarm()
        self._head_partial = partial
        if self._header_timeout > 0:
            self._head_timer = self._loop.call_later(self._header_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        transport = self.transport
        if transport is None or self._force_close or self._close:
            return
        if self._request_in_progress or self._messages:
            # An earlier pipelined request is being answered: let its answer go out first, then close.
            self._head_timer = self._loop.call_later(min(1.0, self._header_timeout), self._head_timed_out)
            return
        if self._head_partial:
            body = _json_body(
                f"The request's headers did not arrive within {self._header_timeout:g} seconds; "
                "the connection is closed."
            )
            transport.write(
                b"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json; charset=utf-8\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
            )
        log.debug("Closed a connection from %s: no complete headers in %gs", self.peername, self._header_timeout)
        self.force_close()  # the transport sends what was written, then closes

    # ---- aiohttp's own answers, in JSON

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            # As aiohttp's: part of an answer went out already; the connection is broken.
            raise ConnectionError("Response is sent already, cannot send another response with the error message")
        status, text = parse_error(status, exc)
        if status >= 500:
            self.log_exception("Error handling request from %s", request.remote, exc_info=exc)
        else:
            log.debug("Refused a malformed request from %s: %s %s", request.remote, status, type(exc).__name__)
        response = web.Response(body=_json_body(text), status=status, content_type=JSON_TYPE, charset="utf-8")
        response.force_close()
        return response


class JsonServer(web.Server):
    """aiohttp's low-level server, making `JsonRequestHandler`s for its connections."""

    def __call__(self) -> RequestHandler:
        return JsonRequestHandler(self, loop=self._loop, **self._kwargs)


class ApiRunner(web.AppRunner):
    """An `AppRunner` whose connections are `JsonRequestHandler`s, with the API's limits and timeouts."""

    def __init__(self, app: web.Application, *, header_timeout: float = HEADER_TIMEOUT, **kwargs: Any) -> None:
        kwargs.setdefault("max_line_size", MAX_LINE)
        kwargs.setdefault("max_field_size", MAX_FIELD)
        kwargs.setdefault("max_headers", MAX_HEADERS)
        kwargs.setdefault("lingering_time", LINGERING_TIME)
        super().__init__(app, header_timeout=header_timeout, **kwargs)

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()  # starts and freezes the application, as aiohttp's does
        return JsonServer(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=made._loop,
            **made._kwargs,
        )
