"""The web calendar: a month grid and an agenda, as an HTML page.

- `GET /calendars/<secret>`: at the calendar's secret feed address, beside `/ics/<secret>.ics` (the secret
  is the credential, as for the feed);
- `GET /{v}/calendars/{id}/view` (`v1` or `v2`): the same for an API token of the calendar's server.

`?month=YYYY-MM` picks the month (default: this month where the server is). The server sends every
occurrence of the month's grid, give or take a day, with its instants; the page's script (static/calendar.js)
shows each time in the viewer's own zone, as the browser knows it, and places each event on the viewer's
day. Previous / Next fetch the other month's page and swap it in without a reload. Every user text is
escaped here by Jinja2's autoescape; the script only ever sets textContent. The page loads nothing from
anywhere but calbot, and its Content-Security-Policy forbids anything else: no inline script or style.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from bot.domain.colors import Color
from bot.domain.errors import NotFound
from bot.domain.ical import google_calendar_url
from bot.domain.models import Calendar
from bot.domain.month import Item, Period, parse_period, week_start
from bot.storage.views import view_items

from .auth import retry_after
from .context import API_KEY
from .errors import ApiError, not_found
from .ics import SECRET_PATTERN

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",  # a link followed from the page must not carry the secret address along
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-cache",
}
ASSETS = {"calendar.css": "text/css", "calendar.js": "text/javascript", "favicon.svg": "image/svg+xml"}
COLOUR_NAMES = {c.value: c.name.lower().replace("_", "-") for c in Color}
# Occurrences up to a day either side of the grid: a viewer east or west of the server sees them move in.
VIEWER_MARGIN = timedelta(days=1)


@functools.cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("bot.api", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.cache
def _asset(name: str) -> bytes:
    return resources.files("bot.api").joinpath("static", name).read_bytes()


def _iso(instant: datetime) -> str:
    return datetime.fromtimestamp(int(instant.timestamp()), UTC).isoformat().replace("+00:00", "Z")


def _card_link(item: Item) -> str | None:
    event = item.occurrence.event
    if event.card_channel_id is None or event.card_message_id is None:
        return None
    return f"https://discord.com/channels/{event.guild_id}/{event.card_channel_id}/{event.card_message_id}"


@dataclass(frozen=True, slots=True)
class Entry:
    """What the template shows of one occurrence (its text escaped by the template)."""

    id: str
    name: str
    when: str  # in the server's zone, for a browser without the script; the script shows the viewer's
    starts: str
    ends: str
    all_day: bool
    spans: bool
    first: str
    last: str
    colour: str
    series: bool
    cancelled: bool
    description: str
    location: str
    link: str | None
    card: str | None
    google: str


def _entry(item: Item, zone: ZoneInfo, google: dict[int, str]) -> Entry:
    event = item.occurrence.event
    if item.event_id not in google:  # once per event, not per occurrence of a series
        google[item.event_id] = google_calendar_url(event)
    local = item.starts.astimezone(zone)
    if item.all_day:
        when = f"{item.first:%a} {item.first.day} {item.first:%b}" + (
            "" if item.last == item.first else f" – {item.last:%a} {item.last.day} {item.last:%b}"
        )
    else:
        when = f"{local:%a} {local.day} {local:%b} {local:%H:%M}"
    return Entry(
        id=f"e-{item.event_id}-{item.key}",
        name=item.name,
        when=when,
        starts=_iso(item.starts),
        ends=_iso(item.ends) if item.ends else "",
        all_day=item.all_day,
        spans=item.spans,
        first=item.first.isoformat(),
        last=item.last.isoformat(),
        colour=COLOUR_NAMES.get(item.colour, "none"),
        series=item.series,
        cancelled=item.cancelled,
        description=item.occurrence.description,
        location=item.occurrence.location,
        link=event.url if event.url and event.url.startswith(("https://", "http://")) else None,
        card=_card_link(item),
        google=google[item.event_id],
    )


async def _page(request: web.Request, calendar: Calendar, *, feed: str | None, base: str) -> web.Response:
    api = request.app[API_KEY]
    settings = await api.guild_settings(calendar.guild_id)
    zone = ZoneInfo(settings.timezone)
    today = api.clock().astimezone(zone).date()
    # A bad ?month= raises InvalidField: a 422 naming `month`, as every invalid field gets.
    period = parse_period(request.query.get("month"), today=today, start=week_start(settings.timezone))
    key = ("page", calendar.id, period.key, feed, base)

    async def compute() -> tuple[str, int]:
        start, end = period.bounds(zone)
        shown = await view_items(
            api.store, calendar.guild_id, start - VIEWER_MARGIN, end + VIEWER_MARGIN, zone, calendar_id=calendar.id
        )
        # A month of a thousand events takes a while to write out: in a thread, so other requests go on.
        html = await asyncio.to_thread(_render, calendar, period, shown, zone, settings.timezone, feed, base)
        return html, len(html)

    html = await api.answer(key, await api.version(request), compute)
    return web.Response(text=html, content_type="text/html", charset="utf-8", headers=PAGE_HEADERS)


def _render(
    calendar: Calendar, period: Period, shown: list[Item], zone: ZoneInfo, zone_name: str, feed: str | None, base: str
) -> str:
    google: dict[int, str] = {}
    return (
        _templates()
        .get_template("calendar.html")
        .render(
            calendar=calendar,
            period=period,
            weeks=_weeks(period),
            entries=[_entry(item, zone, google) for item in shown],
            zone=zone_name,
            feed=feed,
            base=base,
            previous=period.previous().key,
            next=period.next().key,
        )
    )


def _weeks(period: Period) -> list[list[dict]]:
    return [
        [{"date": day.isoformat(), "day": day.day, "in_period": period.in_period(day)} for day in week]
        for week in period.weeks
    ]


async def by_secret(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    secret = request.match_info["secret"]
    try:
        calendar = await api.store.calendars.by_feed_secret(secret)
    except NotFound:
        raise not_found("calendar") from None
    allowed, _left, wait = api.limiter.take(("page", calendar.id))
    if not allowed:
        raise ApiError(429, "This page is asked for too often.", headers={"Retry-After": retry_after(wait)})
    return await _page(request, calendar, feed=f"/ics/{secret}.ics", base=f"/calendars/{secret}")


async def by_token(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    token = await api.authenticate(request, write=False)
    calendar = await api.store.calendars.get(token.guild_id, int(request.match_info["id"]))
    # The feed address is not shown: a read token must not make one (`/calendar feed` does, for managers).
    version = request.path.split("/")[1]
    return await _page(request, calendar, feed=None, base=f"/{version}/calendars/{calendar.id}/view")


async def asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise not_found("asset")
    return web.Response(
        body=_asset(name),
        content_type=ASSETS[name],
        charset="utf-8",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get(f"/calendars/{{secret:{SECRET_PATTERN}}}", by_secret, name="web-calendar")
    for version in ("v1", "v2"):
        app.router.add_get(f"/{version}/calendars/{{id:\\d+}}/view", by_token, name=f"{version}-calendar-view")
    app.router.add_get("/assets/{name}", asset, name="web-asset")
