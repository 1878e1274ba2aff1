"""DisCal's API v1 events endpoint (seed 004): its example bodies, made valid JSON, answer as it shows."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.domain.models import Calendar, Event, GuildSettings, OccurrenceChange
from bot.domain.recurrence import Recurrence
from tests.api.conftest import GUILD

# The document's examples with their slips fixed: no trailing commas, the id quoted.
MONTH = {"guild_id": 375357265198317579, "DaysInMonth": 31, "EpochStart": 1519884000000}
DATE = {"guild_id": 375357265198317579, "startEpoch": 1521694800000}
CREATE = {
    "guild_id": 375357265198317579,
    "epochStart": 1521732600000,
    "epochEnd": 1521732600000,
    "summary": "My cool event!",
    "description": "Event edited via REST API",
    "location": "The nether",
    "color": "RED",
    "recurrence": {"recur": False, "frequency": "DAILY", "count": -1, "interval": 1},
    "image": "https://goo.gl/nqi64A",
}
UPDATE_RAW = """{
    "guild_id": 375357265198317579,
    "id": "%s",
    "epochStart": 1521732600000,
    "epochEnd": 1521732600000,
    "summary": "My cool event!",
    "description": "Event edited via REST API",
    "location": "The nether",
    "color": "RED",
    "recurrence": {"recur": false, "count": -1, "interval": 1},
    "image": "https://goo.gl/nqi64A"
}"""
FULL_KEYS = {"id", "epochStart", "epochEnd", "timezone", "summary", "description", "location", "color", "isParent",
             "recurrence", "image"}  # fmt: skip


def ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp()) * 1000


async def create(writer, **fields) -> str:
    response = await writer.post("/v1/events/create", {**CREATE, **fields}, bare=True)
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["Message"] == "Successfully created event!"
    return body["id"]


async def test_create_then_list_date_answer_as_the_document_shows(writer, store):
    event_id = await create(writer)
    assert isinstance(event_id, str) and event_id.isdigit()
    response = await writer.post("/v1/events/list/date", DATE, bare=True)
    assert response.status == 200
    body = await response.json()
    assert body["count"] == 1
    [entry] = body["events"]
    assert set(entry) >= FULL_KEYS
    assert entry == {
        "id": event_id,
        "epochStart": 1521732600000,
        "epochEnd": 1521732600000,  # no end: as the document's example
        "timezone": "UTC",
        "summary": "My cool event!",
        "description": "Event edited via REST API",
        "location": "The nether",
        "color": "RED",
        "isParent": True,
        "recurrence": {"recur": False, "frequency": "DAILY", "count": -1, "recurCount": -1, "interval": 1},
        "image": "https://goo.gl/nqi64A",
    }
    stored = await store.events.get(GUILD, int(event_id))
    assert stored.ends is None and stored.color.name == "RED"
    assert [c.name for c in await store.calendars.list(GUILD)] == ["General"]
    [entry] = await store.sync.take()  # the bot posts its card
    assert (entry.guild_id, entry.event_id, entry.deleted) == (GUILD, int(event_id), None)


async def test_list_month_answers_ids_and_times(writer):
    first = await create(writer)
    second = await create(writer, epochStart=1522000000000, epochEnd=1522003600000, summary="Later")
    await create(writer, epochStart=1525000000000, epochEnd=1525003600000, summary="May")
    response = await writer.post("/v1/events/list/month", MONTH)
    body = await response.json()
    assert body == {
        "count": 2,
        "events": [
            {"id": first, "epochStart": 1521732600000, "epochEnd": 1521732600000},
            {"id": second, "epochStart": 1522000000000, "epochEnd": 1522003600000},
        ],
    }


async def test_list_date_covers_24_hours_from_its_start(writer):
    inside = await create(writer, epochStart=ms(2026, 5, 1, 23, 59), epochEnd=ms(2026, 5, 2, 1))
    await create(writer, epochStart=ms(2026, 5, 2, 0, 0), epochEnd=ms(2026, 5, 2, 1), summary="next day")
    response = await writer.post("/v1/events/list/date", {"guild_id": GUILD, "StartEpoch": ms(2026, 5, 1)})
    assert [e["id"] for e in (await response.json())["events"]] == [inside]


@pytest.mark.parametrize("spelling", ["startEpoch", "StartEpoch", "EpochStart", "epochStart"])
async def test_both_spellings_of_the_start_are_accepted(writer, spelling):
    await create(writer)
    response = await writer.post("/v1/events/list/date", {"guild_id": GUILD, spelling: 1521694800000})
    assert (await response.json())["count"] == 1


async def test_recurring_events_appear_once_per_occurrence(writer, store):
    series = await create(
        writer,
        epochStart=ms(2026, 3, 2, 18),
        epochEnd=ms(2026, 3, 2, 20),
        summary="Weekly",
        recurrence={"recur": True, "frequency": "WEEKLY", "recurCount": 10, "interval": 1},
    )
    one_off = await create(writer, epochStart=ms(2026, 3, 10, 12), epochEnd=ms(2026, 3, 10, 13), summary="Once")
    # The third occurrence is cancelled, the fourth moved and renamed.
    await store.changes.save(
        OccurrenceChange(guild_id=GUILD, event_id=int(series), occurrence=datetime(2026, 3, 16, 18, tzinfo=UTC),
                         cancelled=True)
    )  # fmt: skip
    await store.changes.save(
        OccurrenceChange(guild_id=GUILD, event_id=int(series), occurrence=datetime(2026, 3, 23, 18, tzinfo=UTC),
                         starts=datetime(2026, 3, 24, 19, tzinfo=UTC), ends=datetime(2026, 3, 24, 21, tzinfo=UTC),
                         name="Moved")
    )  # fmt: skip
    month = {"guild_id": GUILD, "DaysInMonth": 31, "EpochStart": ms(2026, 3, 1)}
    body = await (await writer.post("/v1/events/list/month", month)).json()
    # Each occurrence has its own id: the series' and its original start.
    assert [(e["id"], e["epochStart"]) for e in body["events"]] == [
        (f"{series}_{ms(2026, 3, 2, 18)}", ms(2026, 3, 2, 18)),
        (f"{series}_{ms(2026, 3, 9, 18)}", ms(2026, 3, 9, 18)),
        (one_off, ms(2026, 3, 10, 12)),
        # 16 March is cancelled; 23 March moved to the 24th, 19:00 (its id still names the 23rd)
        (f"{series}_{ms(2026, 3, 23, 18)}", ms(2026, 3, 24, 19)),
        (f"{series}_{ms(2026, 3, 30, 18)}", ms(2026, 3, 30, 18)),
    ]
    assert body["count"] == 5
    day = await (await writer.post("/v1/events/list/date", {"guild_id": GUILD, "startEpoch": ms(2026, 3, 24)})).json()
    [moved] = day["events"]
    assert (moved["summary"], moved["epochEnd"], moved["isParent"]) == ("Moved", ms(2026, 3, 24, 21), False)
    assert moved["recurrence"] == {"recur": True, "frequency": "WEEKLY", "count": 10, "recurCount": 10, "interval": 1}


async def test_one_day_of_an_all_day_series_moved_stays_a_whole_day(writer, store):
    calendar = await store.calendars.create(Calendar(guild_id=GUILD, name="Camps"))
    berlin = ZoneInfo("Europe/Berlin")
    series = await store.events.create(
        Event(guild_id=GUILD, calendar_id=calendar.id, name="Camp day", timezone="Europe/Berlin", all_day=True,
              starts=datetime(2026, 3, 2, tzinfo=berlin), recurrence=Recurrence("WEEKLY", count=4))
    )  # fmt: skip
    second = datetime(2026, 3, 9, tzinfo=berlin)
    # A client moves the second day to a time on the 10th: the occurrence becomes the whole 10th, in Berlin.
    body = {"guild_id": GUILD, "id": f"{series.id}_{int(second.timestamp()) * 1000}", "epochStart": ms(2026, 3, 10, 14)}
    assert (await writer.post("/v1/events/update", body)).status == 200
    day = await (await writer.post("/v1/events/list/date", {"guild_id": GUILD, "startEpoch": ms(2026, 3, 10)})).json()
    [moved] = day["events"]
    starts, ends = datetime(2026, 3, 10, tzinfo=berlin), datetime(2026, 3, 11, tzinfo=berlin)
    assert (moved["epochStart"], moved["epochEnd"]) == (int(starts.timestamp()) * 1000, int(ends.timestamp()) * 1000)


async def test_a_series_keeps_its_wall_time_in_the_guilds_zone(writer, store):
    await store.settings.save(GuildSettings(guild_id=GUILD, timezone="Europe/Berlin"))
    await create(
        writer, epochStart=ms(2026, 3, 21, 17), epochEnd=ms(2026, 3, 21, 18),
        recurrence={"recur": True, "frequency": "WEEKLY", "count": 3, "interval": 1},
    )  # fmt: skip
    body = await (await writer.post("/v1/events/list/month", {"guild_id": GUILD, "DaysInMonth": 31,
                                                               "EpochStart": ms(2026, 3, 1)})).json()  # fmt: skip
    # 18:00 in Berlin: 17:00 UTC before the change on 29 March, 16:00 UTC after it.
    assert [e["epochStart"] for e in body["events"]] == [ms(2026, 3, 21, 17), ms(2026, 3, 28, 17)]
    april = await (await writer.post("/v1/events/list/month", {"guild_id": GUILD, "DaysInMonth": 30,
                                                                "EpochStart": ms(2026, 4, 1)})).json()  # fmt: skip
    assert [e["epochStart"] for e in april["events"]] == [ms(2026, 4, 4, 16)]


async def test_get_answers_one_full_event(writer):
    event_id = await create(writer)
    response = await writer.post("/v1/events/get", {"guild_id": GUILD, "id": event_id})
    body = await response.json()
    assert set(body) >= FULL_KEYS and body["id"] == event_id and body["isParent"] is True
    assert (await writer.post("/v1/events/get", {"guild_id": GUILD, "id": int(event_id)})).status == 200
    for unknown in ("e7gqkup5l8", "999", ""):
        response = await writer.post("/v1/events/get", {"guild_id": GUILD, "id": unknown})
        assert response.status == 404
        assert (await response.json())["Message"] == "No such event."


async def test_update_with_the_documents_example(writer, store):
    event_id = await create(writer, summary="Before", color="BLUE", epochEnd=1521736200000)
    raw = UPDATE_RAW.replace("%s", event_id).encode()
    response = await writer.request("POST", "/v1/events/update", data=raw, bare=True)
    assert response.status == 200
    body = await response.json()
    assert (body["Message"], body["message"]) == ("Successfully updated event!", "Successfully updated event!")
    stored = await store.events.get(GUILD, int(event_id))
    assert (stored.name, stored.color.name, stored.ends, stored.recurrence) == ("My cool event!", "RED", None, None)


async def test_update_changes_only_what_is_given(writer, store):
    event_id = await create(
        writer, epochEnd=1521736200000, recurrence={"recur": True, "frequency": "WEEKLY", "count": 4, "interval": 2}
    )
    await writer.post("/v1/events/update", {"guild_id": GUILD, "id": event_id, "epochStart": 1521800000000})
    stored = await store.events.get(GUILD, int(event_id))
    assert stored.ends - stored.starts == (datetime.fromtimestamp(1521736200, UTC) -
                                           datetime.fromtimestamp(1521732600, UTC))  # fmt: skip
    assert stored.name == "My cool event!" and stored.recurrence.frequency == "WEEKLY"
    # A recurrence without a frequency keeps the series' own.
    await writer.post("/v1/events/update", {"guild_id": GUILD, "id": event_id,
                                            "recurrence": {"recur": True, "count": 0, "interval": 1}})  # fmt: skip
    stored = await store.events.get(GUILD, int(event_id))
    assert (stored.recurrence.frequency, stored.recurrence.count, stored.recurrence.interval) == ("WEEKLY", None, 1)


async def test_an_update_in_discals_shape_keeps_what_that_shape_cannot_carry(writer, store):
    calendar = await store.calendars.create(Calendar(guild_id=GUILD, name="Raids"))
    rule = Recurrence("WEEKLY", until=datetime(2026, 12, 31, tzinfo=UTC), by_day=("MO", "WE", "FR"))
    series = await store.events.create(Event(guild_id=GUILD, calendar_id=calendar.id, name="Raid",
                                             starts=datetime(2026, 3, 2, 19, tzinfo=UTC), recurrence=rule))  # fmt: skip

    async def update(recurrence: dict) -> str:
        body = {"guild_id": GUILD, "id": str(series.id), "recurrence": recurrence}
        assert (await writer.post("/v1/events/update", body)).status == 200
        return (await store.events.get(GUILD, series.id)).recurrence.rrule_text()

    shown = (await (await writer.post("/v1/events/get", {"guild_id": GUILD, "id": str(series.id)})).json())[
        "recurrence"
    ]
    # What a client read, written back, changes nothing: not the weekdays, not the end date.
    assert await update(shown) == "FREQ=WEEKLY;UNTIL=20261231T000000Z;BYDAY=MO,WE,FR"
    assert await update({"interval": 2}) == "FREQ=WEEKLY;INTERVAL=2;UNTIL=20261231T000000Z;BYDAY=MO,WE,FR"
    # A count replaces the end date; the weekdays stay.
    assert await update({"count": 6}) == "FREQ=WEEKLY;INTERVAL=2;COUNT=6;BYDAY=MO,WE,FR"
    assert await update({"count": -1}) == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE,FR"
    # Another frequency is a rule of DisCal's shape alone.
    assert await update({"frequency": "DAILY"}) == "FREQ=DAILY"


async def test_delete_with_the_documents_example(writer, store):
    event_id = await create(writer)
    await store.sync.done([entry.id for entry in await store.sync.take()])
    raw = ('{"guild_id": 375357265198317579, "id": "' + event_id + '"}').encode()
    response = await writer.request("POST", "/v1/events/delete", data=raw, bare=True)
    assert await response.json() == {"message": "Successfully deleted event!", "Message": "Successfully deleted event!"}
    assert (await store.events.page(GUILD))[1] == 0
    [entry] = await store.sync.take()
    assert entry.deleted.name == "My cool event!"  # the bot marks its card cancelled
    response = await writer.request("POST", "/v1/events/delete", data=raw, bare=True)
    assert response.status == 404


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"summary": ""}, {"summary"}),
        ({"color": "PLAID"}, {"color"}),
        ({"epochEnd": 1521732599000}, {"epochEnd"}),
        ({"epochStart": "yesterday"}, {"epochStart"}),
        ({"epochStart": 10**20}, {"epochStart"}),
        ({"image": "goo.gl/x"}, {"image"}),
        ({"recurrence": {"recur": True, "frequency": "HOURLY"}}, {"recurrence.frequency"}),
        ({"recurrence": {"recur": True, "interval": 0}}, {"recurrence.interval"}),
        ({"recurrence": {"recur": True, "count": -5}}, {"recurrence.count"}),
        ({"recurrence": {"recur": "yes"}}, {"recurrence.recur"}),
        ({"recurrence": []}, {"recurrence"}),
        ({"guild_id": "abc"}, {"guild_id"}),
    ],
)
async def test_invalid_fields_are_422_naming_them(writer, fields, errors):
    response = await writer.post("/v1/events/create", {**CREATE, **fields})
    assert response.status == 422
    body = await response.json()
    assert set(body["errors"]) == errors, body
    assert body["Message"] == body["message"] == "The given data was invalid."


async def test_required_fields_are_named(writer):
    response = await writer.post("/v1/events/create", {"guild_id": GUILD})
    assert set((await response.json())["errors"]) == {"epochStart", "epochEnd", "summary"}
    response = await writer.post("/v1/events/list/month", {"guild_id": GUILD, "DaysInMonth": 40})
    assert set((await response.json())["errors"]) == {"EpochStart", "DaysInMonth"}
    response = await writer.post("/v1/events/update", {"guild_id": GUILD})
    assert (await response.json())["errors"] == {"id": ["is required"]}
    response = await writer.post("/v1/events/get", {"id": "1"})
    assert (await response.json())["errors"] == {"guild_id": ["is required"]}


async def test_events_go_to_general_or_the_guilds_first_calendar(writer, store):
    first = await store.calendars.create(Calendar(guild_id=GUILD, name="Raids"))
    await store.calendars.create(Calendar(guild_id=GUILD, name="Meetings"))
    event_id = await create(writer)
    assert (await store.events.get(GUILD, int(event_id))).calendar_id == first.id
    general = await store.calendars.create(Calendar(guild_id=GUILD, name="general"))
    event_id = await create(writer)
    assert (await store.events.get(GUILD, int(event_id))).calendar_id == general.id


async def test_a_large_guild_id_survives_as_a_string_too(writer):
    await create(writer)
    response = await writer.post("/v1/events/list/date", {**DATE, "guild_id": str(GUILD)})
    assert (await response.json())["count"] == 1
    assert json.loads(json.dumps(MONTH))["guild_id"] == GUILD  # Python keeps the 64-bit id exact


async def test_a_cached_list_never_outlives_a_write_from_anywhere(writer, store, config):
    """Lists are answered from memory until the database changes: a write through the store, or by another
    process's connection, shows at once."""
    month = {"guild_id": GUILD, "DaysInMonth": 31, "EpochStart": ms(2026, 3, 1)}
    await create(writer, epochStart=ms(2026, 3, 5), epochEnd=ms(2026, 3, 5, 1), summary="One")
    assert (await (await writer.post("/v1/events/list/month", month)).json())["count"] == 1
    assert (await (await writer.post("/v1/events/list/month", month)).json())["count"] == 1  # from memory
    calendar = (await store.calendars.list(GUILD))[0]
    await store.events.create(
        Event(guild_id=GUILD, calendar_id=calendar.id, name="Two", starts=datetime(2026, 3, 6, tzinfo=UTC))
    )
    assert (await (await writer.post("/v1/events/list/month", month)).json())["count"] == 2
    database = config.database.url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as other:  # another process's write
        other.execute("UPDATE events SET starts = starts + 86400 * 60 WHERE name = 'Two'")
    assert (await (await writer.post("/v1/events/list/month", month)).json())["count"] == 1
