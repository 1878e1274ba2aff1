"""`GET /openapi.json`: the API described in OpenAPI 3.1, every route with its body, answers and errors.

Written by hand next to the routes (tests/api/test_openapi.py holds the two together: every route the
app serves is described, and schemathesis sends what the document allows and checks the answers)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.domain.colors import Color
from bot.domain.models import (
    CALENDAR_DESCRIPTION_MAX,
    CONTENT_MAX,
    DESCRIPTION_MAX,
    EVENT_NAME_MAX,
    EVENT_URL_MAX,
    LOCATION_MAX,
    MAX_CAPACITY,
    NAME_MAX,
    URL_MAX,
    WEB_ADDRESS,
)
from bot.domain.notifications import CHANNELS, INTERVALS
from bot.domain.recurrence import FREQUENCIES, MAX_COUNT, MAX_INTERVAL
from bot.domain.search import FIELDS as SEARCH_FIELDS
from bot.domain.search import JOINS, MAX_CONDITIONS, MAX_IN, MAX_SORTS, MAX_TEXT, SEARCHED
from bot.domain.timeparse import EARLIEST_YEAR, LATEST_YEAR
from bot.storage.stream import STREAM_RETENTION

from .context import json_response
from .discal import MAX_DAYS, OCCURRENCE_ID, PREFIXES
from .fields import EPOCH_MS_MAX, EPOCH_MS_MIN, ID_TEXT, MAX_ID, NUMERIC
from .notifications import KEEP_ALIVE, STATUSES
from .outage import RETRY_AFTER
from .perscom import BATCH_MAX, INCLUDE_ITEM, INCLUDES, PAGE_DEFAULT, PAGE_MAX, PAGE_NUMBER_MAX
from .protocol import BODY_TIMEOUT, HEADER_TIMEOUT, MAX_BODY, MAX_FIELD, MAX_HEADERS, MAX_LINE

COLORS = [c.name for c in Color]


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return {**schema, "type": [*kinds, "null"]}


STRING = {"type": "string"}
YEARS = f"between the years {EARLIEST_YEAR} and {LATEST_YEAR}"
INSTANT = {"type": "string", "format": "date-time", "examples": ["2023-11-07T05:31:56Z"]}
INSTANT_IN = {
    "type": "string",
    "description": "ISO 8601: `2023-11-07T05:31:56Z`, with an offset, naive (read in the event's `timezone`), "
    f"or a date `2023-11-07` (its midnight; for `ends` of an all-day event, the last day); {YEARS}.",
    "examples": ["2023-11-07T05:31:56Z"],
}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID, "examples": [123]}
SNOWFLAKE = {
    "type": "integer",
    "minimum": 0,
    "maximum": MAX_ID,
    "description": "A Discord id (JavaScript clients may send a string).",
}
EPOCH_MS = {"type": "integer", "description": "Unix time in milliseconds.", "examples": [1521732600000]}


def numeric(schema: dict[str, Any]) -> dict[str, Any]:
    """A DisCal number: as JSON, or as a string of its digits (as DisCal's own dashboard sent them)."""
    bounds = {k: schema[k] for k in ("minimum", "maximum") if k in schema}
    number = {"type": "integer", **bounds}
    text = {"type": "string", "pattern": NUMERIC_PATTERN, "description": "The same number as a string of digits."}
    rest = {k: v for k, v in schema.items() if k not in ("type", "minimum", "maximum")}
    return {"anyOf": [number, text], **rest}


NUMERIC_PATTERN = f"^{NUMERIC.pattern}$"
EPOCH_MS_IN = numeric(
    {
        **EPOCH_MS,
        "minimum": EPOCH_MS_MIN,
        "maximum": EPOCH_MS_MAX,
        "description": f"Unix time in milliseconds, {YEARS}.",
    }
)
GUILD_ID = {
    "anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_ID}, {"type": "string", "pattern": "^[0-9]{1,19}$"}],
    "description": "The guild (Discord server) id; it must be the token's guild.",
    "examples": [375357265198317579],
}
DISCAL_ID = {
    "anyOf": [{"type": "string"}, {"type": "integer"}],
    "description": "The event's id, as a string (a number is accepted too); or one occurrence of a series, "
    f"`<series id>_<its original start in Unix ms>` (`{OCCURRENCE_ID.pattern}`), as the lists give it.",
    "examples": ["12", "12_1521732600000"],
}
WARNINGS = {
    "type": "array",
    "items": STRING,
    "description": "Present when something will not follow the write: an event whose card has nowhere to go "
    "(its calendar and the server have no channel). The bot records the same in /notifications.",
}


def one_or_many(item: dict[str, Any]) -> dict[str, Any]:
    """A list of `item`s; one alone is taken as a list of one, and null as an empty list."""
    return {"anyOf": [{"type": "array", "items": item}, item, {"type": "null"}]}


def web_address(limit: int) -> dict[str, Any]:
    """An http(s) address with a host and no spaces in it, or empty (none), as the domain takes it."""
    return {
        "type": "string",
        "maxLength": limit,
        "pattern": f"^\\s*({WEB_ADDRESS.pattern})?\\s*$",  # spaces around it are trimmed
        "examples": ["https://example.org/raid"],
    }


def error(description: str, *, validation: bool = False, headers: dict | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ref("ValidationError" if validation else "Error")}},
    }
    if headers:
        response["headers"] = headers
    return response


RETRY_AFTER_HEADER = {"Retry-After": {"schema": {"type": "string"}, "description": "Seconds to wait."}}
ERRORS = {
    "400": error(
        "The body is not JSON, or not a JSON object; or the request is not valid HTTP/1.1 (then the status may "
        f"also be 414: a request line over {MAX_LINE} bytes, or 431: a header over {MAX_FIELD} bytes or more "
        f"than {MAX_HEADERS} headers)."
    ),
    "401": error(
        "No valid token: send `Authorization: Bearer <token>` (or DisCal's bare `Authorization: <token>`).",
        headers={"WWW-Authenticate": {"schema": STRING}},
    ),
    "403": error("A read token tried to write, or the `guild_id` is another guild's."),
    "404": error("No such event or calendar in the token's guild."),
    "405": error("The route does not take this method.", headers={"Allow": {"schema": STRING}}),
    "408": error(f"The body did not arrive within {BODY_TIMEOUT:g} seconds; the connection is closed."),
    "413": error(f"The body is larger than {MAX_BODY // (1024 * 1024)} MiB."),
    "422": error(
        "Some fields are invalid; `errors` names each by its path. A NUL character (U+0000) is refused in any "
        "string of the body, keys included.",
        validation=True,
    ),
    "429": error("Too many requests for this token; wait `Retry-After` seconds.", headers=RETRY_AFTER_HEADER),
    "503": error(
        "The database is unavailable (down, restarting, locked or out of disk); try again after `Retry-After` "
        f'seconds ({RETRY_AFTER}). The message says whether anything was changed: "Nothing was changed" only '
        "when that is certain.",
        headers=RETRY_AFTER_HEADER,
    ),
}


def errors(*codes: str) -> dict[str, Any]:
    return {code: ERRORS[code] for code in codes}


def ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


READ = ("400", "401", "403", "404", "413", "422", "429", "503")
WRITE = READ
WITH_BODY = ("408",)  # an operation with a request body may also answer these

VERSION = {
    "name": "version",
    "in": "path",
    "required": True,
    "description": "The API version to use (both behave alike).",
    "schema": {"type": "string", "enum": ["v1", "v2"]},
}
INCLUDE = {
    "name": "include",
    "in": "query",
    "required": False,
    "description": "Comma-separated: `calendar`, `author` and `schedule` are filled in; PERSCOM's other options "
    "(`attachments`, `comments`, `image`, `tags`, and the `.*` forms) are accepted and answered empty.",
    "schema": {
        "type": "string",
        "examples": ["calendar,schedule"],
        "pattern": f"^({INCLUDE_ITEM.pattern})(,({INCLUDE_ITEM.pattern}))*$",
    },
}
MONTH = {
    "name": "month",
    "in": "query",
    "required": False,
    "description": "The month to show, YYYY-MM (default: this month where the guild is).",
    "schema": {"type": "string", "examples": ["2026-12"]},
}
HTML_PAGE = {"description": "The page", "content": {"text/html": {"schema": STRING}}}
PAGE = [
    {
        "name": "page",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": PAGE_NUMBER_MAX, "default": 1},
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": PAGE_MAX, "default": PAGE_DEFAULT},
    },
]


# ---- the search body (Laravel Orion's): one shape per kind of field, so each operator meets values it can take

_SEARCH_VALUES = {
    "id": {
        "anyOf": [
            {"type": "integer", "minimum": 0, "maximum": MAX_ID},
            {"type": "string", "pattern": f"^{ID_TEXT.pattern}$"},
        ]
    },
    "text": {"type": "string", "maxLength": MAX_TEXT},
    "bool": {"type": "boolean"},
    "instant": {**INSTANT_IN, "description": f"ISO 8601, read in UTC when naive; {YEARS}."},
}
_SEARCH_OPERATORS = {
    "id": ["=", "!=", "<", "<=", ">", ">="],
    "text": ["=", "!=", "like", "not like"],
    "bool": ["=", "!="],
    "instant": ["=", "!=", "<", "<=", ">", ">="],
}


def _search_conditions() -> list[dict[str, Any]]:
    shapes = []
    for field_kind, operators in _SEARCH_OPERATORS.items():
        fields = {"type": "string", "enum": [f for f, k in SEARCH_FIELDS.items() if k == field_kind]}
        join = {"type": "string", "enum": list(JOINS), "default": "and"}
        value = _SEARCH_VALUES[field_kind]
        for operator_enum, value_schema in (
            (operators, value),
            (["in", "not in"], {"type": "array", "items": value, "minItems": 1, "maxItems": MAX_IN}),
            (["=", "!="], {"type": "null"}),
        ):
            shapes.append(
                {
                    "type": "object",
                    "required": ["field", "value"],
                    "properties": {
                        "field": fields,
                        "operator": {"type": "string", "enum": operator_enum, "default": "="},
                        "value": value_schema,
                        "type": join,
                    },
                }
            )
    return shapes


SEARCH_FILTER = {
    "description": "A condition on a field, or (`nested`) a group of them; conditions join in order with their "
    "`type`, AND before OR, as Laravel joins them. Text compares with =, != and `like` (`%` and `_`; "
    "`\\` escapes them; case folded); groups nest three deep.",
    "anyOf": [
        *_search_conditions(),
        {
            "type": "object",
            "required": ["nested"],
            "properties": {
                "nested": {"type": "array", "items": ref("SearchFilter"), "minItems": 1, "maxItems": MAX_CONDITIONS},
                "type": {"type": "string", "enum": list(JOINS), "default": "and"},
            },
        },
    ],
}
SEARCH = {
    "type": "object",
    "description": "Laravel Orion's search body, as PERSCOM takes it. calbot offers no `scopes` or `aggregates`.",
    "properties": {
        "filters": {"type": ["array", "null"], "items": ref("SearchFilter"), "maxItems": MAX_CONDITIONS},
        "search": {
            "type": ["object", "null"],
            "properties": {
                "value": {
                    "type": ["string", "null"],
                    "maxLength": MAX_TEXT,
                    "description": f"Looked for in {', '.join(SEARCHED)}.",
                },
                "case_sensitive": {"type": "boolean", "default": False},
            },
        },
        "sort": {
            "type": ["array", "null"],
            "maxItems": MAX_SORTS,
            "description": "Then by start and id. NULLs come first going up, last going down (as MySQL orders).",
            "items": {
                "type": "object",
                "required": ["field"],
                "properties": {
                    "field": {"type": "string", "enum": list(SEARCH_FIELDS)},
                    "direction": {"type": "string", "enum": ["asc", "desc"], "default": "asc"},
                },
            },
        },
        "includes": {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "required": ["relation"],
                "properties": {"relation": {"type": "string", "enum": list(INCLUDES)}},
            },
        },
    },
    "examples": [
        {
            "search": {"value": "raid"},
            "filters": [{"field": "starts", "operator": ">=", "value": "2026-05-01T00:00:00Z"}],
            "sort": [{"field": "starts", "direction": "desc"}],
        }
    ],
}


def path_id(what: str) -> dict[str, Any]:
    return {"name": "id", "in": "path", "required": True, "description": f"The {what}'s id.", "schema": ID}


EVENT_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": EVENT_NAME_MAX},
    "calendar_id": {
        **ID,
        "description": "One of the guild's calendars. Left out on create: the calendar named General, else the "
        "guild's first (General is made if the guild has none).",
    },
    "description": nullable({"type": "string", "maxLength": DESCRIPTION_MAX, "description": "Supports HTML."}),
    "content": nullable({"type": "string", "maxLength": CONTENT_MAX, "description": "Supports HTML."}),
    "location": nullable({"type": "string", "maxLength": LOCATION_MAX}),
    "url": nullable(web_address(EVENT_URL_MAX)),
    "author_id": nullable(SNOWFLAKE),
    "all_day": {"type": "boolean", "default": False},
    "starts": INSTANT_IN,
    "ends": nullable(INSTANT_IN),
    "repeats": {"type": "boolean", "default": False, "description": "With true, `schedule` says how."},
    "schedule": nullable(ref("Schedule")),
    "registration_enabled": {"type": "boolean", "default": True},
    "registration_deadline": nullable(INSTANT_IN),
    "notifications_enabled": {"type": "boolean", "default": True},
    "notifications_interval": {
        **one_or_many({"type": "string", "enum": list(INTERVALS)}),
        "description": "Default: the guild's default reminders; null: none. calbot also takes any ISO 8601 "
        "duration up to four weeks (`PT30M`, `P2D`).",
    },
    "notifications_channels": {
        **one_or_many({"type": "string", "enum": list(CHANNELS)}),
        "description": "Default: the guild's default reminder channels; null: none.",
    },
    "timezone": {
        "type": "string",
        "description": "calbot: an IANA zone; default the guild's.",
        "examples": ["Europe/Berlin"],
    },
    "color": nullable({"type": "string", "enum": COLORS, "description": "calbot: DisCal's colours (null: NONE)."}),
    "image": nullable({**web_address(URL_MAX), "description": "calbot: an image for the card (empty: none)."}),
    "capacity": nullable({"type": "integer", "minimum": 1, "maximum": MAX_CAPACITY, "description": "calbot: places."}),
}

SCHEDULE = {
    "type": "object",
    "description": "PERSCOM's recurrence (RFC 5545 RRULE).",
    "required": ["frequency"],
    "properties": {
        "frequency": {"type": "string", "enum": list(FREQUENCIES)},
        "interval": nullable({"type": "integer", "minimum": 1, "maximum": MAX_INTERVAL, "default": 1}),
        "end_type": nullable({"type": "string", "enum": ["never", "on", "after"], "default": "never"}),
        "count": nullable(
            {"type": "integer", "minimum": 1, "maximum": MAX_COUNT, "description": "With end_type after."}
        ),
        "until": nullable({**INSTANT, "description": f"With end_type on; {YEARS}."}),
        "by_day": one_or_many({"type": "string", "examples": ["TU", "2TU", "-1FR"]}),
        "by_month": nullable({"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 12}}),
        "by_month_day": nullable({"type": "array", "items": {"type": "integer", "minimum": -31, "maximum": 31}}),
        "by_set_position": nullable({"type": "array", "items": {"type": "integer", "minimum": -366, "maximum": 366}}),
    },
}

EVENT = {
    "type": "object",
    "required": [
        "id",
        "name",
        "calendar_id",
        "description",
        "content",
        "location",
        "url",
        "author_id",
        "all_day",
        "starts",
        "ends",
        "repeats",
        "registration_enabled",
        "registration_deadline",
        "notifications_enabled",
        "notifications_interval",
        "notifications_channels",
        "label",
        "created_at",
        "updated_at",
    ],
    "properties": {
        "id": ID,
        "name": STRING,
        "calendar_id": ID,
        "description": STRING,
        "content": STRING,
        "location": STRING,
        "url": nullable(STRING),
        "author_id": nullable({"type": "integer"}),
        "all_day": {"type": "boolean"},
        "starts": INSTANT,
        "ends": nullable(INSTANT),
        "repeats": {"type": "boolean"},
        "registration_enabled": {"type": "boolean"},
        "registration_deadline": nullable(INSTANT),
        "notifications_enabled": {"type": "boolean"},
        "notifications_interval": {"type": "array", "items": STRING},
        "notifications_channels": {"type": "array", "items": {"type": "string", "enum": list(CHANNELS)}},
        "label": {**STRING, "description": "`Event: <id>`, as PERSCOM labels events.", "examples": ["Event: 12"]},
        "created_at": {**INSTANT, "description": "The date the resource was created. Stored in UTC."},
        "updated_at": {**INSTANT, "description": "The date the resource was updated. Stored in UTC."},
        "schedule": {**nullable(ref("Schedule")), "description": "Present when repeats is true (or included)."},
        "timezone": STRING,
        "color": {"type": "string", "enum": COLORS},
        "image": nullable(STRING),
        "capacity": nullable({"type": "integer"}),
        "calendar": {**nullable(ref("Calendar")), "description": "With include=calendar."},
        "author": {
            **nullable({"type": "object", "properties": {"id": {"type": "integer"}}}),
            "description": "With include=author.",
        },
        "attachments": {"type": "array", "items": {}, "description": "With include=attachments: always empty."},
        "comments": {"type": "array", "items": {}, "description": "With include=comments: always empty."},
        "tags": {"type": "array", "items": {}, "description": "With include=tags: always empty."},
    },
}

CALENDAR = {
    "type": "object",
    "required": ["id", "name", "description", "color", "label", "discord_events", "created_at", "updated_at"],
    "properties": {
        "id": ID,
        "name": STRING,
        "description": STRING,
        "color": {"type": "string", "enum": COLORS},
        "label": STRING,
        "discord_events": {"type": "boolean", "description": "Its events are mirrored into Discord's Events tab."},
        "created_at": INSTANT,
        "updated_at": INSTANT,
        "subscription": {
            **nullable(
                {
                    "type": "object",
                    "required": ["url", "every_minutes", "last_poll", "last_result", "next_poll", "paused"],
                    "properties": {
                        "url": {"type": "string", "description": "Its scheme and host only: the rest may be a secret."},
                        "every_minutes": {"type": "integer", "minimum": 5, "maximum": 1440},
                        "last_poll": nullable(INSTANT),
                        "last_result": nullable(STRING),
                        "next_poll": INSTANT,
                        "paused": {"type": "boolean"},
                    },
                }
            ),
            "description": "The outside ICS feed the calendar follows (its events are read-only); null: none. "
            "On the /calendars routes.",
        },
    },
}
FEED_ADDRESS = r"^([Hh][Tt][Tt][Pp][Ss]?|[Ww][Ee][Bb][Cc][Aa][Ll][Ss]?)://[^\s/?#@]+\S*$"
CALENDAR_FIELDS = {
    "name": {"type": "string", "minLength": 1, "maxLength": NAME_MAX},
    "description": nullable({"type": "string", "maxLength": CALENDAR_DESCRIPTION_MAX}),
    "color": nullable({"type": "string", "enum": COLORS}),
    "discord_events": nullable(
        {
            "type": "boolean",
            "description": "Mirror its events into Discord's Events tab (calbot needs Manage Events); null keeps it.",
        }
    ),
    "subscription_url": {
        **nullable({"type": "string", "maxLength": 2048, "pattern": FEED_ADDRESS}),
        "description": "An ICS feed for the calendar to follow (https://, webcal://); null: stop following one.",
    },
    "subscription_every_minutes": {
        **nullable({"type": "integer", "minimum": 5, "maximum": 1440}),
        "description": "How often to poll the feed, in minutes: 5 to 1440 (default 15).",
    },
}


# What every request is held to, besides each field's own bounds (in the schemas): also under `info.x-limits`.
LIMITS = {
    "body_bytes": MAX_BODY,
    "request_line_bytes": MAX_LINE,
    "header_bytes": MAX_FIELD,
    "headers": MAX_HEADERS,
    "header_timeout_seconds": HEADER_TIMEOUT,
    "body_timeout_seconds": BODY_TIMEOUT,
    "batch_resources": BATCH_MAX,
    "page_size": PAGE_MAX,
    "page_number": PAGE_NUMBER_MAX,
    "years": [EARLIEST_YEAR, LATEST_YEAR],
}
LIMITS_TEXT = (
    "Limits: a body of at most 1 MiB (413 beyond); a request line of at most "
    f"{MAX_LINE} bytes (414), each header at most {MAX_FIELD} bytes and at most {MAX_HEADERS} headers (431); the "
    f"headers must arrive within {HEADER_TIMEOUT:g} seconds of the connection opening or the request's first "
    f"byte (else 408 and the connection is closed), the body within {BODY_TIMEOUT:g} seconds (408); a batch holds "
    f"at most {BATCH_MAX} resources; a page at most {PAGE_MAX} items; instants lie {YEARS}; names are at most "
    f"{EVENT_NAME_MAX} characters (a calendar's {NAME_MAX}), an event's description {DESCRIPTION_MAX}, its content "
    f"{CONTENT_MAX}, its location {LOCATION_MAX} and its url {EVENT_URL_MAX} (PERSCOM's bounds; a card shows what "
    f"Discord can), a calendar's description {CALENDAR_DESCRIPTION_MAX}, an image's address {URL_MAX}; no string may "
    "hold a NUL character (U+0000). Each token has a rate per minute (429 with Retry-After beyond it). While the "
    f"database is unavailable: 503 with Retry-After ({RETRY_AFTER} seconds)."
)


def page_of(item: str) -> dict[str, Any]:
    link = nullable({"type": "string"})
    return {
        "type": "object",
        "required": ["data", "links", "meta"],
        "properties": {
            "data": {"type": "array", "items": ref(item)},
            "links": {
                "type": "object",
                "required": ["first", "last", "prev", "next"],
                "properties": {"first": STRING, "last": STRING, "prev": link, "next": link},
            },
            "meta": {
                "type": "object",
                "required": ["current_page", "from", "last_page", "links", "path", "per_page", "to", "total"],
                "properties": {
                    "current_page": {"type": "integer"},
                    "from": nullable({"type": "integer"}),
                    "last_page": {"type": "integer"},
                    "links": {
                        "type": "array",
                        "description": "As Laravel's paginator writes them: previous, the pages around the "
                        "current one (`...` for a gap, with no url), next.",
                        "items": {
                            "type": "object",
                            "required": ["url", "label", "active"],
                            "properties": {"url": link, "label": STRING, "active": {"type": "boolean"}},
                        },
                    },
                    "path": STRING,
                    "per_page": {"type": "integer"},
                    "to": nullable({"type": "integer"}),
                    "total": {"type": "integer"},
                },
            },
        },
    }


DISCAL_RECURRENCE = {
    "type": "object",
    "properties": {
        "recur": {"type": "boolean"},
        "frequency": {"type": "string", "enum": list(FREQUENCIES)},
        "count": numeric(
            {
                "type": "integer",
                "minimum": -1,
                "maximum": MAX_COUNT,
                "description": "-1 or 0: forever. Also spelled recurCount (the first spelling given is read).",
            }
        ),
        "interval": numeric({"type": "integer", "minimum": 1, "maximum": MAX_INTERVAL}),
    },
}
DISCAL_EVENT = {
    "type": "object",
    "required": [
        "id",
        "epochStart",
        "epochEnd",
        "timezone",
        "summary",
        "description",
        "location",
        "color",
        "isParent",
        "recurrence",
        "image",
    ],
    "properties": {
        "id": {"type": "string"},
        "epochStart": EPOCH_MS,
        "epochEnd": EPOCH_MS,
        "timezone": STRING,
        "summary": STRING,
        "description": STRING,
        "location": STRING,
        "color": {"type": "string", "enum": COLORS},
        "isParent": {
            "type": "boolean",
            "description": "false for one occurrence of a recurring event (its id: `<series id>_<original start>`)",
        },
        "recurrence": {
            "type": "object",
            "required": ["recur", "frequency", "count", "interval"],
            "properties": {
                "recur": {"type": "boolean"},
                "frequency": {"type": "string", "enum": list(FREQUENCIES)},
                "count": {"type": "integer"},
                "recurCount": {"type": "integer"},
                "interval": {"type": "integer"},
            },
        },
        "image": STRING,
    },
}
DISCAL_BRIEF = {
    "type": "object",
    "required": ["id", "epochStart", "epochEnd"],
    "properties": {
        "id": {"type": "string", "description": "For an occurrence of a series: `<series id>_<original start>`."},
        "epochStart": EPOCH_MS,
        "epochEnd": EPOCH_MS,
    },
}
DISCAL_WRITE_FIELDS = {
    "guild_id": GUILD_ID,
    "epochStart": {**EPOCH_MS_IN, "description": f"Unix time of the start (also spelled startEpoch), {YEARS}."},
    "epochEnd": {**EPOCH_MS_IN, "description": f"Unix time of the end; equal to epochStart: no end. {YEARS}."},
    "summary": {"type": "string", "minLength": 1, "maxLength": EVENT_NAME_MAX},
    "description": nullable({"type": "string", "maxLength": DESCRIPTION_MAX}),
    "location": nullable({"type": "string", "maxLength": LOCATION_MAX}),
    "color": nullable({"type": "string", "enum": COLORS, "description": "null: NONE."}),
    "recurrence": {**nullable(ref("DisCalRecurrenceInput")), "description": "null: it does not repeat."},
    "image": nullable({**web_address(URL_MAX), "description": "Empty: none."}),
}


def discal(summary: str, request: dict[str, Any], response: dict[str, Any], *, write: bool) -> dict[str, Any]:
    return {
        "post": {
            "tags": ["DisCal v1"],
            "summary": summary,
            "security": [{"bearer": []}, {"discal": []}],
            "requestBody": body(request),
            "responses": {"200": ok(response), **errors(*(WRITE if write else READ), *WITH_BODY)},
        }
    }


def message(text: str, *, with_id: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["message", "Message", *(["id"] if with_id else [])],
        "properties": {
            "message": {"type": "string", "const": text, "description": "What the upstream DisCal server wrote."},
            "Message": {"type": "string", "const": text, "description": "What the DisCal document shows."},
            "warnings": WARNINGS,
        },
    }
    if with_id:
        schema["properties"]["id"] = {"type": "string"}
    return schema


def _crud(item: str, fields_ref: str, create_ref: str, tag: str, what: str) -> dict[str, Any]:
    single = {"type": "object", "required": ["data"], "properties": {"data": ref(item), "warnings": WARNINGS}}
    list_params = [VERSION, *PAGE] + (
        [INCLUDE, {"name": "calendar_id", "in": "query", "required": False, "schema": ID}] if item == "Event" else []
    )
    include = [INCLUDE] if item == "Event" else []
    base = "events" if item == "Event" else "calendars"
    return {
        f"/{{version}}/{base}": {
            "get": {
                "tags": [tag],
                "summary": f"List the guild's {base}, {'by start' if item == 'Event' else 'by id'}, a page at a time",
                "parameters": list_params,
                "responses": {"200": ok(ref(f"{item}Page")), **errors(*READ)},
            },
            "post": {
                "tags": [tag],
                "summary": f"Create {what}",
                "parameters": [VERSION, *include],
                "requestBody": body(ref(create_ref)),
                "responses": {"201": ok(single, "Created"), **errors(*WRITE, *WITH_BODY)},
            },
        },
        f"/{{version}}/{base}/{{id}}": {
            "get": {
                "tags": [tag],
                "summary": f"Show {what}",
                "parameters": [VERSION, path_id(item.lower()), *include],
                "responses": {"200": ok(single), **errors(*READ)},
            },
            "put": {
                "tags": [tag],
                "summary": f"Change {what} (the fields given; like PATCH)",
                "parameters": [VERSION, path_id(item.lower()), *include],
                "requestBody": body(ref(fields_ref)),
                "responses": {"200": ok(single), **errors(*WRITE, *WITH_BODY)},
            },
            "patch": {
                "tags": [tag],
                "summary": f"Change {what} (the fields given)",
                "parameters": [VERSION, path_id(item.lower()), *include],
                "requestBody": body(ref(fields_ref)),
                "responses": {"200": ok(single), **errors(*WRITE, *WITH_BODY)},
            },
            "delete": {
                "tags": [tag],
                "summary": f"Delete {what}"
                + ("; its card is marked cancelled" if item == "Event" else " and its events"),
                "parameters": [VERSION, path_id(item.lower())],
                "responses": {"200": ok(single, "The deleted resource"), **errors(*READ)},
            },
        },
    }


HEALTH = {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}
READY = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {"status": {"const": "ready"}, "checks": {"type": "array", "items": STRING}},
}
UNREADY = {
    "type": "object",
    "required": ["status", "problems"],
    "properties": {"status": {"const": "unready"}, "problems": {"type": "object", "additionalProperties": STRING}},
}


def discal_paths(prefix: str) -> dict[str, Any]:
    """DisCal's routes under `prefix` (the document's `/v1/events`, and upstream's `/api/v1/events`)."""
    return {
        f"{prefix}/list/month": discal(
            "Events of a month: one entry per occurrence starting in DaysInMonth days from EpochStart",
            {
                "type": "object",
                "required": ["guild_id", "DaysInMonth", "EpochStart"],
                "properties": {
                    "guild_id": GUILD_ID,
                    "DaysInMonth": numeric({"type": "integer", "minimum": 1, "maximum": MAX_DAYS}),
                    "EpochStart": {**EPOCH_MS_IN, "description": f"First Unix millisecond of the month, {YEARS}."},
                },
            },
            {
                "type": "object",
                "required": ["count", "events"],
                "properties": {"count": {"type": "integer"}, "events": {"type": "array", "items": ref("DisCalBrief")}},
            },
            write=False,
        ),
        f"{prefix}/list/date": discal(
            "Events of a day: the 24 hours from startEpoch (also spelled StartEpoch)",
            {
                "type": "object",
                "required": ["guild_id", "startEpoch"],
                "properties": {
                    "guild_id": GUILD_ID,
                    "startEpoch": {
                        **EPOCH_MS_IN,
                        "description": f"Unix time in milliseconds, {YEARS}. Also spelled StartEpoch, EpochStart "
                        "or epochStart (the first spelling given is read).",
                    },
                },
            },
            {
                "type": "object",
                "required": ["count", "events"],
                "properties": {"count": {"type": "integer"}, "events": {"type": "array", "items": ref("DisCalEvent")}},
            },
            write=False,
        ),
        f"{prefix}/get": discal(
            "One event, in full",
            {"type": "object", "required": ["guild_id", "id"], "properties": {"guild_id": GUILD_ID, "id": DISCAL_ID}},
            ref("DisCalEvent"),
            write=False,
        ),
        f"{prefix}/create": discal(
            "Create an event (in the guild's calendar named General, else its first)",
            {
                "type": "object",
                "required": ["guild_id", "epochStart", "epochEnd", "summary"],
                "properties": DISCAL_WRITE_FIELDS,
            },
            message("Successfully created event!", with_id=True),
            write=True,
        ),
        f"{prefix}/update": discal(
            "Change an event (the fields given): with a series' id, the whole series; with an occurrence's id, "
            "that occurrence alone (summary, description, location, epochStart, epochEnd)",
            {
                "type": "object",
                "required": ["guild_id", "id"],
                "properties": {**DISCAL_WRITE_FIELDS, "id": DISCAL_ID},
            },
            message("Successfully updated event!"),
            write=True,
        ),
        f"{prefix}/delete": discal(
            "Delete an event (with a series' id, the whole series); with an occurrence's id, cancel that occurrence",
            {"type": "object", "required": ["guild_id", "id"], "properties": {"guild_id": GUILD_ID, "id": DISCAL_ID}},
            message("Successfully deleted event!"),
            write=True,
        ),
    }


# ---- the notification log and stream (notifications.py)

NOTIFICATION = {
    "type": "object",
    "description": "One delivery of the outbox. No personal data: a member by id, a webhook by number, no address.",
    "required": ["key", "channel", "event_id", "occurrence", "occurrence_start", "interval", "recipient", "status",
                 "late", "reason", "attempts", "scheduled_for", "updated_at"],
    "properties": {
        "key": {**STRING, "description": "The delivery key (event:occurrence start:interval:channel:recipient), "
                "unique; webhooks get it as `webhook-id`."},
        "channel": {"type": "string", "enum": list(CHANNELS)},
        "event_id": {"type": "integer"},
        "occurrence": {"type": "integer", "description": "0 for a one-off event, else the occurrence's key"},
        "occurrence_start": INSTANT,
        "interval": STRING,
        "recipient": nullable({
            "type": "object", "required": ["type", "id"],
            "properties": {"type": {"type": "string", "enum": ["member", "webhook"]}, "id": STRING},
        }),
        "status": {"type": "string", "enum": list(STATUSES)},
        "late": {"type": "boolean"},
        "reason": nullable({**STRING, "description": "Why it failed or was missed; for a fan-out, whom it reached."}),
        "attempts": {"type": "integer"},
        "scheduled_for": INSTANT,
        "updated_at": INSTANT,
    },
}  # fmt: skip
NOTIFICATION_FILTERS = [
    {"name": "status", "in": "query", "required": False, "schema": {"type": "string", "enum": list(STATUSES)}},
    {"name": "channel", "in": "query", "required": False, "schema": {"type": "string", "enum": list(CHANNELS)}},
]
NOTIFICATION_PATHS = {
    "/{version}/notifications": {
        "get": {
            "tags": ["Notifications"],
            "summary": "The guild's deliveries (reminders by every channel), newest first, a page at a time",
            "parameters": [VERSION, *PAGE, *NOTIFICATION_FILTERS],
            "responses": {"200": ok(ref("NotificationPage")), **errors(*READ)},
        }
    },
    "/{version}/notifications/stream": {
        "get": {
            "tags": ["Notifications"],
            "summary": "Server-Sent Events: every notification the guild broadcasts, live",
            "description": "Each event is `id: <n>` (the guild's own rising number), `event: notification` and "
            "`data:` the JSON body webhooks receive. Reconnect with `Last-Event-ID` to get what you missed "
            f"(kept {STREAM_RETENTION.total_seconds() / 3600:g} hours) before the live ones; a comment every "
            f"{KEEP_ALIVE:g} s keeps a quiet stream open. "
            "Without `Last-Event-ID`, it starts with the next notification. The stream does not end.",
            "parameters": [
                VERSION,
                {
                    "name": "Last-Event-ID",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                },
            ],
            "responses": {
                "200": {"description": "The stream", "content": {"text/event-stream": {"schema": STRING}}},
                **errors(*READ),
            },
        }
    },
}


def document() -> dict[str, Any]:
    many = {
        "type": "object",
        "required": ["data"],
        "properties": {"data": {"type": "array", "items": ref("Event")}, "warnings": WARNINGS},
    }
    paths: dict[str, Any] = {
        **_crud("Event", "EventFields", "EventCreate", "Events (PERSCOM)", "an event"),
        "/{version}/events/search": {
            "post": {
                "tags": ["Events (PERSCOM)"],
                "summary": "Search the guild's events (Orion's filters, search and sort), a page at a time",
                "parameters": [VERSION, *PAGE, INCLUDE],
                "requestBody": body(ref("EventSearch")),
                "responses": {"200": ok(ref("EventPage")), **errors(*READ, *WITH_BODY)},
            }
        },
        "/{version}/events/batch": {
            "post": {
                "tags": ["Events (PERSCOM)"],
                "summary": f"Create a batch of events (at most {BATCH_MAX}); all or none",
                "parameters": [VERSION, INCLUDE],
                "requestBody": body(
                    {
                        "type": "object",
                        "required": ["resources"],
                        "properties": {
                            "resources": {
                                "type": "array",
                                "items": ref("EventCreate"),
                                "minItems": 1,
                                "maxItems": BATCH_MAX,
                            }
                        },
                    }
                ),
                "responses": {"200": ok(many), **errors(*WRITE, *WITH_BODY)},
            },
            "patch": {
                "tags": ["Events (PERSCOM)"],
                "summary": "Change a batch of events, by id; all or none",
                "parameters": [VERSION, INCLUDE],
                "requestBody": body(
                    {
                        "type": "object",
                        "required": ["resources"],
                        "properties": {
                            "resources": {
                                "type": "object",
                                "additionalProperties": ref("EventFields"),
                                "propertyNames": {"pattern": "^[0-9]+$"},
                                "minProperties": 1,
                                "maxProperties": BATCH_MAX,
                            }
                        },
                    }
                ),
                "responses": {"200": ok(many), **errors(*WRITE, *WITH_BODY)},
            },
            "delete": {
                "tags": ["Events (PERSCOM)"],
                "summary": "Delete a batch of events, by id; all or none",
                "parameters": [VERSION],
                "requestBody": body(
                    {
                        "type": "object",
                        "required": ["resources"],
                        "properties": {
                            "resources": {
                                "type": "array",
                                "items": {"anyOf": [ID, {"type": "string", "pattern": "^[0-9]+$"}]},
                                "minItems": 1,
                                "maxItems": BATCH_MAX,
                            }
                        },
                    }
                ),
                "responses": {"200": ok(many, "The deleted events"), **errors(*WRITE, *WITH_BODY)},
            },
        },
        **_crud("Calendar", "CalendarFields", "CalendarCreate", "Calendars (PERSCOM)", "a calendar"),
        **{path: item for prefix in PREFIXES for path, item in discal_paths(prefix).items()},
        "/ics/{secret}.ics": {
            "get": {
                "tags": ["Feeds"],
                "summary": "A calendar's iCalendar (RFC 5545) feed; the secret comes from /calendar feed",
                "security": [],
                "parameters": [
                    {
                        "name": "secret",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{20,100}$"},
                    },
                    {"name": "If-None-Match", "in": "header", "required": False, "schema": STRING},
                ],
                "responses": {
                    "200": {
                        "description": "The feed",
                        "headers": {"ETag": {"schema": STRING}},
                        "content": {"text/calendar": {"schema": STRING}},
                    },
                    "304": {"description": "Unchanged since the ETag given in If-None-Match"},
                    **errors("404", "429", "503"),
                },
            }
        },
        "/calendars/{secret}": {
            "get": {
                "tags": ["Feeds"],
                "summary": "A calendar's web page (month grid and agenda), at its secret feed address",
                "security": [],
                "parameters": [
                    {
                        "name": "secret",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{20,100}$"},
                    },
                    MONTH,
                ],
                "responses": {"200": HTML_PAGE, **errors("404", "422", "429", "503")},
            }
        },
        "/{version}/calendars/{id}/view": {
            "get": {
                "tags": ["Calendars (PERSCOM)"],
                "summary": "A calendar's web page (month grid and agenda), for a token of its guild",
                "parameters": [VERSION, path_id("calendar"), MONTH],
                "responses": {"200": HTML_PAGE, **errors(*READ)},
            }
        },
        "/assets/{name}": {
            "get": {
                "tags": ["Feeds"],
                "summary": "The web page's script, style sheet and icon",
                "security": [],
                "parameters": [
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": ["calendar.css", "calendar.js", "favicon.svg"]},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The file",
                        "content": {
                            "text/css": {"schema": STRING},
                            "text/javascript": {"schema": STRING},
                            "image/svg+xml": {"schema": STRING},
                        },
                    },
                    **errors("404"),
                },
            }
        },
        "/healthz": {
            "get": {
                "tags": ["Meta"],
                "summary": "Liveness: the process answers (for a container's or an orchestrator's probe)",
                "security": [],
                "responses": {"200": ok(HEALTH)},
            }
        },
        "/readyz": {
            "get": {
                "tags": ["Meta"],
                "summary": "Readiness: every check passes (the database answers); 503 names each failing one",
                "security": [],
                "responses": {
                    "200": ok(READY),
                    "503": {
                        "description": "Not ready: `problems` says why, by check",
                        "content": {"application/json": {"schema": UNREADY}},
                    },
                },
            }
        },
        **NOTIFICATION_PATHS,
        "/openapi.json": {
            "get": {
                "tags": ["Meta"],
                "summary": "This document",
                "security": [],
                "responses": {"200": ok({"type": "object"})},
            }
        },
    }
    return with_examples(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "calbot HTTP API",
                "version": "1",
                "description": "DisCal v1 and PERSCOM-style routes for a guild's calendars and events. Every route "
                "but the feeds needs a guild's API token (`/api token create`, or `python -m bot token create`). "
                "Events written here get their Discord card and reminders like those made with slash commands. "
                "Errors are JSON: `{message}`; 422 adds `errors: {field path: [messages]}`.\n\n" + LIMITS_TEXT,
                "x-limits": LIMITS,
            },
            "servers": [{"url": "/"}],
            "security": [{"bearer": []}],
            "tags": [
                {"name": "Events (PERSCOM)"},
                {"name": "Calendars (PERSCOM)"},
                {"name": "DisCal v1"},
                {"name": "Feeds"},
                {"name": "Notifications"},
                {"name": "Meta"},
            ],
            "paths": paths,
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <token>"},
                    "discal": {
                        "type": "apiKey",
                        "in": "header",
                        "name": "Authorization",
                        "description": "DisCal's form: Authorization: <token>",
                    },
                },
                "schemas": {
                    "Error": {
                        "type": "object",
                        "required": ["message"],
                        "properties": {"message": STRING, "Message": {**STRING, "description": "On DisCal routes."}},
                    },
                    "ValidationError": {
                        "type": "object",
                        "required": ["message", "errors"],
                        "properties": {
                            "message": STRING,
                            "Message": STRING,
                            "errors": {
                                "type": "object",
                                "additionalProperties": {"type": "array", "items": STRING},
                                "examples": [{"resources.0.starts": ["is required"]}],
                            },
                        },
                    },
                    "Event": EVENT,
                    "EventFields": {"type": "object", "properties": EVENT_FIELDS},
                    "EventCreate": {"type": "object", "required": ["name", "starts"], "properties": EVENT_FIELDS},
                    "Schedule": SCHEDULE,
                    "EventPage": page_of("Event"),
                    "EventSearch": SEARCH,
                    "SearchFilter": SEARCH_FILTER,
                    "Calendar": CALENDAR,
                    "CalendarFields": {"type": "object", "properties": CALENDAR_FIELDS},
                    "CalendarCreate": {"type": "object", "required": ["name"], "properties": CALENDAR_FIELDS},
                    "CalendarPage": page_of("Calendar"),
                    "Notification": NOTIFICATION,
                    "NotificationPage": page_of("Notification"),
                    "DisCalRecurrenceInput": DISCAL_RECURRENCE,
                    "DisCalEvent": DISCAL_EVENT,
                    "DisCalBrief": DISCAL_BRIEF,
                },
            },
        }
    )


# A request each operation takes as written (tests/api/test_openapi.py sends every one to a server holding
# calendar 1 and events 1 to 3, with `{version}` v2 and `{id}` 1, and expects it to succeed).
DISCAL_GUILD = 375357265198317579  # the DisCal document's
EVENT_EXAMPLE = {
    "name": "Raid night",
    "calendar_id": 1,
    "starts": "2026-12-24T18:00:00Z",
    "ends": "2026-12-24T20:00:00Z",
    "notifications_interval": ["pt15m", "p1d"],
    "notifications_channels": ["discord_public"],
}
DISCAL_EXAMPLES = {
    "list/month": {"guild_id": DISCAL_GUILD, "DaysInMonth": 31, "EpochStart": 1772323200000},
    "list/date": {"guild_id": DISCAL_GUILD, "startEpoch": 1772323200000},
    "get": {"guild_id": DISCAL_GUILD, "id": "1"},
    "create": {
        "guild_id": DISCAL_GUILD,
        "epochStart": 1521732600000,
        "epochEnd": 1521732600000,
        "summary": "My cool event!",
        "description": "Event edited via REST API",
        "location": "The nether",
        "color": "RED",
        "recurrence": {"recur": False, "frequency": "DAILY", "count": -1, "interval": 1},
        "image": "https://goo.gl/nqi64A",
    },
    "update": {"guild_id": str(DISCAL_GUILD), "id": "1", "summary": "My cool event!", "epochStart": "1772388000000"},
    "delete": {"guild_id": DISCAL_GUILD, "id": "3"},
}
REQUEST_EXAMPLES: dict[tuple[str, str], Any] = {
    ("post", "/{version}/events"): EVENT_EXAMPLE,
    ("put", "/{version}/events/{id}"): {"location": "Voice 2"},
    ("patch", "/{version}/events/{id}"): {"location": "Voice 2", "capacity": 10},
    ("post", "/{version}/events/search"): SEARCH["examples"][0],
    ("post", "/{version}/events/batch"): {"resources": [EVENT_EXAMPLE]},
    ("patch", "/{version}/events/batch"): {"resources": {"1": {"name": "Renamed"}}},
    ("delete", "/{version}/events/batch"): {"resources": [2]},
    ("post", "/{version}/calendars"): {"name": "Trainings", "description": "Weekly drills", "color": "BLUE"},
    ("put", "/{version}/calendars/{id}"): {"description": "Raids and more"},
    ("patch", "/{version}/calendars/{id}"): {"color": "RED"},
    **{("post", f"{prefix}/{name}"): example for prefix in PREFIXES for name, example in DISCAL_EXAMPLES.items()},
}


def with_examples(document: dict[str, Any]) -> dict[str, Any]:
    for (method, path), example in REQUEST_EXAMPLES.items():
        document["paths"][path][method]["requestBody"]["content"]["application/json"]["example"] = example
    return document


_DOCUMENT = document()


async def openapi_json(request: web.Request) -> web.Response:
    return json_response(_DOCUMENT)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/openapi.json", openapi_json, name="openapi")
