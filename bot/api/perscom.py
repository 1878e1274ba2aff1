"""PERSCOM-style routes, for both `v1` and `v2` (seed 000, "Create a batch of events"):

    GET/POST /{v}/events            GET/PUT/PATCH/DELETE /{v}/events/{id}
    POST/PATCH/DELETE /{v}/events/batch
    GET/POST /{v}/calendars         GET/PUT/PATCH/DELETE /{v}/calendars/{id}

Event fields, defaults and enum values are PERSCOM's; calbot adds `timezone`, `color`, `image` and
`capacity`. PUT and PATCH both change only the fields given (as PERSCOM's Laravel Orion does). A batch
is all or nothing: one invalid resource answers 422 naming it (`resources.2.starts`) and stores nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re
from collections.abc import Iterable
from datetime import UTC, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bot.domain.colors import Color, parse_color
from bot.domain.edits import with_changes
from bot.domain.errors import Conflict, InvalidField, NotFound
from bot.domain.feeds import DEFAULT_EVERY, MAX_EVERY, feed_url, shown_url, within_poll_bounds
from bot.domain.models import MAX_CAPACITY, Calendar, Event, GuildSettings
from bot.domain.notifications import parse_channels, parse_intervals
from bot.domain.permissions import Actor
from bot.domain.recurrence import MAX_COUNT, MAX_INTERVAL, MAX_LIST, from_perscom, to_perscom
from bot.domain.search import FIELDS as SEARCH_FIELDS
from bot.domain.search import MAX_CONDITIONS, MAX_DEPTH, Condition, EventQuery, Group, Sort
from bot.domain.timeparse import EARLIEST_YEAR, LATEST_YEAR
from bot.domain.timezones import resolve_zone
from bot.net import check_literal
from bot.storage.subscriptions import Subscription
from bot.storage.tokens import ApiToken

from .context import API_KEY, Api, json_response
from .errors import FieldErrors, domain_field, invalid, not_found, validate
from .fields import ID_TEXT, MISSING, Reader, iso, kind, parse_instant, row_id

VERSIONS = ("v1", "v2")
BATCH_MAX = 100
PAGE_DEFAULT, PAGE_MAX = 15, 100
PAGE_NUMBER_MAX = 10**9
INCLUDES = ("attachments", "author", "calendar", "comments", "image", "schedule", "tags")
NESTED_INCLUDES = ("author", "calendar", "comments")  # PERSCOM also offers author.*, calendar.*, comments.*
INCLUDE_ITEM = re.compile("|".join([*INCLUDES, *(rf"{n}\.[a-z_.*]+" for n in NESTED_INCLUDES)]))

# Domain field names → the API's field paths.
EVENT_FIELDS = {
    "calendar": "calendar_id",
    "start": "starts",
    "end": "ends",
    "deadline": "registration_deadline",
    "reminders": "notifications_interval",
    "channels": "notifications_channels",
    "repeat": "schedule.frequency",
    "every": "schedule.interval",
    "count": "schedule.count",
    "until": "schedule.until",
    "on": "schedule.by_day",
    "by_month": "schedule.by_month",
    "by_set_position": "schedule.by_set_position",
}


# ---- reading an event


# What an event's resource shows but a write does not take: a client may send them back as it read them.
MAX_IGNORED_SHOWN = 20  # field names a warning lists; a body of a thousand unknown keys gets a short answer
SHOWN_ONLY = ("id", "label", "created_at", "updated_at", "calendar", "author", "attachments", "comments", "tags")


@dataclasses.dataclass(slots=True)
class Draft:
    event: Event
    default_calendar: bool  # no calendar_id given on create: the guild's default calendar, found once valid
    ignored: list[str] = dataclasses.field(default_factory=list)  # fields sent that events do not have


def read_event(
    data: dict[str, Any],
    errors: FieldErrors,
    prefix: str,
    *,
    guild_id: int,
    settings: GuildSettings,
    calendars: dict[int, Calendar],
    existing: Event | None = None,
) -> Draft | None:
    """The event `data` describes (a new one, or `existing` changed); None after recording its errors."""
    before = len(errors.errors)
    r = Reader(data, errors, prefix)
    changes: dict[str, Any] = {}

    zone_name = r.string("timezone", nullable=False)
    if zone_name is not MISSING:
        try:
            changes["timezone"] = str(resolve_zone(zone_name))
        except InvalidField as error:
            r.fail("timezone", error.reason)
    zone_text = changes.get("timezone") or (existing.timezone if existing else settings.timezone)
    zone = ZoneInfo(zone_text)

    all_day = r.boolean("all_day")
    if all_day is not MISSING:
        changes["all_day"] = all_day
    day_only = changes.get("all_day", existing.all_day if existing else False)

    name = r.string("name", nullable=False, required=existing is None)
    if name is not MISSING:
        changes["name"] = name
    for text in ("description", "content", "location"):
        value = r.string(text)
        if value is not MISSING:
            changes[text] = value or ""
    for link in ("url", "image"):
        value = r.string(link)
        if value is not MISSING:
            changes[link] = value or None

    starts = r.typed("starts", zone, required=existing is None, nullable=False)
    if starts is not MISSING:
        changes["starts"], changes["anchor"] = starts.instant, starts.wall
    ends = r.instant("ends", zone, day_after=day_only)
    if ends is not MISSING:
        changes["ends"] = ends
    deadline = r.instant("registration_deadline", zone)
    if deadline is not MISSING:
        changes["registration_deadline"] = deadline

    author = r.integer("author_id", nullable=True, minimum=0, digits=True)
    if author is not MISSING:
        changes["author_id"] = author
    capacity = r.integer("capacity", nullable=True, minimum=1, maximum=MAX_CAPACITY)
    if capacity is not MISSING:
        changes["capacity"] = capacity
    for flag in ("registration_enabled", "notifications_enabled"):
        value = r.boolean(flag)
        if value is not MISSING:
            changes[flag] = value

    for key, parse in (("notifications_interval", parse_intervals), ("notifications_channels", parse_channels)):
        values = r.strings(key)
        if values is not MISSING:
            try:
                changes[key] = parse(values, key)
            except InvalidField as error:
                r.fail(key, error.reason)
    color = r.string("color")
    if color is not MISSING:
        try:
            changes["color"] = parse_color(color)
        except InvalidField as error:
            r.fail("color", error.reason)

    calendar_id = r.integer("calendar_id", minimum=1, digits=True)
    if calendar_id is not MISSING:
        if calendar_id in calendars:
            changes["calendar_id"] = calendar_id
        else:
            r.fail("calendar_id", f"there is no calendar {calendar_id} on this server")

    repeats = r.boolean("repeats")
    schedule = r.mapping("schedule")
    if repeats is False or (repeats is MISSING and schedule is None):
        changes["recurrence"] = None
    elif isinstance(schedule, dict):
        if _schedule_types(schedule, errors, prefix):
            try:
                changes["recurrence"] = from_perscom(schedule, "schedule")
            except InvalidField as error:
                r.fail(domain_field(error, EVENT_FIELDS), error.reason)
    elif repeats is True and (existing is None or existing.recurrence is None):
        r.fail("schedule", "is required when repeats is true")

    failed = len(errors.errors) > before
    if existing is None and "starts" not in changes:
        return None
    if existing is None:
        event = Event(
            guild_id=guild_id,
            calendar_id=0,
            name="event",  # a placeholder while `name` is checked; a missing name is reported above
            starts=changes["starts"],
            timezone=settings.timezone,
            notifications_interval=settings.default_reminders,
            notifications_channels=settings.default_channels,
        )
    else:
        event = existing
    event = validate(with_changes(event, changes), errors, EVENT_FIELDS, prefix)
    if event is None or failed:
        return None
    return Draft(event, existing is None and "calendar_id" not in changes, r.unread(SHOWN_ONLY))


def _schedule_types(schedule: dict[str, Any], errors: FieldErrors, prefix: str) -> bool:
    """Check the JSON types of a schedule's fields (the domain checks their values); True if they are right."""
    before = len(errors.errors)
    r = Reader(schedule, errors, prefix + "schedule.")
    r.string("frequency", required=True, nullable=False)
    r.string("end_type")
    r.instant("until", UTC)  # a date-time in the years calbot handles (the domain reads it again)
    # Bounded even where end_type leaves them unused: what is sent must be what the document allows.
    for key, high in (("interval", MAX_INTERVAL), ("count", MAX_COUNT)):
        r.integer(key, nullable=True, minimum=1, maximum=high)
    for key in ("by_month", "by_month_day", "by_set_position"):
        value = schedule.get(key)
        if isinstance(value, list) and len(value) > MAX_LIST:  # before each value is read
            r.fail(key, f"holds {len(value)} values; a rule takes at most {MAX_LIST}")
        elif value is not None and not (
            isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        ):
            r.fail(key, "must be a list of whole numbers")
    r.strings("by_day")
    return len(errors.errors) == before


# ---- showing an event


def parse_includes(request: web.Request) -> set[str]:
    """The relations `?include=` names: a comma-separated list of INCLUDE_ITEMs, nothing else (no spaces,
    no empty items), as the OpenAPI document states it."""
    wanted: set[str] = set()
    for value in request.query.getall("include", []):
        for item in value.split(","):
            if not INCLUDE_ITEM.fullmatch(item):
                options = ", ".join([*INCLUDES, *(f"{n}.*" for n in NESTED_INCLUDES)])
                raise invalid({"include": [f"{item[:40]!r} cannot be included; use {options}, separated by commas"]})
            wanted.add(item.split(".", 1)[0])
    return wanted


def calendar_resource(calendar: Calendar) -> dict[str, Any]:
    return {
        "id": calendar.id,
        "name": calendar.name,
        "description": calendar.description,
        "color": calendar.color.name,
        "label": calendar.name,
        "discord_events": calendar.discord_events,
        "created_at": iso(calendar.created_at),
        "updated_at": iso(calendar.updated_at),
    }


def subscription_resource(subscription: Subscription | None) -> dict[str, Any] | None:
    """The outside feed a calendar follows (its address shown by scheme and host only: it may be a secret)."""
    if subscription is None:
        return None
    return {
        "url": shown_url(subscription.url),
        "every_minutes": int(subscription.every.total_seconds() // 60),
        "last_poll": iso(subscription.last_poll),
        "last_result": subscription.last_result,
        "next_poll": iso(subscription.next_poll),
        "paused": subscription.paused,
    }


def event_resource(event: Event, includes: Iterable[str] = (), calendars: dict[int, Calendar] | None = None) -> dict:
    resource: dict[str, Any] = {
        "id": event.id,
        "name": event.name,
        "calendar_id": event.calendar_id,
        "description": event.description,
        "content": event.content,
        "location": event.location,
        "url": event.url,
        "author_id": event.author_id,
        "all_day": event.all_day,
        "starts": iso(event.starts),
        "ends": iso(event.ends),
        "repeats": event.recurrence is not None,
        "registration_enabled": event.registration_enabled,
        "registration_deadline": iso(event.registration_deadline),
        "notifications_enabled": event.notifications_enabled,
        "notifications_interval": list(event.notifications_interval),
        "notifications_channels": list(event.notifications_channels),
        "label": f"Event: {event.id}",  # as PERSCOM's Event model labels itself
        "created_at": iso(event.created_at),
        "updated_at": iso(event.updated_at),
        # calbot's own fields
        "timezone": event.timezone,
        "color": event.color.name,
        "image": event.image,
        "capacity": event.capacity,
    }
    includes = set(includes)
    if event.recurrence is not None or "schedule" in includes:
        resource["schedule"] = to_perscom(event.recurrence) if event.recurrence is not None else None
    if "calendar" in includes:
        calendar = (calendars or {}).get(event.calendar_id)
        resource["calendar"] = calendar_resource(calendar) if calendar is not None else None
    if "author" in includes:
        resource["author"] = {"id": event.author_id} if event.author_id is not None else None
    for empty in ("attachments", "comments", "tags"):
        if empty in includes:
            resource[empty] = []
    if "image" in includes:
        resource["image"] = event.image
    return resource


# ---- pages


def paging(request: web.Request) -> tuple[int, int]:
    errors = FieldErrors()
    values = {}
    for key, default, high in (("page", 1, PAGE_NUMBER_MAX), ("limit", PAGE_DEFAULT, PAGE_MAX)):
        text = request.query.get(key)
        if text is None:
            values[key] = default
            continue
        number = row_id(text)
        if number is None or number > high:
            errors.add(key, f"must be a whole number from 1 to {high}")
        else:
            values[key] = number
    errors.raise_if_any()
    return values["page"], values["limit"]


PREVIOUS, NEXT = "&laquo; Previous", "Next &raquo;"  # Laravel's pagination labels, escaped as it sends them
ON_EACH_SIDE = 3  # Laravel's default: pages shown on each side of the current one


def page_window(page: int, last: int) -> list[int | None]:
    """The page numbers Laravel's paginator links in `meta.links` (its UrlWindow), None for a "..." gap: every
    page when there are few, else the first two, the pages around the current one and the last two."""
    window = ON_EACH_SIDE * 2
    if last < window + 8:
        return list(range(1, last + 1))
    if page <= window:
        return [*range(1, window + 3), None, last - 1, last]
    if page > last - window:
        return [1, 2, None, *range(last - (window + 2), last + 1)]
    return [1, 2, None, *range(page - ON_EACH_SIDE, page + ON_EACH_SIDE + 1), None, last - 1, last]


def paginated(request: web.Request, items: list[dict], total: int, page: int, limit: int) -> dict[str, Any]:
    last = max(1, math.ceil(total / limit))
    base = request.app[API_KEY].link_base(request)
    path = base + request.path

    def link(number: int) -> str:
        return base + str(request.rel_url.update_query(page=str(number), limit=str(limit)))

    first_index = (page - 1) * limit + 1 if items else None
    numbered = [
        {"url": None if number is None else link(number), "label": "..." if number is None else str(number),
         "active": number == page}
        for number in page_window(page, last)
    ]  # fmt: skip
    return {
        "data": items,
        "links": {
            "first": link(1),
            "last": link(last),
            "prev": link(page - 1) if page > 1 else None,
            "next": link(page + 1) if page < last else None,
        },
        "meta": {
            "current_page": page,
            "from": first_index,
            "last_page": last,
            "links": [
                {"url": link(page - 1) if page > 1 else None, "label": PREVIOUS, "active": False},
                *numbered,
                {"url": link(page + 1) if page < last else None, "label": NEXT, "active": False},
            ],
            "path": path,
            "per_page": limit,
            "to": first_index + len(items) - 1 if items else None,
            "total": total,
        },
    }


# ---- event routes


def _event_id(request: web.Request) -> int:
    event_id = row_id(request.match_info["id"])
    if event_id is None:
        raise not_found("event")
    return event_id


async def _context(api: Api, token: ApiToken) -> tuple[GuildSettings, dict[int, Calendar]]:
    settings = await api.guild_settings(token.guild_id)
    calendars = {c.id: c for c in await api.store.calendars.list(token.guild_id)}
    return settings, calendars


async def _place(api: Api, request: web.Request, drafts: list[Draft], actor: Actor) -> list[Event]:
    """Give drafts without a calendar the guild's default one (made only now that everything is valid), and
    their author as `actor` creates them."""
    drafts = [dataclasses.replace(d, event=actor.authored(d.event)) for d in drafts]
    if not any(d.default_calendar for d in drafts):
        return [d.event for d in drafts]
    calendar = await api.default_calendar(drafts[0].event.guild_id, request)
    return [dataclasses.replace(d.event, calendar_id=calendar.id) if d.default_calendar else d.event for d in drafts]


async def list_events(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    token = await api.authenticate(request, write=False)
    includes = parse_includes(request)
    page, limit = paging(request)
    calendar_id = None
    if "calendar_id" in request.query:
        calendar_id = row_id(request.query["calendar_id"])
        if calendar_id is None:
            raise invalid({"calendar_id": ["must be a calendar id"]})
    events, total = await api.store.events.page(
        token.guild_id, calendar_id=calendar_id, limit=limit, offset=(page - 1) * limit
    )
    calendars = {c.id: c for c in await api.store.calendars.list(token.guild_id)} if "calendar" in includes else None
    items = [event_resource(e, includes, calendars) for e in events]
    return json_response(paginated(request, items, total, page, limit))


async def create_event(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    token = await api.authenticate(request, write=True)
    actor = await api.actor(token)
    actor.check_create()
    includes = parse_includes(request)
    data = await api.object_body(request)
    settings, calendars = await _context(api, token)
    errors = FieldErrors()
    draft = read_event(data, errors, "", guild_id=token.guild_id, settings=settings, calendars=calendars)
    errors.raise_if_any()
    [event] = await api.store.events.create_many(await _place(api, request, [draft], actor))
    api.saved(request, f"event {event.id}")
    calendars = await _calendars_if(api, token, includes)
    answer = await _written(api, token, {"data": event_resource(event, includes, calendars)}, [event], [draft])
    return json_response(answer, status=201)


def _events(what: str, events: list[Event]) -> str:
    return f"{what} {', '.join(str(e.id) for e in events)}"


async def _written(
    api: Api, token: ApiToken, answer: dict[str, Any], events: list[Event], drafts: Iterable[Draft | None]
) -> dict[str, Any]:
    """A write's answer, with `warnings` when an event's card has nowhere to go, and naming the fields sent that
    events do not have (a misspelt one would otherwise be dropped without a word)."""
    warnings = await api.card_warnings(token.guild_id, events)
    ignored = [field for draft in drafts if draft is not None for field in draft.ignored]
    if ignored:
        fields = ", ".join(f"`{field}`" for field in ignored[:MAX_IGNORED_SHOWN])
        more = f" and {len(ignored) - MAX_IGNORED_SHOWN} more" if len(ignored) > MAX_IGNORED_SHOWN else ""
        warnings.append(f"Ignored {fields}{more}: events have no such field, so nothing of it was stored.")
    return {**answer, "warnings": warnings} if warnings else answer


async def _calendars_if(api: Api, token: ApiToken, includes: set[str]) -> dict[int, Calendar] | None:
    if "calendar" not in includes:
        return None
    return {c.id: c for c in await api.store.calendars.list(token.guild_id)}


async def show_event(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    token = await api.authenticate(request, write=False)
    includes = parse_includes(request)
    event = await api.store.events.get(token.guild_id, _event_id(request))
    calendars = await _calendars_if(api, token, includes)
    return json_response({"data": event_resource(event, includes, calendars)})


async def update_event(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    token = await api.authenticate(request, write=True)
    includes = parse_includes(request)
    event_id = _event_id(request)
    existing = await api.store.events.get(token.guild_id, event_id)
    actor = await api.actor(token)
    actor.check_change(existing)
    data = await api.object_body(request)
    settings, calendars = await _context(api, token)
    errors = FieldErrors()
    draft = read_event(
        data, errors, "", guild_id=token.guild_id, settings=settings, calendars=calendars, existing=existing
    )
    errors.raise_if_any()
    actor.check_edit(existing, draft.event)
    [event] = await api.store.events.update_many([draft.event])
    api.saved(request, f"the change to event {event.id}")
    calendars = await _calendars_if(api, token, includes)
    answer = {"data": event_resource(event, includes, calendars)}
    return json_response(await _written(api, token, answer, [event], [draft]))


async def delete_event(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    token = await api.authenticate(request, write=True)
    actor = await api.actor(token)
    actor.check_change(await api.store.events.get(token.guild_id, _event_id(request)))
    [event] = await api.store.events.delete_many(token.guild_id, [_event_id(request)])
    return json_response({"data": event_resource(event)})


# ---- search (Laravel Orion's search body, as PERSCOM serves it)


def read_search(data: dict[str, Any]) -> tuple[EventQuery, set[str]]:
    """The query an Orion search body asks (`filters`, `search`, `sort`), and the relations its `includes`
    name; 422 naming every bad part."""
    errors = FieldErrors()
    for unsupported in ("scopes", "aggregates"):
        if data.get(unsupported):
            errors.add(unsupported, f"calbot offers no {unsupported} on events; leave {unsupported} out")
    filters: Any = ()
    if (raw := data.get("filters")) is not None:
        filters = _read_filters(raw, "filters", errors, 1)
    text, case_sensitive = None, False
    search = Reader(data, errors).mapping("search")
    if isinstance(search, dict):
        r = Reader(search, errors, "search.")
        value = r.string("value")
        text = value or None
        case_sensitive = r.boolean("case_sensitive") is True
    sorts = []
    name, raw_sorts = Reader(data, errors).raw("sort", "sorts")
    if raw_sorts not in (MISSING, None):
        if not isinstance(raw_sorts, list):
            errors.add(name, f"must be a list of {{field, direction}}, not {kind(raw_sorts)}")
        for index, item in enumerate(raw_sorts if isinstance(raw_sorts, list) else []):
            r = Reader(item if isinstance(item, dict) else {}, errors, f"{name}.{index}.")
            if not isinstance(item, dict):
                errors.add(f"{name}.{index}", "must be an object {field, direction}")
                continue
            field = r.string("field", required=True, nullable=False)
            direction = r.string("direction", nullable=False)
            if direction not in (MISSING, "asc", "desc"):
                r.fail("direction", "must be asc or desc")
            if field is not MISSING:
                sorts.append(Sort(field, descending=direction == "desc"))
    includes = set()
    raw_includes = data.get("includes")
    if raw_includes is not None and not isinstance(raw_includes, list):
        errors.add("includes", f"must be a list of {{relation}}, not {kind(raw_includes)}")
    for index, item in enumerate(raw_includes if isinstance(raw_includes, list) else []):
        relation = item.get("relation") if isinstance(item, dict) else None
        if relation in INCLUDES or (isinstance(relation, str) and relation.split(".", 1)[0] in NESTED_INCLUDES):
            includes.add(relation.split(".", 1)[0])
        else:
            errors.add(f"includes.{index}", f"must be {{relation}} naming one of {', '.join(INCLUDES)}")
    errors.raise_if_any()
    query = EventQuery(filters=tuple(filters), text=text, case_sensitive=case_sensitive, sorts=tuple(sorts))
    try:
        return query.validated(), includes
    except InvalidField as error:
        raise invalid({error.field: [error.reason]}) from None


def _read_filters(raw: Any, path: str, errors: FieldErrors, depth: int) -> list[Condition | Group]:
    if not isinstance(raw, list):
        errors.add(path, f"must be a list of conditions, not {kind(raw)}")
        return []
    if len(raw) > MAX_CONDITIONS:
        errors.add(path, f"holds {len(raw)} conditions; a search holds at most {MAX_CONDITIONS}")
        return []
    found: list[Condition | Group] = []
    for index, item in enumerate(raw):
        where = f"{path}.{index}"
        if not isinstance(item, dict):
            errors.add(where, "must be an object {field, operator, value, type}")
            continue
        r = Reader(item, errors, where + ".")
        join = r.string("type", nullable=False)
        join = "and" if join is MISSING else join.lower()
        if "nested" in item:
            if depth >= MAX_DEPTH:
                errors.add(f"{where}.nested", f"groups nest at most {MAX_DEPTH} deep")
                continue
            found.append(Group(tuple(_read_filters(item["nested"], f"{where}.nested", errors, depth + 1)), join))
            continue
        field = r.string("field", required=True, nullable=False)
        operator = r.string("operator", nullable=False)
        operator = "=" if operator is MISSING else operator.lower()
        if "value" not in item:
            r.fail("value", "is required (null compares with = or !=)")
        if field is MISSING or "value" not in item:
            continue
        value = _filter_value(SEARCH_FIELDS.get(field), item["value"], operator)
        if value is MISSING:
            r.fail("value", f"is not a value {field[:40]!r} can hold")
            continue
        found.append(Condition(field, operator, value, join))
    return found


def _filter_value(field_kind: str | None, value: Any, operator: str) -> Any:
    """A filter's value in domain terms (a list as a tuple); MISSING when the field cannot hold it. An
    unknown field keeps its value: the query's validation names the field."""
    if isinstance(value, list) and operator in ("in", "not in"):
        values = [_filter_value(field_kind, item, "=") for item in value]
        return MISSING if MISSING in values else tuple(values)
    if value is None or field_kind is None:
        return value
    if field_kind == "id" and isinstance(value, str) and ID_TEXT.fullmatch(value):
        return int(value)
    if field_kind == "instant" and isinstance(value, str):
        parsed = parse_instant(value, UTC)
        return parsed.instant if parsed is not None and EARLIEST_YEAR <= parsed.instant.year <= LATEST_YEAR else MISSING
    if field_kind == "instant":
        return MISSING
    return value  # the query's validation checks the type


async def search_events(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    token = await api.authenticate(request, write=False)
    includes = parse_includes(request)
    page, limit = paging(request)
    query, body_includes = read_search(await api.object_body(request))
    includes |= body_includes
    events, total = await api.store.events.query(token.guild_id, query, limit=limit, offset=(page - 1) * limit)
    calendars = await _calendars_if(api, token, includes)
    items = [event_resource(e, includes, calendars) for e in events]
    return json_response(paginated(request, items, total, page, limit))


# ---- batches


def _resources(data: dict[str, Any], shape: type) -> Any:
    resources = data.get("resources", MISSING)
    if resources is MISSING:
        raise invalid({"resources": ["is required"]})
    if not isinstance(resources, shape):
        raise invalid({"resources": [f"must be {'a list' if shape is list else 'an object'}"]})
    if not resources:
        raise invalid({"resources": ["must not be empty"]})
    if len(resources) > BATCH_MAX:
        raise invalid({"resources": [f"holds {len(resources)}; a batch holds at most {BATCH_MAX}"]})
    return resources


async def create_batch(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    token = await api.authenticate(request, write=True)
    actor = await api.actor(token)
    actor.check_create()
    includes = parse_includes(request)
    resources = _resources(await api.object_body(request), list)
    settings, calendars = await _context(api, token)
    errors = FieldErrors()
    drafts = []
    for index, resource in enumerate(resources):
        if not isinstance(resource, dict):
            errors.add(f"resources.{index}", "must be an object")
            continue
        drafts.append(
            read_event(
                resource, errors, f"resources.{index}.", guild_id=token.guild_id, settings=settings,
                calendars=calendars,
            )
        )  # fmt: skip
    errors.raise_if_any()
    created = await api.store.events.create_many(await _place(api, request, drafts, actor))
    api.saved(request, _events("events", created))
    calendars = await _calendars_if(api, token, includes)
    answer = {"data": [event_resource(e, includes, calendars) for e in created]}
    return json_response(await _written(api, token, answer, created, drafts))


async def update_batch(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    token = await api.authenticate(request, write=True)
    actor = await api.actor(token)
    includes = parse_includes(request)
    resources = _resources(await api.object_body(request), dict)
    settings, calendars = await _context(api, token)
    errors = FieldErrors()
    drafts: list[Draft] = []
    for key, resource in resources.items():
        path = f"resources.{key}"
        event_id = row_id(key)
        existing = None
        if event_id is not None:
            with contextlib.suppress(NotFound):
                existing = await api.store.events.get(token.guild_id, event_id)
        if existing is None:
            errors.add(path, f"there is no event {key[:30]!r} on this server")
            continue
        actor.check_change(existing)
        if not isinstance(resource, dict):
            errors.add(path, "must be an object")
            continue
        draft = read_event(
            resource, errors, path + ".", guild_id=token.guild_id, settings=settings, calendars=calendars,
            existing=existing,
        )  # fmt: skip
        if draft is not None:
            actor.check_edit(existing, draft.event)
            drafts.append(draft)
    errors.raise_if_any()
    updated = await api.store.events.update_many([draft.event for draft in drafts])
    api.saved(request, _events("the changes to events", updated))
    calendars = await _calendars_if(api, token, includes)
    answer = {"data": [event_resource(e, includes, calendars) for e in updated]}
    return json_response(await _written(api, token, answer, updated, drafts))


async def delete_batch(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    token = await api.authenticate(request, write=True)
    resources = _resources(await api.object_body(request), list)
    errors = FieldErrors()
    ids = []
    for index, value in enumerate(resources):
        event_id = row_id(value)
        if event_id is None:
            errors.add(f"resources.{index}", "must be an event id")
        elif event_id in ids:
            errors.add(f"resources.{index}", "is listed twice")
        else:
            ids.append(event_id)
    errors.raise_if_any()
    actor = await api.actor(token)
    try:
        if actor.is_organiser:  # a manager's token may delete any event: no need to read them first
            for event_id in ids:
                actor.check_change(await api.store.events.get(token.guild_id, event_id))
        deleted = await api.store.events.delete_many(token.guild_id, ids)
    except NotFound as missing:
        index = ids.index(missing.ref) if missing.ref in ids else 0
        raise invalid({f"resources.{index}": [f"there is no event {missing.ref} on this server"]}) from None
    return json_response({"data": [event_resource(e) for e in deleted]})


# ---- calendars


def _calendar_id(request: web.Request) -> int:
    calendar_id = row_id(request.match_info["id"])
    if calendar_id is None:
        raise not_found("calendar")
    return calendar_id


def read_calendar(data: dict[str, Any], *, guild_id: int, existing: Calendar | None = None) -> Calendar:
    errors = FieldErrors()
    r = Reader(data, errors)
    changes: dict[str, Any] = {}
    name = r.string("name", nullable=False, required=existing is None)
    if name is not MISSING:
        changes["name"] = name
    description = r.string("description")
    if description is not MISSING:
        changes["description"] = description or ""
    color = r.string("color")
    if color is not MISSING:
        try:
            changes["color"] = parse_color(color)
        except InvalidField as error:
            r.fail("color", error.reason)
    discord_events = r.boolean("discord_events")  # mirrored into Discord's Events tab (bot/exts/native.py)
    if isinstance(discord_events, bool):
        changes["discord_events"] = discord_events
    errors.raise_if_any()
    calendar = existing or Calendar(guild_id=guild_id, name="", color=Color.NONE)
    try:
        return dataclasses.replace(calendar, **changes).validated()
    except InvalidField as error:
        raise invalid({error.field: [error.reason]}) from None


MAX_EVERY_MINUTES = int(MAX_EVERY.total_seconds() // 60)


def read_subscription(data: dict[str, Any]) -> tuple[Any, Any]:
    """`subscription_url` (null: follow no feed) and `subscription_every_minutes` of a calendar's body, each MISSING
    when not given; checked as `/calendar subscribe` checks them."""
    errors = FieldErrors()
    r = Reader(data, errors)
    url = r.string("subscription_url")
    minutes = r.integer("subscription_every_minutes", nullable=True, minimum=1, maximum=MAX_EVERY_MINUTES)
    try:
        url = feed_url(url, "subscription_url") if isinstance(url, str) else url
        every = minutes
        if isinstance(minutes, int):
            every = within_poll_bounds(timedelta(minutes=minutes), "subscription_every_minutes")
    except InvalidField as error:
        r.fail(error.field, error.reason)
    errors.raise_if_any()
    return url, every


async def _follow(api: Api, calendar: Calendar, url: Any, every: Any, existing: Subscription | None) -> None:
    """Make the calendar follow the feed `url` (None: no feed) every `every`, as the body asked."""
    if url is None:
        if existing is not None:
            await api.store.subscriptions.unsubscribe(calendar.guild_id, calendar.id)
        return
    if url is MISSING and not isinstance(every, timedelta):
        return
    url = existing.url if url is MISSING else url
    interval = every if isinstance(every, timedelta) else existing.every if existing else DEFAULT_EVERY
    await api.store.subscriptions.subscribe(calendar.guild_id, calendar.id, url, interval, created_by=None)


def _checked_subscription(api: Api, data: dict[str, Any], existing: Subscription | None) -> tuple[Any, Any]:
    """The body's subscription fields, refused (before anything is written) where they cannot be followed."""
    url, every = read_subscription(data)
    if url is MISSING and isinstance(every, timedelta) and existing is None:
        raise invalid({"subscription_every_minutes": ["the calendar follows no feed: give subscription_url too"]})
    settings = api.config.subscriptions
    if isinstance(url, str) and not settings.allow_private_targets:  # a name is checked at each poll
        check_literal(url, settings.trusted_networks, "subscription_url")
    return url, every


async def _with_subscription(api: Api, calendar: Calendar) -> dict[str, Any]:
    subscription = await api.store.subscriptions.get(calendar.guild_id, calendar.id)
    return calendar_resource(calendar) | {"subscription": subscription_resource(subscription)}


async def list_calendars(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    token = await api.authenticate(request, write=False)
    page, limit = paging(request)
    calendars = sorted(await api.store.calendars.list(token.guild_id), key=lambda c: c.id)
    subscriptions = {s.calendar_id: s for s in await api.store.subscriptions.list(token.guild_id)}
    shown = [
        calendar_resource(c) | {"subscription": subscription_resource(subscriptions.get(c.id))}
        for c in calendars[(page - 1) * limit : page * limit]
    ]
    return json_response(paginated(request, shown, len(calendars), page, limit))


async def create_calendar(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    token = await api.authenticate(request, write=True)
    (await api.actor(token)).check_manage()
    data = await api.object_body(request)
    calendar = read_calendar(data, guild_id=token.guild_id)
    url, every = _checked_subscription(api, data, None)
    try:
        created = await api.store.calendars.create(calendar)
    except Conflict as error:
        raise invalid({error.field: [error.reason]}) from None
    await _follow(api, created, url, every, None)
    return json_response({"data": await _with_subscription(api, created)}, status=201)


async def show_calendar(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    token = await api.authenticate(request, write=False)
    calendar = await api.store.calendars.get(token.guild_id, _calendar_id(request))
    return json_response({"data": await _with_subscription(api, calendar)})


async def update_calendar(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    token = await api.authenticate(request, write=True)
    (await api.actor(token)).check_manage()
    existing = await api.store.calendars.get(token.guild_id, _calendar_id(request))
    data = await api.object_body(request)
    calendar = read_calendar(data, guild_id=token.guild_id, existing=existing)
    subscription = await api.store.subscriptions.get(token.guild_id, existing.id)
    url, every = _checked_subscription(api, data, subscription)
    try:
        updated = await api.store.calendars.update(calendar)
    except Conflict as error:
        raise invalid({error.field: [error.reason]}) from None
    await _follow(api, updated, url, every, subscription)
    return json_response({"data": await _with_subscription(api, updated)})


async def delete_calendar(request: web.Request) -> web.Response:
    """Delete a calendar with its events; their cards are marked cancelled and reminders cancelled."""
    api = request.app[API_KEY]
    token = await api.authenticate(request, write=True)
    (await api.actor(token)).check_manage()
    calendar = await api.store.calendars.get(token.guild_id, _calendar_id(request))
    await api.store.calendars.delete(token.guild_id, calendar.id)
    return json_response({"data": calendar_resource(calendar)})


def add_routes(app: web.Application) -> None:
    for v in VERSIONS:
        app.router.add_route("GET", f"/{v}/events", list_events, name=f"{v}-events")
        app.router.add_route("POST", f"/{v}/events", create_event)
        app.router.add_route("POST", f"/{v}/events/batch", create_batch, name=f"{v}-events-batch")
        app.router.add_route("POST", f"/{v}/events/search", search_events, name=f"{v}-events-search")
        app.router.add_route("PATCH", f"/{v}/events/batch", update_batch)
        app.router.add_route("DELETE", f"/{v}/events/batch", delete_batch)
        app.router.add_route("GET", f"/{v}/events/{{id:\\d+}}", show_event, name=f"{v}-event")
        for method in ("PUT", "PATCH"):
            app.router.add_route(method, f"/{v}/events/{{id:\\d+}}", update_event)
        app.router.add_route("DELETE", f"/{v}/events/{{id:\\d+}}", delete_event)
        app.router.add_route("GET", f"/{v}/calendars", list_calendars, name=f"{v}-calendars")
        app.router.add_route("POST", f"/{v}/calendars", create_calendar)
        app.router.add_route("GET", f"/{v}/calendars/{{id:\\d+}}", show_calendar, name=f"{v}-calendar")
        for method in ("PUT", "PATCH"):
            app.router.add_route(method, f"/{v}/calendars/{{id:\\d+}}", update_calendar)
        app.router.add_route("DELETE", f"/{v}/calendars/{{id:\\d+}}", delete_calendar)
