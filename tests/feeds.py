"""A real HTTP server for subscribed ICS feeds (on a thread of its own, like tests/channels.py): serves each path's
body with an ETag and answers If-None-Match with 304 as calendar servers do; a path may redirect, stream a huge
body, or answer slowly while counting how many requests for it run at once. The test calendars shipped inside the
`icalendar` and `recurring_ical_events` packages (exports of Google, Outlook, Apple and others) are read from there."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

import icalendar
import recurring_ical_events
from aiohttp import web

from bot.config import SubscriptionsConfig
from tests.channels import LocalHttpServer

# The fence off (the server is on loopback); everything else as configured by default, but a threshold of 3.
OPEN = SubscriptionsConfig(
    allow_private_targets=True, trusted_networks=(), timeout_seconds=30, max_body_bytes=10_485_760,
    max_redirects=5, max_events=20_000, failure_threshold=3, poll_seconds=30,
)  # fmt: skip
ICALENDAR_CALENDARS = Path(icalendar.__file__).parent / "tests" / "calendars"
RECURRING_CALENDARS = Path(recurring_ical_events.__file__).parent / "test" / "calendars"


@dataclass
class Route:
    body: bytes = b""
    etag: bool = True  # send an ETag (and honour If-None-Match)
    status: int = 200
    location: str | None = None  # answer 302 to here
    streamed: int = 0  # stream this many bytes of filler instead of `body`
    delay: float = 0.0  # seconds before answering


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    status: int = 0


class FeedServer(LocalHttpServer):
    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.running: dict[str, int] = {}  # requests under way, by path
        self.most_at_once: dict[str, int] = {}
        self._lock = threading.Lock()

    def serve(self, path: str, body: bytes | str, **options) -> str:
        self.routes[path] = Route(body.encode() if isinstance(body, str) else body, **options)
        return self.url(path)

    def requests(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        seen = Seen(request.path, dict(request.headers))
        self.seen.append(seen)
        route = self.routes.get(request.path)
        with self._lock:
            self.running[request.path] = self.running.get(request.path, 0) + 1
            self.most_at_once[request.path] = max(self.most_at_once.get(request.path, 0), self.running[request.path])
        try:
            response = await self._answer(request, route)
        finally:
            with self._lock:
                self.running[request.path] -= 1
        seen.status = response.status
        return response

    async def _answer(self, request: web.Request, route: Route | None) -> web.StreamResponse:
        if route is None:
            return web.Response(status=404)
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.location is not None:
            return web.Response(status=302, headers={"Location": route.location})
        if route.streamed:
            response = web.StreamResponse(headers={"Content-Type": "text/calendar"})
            await response.prepare(request)
            chunk = b"X-FILLER:" + b"x" * 65_000 + b"\r\n"
            sent = 0
            try:
                while sent < route.streamed:
                    await response.write(chunk)
                    sent += len(chunk)
            except (ConnectionError, RuntimeError):  # the client stopped reading: what a cap does
                return response
            await response.write_eof()
            return response
        if route.status != 200:
            return web.Response(status=route.status, text="no")
        etag = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
        if route.etag and request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        if route.etag:
            headers["ETag"] = etag
        return web.Response(body=route.body, headers=headers)


def vcalendar(*vevents: str, extra: str = "") -> str:
    """A feed of `vevents` (each the lines inside BEGIN/END:VEVENT)."""
    body = "".join(f"BEGIN:VEVENT\r\n{v.strip()}\r\nEND:VEVENT\r\n" for v in vevents)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//feeds//EN\r\n{extra}{body}END:VCALENDAR\r\n"
