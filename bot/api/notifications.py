"""The guild's notification log and its live stream, for both `v1` and `v2`:

    GET /{v}/notifications           the outbox as the API sees it: each delivery, newest first, paged
    GET /{v}/notifications/stream    Server-Sent Events: every notification the guild broadcasts, live

Neither holds personal data: a delivery names its member by id (as `/notifications` does by mention) or its
webhook by number, never an address. The stream's `id:` is the guild's own rising number (storage/stream.py);
a client that reconnects with `Last-Event-ID` gets what it missed (kept STREAM_RETENTION), then the live ones.
Other processes' notifications arrive through the store's notify (PostgreSQL's LISTEN); on SQLite, which has
none, the stream looks every STREAM_POLL seconds.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import weakref
from typing import Any

from aiohttp import web

from bot.domain.broadcast import iso_utc
from bot.domain.notifications import CHANNELS
from bot.domain.reminders import CLAIMED, FAILED, MISSED, PENDING, SENT, Reminder
from bot.storage.stream import STREAM_CHANNEL

from .auth import token_text
from .context import API_KEY, Api, json_response
from .errors import invalid
from .fields import row_id
from .perscom import VERSIONS, paginated, paging

# The API's statuses, and the outbox states each covers (a claimed delivery is under way: still pending).
STATUSES: dict[str, tuple[str, ...]] = {
    "sent": (SENT,), "failed": (FAILED,), "missed": (MISSED,), "pending": (PENDING, CLAIMED),
}  # fmt: skip
STREAM_POLL = 1.0  # seconds between looks at the stream when no notify can arrive (SQLite)
KEEP_ALIVE = 15.0  # seconds between comments on a quiet stream, so proxies keep it open; the token is checked too
REPLAY_PAGE = 100
WAKERS = web.AppKey("calbot.stream_wakers", dict)


def delivery(reminder: Reminder) -> dict[str, Any]:
    status = next(name for name, states in STATUSES.items() if reminder.state in states)
    recipient = None
    if reminder.target:
        recipient = {"type": "webhook" if reminder.channel == "broadcast" else "member", "id": str(reminder.target)}
    return {
        "key": reminder.key,
        "channel": reminder.channel,
        "event_id": reminder.event_id,
        "occurrence": reminder.occurrence,
        "occurrence_start": iso_utc(reminder.occurrence_start),
        "interval": reminder.interval,
        "recipient": recipient,
        "status": status,
        "late": reminder.late,
        "reason": reminder.last_error,
        "attempts": reminder.attempts,
        "scheduled_for": iso_utc(reminder.scheduled_for),
        "updated_at": iso_utc(reminder.updated_at),
    }


async def list_notifications(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    token = await api.authenticate(request, write=False)
    page, limit = paging(request)
    status, channel = request.query.get("status"), request.query.get("channel")
    problems = {}
    if status is not None and status not in STATUSES:
        problems["status"] = [f"must be one of {', '.join(STATUSES)}"]
    if channel is not None and channel not in CHANNELS:
        problems["channel"] = [f"must be one of {', '.join(CHANNELS)}"]
    if problems:
        raise invalid(problems)
    states = STATUSES[status] if status else tuple(s for group in STATUSES.values() for s in group)
    rows, total = await api.store.reminders.log(
        token.guild_id, states=states, channel=channel, limit=limit, offset=(page - 1) * limit
    )
    return json_response(paginated(request, [delivery(r) for r in rows], total, page, limit))


def _last_event_id(request: web.Request) -> int | None:
    text = request.headers.get("Last-Event-ID", request.query.get("last_event_id"))
    if text is None or text == "":
        return None
    number = 0 if text == "0" else row_id(text)
    if number is None:
        raise invalid({"Last-Event-ID": ["must be the id of an event this stream sent (a whole number)"]})
    return number


async def stream_notifications(request: web.Request) -> web.StreamResponse:
    api = request.app[API_KEY]
    token = await api.authenticate(request, write=False)
    after = _last_event_id(request)
    if after is None:  # a new client: from now on
        after = await api.store.stream.latest(token.guild_id)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    await response.write(b"retry: 3000\n\n")
    wake = asyncio.Event()
    request.app[WAKERS][token.guild_id].add(wake)
    loop = asyncio.get_running_loop()
    quiet_since = loop.time()
    wait = KEEP_ALIVE if api.store.stream.announced else STREAM_POLL
    try:
        while True:
            wake.clear()
            entries = await api.store.stream.since(token.guild_id, after, REPLAY_PAGE)
            for entry in entries:
                data = json.dumps(entry.payload, separators=(",", ":"), ensure_ascii=False)
                await response.write(f"id: {entry.seq}\nevent: notification\ndata: {data}\n\n".encode())
                after = entry.seq
            if entries:
                quiet_since = loop.time()
                if len(entries) == REPLAY_PAGE:
                    continue
            if loop.time() - quiet_since >= KEEP_ALIVE:
                if not await _still_valid(api, request):
                    break
                await response.write(b": keep-alive\n\n")
                quiet_since = loop.time()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), min(wait, KEEP_ALIVE - (loop.time() - quiet_since)))
    except ConnectionResetError:
        pass  # the client went away
    finally:
        request.app[WAKERS][token.guild_id].discard(wake)
    return response


async def _still_valid(api: Api, request: web.Request) -> bool:
    """Whether the stream's token still works: one revoked meanwhile ends the stream."""
    text = token_text(request.headers.get("Authorization"))
    return text is not None and await api.store.tokens.verify(text) is not None


async def _listen(app: web.Application) -> None:
    wakers = app[WAKERS]

    def notified(payload: str) -> None:
        try:
            guild_id = int(payload)
        except ValueError:
            return
        for wake in list(wakers.get(guild_id, ())):
            wake.set()

    await app[API_KEY].store.subscribe(STREAM_CHANNEL, notified)


def add_routes(app: web.Application) -> None:
    app[WAKERS] = collections.defaultdict(weakref.WeakSet)
    app.on_startup.append(_listen)
    for v in VERSIONS:
        app.router.add_route("GET", f"/{v}/notifications", list_notifications, name=f"{v}-notifications")
        app.router.add_route(
            "GET", f"/{v}/notifications/stream", stream_notifications, name=f"{v}-notifications-stream"
        )
