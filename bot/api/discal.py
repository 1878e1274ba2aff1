"""DisCal's API v1 events endpoint (seed 004), all POST with a JSON body naming the guild:

    /v1/events/list/month  {guild_id, DaysInMonth, EpochStart}   → {count, events: [{id, epochStart, epochEnd}]}
    /v1/events/list/date   {guild_id, startEpoch}                → {count, events: [full event, ...]}
    /v1/events/get         {guild_id, id}                        → one full event
    /v1/events/create      {guild_id, epochStart, epochEnd, summary, ...} → {Message, id}
    /v1/events/update      {guild_id, id, ...}                   → {Message}
    /v1/events/delete      {guild_id, id}                        → {Message}

Times are Unix milliseconds; ids are strings. Both spellings the document uses are accepted:
`startEpoch`/`StartEpoch` (and `EpochStart`), `count`/`recurCount`.

Recurring events appear once per occurrence in the lists, each with the series' own `id` (so /get,
/update and /delete act on the whole series) and `isParent: false`; a one-off event, and the event
/get returns, has `isParent: true`. A moved or renamed occurrence shows its own times and summary; a
cancelled one is left out. An event given `epochEnd` equal to `epochStart` (as the document's
example does) has no end.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.domain.colors import parse_color
from bot.domain.edits import with_changes
from bot.domain.errors import InvalidField, NotFound
from bot.domain.models import Event
from bot.domain.recurrence import from_discal, to_discal
from bot.storage.tokens import ApiToken

from .context import API_KEY, JSON, TOKEN_KEY, Api, dumps, json_response
from .errors import FieldErrors, domain_field, not_found, validate
from .fields import MISSING, Reader, kind, row_id, to_ms

CREATED = "Successfully created event!"
UPDATED = "Successfully updated event!"
DELETED = "Successfully deleted event!"
MAX_DAYS = 31

# Domain field names → DisCal's.
FIELDS = {
    "starts": "epochStart",
    "start": "epochStart",
    "ends": "epochEnd",
    "end": "epochEnd",
    "name": "summary",
    "repeat": "recurrence.frequency",
    "every": "recurrence.interval",
    "count": "recurrence.count",
    "until": "recurrence",
    "on": "recurrence",
    "calendar": "guild_id",
}
START_SPELLINGS = ("StartEpoch", "EpochStart", "epochStart")


def recurrence_json(event: Event) -> dict[str, Any]:
    shape = to_discal(event.recurrence)
    shape["recurCount"] = shape["count"]  # the document's table calls it recurCount, its example count
    return shape


def full(event: Event, starts: datetime, ends: datetime | None, *, summary: str, description: str, location: str,
         parent: bool) -> dict[str, Any]:  # fmt: skip
    return {
        "id": str(event.id),
        "epochStart": to_ms(starts),
        "epochEnd": to_ms(ends or starts),
        "timezone": event.timezone,
        "summary": summary,
        "description": description,
        "location": location,
        "color": event.color.name,
        "isParent": parent,
        "recurrence": recurrence_json(event),
        "image": event.image or "",
    }


def event_json(event: Event) -> dict[str, Any]:
    return full(event, event.starts, event.ends, summary=event.name, description=event.description,
                location=event.location, parent=True)  # fmt: skip


async def _guild(api: Api, request: web.Request, data: dict[str, Any], errors: FieldErrors) -> int:
    token: ApiToken = request[TOKEN_KEY]
    guild_id = Reader(data, errors).integer("guild_id", required=True, minimum=1, digits=True)
    if guild_id is not MISSING:
        api.same_guild(token, guild_id)
    return guild_id


async def _occurrences(api: Api, guild_id: int, start: datetime, end: datetime, *, full_entries: bool) -> list[dict]:
    """One entry per occurrence overlapping [start, end), by start; a one-off event is its own parent. A month's
    entries say only when, which the store's slots hold: no event of the month is read whole."""
    if not full_entries:
        return [
            {"id": str(event_id), "epochStart": starts * 1000, "epochEnd": (ends or starts) * 1000}
            for starts, ends, event_id, _key in await api.store.events.occurrence_slots(guild_id, start, end)
        ]
    entries = []
    for o in await api.store.events.occurrences(guild_id, start, end):
        entries.append(
            full(
                o.event,
                o.starts,
                o.ends,
                summary=o.name,
                description=o.description,
                location=o.location,
                parent=o.event.recurrence is None,
            )
        )
    return entries


async def _listing(request: web.Request, *, month: bool) -> web.Response:
    api = request.app[API_KEY]
    await api.authenticate(request, write=False)
    data = await api.object_body(request)
    errors = FieldErrors()
    guild_id = await _guild(api, request, data, errors)
    r = Reader(data, errors)
    if month:
        start = r.epoch_ms("EpochStart", "epochStart", "StartEpoch", "startEpoch", required=True)
        days = r.integer("DaysInMonth", "daysInMonth", required=True, minimum=1, maximum=MAX_DAYS)
    else:
        start = r.epoch_ms("startEpoch", *START_SPELLINGS, required=True)
        days = 1
    errors.raise_if_any()

    async def compute() -> tuple[bytes, int]:
        entries = await _occurrences(api, guild_id, start, start + timedelta(days=days), full_entries=not month)
        body = dumps({"count": len(entries), "events": entries}).encode()
        return body, len(body)

    key = ("discal", guild_id, month, start, days)
    body = await api.answer(key, await api.version(request), compute)
    return web.Response(body=body, content_type=JSON)


async def list_month(request: web.Request) -> web.Response:
    return await _listing(request, month=True)


async def list_date(request: web.Request) -> web.Response:
    return await _listing(request, month=False)


async def _event(api: Api, guild_id: int, data: dict[str, Any], errors: FieldErrors) -> Event | None:
    _spelling, value = Reader(data, errors).raw("id")
    if value is MISSING:
        errors.add("id", "is required")
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        errors.add("id", f"must be a string, not {kind(value)}")
        return None
    event_id = row_id(value)
    errors.raise_if_any()
    if event_id is None:
        raise not_found("event")
    return await api.store.events.get(guild_id, event_id)


async def get(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    await api.authenticate(request, write=False)
    data = await api.object_body(request)
    errors = FieldErrors()
    guild_id = await _guild(api, request, data, errors)
    event = await _event(api, guild_id, data, errors)
    errors.raise_if_any()
    return json_response(event_json(event))


def read(data: dict[str, Any], errors: FieldErrors, existing: Event | None) -> dict[str, Any]:
    """The changes `data` asks for, in domain terms."""
    r = Reader(data, errors)
    changes: dict[str, Any] = {}
    creating = existing is None
    starts = r.epoch_ms("epochStart", *START_SPELLINGS, required=creating)
    if starts is not MISSING:
        changes["starts"] = starts
    ends = r.epoch_ms("epochEnd", "EndEpoch", "EpochEnd", "endEpoch", required=creating)
    if ends is not MISSING:
        changes["ends"] = ends
    summary = r.string("summary", nullable=False, required=creating)
    if summary is not MISSING:
        changes["name"] = summary
    for key in ("description", "location"):
        value = r.string(key)
        if value is not MISSING:
            changes[key] = value or ""
    image = r.string("image")
    if image is not MISSING:
        changes["image"] = image or None
    color = r.string("color")
    if color is not MISSING:
        try:
            changes["color"] = parse_color(color)
        except InvalidField as error:
            r.fail("color", error.reason)
    recurrence = r.mapping("recurrence")
    if recurrence is None:
        changes["recurrence"] = None
    elif recurrence is not MISSING:
        before = len(errors.errors)
        inner = Reader(recurrence, errors, "recurrence.")
        recur = inner.boolean("recur")
        frequency = inner.string("frequency", nullable=False)
        inner.integer("count", "recurCount", minimum=-1, maximum=None)
        inner.integer("interval", minimum=1, maximum=None)
        if len(errors.errors) == before:
            shape = dict(recurrence)
            if frequency is MISSING and existing is not None and existing.recurrence is not None:
                shape["frequency"] = existing.recurrence.frequency  # an update may leave it out
            if recur is MISSING:
                shape["recur"] = existing is not None and existing.recurrence is not None
            try:
                changes["recurrence"] = from_discal(shape, "recurrence")
            except InvalidField as error:
                errors.add(domain_field(error, FIELDS), error.reason)
    return changes


def _apply(event: Event, changes: dict[str, Any], errors: FieldErrors, *, failed: bool) -> Event | None:
    """`event` with `changes`, validated; None with the errors recorded (`failed`: some already were)."""
    if "ends" in changes and changes["ends"] == changes.get("starts", event.starts):
        changes = {**changes, "ends": None}  # the document's own example: an event without an end
    valid = validate(with_changes(event, changes), errors, FIELDS)
    return None if failed else valid


async def create(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    actor = await api.actor(await api.authenticate(request, write=True))
    actor.check_create()
    data = await api.object_body(request)
    errors = FieldErrors()
    guild_id = await _guild(api, request, data, errors)
    failed = bool(errors)
    changes = read(data, errors, None)
    failed = failed or bool(errors)
    event = None
    if "starts" in changes:
        settings = await api.guild_settings(guild_id) if guild_id is not MISSING else None
        draft = Event(
            guild_id=guild_id if settings else 0,
            calendar_id=0,
            name="event",  # a placeholder while `summary` is checked; a missing one is reported already
            starts=changes["starts"],
            timezone=settings.timezone if settings else "UTC",
            notifications_interval=settings.default_reminders if settings else (),
            notifications_channels=settings.default_channels if settings else (),
        )
        event = _apply(draft, changes, errors, failed=failed)
    errors.raise_if_any()
    calendar = await api.default_calendar(guild_id, request)
    [created] = await api.store.events.create_many(
        [dataclasses.replace(actor.authored(event), calendar_id=calendar.id)]
    )
    return json_response({"Message": CREATED, "id": str(created.id)})


async def update(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    actor = await api.actor(await api.authenticate(request, write=True))
    data = await api.object_body(request)
    errors = FieldErrors()
    guild_id = await _guild(api, request, data, errors)
    existing = await _event(api, guild_id, data, errors)
    errors.raise_if_any()
    actor.check_change(existing)
    changes = read(data, errors, existing)
    event = _apply(existing, changes, errors, failed=bool(errors))
    errors.raise_if_any()
    try:
        await api.store.events.update_many([event])
    except NotFound:  # deleted meanwhile
        raise not_found("event") from None
    return json_response({"Message": UPDATED})


async def delete(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    actor = await api.actor(await api.authenticate(request, write=True))
    data = await api.object_body(request)
    errors = FieldErrors()
    guild_id = await _guild(api, request, data, errors)
    event = await _event(api, guild_id, data, errors)
    errors.raise_if_any()
    actor.check_change(event)
    try:
        await api.store.events.delete_many(guild_id, [event.id])
    except NotFound:
        raise not_found("event") from None
    return json_response({"Message": DELETED})


def add_routes(app: web.Application) -> None:
    for path, handler in (
        ("list/month", list_month),
        ("list/date", list_date),
        ("get", get),
        ("create", create),
        ("update", update),
        ("delete", delete),
    ):
        app.router.add_post(f"/v1/events/{path}", handler, name=f"discal-{path.replace('/', '-')}")
