"""DisCal's API v1 events endpoint (seed 004), all POST with a JSON body naming the guild, under `/v1/events/`
and, as the upstream server serves them, under `/api/v1/events/`:

    list/month  {guild_id, DaysInMonth, EpochStart}   → {count, events: [{id, epochStart, epochEnd}]}
    list/date   {guild_id, startEpoch}                → {count, events: [full event, ...]}
    get         {guild_id, id}                        → one full event
    create      {guild_id, epochStart, epochEnd, summary, ...} → {message, Message, id}
    update      {guild_id, id, ...}                   → {message, Message}
    delete      {guild_id, id}                        → {message, Message}

Times are Unix milliseconds; ids are strings. Numbers may come as JSON numbers or as strings of digits
(DisCal's own dashboard sent `"31"` and `"1519884000000"`). Both spellings the document uses are accepted:
`startEpoch`/`StartEpoch` (and `EpochStart`), `count`/`recurCount`; answers carry both `message` (what
the upstream server wrote) and `Message` (what the document shows).

A recurring event appears once per occurrence in the lists, each with its own id `<series id>_<original
start in Unix ms>` and `isParent: false`, as upstream listed them; /get, /update and /delete with that id
act on that one occurrence (the same one-occurrence edit and cancel as the slash commands), and with the
series' id on the whole series. A one-off event has `isParent: true`. A moved or renamed occurrence shows
its own times and summary (its id stays: it names the original start); a cancelled one is left out. An
event given `epochEnd` equal to `epochStart` (as the document's example does) has no end.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.domain.colors import parse_color
from bot.domain.edits import PER_OCCURRENCE, one_occurrence_change, with_changes
from bot.domain.errors import InvalidField, NotFound
from bot.domain.models import Event
from bot.domain.occurrences import Occurrence
from bot.domain.recurrence import FREQUENCIES, MAX_COUNT, MAX_INTERVAL, from_discal, to_discal
from bot.domain.rsvp import ONE_OFF
from bot.storage.tokens import ApiToken

from .context import API_KEY, JSON, TOKEN_KEY, Api, dumps, json_response
from .errors import FieldErrors, domain_field, not_found, validate
from .fields import MISSING, Reader, kind, row_id, to_ms

CREATED = "Successfully created event!"
UPDATED = "Successfully updated event!"
DELETED = "Successfully deleted event!"
MAX_DAYS = 31
PREFIXES = ("/v1/events", "/api/v1/events")  # the document's paths, and the upstream server's
OCCURRENCE_ID = re.compile(r"([0-9]{1,19})_([0-9]{1,16})")  # <series id>_<original start, Unix ms>

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
RECURRENCE_NUMBERS = (
    ("count", ("recurCount",), -1, MAX_COUNT),
    ("interval", (), 1, MAX_INTERVAL),
)  # name, aliases, bounds


def recurrence_json(event: Event) -> dict[str, Any]:
    shape = to_discal(event.recurrence)
    shape["recurCount"] = shape["count"]  # the document's table calls it recurCount, its example count
    return shape


def occurrence_id(event_id: int, key: int) -> str:
    """An occurrence as DisCal lists it: a one-off event's own id; a series' occurrence
    `<series id>_<original start in Unix ms>`, stable across restarts and the occurrence's own moves, for as long
    as the series keeps its rule."""
    return str(event_id) if key == ONE_OFF else f"{event_id}_{key * 1000}"


def full(occurrence: Occurrence) -> dict[str, Any]:
    """An event (a one-off, or a series as a whole) or one occurrence of a series, as DisCal shows it."""
    event = occurrence.event
    parent = occurrence.key == ONE_OFF
    return {
        "id": occurrence_id(event.id, occurrence.key),
        "epochStart": to_ms(occurrence.starts),
        "epochEnd": to_ms(occurrence.effective_end),
        "timezone": event.timezone,
        "summary": occurrence.name,
        "description": occurrence.description,
        "location": occurrence.location,
        "color": event.color.name,
        "isParent": parent,
        "recurrence": recurrence_json(event),
        "image": event.image or "",
    }


def done(text: str, warnings: list[str], **fields: Any) -> dict[str, Any]:
    """A write's answer: the message under both spellings, and `warnings` when the card will not follow."""
    answer: dict[str, Any] = {"message": text, "Message": text, **fields}
    if warnings:
        answer["warnings"] = warnings
    return answer


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
            {"id": occurrence_id(event_id, key), "epochStart": starts * 1000, "epochEnd": (ends or starts) * 1000}
            for starts, ends, event_id, key in await api.store.events.occurrence_slots(guild_id, start, end)
        ]
    return [full(o) for o in await api.store.events.occurrences(guild_id, start, end)]


async def _listing(request: web.Request, *, month: bool) -> web.Response:
    api = request.app[API_KEY]
    await api.authenticate(request, write=False)
    data = await api.object_body(request)
    errors = FieldErrors()
    guild_id = await _guild(api, request, data, errors)
    r = Reader(data, errors)
    if month:
        start = r.epoch_ms("EpochStart", "epochStart", "StartEpoch", "startEpoch", required=True)
        days = r.integer("DaysInMonth", "daysInMonth", required=True, minimum=1, maximum=MAX_DAYS, digits=True)
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


async def _target(api: Api, guild_id: int, data: dict[str, Any], errors: FieldErrors) -> Occurrence | None:
    """What `id` names: a whole event (as its own `Occurrence.of`), or one occurrence of a series; 404 when
    there is no such event, or no such occurrence (a cancelled one included)."""
    _spelling, value = Reader(data, errors).raw("id")
    if value is MISSING:
        errors.add("id", "is required")
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        errors.add("id", f"must be a string, not {kind(value)}")
        return None
    errors.raise_if_any()
    match = OCCURRENCE_ID.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        event_id = row_id(value)
        if event_id is None:
            raise not_found("event")
        return Occurrence.of(await api.store.events.get(guild_id, event_id))
    event_id, start_ms = row_id(match[1]), int(match[2])
    if event_id is None or start_ms % 1000 or start_ms == 0:
        raise not_found("occurrence")
    try:
        occurrence = await api.store.events.occurrence(guild_id, event_id, start_ms // 1000)
    except (NotFound, OverflowError, ValueError):
        raise not_found("occurrence") from None
    if occurrence.cancelled:
        raise not_found("occurrence")
    return occurrence


async def get(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    await api.authenticate(request, write=False)
    data = await api.object_body(request)
    errors = FieldErrors()
    guild_id = await _guild(api, request, data, errors)
    target = await _target(api, guild_id, data, errors)
    errors.raise_if_any()
    return json_response(full(target))


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
        if frequency is not MISSING and frequency not in FREQUENCIES:
            inner.fail("frequency", f"must be one of {', '.join(FREQUENCIES)}")
        # Checked even when recur is false: what is sent must be what the document allows.
        numbers = {
            key: inner.integer(key, *aliases, minimum=low, maximum=high, digits=True)
            for key, aliases, low, high in (
                ("count", ("recurCount",), -1, MAX_COUNT),
                ("interval", (), 1, MAX_INTERVAL),
            )
        }
        if len(errors.errors) == before:
            shape = {**recurrence, **{key: value for key, value in numbers.items() if value is not MISSING}}
            if frequency is MISSING and existing is not None and existing.recurrence is not None:
                shape["frequency"] = existing.recurrence.frequency  # an update may leave it out
            if recur is MISSING:
                shape["recur"] = existing is not None and existing.recurrence is not None
            try:
                kept = existing.recurrence if existing is not None else None
                changes["recurrence"] = from_discal(shape, "recurrence", kept)
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
    api.saved(request, f"event {created.id}")
    return json_response(done(CREATED, await api.card_warnings(guild_id, [created]), id=str(created.id)))


async def update(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    actor = await api.actor(await api.authenticate(request, write=True))
    data = await api.object_body(request)
    errors = FieldErrors()
    guild_id = await _guild(api, request, data, errors)
    target = await _target(api, guild_id, data, errors)
    errors.raise_if_any()
    existing = target.event
    actor.check_change(existing)
    changes = read(data, errors, existing)
    if target.key != ONE_OFF:
        await _update_occurrence(api, target, changes, errors)
        api.saved(request, f"the change to an occurrence of event {existing.id}")
        return json_response(done(UPDATED, await api.card_warnings(guild_id, [existing])))
    event = _apply(existing, changes, errors, failed=bool(errors))
    errors.raise_if_any()
    try:
        [updated] = await api.store.events.update_many([event])
    except NotFound:  # deleted meanwhile
        raise not_found("event") from None
    api.saved(request, f"the change to event {updated.id}")
    return json_response(done(UPDATED, await api.card_warnings(guild_id, [updated])))


async def _update_occurrence(api: Api, occurrence: Occurrence, changes: dict[str, Any], errors: FieldErrors) -> None:
    """One occurrence changed, as /event edit scope:this changes it. A client may send the whole event back
    (as /get answered it): what only the series can hold is ignored while it matches the series, and named
    in a 422 when it does not."""
    event = occurrence.event
    # The recurrence is compared as DisCal shows it: its shape cannot carry a rule's by_day or until.
    series_values = {"color": event.color, "image": event.image, "recurrence": to_discal(event.recurrence)}
    for key, value in list(changes.items()):
        if key in PER_OCCURRENCE:
            continue
        if series_values.get(key, MISSING) != (to_discal(value) if key == "recurrence" else value):
            errors.add(FIELDS.get(key, key), f"cannot differ for one occurrence; update the series ({event.id})")
        del changes[key]
    if "ends" in changes and changes["ends"] == changes.get("starts", occurrence.starts):
        changes["ends"] = None  # as for a whole event: an end equal to the start is no end
    errors.raise_if_any()
    try:
        change = one_occurrence_change(event, occurrence, changes).validated()
    except InvalidField as error:
        errors.add(domain_field(error, FIELDS), error.reason)
        errors.raise_if_any()
    try:
        await api.store.changes.save(change)
    except NotFound:  # deleted meanwhile
        raise not_found("event") from None


async def delete(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    actor = await api.actor(await api.authenticate(request, write=True))
    data = await api.object_body(request)
    errors = FieldErrors()
    guild_id = await _guild(api, request, data, errors)
    target = await _target(api, guild_id, data, errors)
    errors.raise_if_any()
    event = target.event
    actor.check_change(event)
    try:
        if target.key != ONE_OFF:  # cancel this one occurrence, as /event cancel does
            cancel = dataclasses.replace(one_occurrence_change(event, target, {}), starts=None, cancelled=True)
            await api.store.changes.save(cancel)
        else:
            await api.store.events.delete_many(guild_id, [event.id])
    except NotFound:  # deleted meanwhile
        raise not_found("event") from None
    return json_response(done(DELETED, []))


def add_routes(app: web.Application) -> None:
    for prefix in PREFIXES:
        for path, handler in (
            ("list/month", list_month),
            ("list/date", list_date),
            ("get", get),
            ("create", create),
            ("update", update),
            ("delete", delete),
        ):
            name = f"discal{prefix.replace('/', '-')}-{path.replace('/', '-')}"
            app.router.add_post(f"{prefix}/{path}", handler, name=name)
