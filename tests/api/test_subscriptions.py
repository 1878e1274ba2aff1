"""The API's calendar fields for an outside ICS feed (`subscription_url`, `subscription_every_minutes`, and the
read-only `subscription`), the same rules as `/calendar subscribe`; and the API's writes of a subscribed event
refused with a pointer to the source, as the slash commands' are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.models import GuildSettings
from bot.reminders.feeds import FeedPoller
from tests.api.conftest import GUILD
from tests.feeds import OPEN, FeedServer, vcalendar

FEED = "https://calendar.example.org/private-4f1c9e/basic.ics"


async def test_a_calendar_follows_a_feed_through_the_api(writer, store):
    response = await writer.post(
        "/v2/calendars", {"name": "Club", "subscription_url": "webcal://10.0.0.1/x.ics"}
    )  # the fence, as for /calendar subscribe
    body = await response.json()
    assert response.status == 422 and "not public" in body["errors"]["subscription_url"][0]
    assert await store.calendars.list(GUILD) == []  # refused before anything was written

    response = await writer.post("/v2/calendars", {"name": "Club", "subscription_every_minutes": 30})
    errors = (await response.json())["errors"]
    assert response.status == 422 and "give subscription_url too" in errors["subscription_every_minutes"][0]

    created = await writer.post("/v2/calendars", {"name": "Club"})
    calendar = (await created.json())["data"]
    assert calendar["subscription"] is None
    for bad, says in (("ftp://x/y", "https:// or webcal://"), ("https://u:p@x.org/c", "user name or password")):
        response = await writer.patch(f"/v2/calendars/{calendar['id']}", {"subscription_url": bad})
        assert response.status == 422 and says in (await response.json())["errors"]["subscription_url"][0]
    response = await writer.patch(f"/v2/calendars/{calendar['id']}", {"subscription_every_minutes": 4})
    assert response.status == 422

    stored = await store.subscriptions.subscribe(GUILD, calendar["id"], FEED, timedelta(hours=1), created_by=None)
    response = await writer.patch(f"/v2/calendars/{calendar['id']}", {"subscription_every_minutes": 120})
    shown = (await response.json())["data"]["subscription"]
    assert shown == {
        "url": "https://calendar.example.org/…",  # the path may be the feed's secret: never shown
        "every_minutes": 120,
        "last_poll": None,
        "last_result": None,
        "next_poll": shown["next_poll"],
        "paused": False,
    }
    assert FEED not in await (await writer.get("/v2/calendars")).text()
    assert (await store.subscriptions.get(GUILD, calendar["id"])).url == stored.url
    response = await writer.put(f"/v2/calendars/{calendar['id']}", {"subscription_url": None})
    assert (await response.json())["data"]["subscription"] is None
    assert await store.subscriptions.get(GUILD, calendar["id"]) is None


async def test_the_api_cannot_change_a_subscribed_event(writer, store, tmp_path):
    server = FeedServer().start()
    try:
        calendar = await store.calendars.get_or_create(GUILD, "Club")
        url = server.serve("/club.ics", vcalendar("UID:a@x\nDTSTART:20260301T180000Z\nSUMMARY:Quiz night"))
        await store.subscriptions.subscribe(GUILD, calendar.id, url, timedelta(minutes=15), created_by=None)

        async def settings(guild_id: int) -> GuildSettings:
            return GuildSettings(guild_id)

        poller = FeedPoller(store, OPEN, clock=lambda: datetime.now(UTC), settings=settings)  # the store's
        await poller.poll_due()
        await poller.stop()
    finally:
        server.stop()
    [event], _ = await store.events.page(GUILD)
    for method, path, body in (
        ("PATCH", f"/v2/events/{event.id}", {"name": "Ours"}),
        ("DELETE", f"/v2/events/{event.id}", None),
        ("PATCH", "/v2/events/batch", {"resources": {str(event.id): {"name": "Ours"}}}),
    ):
        response = await writer.request(method, path, json=body)
        answer = await response.json()
        assert response.status == 422, (path, answer)
        assert "change it at the source" in str(answer)
    assert (await store.events.get(GUILD, event.id)).name == "Quiz night"
