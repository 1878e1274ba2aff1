"""Issue 13's hostile-input suite: nothing anyone sends can break a guild.

Every numbered case of the issue, and the classes around it, is tried on every road an event can come by, on
SQLite and on PostgreSQL, against the real bot under SimCord with the HTTP API on the same store (the fixtures
of tests/test_one_road.py):

- `slash-create`, `slash-edit`: `/event create`, `/event edit` (an existing weekly series);
- `perscom-post`, `perscom-patch`: `POST /v2/events`, `PATCH /v2/events/{id}`;
- `perscom-batch`, `perscom-batch-patch`: `POST /v2/events/batch` (a healthy resource, then the hostile one),
  `PATCH /v2/events/batch`;
- `discal-create`, `discal-update`: `POST /v1/events/create`, `POST /v1/events/update`.

What is asserted is what the sender sees: a refused value is a clear field error (in Discord an ephemeral
reply naming the option; in the API a 422 whose `errors` name the field, or another 4xx with a JSON body),
never a traceback or a 5xx, and nothing is stored or changed. Afterwards the guild still works: `/event list`
answers, DisCal `list/month` answers 200, a healthy event's card is posted, no background task recorded a
problem. A value the issue says must be *accepted* (case 4: messages over Discord's limits) is accepted, its
card posted and its reminder delivered (SimCord refuses any message over Discord's limits).

Then a generated sweep (Hypothesis, a bounded number of examples) of hostile values and bodies against the
API routes of a server on its own thread, on both backends: every answer is under 500 and JSON, and the
server's event loop is never blocked for 100 ms (tests/watchdog.py's Watchdog, installed on that thread).

Every hostile case tried (each attempt of the parametrised tests, each Hypothesis example) is counted; the
last test prints the count, with capture disabled.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import gc
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.api import ApiServer
from bot.api.context import NUL_REFUSED
from bot.api.fields import EPOCH_MS_MAX, EPOCH_MS_MIN
from bot.api.protocol import MAX_BODY, MAX_LINE
from bot.domain.errors import DomainError
from bot.domain.models import Calendar, Event
from bot.domain.recurrence import Recurrence
from bot.exts.cards import event_card
from bot.exts.messages import EMBED_TOTAL, FIELD_NAME, FIELD_VALUE, FIELDS
from bot.storage import open_store
from tests import test_one_road as one_road
from tests.api.conftest import Caller, api_config
from tests.conftest import _admin
from tests.exts.conftest import World
from tests.test_one_road import HOUR, SYNC_SECONDS, Discal, Perscom, Slash, at, card_of, ts

# The real bot under SimCord on each backend, with the API on its store (tests/test_one_road.py's fixtures).
config, api, guild, world, bots, simcord_bot, _close_stores = (
    one_road.config,
    one_road.api,
    one_road.guild,
    one_road.world,
    one_road.bots,
    one_road.simcord_bot,
    one_road._close_stores,
)

# The hostile cases tried in this run, by kind (printed by the last test).
TRIED: collections.Counter[str] = collections.Counter()

START, END = at(2026, 1, 6, 18), at(2026, 1, 6, 20)  # a Tuesday, 18:00 to 20:00 in Berlin
FAR = at(8999, 12, 31, 23)  # issue 13, case 2
FAST = 0.5  # seconds: "well under a second" (a never-occurring rule used to take about 3 s per expansion)
WEEKLY_DISCAL = {"recur": True, "frequency": "WEEKLY", "count": -1, "interval": 1}
MONTH_OF_JANUARY = {"DaysInMonth": 31, "EpochStart": ts(datetime(2026, 1, 1, tzinfo=UTC)) * 1000}


def ms(instant: datetime) -> int:
    return ts(instant) * 1000


def schedule(frequency: str, **fields: Any) -> dict:
    return {"repeats": True, "schedule": {"frequency": frequency, **fields}}


# ---- the cases refused on every road


@dataclasses.dataclass(frozen=True)
class Case:
    """One hostile change, as each road says it. None: that road cannot say it (DisCal has no BYDAY)."""

    label: str
    slash: dict | None  # options of /event create and /event edit (a None value: the option left out)
    option: str | None  # the option the ephemeral reply names
    perscom: dict | None  # fields of a PERSCOM event body
    field: str | None  # the field the 422 names (or a prefix of it: "schedule" covers "schedule.by_day")
    discal: dict | None = None  # fields of a DisCal body
    discal_field: str | None = None
    status: int = 422  # what both APIs answer
    fast: bool = False  # answered well under a second (FAST)


NEVER = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"
ZERO_WIDTH = "\u200b\u200c\u200d"

CASES = [
    # 1. a schedule that never occurs: refused, and at once
    Case("1 never: daily, 30 February", {"repeat": NEVER}, "repeat",
         schedule("DAILY", by_month=[2], by_month_day=[30]), "schedule", fast=True),
    Case("1 never: yearly, 31 April", {"repeat": "FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31"}, "repeat",
         schedule("YEARLY", by_month=[4], by_month_day=[31]), "schedule", fast=True),
    Case("1 never: monthly, 30 February, every 7 months", {"repeat": "FREQ=MONTHLY;INTERVAL=7;BYMONTH=2;BYMONTHDAY=30"},
         "repeat", schedule("MONTHLY", interval=7, by_month=[2], by_month_day=[30]), "schedule", fast=True),
    Case("1 never: weekly, the 366th of each week", {"repeat": "FREQ=WEEKLY;BYDAY=MO;BYSETPOS=366"}, "repeat",
         schedule("WEEKLY", by_day=["MO"], by_set_position=[366]), "schedule", fast=True),
    # 2. an end millennia away (and the other far instants around it)
    Case("2 far: end 8999 on a weekly series", {"end": "8999-12-31 23:00", "repeat": "weekly"}, "end",
         {"ends": FAR.isoformat(), **schedule("WEEKLY")}, "ends",
         {"epochEnd": ms(FAR), "recurrence": WEEKLY_DISCAL}, "epochEnd"),
    Case("2 far: until 8999", {"repeat": "weekly", "until": "8999-12-31"}, "until",
         schedule("WEEKLY", end_type="on", until="8999-12-31T23:00:00Z"), "schedule.until"),
    Case("2 far: RRULE UNTIL 8999", {"repeat": "FREQ=WEEKLY;UNTIL=89991231T230000Z"}, "until",
         schedule("WEEKLY", end_type="on", until="8999-12-31"), "schedule.until"),
    Case("2 far: end past the last year", {"end": "9999-12-31 23:59"}, "end",
         {"ends": "9999-12-31T23:59:59Z"}, "ends", {"epochEnd": EPOCH_MS_MAX + 1}, "epochEnd"),
    Case("2 far: a year-long duration", {"end": None, "duration": "999999 days"}, "duration",
         {"ends": (START + timedelta(days=367)).isoformat()}, "ends",
         {"epochEnd": ms(START + timedelta(days=367))}, "epochEnd"),
    Case("2 far: start before 1970", {"start": "1969-12-31 23:00"}, "start",
         {"starts": "0001-01-01T00:00:00Z"}, "starts", {"epochStart": -1}, "epochStart"),
    Case("2 far: a count of a million", {"repeat": "FREQ=DAILY;COUNT=1000000"}, "count",
         schedule("DAILY", end_type="after", count=1_000_000), "schedule.count",
         {"recurrence": {**WEEKLY_DISCAL, "count": 10**12}}, "recurrence.count"),
    Case("2 far: every 10**9 weeks", {"repeat": "FREQ=WEEKLY;INTERVAL=1000000000"}, "every",
         schedule("WEEKLY", interval=10**9), "schedule.interval",
         {"recurrence": {**WEEKLY_DISCAL, "interval": 10**9}}, "recurrence.interval"),
    # 3. numbered weekdays the frequency cannot have. A part of a raw RRULE typed into `repeat` is named by the
    # option that says the same thing (BYDAY: `on`, COUNT: `count`, INTERVAL: `every`, UNTIL: `until`).
    Case("3 53MO monthly (RRULE)", {"repeat": "FREQ=MONTHLY;BYDAY=53MO"}, "on",
         schedule("MONTHLY", by_day=["53MO"]), "schedule.by_day"),
    Case("3 53mo in on, 6MO in by_day", {"repeat": "monthly", "on": "53mo"}, "on",
         schedule("MONTHLY", by_day=["6MO"]), "schedule.by_day"),
    Case("3 54MO yearly", {"repeat": "FREQ=YEARLY;BYDAY=54MO"}, "on",
         schedule("YEARLY", by_day=["54MO"]), "schedule.by_day"),
    Case("3 2TU weekly", {"repeat": "FREQ=WEEKLY;BYDAY=2TU"}, "on",
         schedule("WEEKLY", by_day=["2TU"]), "schedule.by_day"),
    Case("3 6TH yearly in March", {"repeat": "FREQ=YEARLY;BYMONTH=3;BYDAY=6TH"}, "on",
         schedule("YEARLY", by_month=[3], by_day=["6TH"]), "schedule.by_day"),
    Case("3 0MO monthly", {"repeat": "FREQ=MONTHLY;BYDAY=0MO"}, "on",
         schedule("MONTHLY", by_day=["0MO"]), "schedule.by_day"),
    # 5. NUL and control characters in the texts
    Case("5 NUL in the name", {"name": "Raid\x00"}, "name", {"name": "Raid\x00"}, "name",
         {"summary": "Raid\x00"}, "summary"),
    Case("5 NUL in the description", {"description": "a\x00b"}, "description", {"description": "a\x00b"},
         "description", {"description": "a\x00b"}, "description"),
    Case("5 NUL in the location", {"location": "Hall \x00 B"}, "location", {"location": "Hall \x00 B"},
         "location", {"location": "Hall \x00 B"}, "location"),
    Case("5 BEL in the name", {"name": "Raid\x07"}, "name", {"name": "Raid\x07"}, "name",
         {"summary": "Raid\x07"}, "summary"),
    Case("5 ESC in the description", {"description": "\x1b[31mred"}, "description",
         {"description": "\x1b[31mred"}, "description", {"description": "\x1b[31mred"}, "description"),
    Case("5 DEL in the location", {"location": "a\x7fb"}, "location", {"location": "a\x7fb"}, "location",
         {"location": "a\x7fb"}, "location"),
    Case("5 C1 (NEL) in the name", {"name": "Raid\x85"}, "name", {"name": "Raid\x85"}, "name",
         {"summary": "Raid\x85"}, "summary"),
    Case("5 a lone surrogate in the name", None, None, {"name": "Raid\ud800"}, None,
         {"summary": "Raid\ud800"}, None, status=400),
    # 6. names that show as nothing
    Case("6 a name of zero-width characters", {"name": ZERO_WIDTH}, "name", {"name": ZERO_WIDTH}, "name",
         {"summary": ZERO_WIDTH}, "summary"),
    Case("6 a name of blank fillers", {"name": "\u2800\u3164\u115f\uffa0"}, "name",
         {"name": "\u2800\u3164\u115f\uffa0"}, "name", {"summary": "\u2800\u3164"}, "summary"),
    Case("6 a name of marks and bidi controls", {"name": "\u200e\u0301\u200f\u2060\ufeff"}, "name",
         {"name": "\u200e\u0301\u200f\u2060\ufeff"}, "name", {"summary": "\u202e\u0301"}, "summary"),
    Case("6 a name of spaces", {"name": " \u00a0\u3000 "}, "name", {"name": " \u00a0\u3000 "}, "name",
         {"summary": "\u2003"}, "summary"),
]  # fmt: skip

EVENT_ROADS = [
    "slash-create", "slash-edit", "perscom-post", "perscom-patch", "perscom-batch", "perscom-batch-patch",
    "discal-create", "discal-update",
]  # fmt: skip
SLASH_BASE = {"name": "Raid", "start": "2026-01-06 18:00", "end": "2026-01-06 20:00"}
PERSCOM_BASE = {"name": "Raid", "timezone": "Europe/Berlin", "starts": START.isoformat(), "ends": END.isoformat()}


def options(*layers: dict) -> dict:
    merged: dict = {}
    for layer in layers:
        merged.update(layer)
    return {k: v for k, v in merged.items() if v is not None}


def causes(errors: list[BaseException]) -> list[BaseException]:
    return [getattr(e, "original", None) or e.__cause__ or e for e in errors]


class Hostile:
    """Sends hostile changes to the guild by one road and checks what the sender sees, and that nothing changed."""

    def __init__(self, world: World, api: Caller, road: str) -> None:
        self.world, self.api, self.road = world, api, road
        self.store = world.bot.store
        self.guild_id = world.guild.id
        self.existing: int | None = None  # the healthy series an edit road changes

    async def setup(self) -> None:
        maker = {"slash": Slash, "perscom": Perscom, "discal": Discal}[self.road.split("-")[0]]
        if self.road in ("slash-edit", "perscom-patch", "perscom-batch-patch", "discal-update"):
            self.existing = await maker(self.world, self.api).create("Healthy", START, END, weekly_on="")

    async def snapshot(self) -> tuple:
        events, total = await self.store.events.page(self.guild_id, limit=None)
        calendars = await self.store.calendars.list(self.guild_id)
        return total, [dataclasses.astuple(e) for e in events], [dataclasses.astuple(c) for c in calendars]

    def says(self, case: Case) -> bool:
        return (case.slash if self.road.startswith("slash") else case.discal if self.road.startswith("discal")
                else case.perscom) is not None  # fmt: skip

    async def attempt(self, case: Case) -> list[str]:
        """What went wrong with the road's answer to `case` (nothing: refused as it should be)."""
        before = await self.snapshot()
        started = time.perf_counter()
        if self.road.startswith("slash"):
            problems = await self._slash(case)
        else:
            problems = await self._api(case)
        took = time.perf_counter() - started
        if case.fast and took >= FAST:
            problems.append(f"took {took:.2f} s (the limit is {FAST} s)")
        if await self.snapshot() != before:
            problems.append("something was stored or changed")
        if leftover := await self.store.sync.take(shards=None):
            problems.append(f"a follow-up was queued: {leftover}")
        return problems

    async def _slash(self, case: Case) -> list[str]:
        env = self.world.env
        cursor = env.error_cursor
        if self.road == "slash-create":
            res = await self.world.admin.slash(self.world.general, "event create", **options(SLASH_BASE, case.slash))
        else:
            edit = options({"event": str(self.existing)}, case.slash)
            res = await self.world.admin.slash(self.world.general, "event edit", **edit)
        raised = causes(env.errors[cursor:])  # reading env.errors acknowledges them: our tree handled them
        text = res.response.content if res.response is not None else None
        problems = []
        if not res.ephemeral:
            problems.append("the reply is not ephemeral")
        if not text or not text.startswith(f"⚠️ `{case.option}`: "):
            problems.append(f"the reply does not name `{case.option}`: {text!r}")
        if text and ("Traceback" in text or "Something went wrong" in text):
            problems.append(f"the reply is a fault of ours: {text!r}")
        if not raised or not all(isinstance(c, DomainError) for c in raised):
            problems.append(f"raised {raised!r}, not a domain error")
        return problems

    def _request(self, case: Case) -> tuple[str, str, dict, str | None]:
        """(method, path, body, the field path the 422 must name)."""
        field = case.field
        if self.road == "perscom-post":
            return "POST", "/v2/events", options(PERSCOM_BASE, case.perscom), field
        if self.road == "perscom-patch":
            return "PATCH", f"/v2/events/{self.existing}", dict(case.perscom), field
        if self.road == "perscom-batch":
            healthy = {**PERSCOM_BASE, "name": "Healthy"}
            body = {"resources": [healthy, options(PERSCOM_BASE, case.perscom)]}
            return "POST", "/v2/events/batch", body, field and f"resources.1.{field}"
        if self.road == "perscom-batch-patch":
            body = {"resources": {str(self.existing): dict(case.perscom)}}
            return "PATCH", "/v2/events/batch", body, field and f"resources.{self.existing}.{field}"
        guild_id = str(self.guild_id)
        if self.road == "discal-create":
            base = {"guild_id": guild_id, "summary": "Raid", "epochStart": ms(START), "epochEnd": ms(END)}
            return "POST", "/v1/events/create", options(base, case.discal), case.discal_field
        assert self.road == "discal-update"
        body = {"guild_id": guild_id, "id": str(self.existing), **case.discal}
        return "POST", "/v1/events/update", body, case.discal_field

    async def _api(self, case: Case) -> list[str]:
        method, path, body, field = self._request(case)
        response = await self.api.request(method, path, json=body)
        problems = []
        if response.content_type != "application/json":
            return [f"answered {response.status} in {response.content_type}: {(await response.text())[:200]!r}"]
        answer = await response.json()
        if response.status != case.status:
            problems.append(f"answered {response.status}, not {case.status}: {answer}")
        elif case.status == 422:
            named = list(answer.get("errors", {}))
            if not named or not all(n == field or n.startswith(f"{field}.") for n in named):
                problems.append(f"the 422 names {named}, not {field!r}: {answer}")
            if "\x00" in json.dumps(case.perscom or case.discal) and answer["errors"] != {field: [NUL_REFUSED]}:
                problems.append(f"a NUL is not refused as such: {answer}")
        if not answer.get("message"):
            problems.append(f"no message: {answer}")
        if path.startswith("/v1/events/") and answer.get("Message") != answer.get("message"):
            problems.append(f"DisCal's Message is missing: {answer}")
        return problems


async def still_works(world: World, api: Caller, name: str = "Healthy afterwards") -> None:
    """The guild after hostile input: lists answer on both sides, a healthy event gets its card, the bot's
    background work (series cards, follow-ups) has recorded no problem, and the bot raised nothing."""
    cursor = world.env.error_cursor
    listed = await world.alice.slash(world.general, "event list")
    assert listed.response.embeds and listed.response.embeds[0].title == "Upcoming events", listed.response.content
    month = await api.post("/v1/events/list/month", {"guild_id": str(world.guild.id), **MONTH_OF_JANUARY})
    assert month.status == 200, await month.text()
    assert isinstance((await month.json())["count"], int)
    assert (await api.get("/v2/events?limit=100")).status == 200
    created = await world.admin.slash(world.general, "event create", name=name, start="2026-01-08 18:00")
    assert "Created" in created.response.content, created.response.content
    event_id = int(re.search(r"\(`#(\d+)`\)", created.response.content).group(1))
    assert (await card_of(world, event_id)).embeds[0].title
    await world.env.advance_time(SYNC_SECONDS)  # the drain and the series-card roller run
    assert await world.bot.store.problems.for_guild(world.guild.id) == []
    assert world.env.errors[cursor:] == []


@pytest.fixture(params=EVENT_ROADS)
async def hostile(request: pytest.FixtureRequest, guild: World, api: Caller) -> Hostile:
    sender = Hostile(guild, api, request.param)
    await sender.setup()
    return sender


async def test_each_hostile_change_is_a_field_error_on_every_road_and_the_guild_still_works(hostile):
    """Issue 13's cases 1, 2, 3, 5 and 6 (event names) and the values around them, on one road and backend.
    Every case is tried, then every failure reported at once."""
    failures = []
    for case in CASES:
        if not hostile.says(case):
            continue
        TRIED[f"refused on {hostile.road}"] += 1
        if problems := await hostile.attempt(case):
            failures.append(f"{case.label}: " + "; ".join(problems))
    await still_works(hostile.world, hostile.api)
    assert not failures, f"{len(failures)} case(s) not refused cleanly on {hostile.road}:\n" + "\n".join(failures)


# ---- 4. messages over Discord's limits: accepted, the card posted, the reminder delivered

SOON = at(2026, 1, 1, 1, 22)  # Thursday 1 January, 01:22 in Berlin (00:22Z): its 15-minute reminder is at 00:07Z
CODES = [f"{n}{d}" for n in (1, 2, 3, 4, 5, -1, -2, -3, -4, -5) for d in ("MO", "TU", "WE", "TH", "FR", "SA", "SU")]
URL = "https://example.com/" + "u" * 2028  # 2,048 characters
IMAGE = "https://example.com/" + "i" * 2024 + ".png"
SLASH_CODES = "FREQ=MONTHLY;BYDAY=" + ",".join(CODES[:43])  # as many as fit the option's 200 characters


@dataclasses.dataclass(frozen=True)
class Big:
    """An event whose messages once broke Discord's limits, as each road says it (None: it cannot)."""

    label: str
    slash: dict | None
    perscom: dict | None
    discal: dict | None


BIG = [
    Big("4 a location of 90 Japanese characters", {"location": "東京都" * 30}, {"location": "東京都" * 30},
        {"location": "東京都" * 30}),
    Big("4 a series with every field at its maximum",
        {"name": "N" * 100, "description": "D" * 4000, "location": "L" * 1024, "url": URL, "image": IMAGE,
         "color": "RED", "capacity": 100_000, "deadline": "2026-01-01 01:10", "repeat": SLASH_CODES},
        {"name": "N" * 100, "description": "D" * 4000, "content": "C" * 10_000, "location": "L" * 1024, "url": URL,
         "image": IMAGE, "color": "RED", "capacity": 100_000, "registration_deadline": "2026-01-01T00:10:00Z",
         "author_id": str(2**63 - 1),
         **schedule("MONTHLY", end_type="after", count=10_000, by_day=CODES, by_month=list(range(1, 13)),
                    by_month_day=[*range(-31, 0), *range(1, 32)])},
        {"summary": "N" * 100, "description": "D" * 4000, "location": "L" * 1024, "image": IMAGE, "color": "RED",
         "recurrence": {**WEEKLY_DISCAL, "count": 10_000}}),
    Big("4 by_day repeating a day 30 times", {"repeat": "FREQ=WEEKLY;BYDAY=" + ",".join(["TH"] * 30)},
        schedule("WEEKLY", by_day=["TH"] * 30), None),
    Big("4 a location of 1,024 underscores", {"location": "_" * 1024}, {"location": "_" * 1024},
        {"location": "_" * 1024}),
]  # fmt: skip


class Accepting:
    """Sends the big events by one road: created, or healthy events changed into them."""

    def __init__(self, world: World, api: Caller, road: str) -> None:
        self.world, self.api, self.road = world, api, road
        self.family = road.split("-")[0]

    def says(self, big: Big) -> bool:
        return getattr(big, self.family) is not None

    async def send(self, bigs: list[Big]) -> list[int]:
        """The ids of the events `bigs` became, once the bot has followed every write up."""
        world, api, guild_id = self.world, self.api, str(self.world.guild.id)
        maker = {"slash": Slash, "perscom": Perscom, "discal": Discal}[self.family](world, api)
        existing = []
        if self.road in ("slash-edit", "perscom-patch", "perscom-batch-patch", "discal-update"):
            # Healthy weekly series from the same first occurrence: the edit changes what the messages hold, not
            # which occurrences there are (a one-off turned into a series is the test after this one).
            existing = [await maker.create(f"Healthy {n}", SOON, SOON + HOUR, weekly_on="") for n in range(len(bigs))]
        ids = []
        if self.road == "perscom-batch":
            resources = [{**PERSCOM_BASE, "starts": SOON.isoformat(), "ends": (SOON + HOUR).isoformat(), **b.perscom}
                         for b in bigs]  # fmt: skip
            answer = await self._call("POST", "/v2/events/batch", {"resources": resources})
            ids = [e["id"] for e in answer["data"]]
        elif self.road == "perscom-batch-patch":
            body = {"resources": {str(i): b.perscom for i, b in zip(existing, bigs, strict=True)}}
            await self._call("PATCH", "/v2/events/batch", body)
            ids = existing
        for n, big in enumerate(bigs):
            if self.road == "slash-create":
                start = {"start": "2026-01-01 01:22", "end": "2026-01-01 02:22"}
                res = await world.admin.slash(
                    world.general, "event create", **options({"name": "Big"}, start, big.slash)
                )
                assert "Created" in res.response.content, (big.label, res.response.content)
                ids.append(int(re.search(r"\(`#(\d+)`\)", res.response.content).group(1)))
            elif self.road == "slash-edit":
                res = await world.admin.slash(world.general, "event edit", event=str(existing[n]), **big.slash)
                assert "Updated" in res.response.content, (big.label, res.response.content)
                ids.append(existing[n])
            elif self.road == "perscom-post":
                body = {**PERSCOM_BASE, "starts": SOON.isoformat(), "ends": (SOON + HOUR).isoformat(), **big.perscom}
                ids.append((await self._call("POST", "/v2/events", body, 201))["data"]["id"])
            elif self.road == "perscom-patch":
                await self._call("PATCH", f"/v2/events/{existing[n]}", big.perscom)
                ids.append(existing[n])
            elif self.road == "discal-create":
                body = {"guild_id": guild_id, "summary": "Big", "epochStart": ms(SOON), "epochEnd": ms(SOON + HOUR),
                        **big.discal}  # fmt: skip
                ids.append(int((await self._call("POST", "/v1/events/create", body))["id"]))
            elif self.road == "discal-update":
                await self._call(
                    "POST", "/v1/events/update", {"guild_id": guild_id, "id": str(existing[n]), **big.discal}
                )
                ids.append(existing[n])
        await maker.done()
        return ids

    async def _call(self, method: str, path: str, body: dict, status: int = 200) -> dict:
        response = await self.api.request(method, path, json=body)
        answer = await response.json()
        assert response.status == status, answer
        return answer


def reminders_of(world: World, event_ids: dict[int, int]) -> dict[int, list[str]]:
    """The reminders in #events, by the event whose card they link to (`event_ids`: card message id → event)."""
    found: dict[int, list[str]] = collections.defaultdict(list)
    for message in world.events.history():
        if not message.content.startswith(("⏰", "🔔")):
            continue
        for card, event_id in event_ids.items():
            if f"/{world.events.id}/{card}" in message.content:
                found[event_id].append(message.content)
    return found


@pytest.mark.parametrize("road", EVENT_ROADS)
async def test_messages_over_discords_limits_are_accepted_and_their_cards_and_reminders_posted(guild, api, road):
    """Issue 13's case 4 on one road and backend: each event is accepted, its card posted (SimCord refuses a
    message over Discord's limits), `/event show` and `/event list` answer, and its reminder is delivered."""
    world = guild
    # The one calendar (so every road's default), with the longest name and description it may have.
    await world.bot.store.calendars.create(Calendar(guild_id=world.guild.id, name="C" * 100, description="d" * 1000))
    sender = Accepting(world, api, road)
    bigs = [b for b in BIG if sender.says(b)]
    TRIED[f"accepted on {road}"] += len(bigs)
    ids = await sender.send(bigs)
    cards = {}
    for big, event_id in zip(bigs, ids, strict=True):
        card = await card_of(world, event_id)  # posted, and within Discord's limits
        cards[card.id] = event_id
        shown = await world.alice.slash(world.general, "event show", event=str(event_id))
        assert shown.response.embeds, (big.label, shown.response.content)
        if "Japanese" in big.label:
            assert {f.name: f.value for f in card.embeds[0].fields}["Location"] == "東京都" * 30
    listed = await world.alice.slash(world.general, "event list")
    assert listed.response.embeds[0].title == "Upcoming events"

    assert world.env.now() < SOON - timedelta(minutes=15), "the reminders would be late: start the events later"
    await world.env.advance_time((SOON - timedelta(minutes=14) - world.env.now()).total_seconds())
    delivered = reminders_of(world, cards)
    missing = [big.label for big, event_id in zip(bigs, ids, strict=True) if not delivered.get(event_id)]
    assert not missing, f"no reminder was delivered for: {missing}"
    assert await world.bot.store.problems.for_guild(world.guild.id) == []


@pytest.mark.parametrize(
    ("road", "into"),
    [("slash-edit", "series"), ("perscom-patch", "series"), ("perscom-patch", "one-off"), ("discal-update", "one-off")],
)
async def test_a_one_off_turned_into_a_series_or_back_is_reminded_of_its_first_occurrence(guild, api, road, into):
    """Found by case 4 on the edit roads: a one-off event changed into a series (or a series into a one-off)
    keeps its start, so its first occurrence is reminded at the same time as before, and must be reminded."""
    world = guild
    maker = {"slash": Slash, "perscom": Perscom, "discal": Discal}[road.split("-")[0]](world, api)
    event_id = await maker.create("Raid", SOON, SOON + HOUR, weekly_on=None if into == "series" else "")
    if road == "slash-edit":
        res = await world.admin.slash(world.general, "event edit", event=str(event_id), repeat="weekly")
        assert "Updated" in res.response.content, res.response.content
    else:
        change = {"repeats": into == "series", **({"schedule": {"frequency": "WEEKLY"}} if into == "series" else {})}
        if road == "discal-update":
            change = {"guild_id": str(world.guild.id), "id": str(event_id), "recurrence": {"recur": into == "series"}}
        path = f"/v2/events/{event_id}" if road == "perscom-patch" else "/v1/events/update"
        response = await api.request("PATCH" if road == "perscom-patch" else "POST", path, json=change)
        assert response.status == 200, await response.text()
    await maker.done()
    event = await world.bot.store.events.get(world.guild.id, event_id)
    assert (event.recurrence is not None) == (into == "series") and event.starts == SOON

    await world.env.advance_time((SOON - timedelta(minutes=14) - world.env.now()).total_seconds())
    card = await card_of(world, event_id)
    rows = await world.bot.store.reminders.for_event(world.guild.id, event_id)
    rows = [(r.occurrence, r.state, r.last_error) for r in rows if r.occurrence_start == SOON]
    delivered = reminders_of(world, {card.id: event_id})
    assert event_id in delivered, (
        f"no reminder of the first occurrence; its rows (occurrence key, state, error): {rows}"
    )


# ---- 6. a calendar name that shows as nothing (and control characters in a calendar)

CALENDAR_ROADS = ["slash-create", "slash-edit", "perscom-post", "perscom-patch"]
CALENDAR_CASES = [
    ("6 zero-width characters", {"name": ZERO_WIDTH}, "name"),
    ("6 a BOM and a word joiner", {"name": "\ufeff\u2060"}, "name"),
    ("6 blank fillers", {"name": "\u2800\u3164\u115f"}, "name"),
    ("6 bidi marks", {"name": "\u200e\u200f\u202e"}, "name"),
    ("6 combining marks alone", {"name": "\u0301\u0302\u20dd"}, "name"),
    ("6 spaces of every width", {"name": " \u3000\u00a0\u2003 "}, "name"),
    ("5 NUL in the name", {"name": "Raids\x00"}, "name"),
    ("5 BEL in the name", {"name": "Raids\x07"}, "name"),
    ("5 C1 in the description", {"description": "about\x9b"}, "description"),
    ("5 NUL in the description", {"description": "\x00"}, "description"),
]


@pytest.mark.parametrize("road", CALENDAR_ROADS)
async def test_a_calendar_name_that_shows_as_nothing_is_refused_on_every_road(guild, api, road):
    """Issue 13's case 6 (and NUL and control characters in a calendar), by `/calendar create` and `edit`,
    `POST` and `PATCH /v2/calendars`: a field error naming it, nothing stored, the calendars still listed."""
    world, store, guild_id = guild, guild.bot.store, guild.guild.id
    healthy = await store.calendars.create(Calendar(guild_id=guild_id, name="Healthy"))
    failures = []
    for label, change, field in CALENDAR_CASES:
        TRIED[f"calendar refused on {road}"] += 1
        before = await store.calendars.list(guild_id)
        cursor = world.env.error_cursor
        if road.startswith("slash"):
            command, base = ("calendar create", {"name": "Raids"}) if road == "slash-create" else (
                "calendar edit", {"calendar": "Healthy"})  # fmt: skip
            res = await world.admin.slash(world.general, command, **{**base, **change})
            text, raised = res.response.content, causes(world.env.errors[cursor:])
            if not (res.ephemeral and text.startswith(f"⚠️ `{field}`: ")):
                failures.append(f"{label}: the reply is {text!r}")
            if not raised or not all(isinstance(c, DomainError) for c in raised):
                failures.append(f"{label}: raised {raised!r}")
        else:
            method, path = (
                ("POST", "/v2/calendars") if road == "perscom-post" else ("PATCH", f"/v2/calendars/{healthy.id}")
            )
            response = await api.request(method, path, json={"name": "Raids", **change} if method == "POST" else change)
            answer = await response.json() if response.content_type == "application/json" else await response.text()
            if response.status != 422 or list(answer.get("errors", {})) != [field]:
                failures.append(f"{label}: answered {response.status}: {answer}")
        if await store.calendars.list(guild_id) != before:
            failures.append(f"{label}: a calendar was stored or changed")
    listed = await world.alice.slash(world.general, "calendar list")
    assert listed.response.embeds, listed.response.content
    assert (await api.get("/v2/calendars")).status == 200
    await still_works(world, api)
    assert not failures, "\n".join(failures)


# ---- 5. bytes no client library sends: through a raw socket to the API as it is served (protocol.py)


@pytest.fixture
async def served(world: World) -> Any:
    """The API as `python -m bot api` serves it (ApiServer: its own connection handler), on the bot's store."""
    config = dataclasses.replace(world.config, api=dataclasses.replace(world.config.api, host="127.0.0.1", port=0))
    with world.env.time_context():
        server = ApiServer(world.bot.store, config, clock=world.env.now)
        await server.start()
    try:
        _token, text = await world.bot.store.tokens.create(world.guild.id, "raw", "write")
        yield server.addresses[0][1], text
    finally:
        await server.stop()


async def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `raw`, read the answer until the server closes (bounded by a deadline): status, headers, body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        data = b""
        async with asyncio.timeout(5):
            while chunk := await reader.read(65536):
                data += chunk
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split(" ")[1]), headers, body[: int(headers.get("content-length", len(body)))]


def request_bytes(line: bytes, *headers: bytes, body: bytes = b"") -> bytes:
    head = [line, b"Host: 127.0.0.1", b"Connection: close", *headers]
    if body:
        head.append(b"Content-Type: application/json")
        head.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(head) + b"\r\n\r\n" + body


async def test_bytes_no_client_sends_get_a_json_4xx_and_the_api_goes_on(world, served):
    """Issue 13's case 5 at the connection: non-UTF-8 bytes in `Authorization` (401), a request line over
    8 KiB (414), and the malformed requests around them: each a JSON answer under 500, then the API and the
    bot still answer."""
    port, token = served
    bearer = b"Authorization: Bearer " + token.encode()
    month = json.dumps({"guild_id": str(world.guild.id), **MONTH_OF_JANUARY}).encode()
    cases = [
        ("non-UTF-8 token", request_bytes(b"GET /v2/events HTTP/1.1", b"Authorization: Bearer \xff\xfe\xfd"), 401),
        ("a lone continuation byte", request_bytes(b"GET /v2/events HTTP/1.1", b"Authorization: \x80"), 401),
        ("overlong UTF-8", request_bytes(b"GET /v2/events HTTP/1.1", b"Authorization: Bearer \xc0\xaf"), 401),
        ("UTF-8 of a surrogate", request_bytes(b"GET /v2/events HTTP/1.1", b"Authorization: Bearer \xed\xa0\x80"), 401),
        ("a NUL in the token", request_bytes(b"GET /v2/events HTTP/1.1", b"Authorization: Bearer cbt_1_\x00"), None),
        ("request line over 8 KiB", request_bytes(b"GET /v2/events?x=" + b"a" * (MAX_LINE + 10) + b" HTTP/1.1", bearer),
         414),
        ("a DisCal path over 8 KiB",
         request_bytes(b"POST /v1/events/list/month?" + b"%ff" * 3000 + b" HTTP/1.1", bearer, body=month), 414),
        ("a header over 8 KiB", request_bytes(b"GET /v2/events HTTP/1.1", bearer, b"X-Pad: " + b"a" * 9000), 431),
        ("a token over 8 KiB", request_bytes(b"GET /v2/events HTTP/1.1", b"Authorization: Bearer " + b"a" * 9000), 431),
        ("129 headers", request_bytes(b"GET /v2/events HTTP/1.1", bearer, *(b"X-%d: 1" % n for n in range(129))), 431),
        ("a NUL in the request line", request_bytes(b"GET /v2/events\x00 HTTP/1.1", bearer), None),
        ("bytes not UTF-8 in the path", request_bytes(b"GET /v2/ev\xffents HTTP/1.1", bearer), None),
        ("a TLS hello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64, 400),
        ("no HTTP at all", b"\x00\x01\x02\xff\r\n\r\n", 400),
        ("a body not UTF-8",
         request_bytes(b"POST /v1/events/list/month HTTP/1.1", bearer, body=b'{"guild_id":"\xff"}'), 400),
        ("a Content-Length that lies", request_bytes(b"POST /v2/events HTTP/1.1", bearer, b"Content-Length: -1"), 400),
    ]  # fmt: skip
    failures = []
    for label, raw, status in cases:
        TRIED["raw bytes"] += 1
        try:
            got, headers, body = await exchange(port, raw)
        except (TimeoutError, OSError, ValueError, IndexError) as error:
            failures.append(f"{label}: no answer ({error!r})")
            continue
        if not headers.get("content-type", "").startswith("application/json"):
            failures.append(f"{label}: {got} in {headers.get('content-type')!r}: {body[:200]!r}")
            continue
        answer = json.loads(body)
        if got >= 500 or (status is not None and got != status) or not answer.get("message"):
            failures.append(f"{label}: {got} {answer}")
    answer = await exchange(port, request_bytes(b"POST /v1/events/list/month HTTP/1.1", bearer, body=month))
    assert answer[0] == 200 and json.loads(answer[2])["count"] == 0, answer
    listed = await world.alice.slash(world.general, "event list")
    assert listed.response.embeds[0].title == "Upcoming events"
    assert not failures, "\n".join(failures)


# ---- the sweep: generated hostile values and bodies against every API route, on both backends

SWEEP_EXAMPLES = 120  # Hypothesis examples per backend (with the fixed bodies below, about 10 s a backend)
BLOCKED = 0.1  # seconds the server's loop may go without running its heartbeat (issue 13: 100 ms)
SWEEP_GUILD = 375357265198317579
MARCH = ts(datetime(2026, 3, 1, 18, tzinfo=UTC)) * 1000


@dataclasses.dataclass(frozen=True)
class Raw:
    """JSON text put into a body as it is: what json.dumps will not write (NaN, 5,000 digits, deep nesting)."""

    text: str

    def __repr__(self) -> str:
        return f"Raw({self.text[:30]!r}{'…' if len(self.text) > 30 else ''} [{len(self.text)} chars])"


def encode(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(encode(v) for v in value) + "]"
    return json.dumps(value)  # a lone surrogate travels as its \ud800 escape, as a client would send it


def leaves(value: Any, path: tuple = ()) -> Iterator[tuple]:
    """Every path into `value`, the containers' own included."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))


def put(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = put(copy[path[0]], path[1:], new)
    return copy


NEAR_1_MIB = MAX_BODY - 4096
HOSTILE = st.one_of(
    # control characters (NUL, C0, DEL, C1) among ordinary and invisible ones
    st.text(st.one_of(st.characters(categories=["Cc"]), st.sampled_from(list("ab 日_*`@\u200b\u202e\u2800"))),
            min_size=1, max_size=16),
    # lone surrogates (sent as JSON's \ud800 escapes), and any code point at all
    st.builds(lambda a, s, b: a + s + b, st.text(max_size=4), st.sampled_from(["\ud800", "\udfff", "\udbff", "\ud83d"]),
              st.text(max_size=4)),
    st.text(st.characters(codec=None), max_size=40),
    # huge numbers, negative epochs, numbers JSON parsers disagree on
    st.integers(min_value=-(2**80), max_value=2**80),
    st.integers(min_value=-(2**63), max_value=-1),
    st.sampled_from([2**63, 2**63 - 1, 2**64, -(2**63) - 1, 10**30, EPOCH_MS_MAX + 1, EPOCH_MS_MIN - 1, 0, -1]),
    st.sampled_from([Raw("9" * 5000), Raw("-" + "9" * 5000), Raw("1e400"), Raw("-1e400"), Raw("1E+999999999")]),
    # floats and NaN-likes
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.5, -0.0, 1.0, 1e308, 5e-324, MARCH + 0.5, float(MARCH)]),
    st.sampled_from([Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("nan"), Raw("1."), Raw(".5"), Raw("01"),
                     Raw("+1"), Raw("0x10")]),
    # wrong JSON types
    st.sampled_from([None, True, False, [], {}, [None], [[]], {"": None}, "", " ", "null", "true", "[]", "{}"]),
    # instants and rules around the bounds
    st.sampled_from(["8999-12-31T23:00:00Z", "9000-12-31T23:59:59Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
                     "1969-12-31T23:59:59Z", "2026-02-30T00:00:00Z", "2026-01-01T24:00:00Z", "+002026-01-01",
                     "2026-W01-1", "2026-01-01T00:00:00+25:00", "2026-01-01T00:00:00.9999999999Z", "2026-01-01 ",
                     "53MO", "-53MO", "0MO", "6TU", "MO,TU", "DAILY", "weekly", "SECONDLY", "after", "on", "never"]),
    st.lists(st.sampled_from(["MO", "53MO", "-5FR", "2TU", "XX", "", "mo"]), max_size=40),
    st.lists(st.integers(min_value=-400, max_value=400), max_size=40),
    # deep nesting
    st.sampled_from([Raw("[" * n + "]" * n) for n in (50, 500, 999, 1000, 5000, 100_000)]
                    + [Raw('{"a":' * n + "1" + "}" * n) for n in (500, 1000, 50_000)]),
    # about 1 MiB of one value: a string, a list of weekdays, a list of numbers
    st.sampled_from([Raw('"' + "x" * NEAR_1_MIB + '"'), Raw('"' + "\\u0000" * (NEAR_1_MIB // 6) + '"'),
                     Raw('"' + "_" * (MAX_BODY + 1) + '"'), Raw("[" + ",".join(['"MO"'] * (NEAR_1_MIB // 5)) + "]"),
                     Raw("[" + ",".join(["1"] * (NEAR_1_MIB // 2)) + "]"),
                     Raw("[" + ",".join(['"pt15m"'] * (NEAR_1_MIB // 8)) + "]")]),
)  # fmt: skip

# Whole bodies no generator would find: each sent to every write route.
RAW_BODIES = [
    b"", b"   ", b"\xef\xbb\xbf{}", b"{", b'{"a":1,"a":2}', b"\xff\xfe{\x00}\x00", b"[]", b"null", b'"text"',
    b"1" * 5000,
    b"[" * 100_000, b'{"name":"\\ud800"}', b'{"name":"\\u0000"}', b"{}" + b" " * MAX_BODY, b"\x00" * 1000,
    b'{"resources":' + b"[" * 200_000 + b"]" * 200_000 + b"}",
    b'{"guild_id":[' + b",".join([b"1"] * (NEAR_1_MIB // 2)) + b"]}",  # half a million numbers
]  # fmt: skip


BIG_LISTS = {
    ("notifications_interval",): "pt15m",
    ("notifications_channels",): "discord_public",
    ("schedule", "by_day"): "MO",
    ("schedule", "by_month"): 3,
    ("schedule", "by_month_day"): 1,
    ("schedule", "by_set_position"): 1,
}


@dataclasses.dataclass
class Route:
    method: str
    path: str
    body: Any  # the healthy body the hostile value goes into (for a GET, its query)


class SweepServer:
    """The API on a free port, served by ApiServer in a thread with its own event loop (the sweep calls it with
    `requests`), over a store seeded with a calendar, a one-off event, a series and a write token. A heartbeat
    on the loop measures how long the loop went without running it: what one request blocked it for."""

    def __init__(self, folder: Path, url: str) -> None:
        self.folder, self.url = folder, url
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.lag = 0.0  # the longest the heartbeat waited beyond its period since the last reset
        self.beats = 0
        self.collecting = 0.0  # seconds the loop's thread spent collecting garbage
        self._collecting_since = 0.0

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        self.store = await open_store(self.url)
        config = api_config(self.folder, "[api]\nrate_limit_per_minute = 1000000\n")
        config = dataclasses.replace(config, api=dataclasses.replace(config.api, host="127.0.0.1", port=0))
        self.calendar = await self.store.calendars.create(Calendar(guild_id=SWEEP_GUILD, name="Raids"))
        starts = datetime(2026, 3, 1, 18, tzinfo=UTC)
        self.one_off, self.series = await self.store.events.create_many([
            Event(guild_id=SWEEP_GUILD, calendar_id=self.calendar.id, name="One", starts=starts),
            Event(guild_id=SWEEP_GUILD, calendar_id=self.calendar.id, name="Weekly", starts=starts,
                  recurrence=Recurrence("WEEKLY")),
        ])  # fmt: skip
        _token, self.token = await self.store.tokens.create(SWEEP_GUILD, "sweep", "write")
        self.server = ApiServer(self.store, config)
        await self.server.start()
        self.base = f"http://127.0.0.1:{self.server.addresses[0][1]}"
        self.heartbeat = self.loop.create_task(self._beat())

    async def _beat(self, period: float = 0.001) -> None:
        # A stall is what the loop's own thread spent on a CPU while the heartbeat waited, less garbage collection:
        # not the time it waited for the GIL (held by this test's own thread while it builds and sends 1 MiB
        # bodies) or for a CPU, nor a collection, which walks the whole test process's heap (pytest, Hypothesis,
        # every test module), as the event-loop watchdog (tests/watchdog.py) counts too.
        gc.callbacks.append(self._collected)
        try:
            while True:
                wall, cpu, collected = time.perf_counter(), time.thread_time(), self.collecting
                await asyncio.sleep(period)
                busy = time.thread_time() - cpu - (self.collecting - collected)
                self.lag = max(self.lag, min(time.perf_counter() - wall - period, busy))
                self.beats += 1
        finally:
            gc.callbacks.remove(self._collected)

    def _collected(self, phase: str, _info: dict) -> None:
        """gc.callbacks: the time the loop's thread spends collecting garbage."""
        if threading.get_ident() != self.thread.ident:
            return
        if phase == "start":
            self._collecting_since = time.perf_counter()
        else:
            self.collecting += time.perf_counter() - self._collecting_since

    def settled(self) -> float:
        """The loop's longest stall since the last call: read once the heartbeat has run twice more, so a stall
        that ended just before an answer went out is counted for that request (and not for the next)."""
        target, deadline = self.beats + 2, time.perf_counter() + 2
        while self.beats < target and time.perf_counter() < deadline:
            time.sleep(0.001)
        lag, self.lag = self.lag, 0.0
        return lag

    async def _stop(self) -> None:
        self.heartbeat.cancel()
        await self.server.stop()
        await self.store.close()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def start(self) -> None:
        self.thread.start()
        assert self.ready.wait(30), "the API did not start"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    def stop(self) -> None:
        self.http.close()
        self.run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def routes(self) -> list[Route]:
        guild = str(SWEEP_GUILD)
        event = {
            "name": "Raid", "calendar_id": self.calendar.id, "starts": "2026-03-01T18:00:00Z",
            "ends": "2026-03-01T20:00:00Z", "timezone": "Europe/Berlin", "description": "d", "location": "l",
            "url": "https://example.com/", "image": "https://example.com/i.png", "color": "RED", "capacity": 10,
            "all_day": False, "registration_enabled": True, "registration_deadline": "2026-03-01T17:00:00Z",
            "notifications_enabled": True, "notifications_interval": ["pt15m"],
            "notifications_channels": ["discord_public"], "author_id": "1", "repeats": True,
            "schedule": {"frequency": "WEEKLY", "interval": 1, "end_type": "after", "count": 5, "until": None,
                         "by_day": ["SU"], "by_month": [3], "by_month_day": [], "by_set_position": []},
        }  # fmt: skip
        discal = {
            "guild_id": guild, "summary": "Raid", "epochStart": MARCH, "epochEnd": MARCH + 3_600_000,
            "description": "d", "location": "l", "color": "RED", "image": "https://example.com/i.png",
            "recurrence": {"recur": True, "frequency": "WEEKLY", "count": 5, "interval": 1},
        }  # fmt: skip
        series = str(self.series.id)
        return [
            Route("POST", "/v2/events", event),
            Route("PATCH", f"/v2/events/{series}", event),
            Route("PUT", f"/v1/events/{self.one_off.id}", event),
            Route("POST", "/v2/events/batch", {"resources": [event]}),
            Route("PATCH", "/v2/events/batch", {"resources": {series: event}}),
            Route("POST", "/v2/calendars", {"name": "Cal", "description": "d", "color": "RED"}),
            Route("PATCH", f"/v2/calendars/{self.calendar.id}", {"name": "Raids", "description": "d"}),
            Route("POST", "/v1/events/create", discal),
            Route("POST", "/v1/events/update", {**discal, "id": series}),
            Route("POST", "/v1/events/list/month", {"guild_id": guild, "DaysInMonth": 31, "EpochStart": MARCH}),
            Route("POST", "/v1/events/list/date", {"guild_id": guild, "startEpoch": MARCH}),
            Route("POST", "/v1/events/get", {"guild_id": guild, "id": series}),
            Route("GET", "/v2/events", {"page": "1", "limit": "15", "include": "calendar", "calendar_id": "1"}),
        ]

    def send(self, method: str, path: str, data: bytes) -> list[str]:
        """One request; what is wrong with its answer (nothing: under 500, JSON, quick, the loop never blocked)."""
        started = time.perf_counter()
        headers = {"Content-Type": "application/json"} if method != "GET" else {}
        try:
            response = self.http.request(method, self.base + path, data=data if method != "GET" else None,
                                         headers=headers, timeout=30)  # fmt: skip
        except requests.RequestException as error:
            return [f"no answer: {error!r}"]
        took, lag = time.perf_counter() - started, self.settled()
        problems = []
        if response.status_code >= 500:
            problems.append(f"answered {response.status_code}: {response.text[:300]!r}")
        if not response.headers.get("Content-Type", "").startswith("application/json"):
            problems.append(f"answered {response.status_code} in {response.headers.get('Content-Type')!r}")
        else:
            try:
                response.json()
            except ValueError:
                problems.append(f"answered {response.status_code} with a body that is not JSON")
        if "Traceback" in response.text:
            problems.append("the answer holds a traceback")
        if took > 5:
            problems.append(f"took {took:.1f} s")
        if lag > BLOCKED:
            problems.append(f"blocked the server's event loop for {lag * 1000:.0f} ms")
        return problems


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def sweep_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SweepServer]:
    folder = tmp_path_factory.mktemp(f"sweep-{request.param}")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{folder}/sweep.sqlite3"
    else:
        database = request.getfixturevalue("postgres_database")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        _admin(database, f"CREATE SCHEMA {schema}")
        url = f"{database}{'&' if urlsplit(database).query else '?'}search_path={schema}"
    server = SweepServer(folder, url)
    server.start()
    server.settled()
    try:
        yield server
    finally:
        server.stop()
        if schema is not None:
            _admin(database, f"DROP SCHEMA {schema} CASCADE")


def send_twice_if_blocked(server: SweepServer, label: str, *request: Any) -> list[str]:
    """A request whose only fault is a blocked loop is sent again: a busy machine can stall the loop once; a
    request that blocks it does so every time."""
    problems = server.send(*request)
    if problems and all("blocked" in p for p in problems):
        problems = server.send(*request)
    return [f"{label}: {p}" for p in problems]


def test_generated_hostile_input_never_gets_a_5xx_or_blocks_the_loop_on_either_backend(sweep_server):
    """Hostile values (control characters, lone surrogates, huge and negative numbers, NaN-likes, wrong types,
    deep nesting, 1 MiB values) at every field of every route, and hostile whole bodies: each answered under
    500 in JSON without blocking the server's loop; afterwards the guild's events, calendars and lists answer,
    and every event stored along the way makes a card within Discord's limits."""
    server = sweep_server
    backend = "postgres" if server.url.startswith("postgres") else "sqlite"
    routes = server.routes()
    failures: list[str] = []
    for route in routes:
        if route.method == "GET":
            continue
        for raw in RAW_BODIES:
            TRIED[f"sweep, fixed bodies ({backend})"] += 1
            failures += send_twice_if_blocked(server, f"{route.method} {route.path} {raw[:30]!r}", route.method,
                                              route.path, raw)  # fmt: skip

    # Each list field of an event at about 1 MiB of items the domain reads one by one.
    create = routes[0]
    for where, item in BIG_LISTS.items():
        TRIED[f"sweep, 1 MiB lists ({backend})"] += 1
        body = put(
            create.body,
            where,
            Raw("[" + ",".join([json.dumps(item)] * (NEAR_1_MIB // (len(json.dumps(item)) + 1))) + "]"),
        )
        failures += send_twice_if_blocked(server, f"POST /v2/events, 1 MiB of {item!r} at {'.'.join(where)}", "POST",
                                          create.path, encode(body).encode())  # fmt: skip

    @settings(max_examples=SWEEP_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        route = data.draw(st.sampled_from(routes), label="route")
        where = data.draw(st.sampled_from(list(leaves(route.body))), label="where")
        value = data.draw(HOSTILE, label="value")
        TRIED[f"sweep, Hypothesis examples ({backend})"] += 1
        body = put(route.body, where, value)
        label = f"{route.method} {route.path} at {'.'.join(map(str, where)) or 'the body'} = {value!r:.120}"
        if route.method == "GET":
            # Each parameter's text as UTF-8, percent-encoded: a lone surrogate as %ED%A0%80.
            pairs = body.items() if isinstance(body, dict) else [("page", body)]
            query = "&".join(
                f"{quote(str(k).encode('utf-8', 'surrogatepass'))}="
                f"{quote((v if isinstance(v, str) else encode(v)).encode('utf-8', 'surrogatepass'))}"
                for k, v in pairs
            )
            failures.extend(send_twice_if_blocked(server, label, "GET", f"{route.path}?{query}", b""))
        else:
            data_bytes = encode(body).encode("utf-8", "surrogatepass")
            failures.extend(send_twice_if_blocked(server, label, route.method, route.path, data_bytes))

    one()

    # Afterwards: the guild's lists answer, and what was stored makes cards that fit.
    for path in ("/v2/events?limit=100", "/v2/calendars?limit=100", "/v2/events?include=calendar,schedule"):
        failures += [f"afterwards, GET {path}: {p}" for p in server.send("GET", path, b"")]
    for month in range(1, 13):
        start = ts(datetime(2026, month, 1, tzinfo=UTC)) * 1000
        body = json.dumps({"guild_id": str(SWEEP_GUILD), "DaysInMonth": 31, "EpochStart": start}).encode()
        failures += [f"afterwards, list/month {month}: {p}" for p in server.send("POST", "/v1/events/list/month", body)]
    events, _total = server.run(server.store.events.page(SWEEP_GUILD, limit=None))
    calendars = {c.id: c for c in server.run(server.store.calendars.list(SWEEP_GUILD))}
    for event in events:
        failures += [f"afterwards, the card of event {event.id}: {p}" for p in card_problems(event, calendars)]
    assert not failures, f"{len(failures)} hostile request(s) answered badly on {backend}:\n" + "\n".join(failures)


def card_problems(event: Event, calendars: dict[int, Calendar]) -> list[str]:
    """What of Discord's embed limits the event's card breaks (messages.py's own constants)."""
    try:
        embed = event_card(event, calendars[event.calendar_id])
    except Exception as error:
        return [f"building it raised {error!r}"]
    problems = []
    if len(embed) > EMBED_TOTAL or len(embed.fields) > FIELDS or len(embed.title or "") > 256:
        problems.append(f"{len(embed)} characters, {len(embed.fields)} fields")
    if len(embed.description or "") > 4096:
        problems.append(f"a description of {len(embed.description)}")
    for item in embed.fields:
        if len(item.name) > FIELD_NAME or len(item.value) > FIELD_VALUE:
            problems.append(f"field {item.name[:20]!r}: {len(item.name)} + {len(item.value)} characters")
    return problems


# ---- the count


def test_zz_the_count_of_hostile_cases_tried(capsys: pytest.CaptureFixture[str]) -> None:
    """Not a check: prints how many hostile cases this run tried, by kind (issue 13 asks for the count)."""
    total = sum(TRIED.values())
    lines = [f"hostile cases tried: {total}", *(f"  {n:5}  {kind}" for kind, n in sorted(TRIED.items()))]
    with capsys.disabled():
        print("\n" + "\n".join(lines))
