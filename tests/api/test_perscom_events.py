"""PERSCOM-style event routes (seed 000), for v1 and v2: CRUD, batches, includes and pages."""

from __future__ import annotations

import copy

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.api import create_app
from bot.api.perscom import page_window
from bot.domain.models import Calendar, GuildSettings
from tests.api.conftest import GUILD, Caller, api_config

# The document's example request body, verbatim (it is valid JSON; its values are placeholders).
SEED_REQUEST = {
    "resources": [
        {
            "name": "<string>",
            "calendar_id": 123,
            "description": "<string>",
            "content": "<string>",
            "location": "<string>",
            "url": "<string>",
            "author_id": 123,
            "all_day": False,
            "starts": "2023-11-07T05:31:56Z",
            "ends": "2023-11-07T05:31:56Z",
            "repeats": False,
            "registration_enabled": True,
            "registration_deadline": "2023-11-07T05:31:56Z",
            "notifications_enabled": True,
            "notifications_interval": ["pt0m"],
            "notifications_channels": ["broadcast"],
        }
    ]
}
SEED_RESPONSE_KEYS = {
    "id", "name", "calendar_id", "description", "content", "location", "url", "author_id", "all_day", "starts",
    "ends", "repeats", "registration_enabled", "registration_deadline", "notifications_enabled",
    "notifications_interval", "notifications_channels", "label", "created_at", "updated_at",
}  # fmt: skip


@pytest.fixture
async def calendar(store) -> Calendar:
    return await store.calendars.create(Calendar(guild_id=GUILD, name="Raids"))


def event(n: int = 1, **fields) -> dict:
    return {"name": f"Event {n}", "starts": f"2026-03-{n:02d}T18:00:00Z", **fields}


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_the_documents_example_made_valid_is_created_as_it_says(writer, store, calendar, version):
    request = copy.deepcopy(SEED_REQUEST)
    resource = request["resources"][0]
    # What makes it valid: a calendar of this guild, a web address, and an end after the start.
    resource.update(calendar_id=calendar.id, url="https://example.org/raid", ends="2023-11-07T07:31:56Z")
    response = await writer.post(f"/{version}/events/batch", request)
    assert response.status == 200, await response.text()
    [created] = (await response.json())["data"]
    assert set(created) >= SEED_RESPONSE_KEYS
    for key, value in resource.items():
        assert created[key] == value, key
    assert created["label"] == f"Event: {created['id']}" and isinstance(created["id"], int)  # as PERSCOM labels it
    assert created["created_at"].endswith("Z") and len(created["created_at"]) == len("2023-11-07T05:31:56Z")
    assert "schedule" not in created  # only when repeats is true
    stored = await store.events.get(GUILD, created["id"])
    assert stored.notifications_channels == ("broadcast",) and stored.author_id == 123


async def test_the_documents_example_verbatim_names_what_is_wrong(writer):
    response = await writer.post("/v2/events/batch", SEED_REQUEST)
    assert response.status == 422
    errors = (await response.json())["errors"]
    assert set(errors) == {"resources.0.calendar_id", "resources.0.url", "resources.0.ends"}


async def test_create_applies_perscoms_defaults_and_the_guilds_settings(writer, store):
    await store.settings.save(
        GuildSettings(guild_id=GUILD, timezone="Europe/Berlin", default_reminders=("p1d",),
                      default_channels=("discord_private",))
    )  # fmt: skip
    response = await writer.post("/v2/events", {"name": "Raid", "starts": "2026-03-01T18:00:00"})
    assert response.status == 201
    data = (await response.json())["data"]
    assert data["starts"] == "2026-03-01T17:00:00Z"  # naive: read in the guild's zone
    assert data["timezone"] == "Europe/Berlin"
    assert (data["all_day"], data["repeats"], data["registration_enabled"], data["notifications_enabled"]) == (
        False, False, True, True,
    )  # fmt: skip
    assert data["notifications_interval"] == ["p1d"] and data["notifications_channels"] == ["discord_private"]
    assert data["ends"] is None and data["url"] is None and data["description"] == ""
    calendars = await store.calendars.list(GUILD)
    assert [c.name for c in calendars] == ["General"] and data["calendar_id"] == calendars[0].id


async def test_every_write_is_queued_for_the_bot_to_post_the_card_and_schedule_reminders(writer, store):
    created = (await (await writer.post("/v2/events", event())).json())["data"]
    await writer.patch(f"/v2/events/{created['id']}", {"name": "Renamed"})
    await writer.delete(f"/v2/events/{created['id']}")
    queued = await store.sync.take()
    assert [(entry.event_id, entry.deleted and entry.deleted.name) for entry in queued] == [
        (created["id"], None),
        (created["id"], None),
        (created["id"], "Renamed"),
    ]


async def test_show_with_includes(writer, calendar):
    created = (await (await writer.post("/v2/events", event(calendar_id=calendar.id, author_id="88"))).json())["data"]
    response = await writer.get(f"/v2/events/{created['id']}?include=calendar,author,schedule,tags,comments.*")
    data = (await response.json())["data"]
    assert data["calendar"]["name"] == "Raids" and data["calendar"]["id"] == calendar.id
    assert data["author"] == {"id": 88}
    assert data["schedule"] is None and data["tags"] == [] and data["comments"] == []
    response = await writer.get(f"/v2/events/{created['id']}?include=attachments,image&include=author.rank")
    data = (await response.json())["data"]
    assert data["attachments"] == [] and data["image"] is None and data["author"] == {"id": 88}
    response = await writer.get(f"/v2/events/{created['id']}?include=secrets")
    assert response.status == 422 and "include" in (await response.json())["errors"]


async def test_patch_and_put_change_only_the_fields_given_and_moving_keeps_the_length(writer):
    created = (await (await writer.post("/v2/events", event(ends="2026-03-01T20:00:00Z", location="Hall"))).json())[
        "data"
    ]
    response = await writer.patch(f"/v2/events/{created['id']}", {"starts": "2026-03-05T10:00:00Z"})
    data = (await response.json())["data"]
    assert (data["starts"], data["ends"], data["location"]) == ("2026-03-05T10:00:00Z", "2026-03-05T12:00:00Z", "Hall")
    response = await writer.put(f"/v1/events/{created['id']}", {"name": "Put", "location": None})
    data = (await response.json())["data"]
    assert (data["name"], data["location"], data["starts"]) == ("Put", "", "2026-03-05T10:00:00Z")
    response = await writer.patch(f"/v2/events/{created['id']}", {"ends": "2026-03-05T09:00:00Z"})
    assert response.status == 422 and (await response.json())["errors"] == {"ends": ["must be after the start"]}


async def test_delete_answers_the_deleted_event(writer, store):
    created = (await (await writer.post("/v2/events", event())).json())["data"]
    response = await writer.delete(f"/v2/events/{created['id']}")
    assert response.status == 200 and (await response.json())["data"]["name"] == "Event 1"
    assert (await writer.get(f"/v2/events/{created['id']}")).status == 404
    assert (await writer.delete(f"/v2/events/{created['id']}")).status == 404


async def test_a_repeating_event_carries_its_schedule(writer, store):
    body = event(
        repeats=True,
        timezone="Europe/Berlin",
        starts="2026-03-03T19:00:00",
        schedule={"frequency": "WEEKLY", "interval": 2, "end_type": "on", "until": "2026-12-31T00:00:00Z",
                  "by_day": ["TU", "TH"]},
    )  # fmt: skip
    response = await writer.post("/v2/events", body)
    assert response.status == 201, await response.text()
    data = (await response.json())["data"]
    assert data["repeats"] is True
    assert data["schedule"] == {
        "frequency": "WEEKLY", "interval": 2, "end_type": "on", "count": None, "until": "2026-12-31T00:00:00Z",
        "by_day": ["TU", "TH"], "by_month": [], "by_month_day": [], "by_set_position": [],
    }  # fmt: skip
    stored = await store.events.get(GUILD, data["id"])
    assert stored.recurrence.rrule_text() == "FREQ=WEEKLY;INTERVAL=2;UNTIL=20261231T000000Z;BYDAY=TU,TH"
    stopped = (await (await writer.patch(f"/v2/events/{data['id']}", {"repeats": False})).json())["data"]
    assert stopped["repeats"] is False and "schedule" not in stopped


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"repeats": True}, {"schedule": ["is required when repeats is true"]}),
        ({"repeats": True, "schedule": {"frequency": "HOURLY"}}, {"schedule.frequency"}),
        ({"repeats": True, "schedule": {"frequency": "DAILY", "end_type": "on"}}, {"schedule.until"}),
        ({"repeats": True, "schedule": {"frequency": "DAILY", "end_type": "after"}}, {"schedule.count"}),
        ({"repeats": True, "schedule": {"frequency": "DAILY", "interval": 0}}, {"schedule.interval"}),
        ({"repeats": True, "schedule": {"frequency": "DAILY", "by_day": ["XX"]}}, {"schedule.by_day"}),
        ({"repeats": True, "schedule": "weekly"}, {"schedule"}),
        ({"starts": "2026-13-01T00:00:00Z"}, {"starts"}),
        ({"starts": "10000-01-01T00:00:00Z"}, {"starts"}),
        ({"starts": None}, {"starts"}),
        ({"name": 5}, {"name"}),
        ({"timezone": "Mars/Olympus"}, {"timezone"}),
        ({"author_id": -1}, {"author_id"}),
        ({"registration_deadline": "2026-04-01T00:00:00Z"}, {"registration_deadline"}),
    ],
)
async def test_invalid_events_are_422_naming_the_field(writer, fields, errors):
    response = await writer.post("/v2/events", {**event(), **fields})
    assert response.status == 422
    body = await response.json()
    if isinstance(errors, dict):
        assert body["errors"] == errors
    else:
        assert set(body["errors"]) == errors, body


async def test_all_day_events_take_dates_and_the_last_day_is_included(writer):
    body = {"name": "Camp", "all_day": True, "starts": "2026-07-10", "ends": "2026-07-12", "timezone": "Europe/Berlin"}
    data = (await (await writer.post("/v2/events", body)).json())["data"]
    assert (data["starts"], data["ends"]) == ("2026-07-09T22:00:00Z", "2026-07-12T22:00:00Z")


# ---- batches


async def test_a_batch_is_all_or_nothing(writer, store):
    response = await writer.post(
        "/v2/events/batch", {"resources": [event(1), {"name": "No start"}, event(3, url="nope"), "text"]}
    )
    assert response.status == 422
    assert set((await response.json())["errors"]) == {"resources.1.starts", "resources.2.url", "resources.3"}
    assert (await store.events.page(GUILD))[1] == 0
    assert await store.calendars.list(GUILD) == []  # not even the default calendar was made
    assert await store.sync.take() == []


async def test_a_batch_holds_one_to_a_hundred(writer, store):
    response = await writer.post("/v2/events/batch", {"resources": [event(n % 28 + 1) for n in range(100)]})
    assert response.status == 200
    assert len((await response.json())["data"]) == 100
    for body, message in [
        ({"resources": [event()] * 101}, "holds 101; a batch holds at most 100"),
        ({"resources": []}, "must not be empty"),
        ({"resources": {"1": event()}}, "must be a list"),
        ({}, "is required"),
    ]:
        response = await writer.post("/v2/events/batch", body)
        assert response.status == 422
        assert (await response.json())["errors"] == {"resources": [message]}
    assert (await store.events.page(GUILD))[1] == 100


async def test_patch_batch_changes_events_by_id_all_or_nothing(writer, store):
    created = (await (await writer.post("/v2/events/batch", {"resources": [event(1), event(2)]})).json())["data"]
    a, b = (str(e["id"]) for e in created)
    response = await writer.patch("/v2/events/batch", {"resources": {a: {"name": "A"}, "999": {"name": "Z"}}})
    assert response.status == 422
    assert (await response.json())["errors"] == {"resources.999": ["there is no event '999' on this server"]}
    response = await writer.patch("/v2/events/batch", {"resources": {a: {"name": "A"}, b: {"starts": "soon"}}})
    assert set((await response.json())["errors"]) == {f"resources.{b}.starts"}
    assert [e.name for e in (await store.events.page(GUILD))[0]] == ["Event 1", "Event 2"]

    response = await writer.patch(
        "/v1/events/batch?include=calendar", {"resources": {a: {"name": "A"}, b: {"location": "B"}}}
    )
    assert response.status == 200
    data = (await response.json())["data"]
    assert [(e["name"], e["location"]) for e in data] == [("A", ""), ("Event 2", "B")]
    assert data[0]["calendar"]["name"] == "General"


async def test_delete_batch_deletes_by_id_all_or_nothing(writer, store):
    created = (await (await writer.post("/v2/events/batch", {"resources": [event(1), event(2)]})).json())["data"]
    ids = [e["id"] for e in created]
    for body, path in [
        ({"resources": [ids[0], 999]}, "resources.1"),
        ({"resources": [ids[0], "x"]}, "resources.1"),
        ({"resources": [ids[0], ids[0]]}, "resources.1"),
    ]:
        response = await writer.delete("/v2/events/batch", body)
        assert response.status == 422 and set((await response.json())["errors"]) == {path}
    assert (await store.events.page(GUILD))[1] == 2
    response = await writer.delete("/v2/events/batch", {"resources": [str(ids[1]), ids[0]]})
    assert [e["id"] for e in (await response.json())["data"]] == [ids[1], ids[0]]
    assert (await store.events.page(GUILD))[1] == 0


# ---- pages


async def test_lists_paginate_with_links_and_meta(writer):
    await writer.post("/v2/events/batch", {"resources": [event(n) for n in range(1, 21)]})
    response = await writer.get("/v2/events?limit=7&page=2")
    body = await response.json()
    assert [e["name"] for e in body["data"]] == [f"Event {n}" for n in range(8, 15)]
    meta = body["meta"]
    assert (meta["current_page"], meta["last_page"], meta["per_page"], meta["total"]) == (2, 3, 7, 20)
    assert (meta["from"], meta["to"]) == (8, 14) and meta["path"].endswith("/v2/events")
    links = body["links"]
    assert links["prev"].endswith("page=1") and links["next"].endswith("page=3") and "limit=7" in links["first"]
    last = await (await writer.get("/v2/events?limit=7&page=3")).json()
    assert len(last["data"]) == 6 and last["links"]["next"] is None
    beyond = await (await writer.get("/v2/events?limit=7&page=9")).json()
    assert beyond["data"] == [] and beyond["meta"]["from"] is None
    default = await (await writer.get("/v2/events")).json()
    assert default["meta"]["per_page"] == 15 and len(default["data"]) == 15
    for query in ("limit=101", "limit=0", "page=0", "page=x", "calendar_id=x"):
        response = await writer.get(f"/v2/events?{query}")
        assert response.status == 422, query


async def test_lists_filter_by_calendar(writer, store, calendar):
    other = await store.calendars.create(Calendar(guild_id=GUILD, name="Other"))
    await writer.post(
        "/v2/events/batch", {"resources": [event(1, calendar_id=calendar.id), event(2, calendar_id=other.id)]}
    )
    body = await (await writer.get(f"/v2/events?calendar_id={calendar.id}")).json()
    assert [e["name"] for e in body["data"]] == ["Event 1"]


async def test_links_use_the_public_url(tmp_path, store):
    config = api_config(tmp_path, '[api]\npublic_url = "https://cal.example.org/"\n')
    async with TestClient(TestServer(create_app(store, config))) as client:
        _token, text = await store.tokens.create(GUILD)
        body = await (await Caller(client, text).get("/v1/events?limit=5")).json()
    assert body["links"]["first"] == "https://cal.example.org/v1/events?limit=5&page=1"
    assert body["meta"]["path"] == "https://cal.example.org/v1/events"


async def test_meta_links_are_laravels(writer):
    await writer.post("/v2/events/batch", {"resources": [event(n) for n in range(1, 21)]})
    body = await (await writer.get("/v2/events?limit=7&page=2")).json()
    first, *pages, last = body["meta"]["links"]
    assert first == {"url": body["links"]["prev"], "label": "&laquo; Previous", "active": False}
    assert last == {"url": body["links"]["next"], "label": "Next &raquo;", "active": False}
    assert [(p["label"], p["active"]) for p in pages] == [("1", False), ("2", True), ("3", False)]
    assert pages[2]["url"] == body["links"]["last"]
    first_page = await (await writer.get("/v2/events?limit=7")).json()
    assert first_page["meta"]["links"][0] == {"url": None, "label": "&laquo; Previous", "active": False}


@pytest.mark.parametrize(
    ("page", "shown"),
    [
        (1, [1, 2, 3, 4, 5, 6, 7, 8, None, 19, 20]),
        (10, [1, 2, None, 7, 8, 9, 10, 11, 12, 13, None, 19, 20]),
        (20, [1, 2, None, 12, 13, 14, 15, 16, 17, 18, 19, 20]),
    ],
)
def test_many_pages_are_windowed_as_laravel_does(page, shown):
    assert page_window(page, 20) == shown
    assert page_window(page if page <= 13 else 13, 13) == list(range(1, 14))  # few pages: all of them


def ignored(answer: dict) -> list[str]:
    """The answer's warnings about fields it ignored (the others say the calendar has no channel for cards)."""
    return [w for w in answer.get("warnings", []) if w.startswith("Ignored")]


async def test_a_field_events_do_not_have_is_named_in_the_answers_warnings(writer, store, calendar):
    response = await writer.post("/v2/events", event(calendar_id=calendar.id, colour="RED", nmae="Typo"))
    assert response.status == 201
    body = await response.json()
    assert ignored(body) == ["Ignored `colour`, `nmae`: events have no such field, so nothing of it was stored."]
    assert (await store.events.get(GUILD, body["data"]["id"])).color.name != "RED"
    # A resource sent back as it was read (with ?include=) warns of nothing: every field is the event's own.
    read = await (await writer.get(f"/v2/events/{body['data']['id']}?include=calendar,author,schedule,tags")).json()
    again = await writer.put(f"/v2/events/{body['data']['id']}", {**read["data"], "name": "Renamed"})
    assert again.status == 200 and ignored(await again.json()) == []
    # In a batch, each field is named by its place.
    batch = {"resources": {str(body["data"]["id"]): {"name": "Again", "startz": "2026-03-05T18:00:00Z"}}}
    patched = await (await writer.patch("/v2/events/batch", batch)).json()
    assert ignored(patched) == [
        f"Ignored `resources.{body['data']['id']}.startz`: events have no such field, so nothing of it was stored."
    ]
