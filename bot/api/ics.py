"""`GET /ics/<secret>.ics`: a calendar's subscription feed. The secret in the address is the credential
(`/calendar feed` shows it; `reset` replaces it). Answers carry an ETag, and `If-None-Match` with it gets
a bodiless 304, so calendar apps polling an unchanged calendar cost almost nothing."""

from __future__ import annotations

from aiohttp import web

from bot.domain.errors import NotFound
from bot.domain.ical import build_calendar, etag, filename

from .auth import retry_after
from .context import API_KEY
from .errors import ApiError, not_found

CONTENT_TYPE = "text/calendar"
SECRET_PATTERN = "[A-Za-z0-9_-]{20,100}"


def _matches(header: str | None, tag: str) -> bool:
    if not header:
        return False
    for candidate in header.split(","):
        value = candidate.strip()
        if value == "*" or value.removeprefix("W/") == tag:
            return True
    return False


async def feed(request: web.Request) -> web.StreamResponse:
    api = request.app[API_KEY]
    try:
        calendar = await api.store.calendars.by_feed_secret(request.match_info["secret"])
    except NotFound:
        raise not_found("calendar feed") from None
    allowed, _left, wait = api.limiter.take(("feed", calendar.id))
    if not allowed:
        raise ApiError(429, "This feed is polled too often.", headers={"Retry-After": retry_after(wait)})

    async def compute() -> tuple[tuple[str, bytes], int]:
        events, _total = await api.store.events.page(calendar.guild_id, calendar_id=calendar.id, limit=None)
        series = [e.id for e in events if e.recurrence is not None]
        changes = await api.store.changes.for_events(calendar.guild_id, series) if series else {}
        body = build_calendar(calendar.name, events, changes, now=api.clock(), description=calendar.description)
        return (etag(body), body), len(body)

    tag, body = await api.answer(("ics", calendar.id), await api.version(request), compute)
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    if _matches(request.headers.get("If-None-Match"), tag):
        return web.Response(status=304, headers=headers)
    headers["Content-Disposition"] = f'inline; filename="{filename(calendar.name)}"'
    return web.Response(body=body, content_type=CONTENT_TYPE, charset="utf-8", headers=headers)


def add_routes(app: web.Application) -> None:
    app.router.add_get(f"/ics/{{secret:{SECRET_PATTERN}}}.ics", feed, name="ics-feed")
