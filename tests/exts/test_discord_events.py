"""Discord's Events tab, driven through SimCord: calbot's events mirrored there, "Interested" counted as an
answer, events made there brought into calbot (bot/exts/native.py). Series mirrored by Discord's own
recurrence rule are tested against the process stand-in (tests/test_discord_events.py): SimCord does not
model recurrence_rule."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import load_config
from bot.domain.models import Event
from bot.domain.native import read_marker
from tests.channels import HttpReceiver
from tests.conftest import QUIET_SYNC, write_config

PASS = 5  # seconds of virtual time for a pass of the mirror to run


def natives(world) -> list:
    guild = world.env.backend.get_guild(world.guild.id)
    return sorted(guild.scheduled_events.values(), key=lambda e: e.scheduled_start_time)


async def mirrored_calendar(world, name: str = "General") -> None:
    await world.admin.slash(world.general, "calendar create", name=name)
    res = await world.admin.slash(world.general, "calendar edit", calendar=name, discord_events=True)
    assert "Events tab" in res.response.content, res.response.content


async def test_an_event_appears_in_the_tab_follows_its_edits_and_goes_when_deleted(world):
    await mirrored_calendar(world)
    await world.admin.slash(
        world.general, "event create", name="Raid", start="tomorrow 18:00", calendar="General", location="The nether"
    )
    await world.env.advance_time(PASS)
    [native] = natives(world)
    assert native.name == "Raid"
    assert native.entity_type == 3 and native.entity_metadata == {"location": "The nether"}
    assert datetime.fromisoformat(native.scheduled_start_time) == datetime(2026, 1, 2, 18, tzinfo=UTC)
    assert datetime.fromisoformat(native.scheduled_end_time) == datetime(2026, 1, 2, 19, tzinfo=UTC)
    assert read_marker(native.description) == (1, 0)
    await world.env.advance_time(2 * 3600)  # two hourly passes: nothing differs, so nothing is written
    assert [r.method for r in world.env.http_requests if "/scheduled-events" in r.path].count("PATCH") == 0

    await world.admin.slash(world.general, "event edit", event="1", name="Raid night", start="tomorrow 20:00")
    await world.env.advance_time(PASS)
    [edited] = natives(world)
    assert edited.id == native.id and edited.name == "Raid night"
    assert datetime.fromisoformat(edited.scheduled_start_time) == datetime(2026, 1, 2, 20, tzinfo=UTC)

    # An edit made to it in the tab is put back: calbot is the source of truth.
    world.env.backend.edit_scheduled_event(world.guild.id, native.id, {"name": "Renamed in the tab"})
    await world.env.advance_time(PASS)
    assert natives(world)[0].name == "Raid night"

    await world.admin.slash(world.general, "event delete", event="1")
    await world.env.advance_time(PASS)
    assert natives(world) == []


async def attendees(world, event_id: int = 1, key: int = 0) -> dict[int, str]:
    return {a.user_id: a.status for a in await world.bot.store.attendees.list(world.guild.id, event_id, key)}


async def test_interested_in_the_tab_is_a_maybe_that_leaves_going_and_the_waitlist_alone(world):
    await mirrored_calendar(world)
    await world.admin.slash(
        world.general, "event create", name="Raid", start="tomorrow 18:00", calendar="General", capacity=1
    )
    await world.env.advance_time(PASS)
    [native] = natives(world)
    await world.bob.slash(world.general, "event rsvp", event="1", status="going")
    backend = world.env.backend

    # alice is not in discord.py's member cache (no members intent): the raw payload still counts.
    assert world.bot.get_user(world.alice.id) is None
    backend.set_scheduled_event_subscription(world.guild.id, native.id, world.alice.id, True)
    backend.set_scheduled_event_subscription(world.guild.id, native.id, world.bob.id, True)
    await world.env.advance_time(1)
    assert await attendees(world) == {world.bob.id: "going", world.alice.id: "interested"}  # bob's answer stands
    res = await world.admin.slash(world.general, "event attendees", event="1")
    lines = res.response.embeds[0].description.splitlines()
    assert lines[lines.index("**Going (1/1)**") + 1] == f"<@{world.bob.id}>"
    assert lines[lines.index("**Maybe (1)**") + 1] == f"<@{world.alice.id}>"

    backend.set_scheduled_event_subscription(world.guild.id, native.id, world.alice.id, False)
    backend.set_scheduled_event_subscription(world.guild.id, native.id, world.bob.id, False)
    await world.env.advance_time(1)
    assert await attendees(world) == {world.bob.id: "going"}  # only the answer the tab gave is taken back


async def test_a_members_own_reminder_comes_and_goes_with_interested(world):
    await mirrored_calendar(world)
    await world.alice.slash(world.general, "me reminders", intervals="2h", channels="dm")
    await world.admin.slash(world.general, "event create", name="Raid", start="tomorrow 18:00", calendar="General",
                            reminders="pt15m", channels="both")  # fmt: skip
    await world.env.advance_time(PASS)
    [native] = natives(world)

    async def planned() -> set[tuple[str, str]]:
        return {(r.interval, r.channel) for r in await world.bot.store.reminders.for_event(world.guild.id, 1)
                if r.state == "pending"}  # fmt: skip

    assert ("pt2h", "discord_private") not in await planned()
    world.env.backend.set_scheduled_event_subscription(world.guild.id, native.id, world.alice.id, True)
    await world.env.advance_time(1)
    assert ("pt2h", "discord_private") in await planned()  # alice is a maybe: her own 2 hours before
    world.env.backend.set_scheduled_event_subscription(world.guild.id, native.id, world.alice.id, False)
    await world.env.advance_time(1)
    assert ("pt2h", "discord_private") not in await planned()  # taken back: no wake-up left for nobody


async def test_interest_shown_while_calbot_was_down_is_caught_up_at_start_up(world):
    await mirrored_calendar(world)
    await world.admin.slash(world.general, "event create", name="Raid", start="tomorrow 18:00", calendar="General")
    await world.env.advance_time(PASS)
    [native] = natives(world)
    await world.stop()
    world.env.backend.get_scheduled_event(world.guild.id, native.id).user_ids.add(world.alice.id)  # no gateway
    await world.restart()
    await world.env.advance_time(PASS)
    assert await attendees(world) == {world.alice.id: "interested"}
    assert [n.id for n in natives(world)] == [native.id]  # the restart's pass made no second one


async def test_events_made_in_the_tab_become_calbot_events_and_follow_it(world):
    await world.admin.slash(world.general, "settings channel", channel=world.events)
    await mirrored_calendar(world, "Community")
    res = await world.admin.slash(world.general, "settings discord-events", **{"import": "Community"})
    assert "become events of **Community**" in res.response.content
    backend = world.env.backend
    made = backend.create_scheduled_event(
        world.guild.id, name="Picnic", entity_type=3, creator_id=world.alice.id,
        scheduled_start_time="2026-01-03T12:00:00+00:00", scheduled_end_time="2026-01-03T15:00:00+00:00",
        entity_metadata={"location": "The park"}, description="Bring food",
    )  # fmt: skip
    await world.env.advance_time(PASS)
    event = await world.bot.store.events.get(world.guild.id, 1)
    assert (event.name, event.location, event.description) == ("Picnic", "The park", "Bring food")
    assert (event.starts, event.ends) == (datetime(2026, 1, 3, 12, tzinfo=UTC), datetime(2026, 1, 3, 15, tzinfo=UTC))
    assert event.card_message_id is not None  # its card, like any event
    assert [n.id for n in natives(world)] == [made.id]  # no mirror of the import: the member's own stays

    backend.edit_scheduled_event(world.guild.id, made.id, {"name": "Big picnic"})
    await world.env.advance_time(1)
    assert (await world.bot.store.events.get(world.guild.id, 1)).name == "Big picnic"

    # Edited in calbot, the member's own scheduled event follows (unmarked: it stays theirs).
    await world.admin.slash(world.general, "event edit", event="1", start="2026-01-03 13:00")
    await world.env.advance_time(PASS)
    [native] = natives(world)
    assert (native.id, native.name) == (made.id, "Big picnic")
    assert datetime.fromisoformat(native.scheduled_start_time) == datetime(2026, 1, 3, 13, tzinfo=UTC)
    assert native.description == "Bring food" and read_marker(native.description) is None
    await world.env.advance_time(3600)  # a pass later: each side as the other left it, nothing undone
    assert (await world.bot.store.events.get(world.guild.id, 1)).starts == datetime(2026, 1, 3, 13, tzinfo=UTC)

    # Deleted in calbot, it goes from the tab and is not brought in again.
    second = backend.create_scheduled_event(
        world.guild.id, name="Quiz", entity_type=3, creator_id=world.alice.id,
        scheduled_start_time="2026-01-04T12:00:00+00:00", scheduled_end_time="2026-01-04T13:00:00+00:00",
        entity_metadata={"location": "The pub"},
    )  # fmt: skip
    await world.env.advance_time(PASS)
    assert (await world.bot.store.events.get(world.guild.id, 2)).name == "Quiz"
    await world.admin.slash(world.general, "event delete", event="2")
    await world.env.advance_time(PASS)
    assert second.id not in [n.id for n in natives(world)]
    assert (await world.bot.store.events.upcoming(world.guild.id, world.bot.now()))[1] == 1  # Picnic alone

    backend.edit_scheduled_event(world.guild.id, made.id, {"status": 4})  # cancelled in the tab
    await world.env.advance_time(1)
    assert (await world.bot.store.events.upcoming(world.guild.id, world.bot.now()))[1] == 0


async def test_a_guild_with_150_events_shows_the_nearest_100_and_the_rest_as_earlier_ones_pass(world):
    await mirrored_calendar(world)
    store = world.bot.store
    calendar = await store.calendars.find(world.guild.id, "General")
    first = datetime(2026, 1, 1, 1, tzinfo=UTC)
    await store.events.create_many([
        Event(guild_id=world.guild.id, calendar_id=calendar.id, name=f"Match {n}", starts=first + timedelta(hours=n),
              ends=first + timedelta(hours=n, minutes=30))
        for n in range(150)
    ])  # fmt: skip
    await store.native.mark(world.guild.id)  # as the follow-up of a write does
    world.bot.dispatch("native_marked", world.guild.id)
    await world.env.advance_time(PASS)
    shown = natives(world)
    assert [n.name for n in shown] == [f"Match {n}" for n in range(100)]
    res = await world.admin.slash(world.general, "settings show")
    tab = next(f.value for f in res.response.embeds[0].fields if f.name == "Discord's Events tab")
    assert "Not shown: 50 of **General**" in tab and "100 scheduled events per server" in tab
    res = await world.admin.slash(world.general, "calendar show", calendar="General")
    tab = next(f.value for f in res.response.embeds[0].fields if f.name == "Discord's Events tab")
    assert tab.startswith("Its events are shown there.\n50 not shown: Discord allows 100 scheduled events")

    # Match 0 ends at 01:30: its place goes to Match 100.
    await world.env.advance_time((first + timedelta(minutes=31) - world.bot.now()).total_seconds() + PASS)
    assert [n.name for n in natives(world)] == [f"Match {n}" for n in range(1, 101)]  # the one over is gone
    assert len({read_marker(n.description) for n in natives(world)}) == 100  # none doubled


async def test_without_manage_events_the_refusal_is_shown_once_and_not_retried(world):
    world.env.inject_error("POST", "/guilds/*/scheduled-events", status=403, code=50013,
                           message="Missing Permissions", times=None)  # fmt: skip
    await mirrored_calendar(world)
    await world.admin.slash(world.general, "event create", name="Raid", start="tomorrow 18:00", calendar="General")
    await world.env.advance_time(PASS)
    await world.env.advance_time(3600 * 2)  # passes would have come by now
    posts = [r for r in world.env.http_requests if r.method == "POST" and r.path.endswith("/scheduled-events")]
    assert len(posts) == 1
    res = await world.admin.slash(world.general, "notifications")
    attention = res.response.embeds[0].description
    assert "Discord's Events tab" in attention and "Manage Events" in attention
    res = await world.admin.slash(world.general, "settings show")
    tab = next(f.value for f in res.response.embeds[0].fields if f.name == "Discord's Events tab")
    assert "lacks the Manage Events permission" in tab
    res = await world.admin.slash(world.general, "calendar show", calendar="General")
    tab = next(f.value for f in res.response.embeds[0].fields if f.name == "Discord's Events tab")
    assert "lacks the Manage Events permission" in tab


@pytest.fixture
def http():
    server = HttpReceiver()
    server.start()
    yield server
    server.stop()


def scheduled_posts(world) -> list[dict]:
    return [r.json for r in world.env.http_requests if r.method == "POST" and r.path.endswith("/scheduled-events")]


async def test_an_image_becomes_the_cover_fetched_behind_the_webhook_fence(world, http, tmp_path):
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )
    http.files["/cover.png"] = ("image/png", png)
    await mirrored_calendar(world)
    await world.admin.slash(world.general, "event create", name="Raid", start="tomorrow 18:00", calendar="General",
                            image=http.url("/cover.png"))  # fmt: skip
    await world.env.advance_time(PASS)
    [sent] = scheduled_posts(world)
    assert "image" not in sent  # 127.0.0.1 is a private address: refused by default, the event shown without
    assert len(natives(world)) == 1

    world.config = load_config(
        str(write_config(tmp_path, QUIET_SYNC + "[broadcast]\nallow_private_targets = true\n")),
        environ={"DISCORD_TOKEN": "t"},
    )
    await world.restart()  # a calbot whose operator allows private addresses (as the webhooks' own tests do)
    await world.admin.slash(world.general, "event create", name="Raid 2", start="tomorrow 19:00", calendar="General",
                            image=http.url("/cover.png"))  # fmt: skip
    await world.env.advance_time(PASS)
    assert scheduled_posts(world)[-1]["image"] == "data:image/png;base64," + base64.b64encode(png).decode()


async def test_an_event_in_a_voice_channel_is_a_voice_event_there(world):
    voice = world.guild.create_voice_channel("Raid voice")
    await mirrored_calendar(world)
    await world.admin.slash(world.general, "event create", name="Raid", start="tomorrow 18:00", calendar="General",
                            location=f"<#{voice.id}>")  # fmt: skip
    await world.env.advance_time(PASS)
    [native] = natives(world)
    assert (native.entity_type, native.channel_id, native.entity_metadata) == (2, voice.id, None)


async def test_a_series_discord_cannot_repeat_rolls_on_through_the_window(world):
    await mirrored_calendar(world)
    await world.admin.slash(world.general, "event create", name="Training", start="2026-01-06 18:00",
                            repeat="FREQ=WEEKLY;BYDAY=TU,TH", calendar="General")  # fmt: skip
    await world.env.advance_time(PASS)
    starts = [datetime.fromisoformat(n.scheduled_start_time) for n in natives(world)]
    assert starts == [datetime(2026, 1, 6, 18, tzinfo=UTC)]  # the 7-day window from Thursday 1 January 00:00
    assert [n.name for n in natives(world)] == ["Training"] and read_marker(natives(world)[0].description) == (
        1, int(datetime(2026, 1, 6, 18, tzinfo=UTC).timestamp()))  # fmt: skip

    await world.env.advance_time(18 * 3600 + PASS)  # Thursday 8 January 18:00 is 7 days ahead now
    starts = [datetime.fromisoformat(n.scheduled_start_time) for n in natives(world)]
    assert starts == [datetime(2026, 1, 6, 18, tzinfo=UTC), datetime(2026, 1, 8, 18, tzinfo=UTC)]
