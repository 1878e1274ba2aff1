"""What people type is read the way they mean it, and every reply says how it was read.

SimCord's clock: Thursday 2026-01-01 00:00 UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.errors import InvalidField


def ts(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


async def test_a_zone_abbreviation_after_the_time_is_read_there_and_said(world):
    res = await world.admin.slash(world.general, "event create", name="Raid", start="2026-01-02 6pm EST")
    text = res.response.content
    assert f"<t:{ts(2026, 1, 2, 23)}:F>" in text  # 18:00 in New York is 23:00 UTC in January
    assert "EST read as America/New_York (US Eastern time)" in text


async def test_an_ambiguous_abbreviation_says_which_was_chosen(world):
    res = await world.admin.slash(world.general, "event create", name="Standup", start="2026-03-02 09:00 IST")
    text = res.response.content
    assert f"<t:{ts(2026, 3, 2, 3, 30)}:F>" in text  # India, UTC+5:30
    assert "IST read as Asia/Kolkata" in text and "Irish Standard Time (Europe/Dublin)" in text


async def test_offsets_and_calbots_own_echo_format_parse(world):
    res = await world.admin.slash(world.general, "event create", name="A", start="2026-02-01 18:00 UTC+2")
    assert f"<t:{ts(2026, 2, 1, 16)}:F>" in res.response.content
    assert "read at UTC+2" in res.response.content

    first = await world.admin.slash(world.general, "event create", name="B", start="2026-12-24 18:00 CET")
    echoed = first.response.content.split("read as `", 1)[1].split("`", 1)[0]
    assert echoed == "2026-12-24 17:00 UTC"  # the guild's zone
    again = await world.admin.slash(world.general, "event create", name="C", start="2026-12-24 18:00 Europe/Berlin")
    assert f"<t:{ts(2026, 12, 24, 17)}:F>" in again.response.content
    back = await world.admin.slash(world.general, "event create", name="D", start=echoed)
    assert f"<t:{ts(2026, 12, 24, 17)}:F>" in back.response.content


async def test_est_and_pst_are_zones_and_autocomplete_puts_them_first(world):
    choices = await world.admin.autocomplete(world.general, "settings timezone", "timezone", "EST")
    assert choices[0] == {"name": "EST · US Eastern time (America/New_York)", "value": "America/New_York"}
    choices = await world.admin.autocomplete(world.general, "settings timezone", "timezone", "pst")
    assert choices[0]["value"] == "America/Los_Angeles"

    res = await world.admin.slash(world.general, "settings timezone", timezone="PST")
    assert "read in **America/Los_Angeles**" in res.response.content
    assert "PST read as America/Los_Angeles (US Pacific time)" in res.response.content
    offset = await world.admin.slash(world.general, "settings timezone", timezone="UTC+2")
    assert "read in **Etc/GMT-2**" in offset.response.content and "fixed offset" in offset.response.content


async def test_everyday_reminder_intervals_are_accepted_and_echoed_in_words(world):
    res = await world.admin.slash(
        world.general, "event create", name="Raid", start="tomorrow 18:00", reminders="1 day, 90 minutes"
    )
    assert "Reminders: 1 hour 30 minutes before, 1 day before · in the event's channel." in res.response.content
    assert "pt1h30m" not in res.response.content and "discord_public" not in res.response.content

    edited = await world.admin.slash(world.general, "event edit", event="1", reminders="2h30m", channels="private")
    assert "Reminders: 2 hours 30 minutes before · by DM to those going." in edited.response.content


async def test_ambiguous_numeric_dates_show_both_readings_and_the_setting(world):
    res = await world.admin.slash(world.general, "event create", name="A", start="03/04 18:00")
    assert "read day/month as 3 April (as month/day it is 4 March" in res.response.content
    assert "/settings date-order" in res.response.content

    refused = await world.admin.slash(world.general, "event create", name="B", start="12/24 6pm")
    text = world.refused(refused, InvalidField, "is not a date read day/month")
    assert "as month/day it is 24 December" in text and "/settings date-order" in text

    await world.admin.slash(world.general, "settings date-order", order="MDY")
    accepted = await world.admin.slash(world.general, "event create", name="C", start="12/24 6pm")
    assert f"<t:{ts(2026, 12, 24, 18)}:F>" in accepted.response.content
