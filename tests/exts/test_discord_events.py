"""Discord's Events tab, driven through SimCord: calbot's events mirrored there, "Interested" counted as an
answer, events made there brought into calbot (bot/exts/native.py). Series mirrored by Discord's own
recurrence rule are tested against the process stand-in (tests/test_discord_events.py): SimCord does not
model recurrence_rule."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.native import read_marker

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

    await world.admin.slash(world.general, "event edit", event="1", name="Raid night", start="tomorrow 20:00")
    await world.env.advance_time(PASS)
    [edited] = natives(world)
    assert edited.id == native.id and edited.name == "Raid night"
    assert datetime.fromisoformat(edited.scheduled_start_time) == datetime(2026, 1, 2, 20, tzinfo=UTC)

    await world.admin.slash(world.general, "event delete", event="1")
    await world.env.advance_time(PASS)
    assert natives(world) == []
