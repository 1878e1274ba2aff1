"""/event create, list, show, edit and delete, as members see them.

SimCord's clock stands at 2026-01-01T00:00Z, a Thursday, so "tomorrow 18:00" is 2026-01-02T18:00Z.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import InvalidField, NotFound
from bot.domain.models import Event
from bot.domain.permissions import NotAllowed

TOMORROW_18 = int(datetime(2026, 1, 2, 18, 0, tzinfo=UTC).timestamp())


async def create(world, **options):
    options.setdefault("name", "Raid")
    options.setdefault("start", "tomorrow 18:00")
    return await world.admin.slash(world.general, "event create", **options)


async def test_first_event_goes_into_general_and_its_card_is_posted(world):
    res = await create(world, location="The nether", description="Bring potions")
    assert res.ephemeral
    text = res.response.content
    assert "Created **Raid** (`#1`) in **General**." in text
    assert f"<t:{TOMORROW_18}:F>" in text and "read as `2026-01-02 18:00 UTC`" in text

    card = world.general.last_message  # no calendar or default channel: where the command ran
    embed = card.embeds[0]
    assert embed.title == "Raid"
    assert embed.description == "Bring potions"
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Starts"] == f"<t:{TOMORROW_18}:F> (<t:{TOMORROW_18}:R>)"
    assert fields["Location"] == "The nether"
    assert fields["Calendar"] == "General"
    assert embed.footer.text == "Event #1 · UTC"
    listing = await world.alice.slash(world.general, "calendar list")
    assert listing.response.embeds[0].fields[0].name == "General"


async def test_card_goes_to_the_calendars_channel_in_its_colour(world):
    await world.admin.slash(world.general, "calendar create", name="Raids", color="RED", channel=world.events)
    res = await create(world, calendar="Raids")
    assert f"card is in <#{world.events.id}>" in res.response.content
    card = world.events.last_message
    assert card.embeds[0].colour.value == 0xDC2127
    own_colour = await create(world, name="Green raid", calendar="Raids", color="GREEN")
    assert own_colour.ephemeral
    assert world.events.last_message.embeds[0].colour.value == 0x51B749


async def test_card_goes_to_the_default_channel_when_the_calendar_has_none(world):
    await world.admin.slash(world.general, "settings channel", channel=world.events)
    await create(world)
    assert world.events.last_message.embeds[0].title == "Raid"


async def test_times_are_read_in_the_guild_zone_and_echoed(world):
    await world.admin.slash(world.general, "settings timezone", timezone="Europe/Berlin")
    res = await create(world, end="tomorrow 20:30")
    instant = int(datetime(2026, 1, 2, 17, 0, tzinfo=UTC).timestamp())
    assert f"<t:{instant}:F>" in res.response.content
    assert "read as `2026-01-02 18:00 Europe/Berlin`" in res.response.content
    assert "(`2026-01-02 20:30 Europe/Berlin`)" in res.response.content


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-03-01T18:00:00+05:30", datetime(2026, 3, 1, 12, 30, tzinfo=UTC)),
        ("2026-12-24 18:00", datetime(2026, 12, 24, 18, 0, tzinfo=UTC)),
        ("friday 8pm", datetime(2026, 1, 2, 20, 0, tzinfo=UTC)),
        ("in 2 hours", datetime(2026, 1, 1, 2, 0, tzinfo=UTC)),
    ],
)
async def test_start_accepts_iso_and_everyday_forms(world, start, expected):
    res = await create(world, start=start)
    assert f"<t:{int(expected.timestamp())}:F>" in res.response.content


async def test_duration_sets_the_end(world):
    await create(world, duration="1h30m")
    fields = {f.name: f.value for f in world.general.last_message.embeds[0].fields}
    end = TOMORROW_18 + 90 * 60
    assert fields["Ends"] == f"<t:{end}:F> (<t:{end}:R>)"


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"start": "blurgh"}, "`start`: could not read the date in 'blurgh'"),
        ({"start": "friday"}, "it has no time"),
        ({"start": "2025-12-31 10:00"}, "is in the past"),
        ({"end": "tomorrow 17:00"}, "`end`: must be after the start"),
        ({"end": "tomorrow 20:00", "duration": "2h"}, "either an end or a duration"),
        ({"duration": "forever"}, "`duration`: 'forever' is not a duration"),
        ({"reminders": "pt15m soon"}, "`reminders`: unknown interval 'soon'"),
        ({"reminders": "p5w"}, "`reminders`: 'p5w' is longer than four weeks"),
        ({"url": "example.com"}, "`url`: 'example.com' is not a web address"),
        ({"image": "ftp://x/y.png"}, "`image`"),
        ({"deadline": "tomorrow 19:00"}, "`deadline`: must not be after the event ends"),
        ({"name": "   "}, "`name`: must not be empty"),
    ],
)
async def test_bad_input_is_refused_naming_the_option_and_nothing_is_stored(world, options, says):
    res = await create(world, **options)
    world.refused(res, InvalidField, says)
    listing = await world.alice.slash(world.general, "event list")
    assert listing.response.embeds[0].description == "No events."
    assert world.general.last_message is None  # no card either


async def test_several_calendars_and_none_named_general_means_pick_one(world):
    await world.admin.slash(world.general, "calendar create", name="Raids")
    await world.admin.slash(world.general, "calendar create", name="Meetings")
    res = await create(world)
    world.refused(res, InvalidField, "several calendars (Meetings, Raids); pick one")


async def test_all_day_events_show_dates_not_times(world):
    await world.admin.slash(world.general, "settings timezone", timezone="America/New_York")
    res = await create(world, name="Holiday", start="2026-01-05", end="2026-01-07", all_day=True)
    assert "Mon 05 Jan to Wed 07 Jan 2026 (all day) in America/New_York" in res.response.content
    fields = {f.name: f.value for f in world.general.last_message.embeds[0].fields}
    assert fields["Starts"] == "Mon 05 Jan to Wed 07 Jan 2026 (all day)"
    assert "Ends" not in fields


async def test_editing_an_all_day_event_keeps_its_days(world):
    await create(world, name="Holiday", start="2026-01-05", end="2026-01-07", all_day=True)
    await world.admin.slash(world.general, "event edit", event="1", name="Long weekend")
    fields = {f.name: f.value for f in world.general.last_message.embeds[0].fields}
    assert fields["Starts"] == "Mon 05 Jan to Wed 07 Jan 2026 (all day)"


async def test_moving_an_all_day_event_across_a_dst_change_keeps_its_days(world):
    await world.admin.slash(world.general, "settings timezone", timezone="Europe/Berlin")
    await create(world, name="Trip", start="2026-03-27", end="2026-03-28", all_day=True)
    res = await world.admin.slash(world.general, "event edit", event="1", start="2026-03-28")  # over 29 March
    assert "Sat 28 Mar to Sun 29 Mar 2026 (all day)" in res.response.content


async def test_reminders_and_channels_default_from_settings_or_the_options(world):
    await create(world, name="Defaults")
    await create(world, name="Custom", reminders="P1D, pt15m", channels="both")
    defaults = (await world.alice.slash(world.general, "event show", event="Defaults")).response.embeds[0]
    custom = (await world.alice.slash(world.general, "event show", event="Custom")).response.embeds[0]
    shown, custom_shown = ({f.name: f.value for f in embed.fields} for embed in (defaults, custom))
    assert shown["Reminders"] == "15 minutes before · in the event's channel"
    assert custom_shown["Reminders"] == (
        "15 minutes before, 1 day before · by DM to those going, in the event's channel"
    )


async def test_show_lists_the_planned_reminders_with_when_and_where(world):
    await create(world, name="Raid", reminders="1 day, 15 minutes", channels="both")  # tomorrow 18:00 UTC
    start = int(datetime(2026, 1, 2, 18, tzinfo=UTC).timestamp())
    shown = (await world.alice.slash(world.general, "event show", event="Raid")).response.embeds[0]
    lines = {f.name: f.value for f in shown.fields}["Next reminders"].splitlines()
    day, quarter = start - 86400, start - 900
    assert lines == [
        f"<t:{day}:f> (<t:{day}:R>) · 1 day before · by DM to those going",
        f"<t:{day}:f> (<t:{day}:R>) · 1 day before · in <#{world.general.id}>",
        f"<t:{quarter}:f> (<t:{quarter}:R>) · 15 minutes before · by DM to those going",
        f"<t:{quarter}:f> (<t:{quarter}:R>) · 15 minutes before · in <#{world.general.id}>",
    ]


async def test_members_without_permission_cannot_create_edit_or_delete(world):
    await create(world)
    for command, options in (
        ("event create", {"name": "Mine", "start": "tomorrow 10:00"}),
        ("event edit", {"event": "1", "name": "Hijacked"}),
        ("event delete", {"event": "1"}),
    ):
        res = await world.alice.slash(world.general, command, **options)
        world.refused(res, NotAllowed, "Manage Server")
    shown = await world.alice.slash(world.general, "event show", event="1")
    assert shown.response.embeds[0].title == "Raid"


async def test_list_upcoming_month_and_date(world):
    await create(world, name="Tomorrow")
    await create(world, name="February", start="2026-02-10 12:00")
    await create(world, name="Soon", start="in 1 hour")
    upcoming = (await world.alice.slash(world.general, "event list")).response.embeds[0]
    assert upcoming.title == "Upcoming events"
    assert [line.split("**")[1] for line in upcoming.description.splitlines()] == ["Soon", "Tomorrow", "February"]
    assert upcoming.footer.text == "Page 1 of 1 · 3 events"

    month = (await world.alice.slash(world.general, "event list", month="2026-02")).response.embeds[0]
    assert month.title == "Events in February 2026"
    assert "**February**" in month.description and "Tomorrow" not in month.description

    day = (await world.alice.slash(world.general, "event list", date="2026-01-02")).response.embeds[0]
    assert day.title == "Events on Fri 02 Jan 2026"
    assert "**Tomorrow**" in day.description and "Soon" not in day.description

    by_word = (await world.alice.slash(world.general, "event list", date="tomorrow")).response.embeds[0]
    assert by_word.description == day.description


async def test_list_filters_by_calendar(world):
    await world.admin.slash(world.general, "calendar create", name="Raids")
    await world.admin.slash(world.general, "calendar create", name="Meetings")
    await create(world, name="Raid", calendar="Raids")
    await create(world, name="Standup", calendar="Meetings")
    listing = (await world.alice.slash(world.general, "event list", calendar="Meetings")).response.embeds[0]
    assert listing.title == "Upcoming events · Meetings"
    assert "Standup" in listing.description and "Raid" not in listing.description


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"month": "2026-13"}, "`month`: '2026-13' is not a month"),
        ({"month": "december"}, "write it as YYYY-MM"),
        ({"month": "2026-02", "date": "2026-02-01"}, "a month or a date, not both"),
        ({"date": "someday"}, "`date`: could not read"),
    ],
)
async def test_list_refuses_bad_ranges(world, options, says):
    world.refused(await world.alice.slash(world.general, "event list", **options), InvalidField, says)


async def test_long_lists_page_with_buttons(world):
    await create(world, name="Event 00")  # creates General
    store, guild_id = world.bot.store, world.guild.id
    calendar = (await store.calendars.list(guild_id))[0]
    for n in range(1, 12):
        await store.events.create(
            Event(
                guild_id=guild_id,
                calendar_id=calendar.id,
                name=f"Event {n:02}",
                starts=datetime(2026, 1, 3, tzinfo=UTC) + timedelta(hours=n),
            )
        )
    res = await world.alice.slash(world.general, "event list")
    first = res.response.embeds[0]
    assert first.footer.text == "Page 1 of 2 · 12 events"
    assert len(first.description.splitlines()) == 10

    await world.alice.click(res.response, label="Next")
    second = res.response.embeds[0]
    assert second.footer.text == "Page 2 of 2 · 12 events"
    assert [line.split("**")[1] for line in second.description.splitlines()] == ["Event 10", "Event 11"]

    await world.alice.click(res.response, label="Previous")
    assert res.response.embeds[0].description == first.description

    await world.env.advance_time(301)  # the buttons stop answering, so they are removed
    assert not res.response.components


async def test_show_has_details_and_a_link_to_the_card(world):
    await create(world, registration=False)
    res = await world.alice.slash(world.general, "event show", event="Raid")
    card = world.general.last_message
    assert res.response.content == f"Card: https://discord.com/channels/{world.guild.id}/{world.general.id}/{card.id}"
    fields = {f.name: f.value for f in res.response.embeds[0].fields}
    assert fields["Registration"] == "off"
    assert fields["Created by"] == f"<@{world.admin.id}>"


async def test_show_unknown_event_names_it(world):
    res = await world.alice.slash(world.general, "event show", event="404")
    world.refused(res, NotFound, "no event `404`")


async def test_event_autocomplete_lists_matches_with_their_date_and_id(world):
    await create(world, name="Raid night")
    await create(world, name="Meeting", start="2026-01-05 10:00")
    choices = await world.alice.autocomplete(world.general, "event show", "event", "raid")
    assert choices == [{"name": "Raid night · Fri 02 Jan 2026 18:00 · #1", "value": "#1"}]
    everything = await world.alice.autocomplete(world.general, "event show", "event", "")
    assert [c["value"] for c in everything] == ["#1", "#2"]


async def test_edit_updates_the_card_in_place_and_moving_keeps_the_length(world):
    await create(world, duration="2h", location="Hall")
    card = world.general.last_message
    res = await world.admin.slash(
        world.general, "event edit", event="1", name="Raid (moved)", start="tomorrow 20:00", location="-"
    )
    assert "Updated **Raid (moved)**" in res.response.content
    assert "read as `2026-01-02 20:00 UTC`" in res.response.content
    edited = world.general.history()[-1]
    assert edited.id == card.id
    fields = {f.name: f.value for f in edited.embeds[0].fields}
    assert edited.embeds[0].title == "Raid (moved)"
    assert "Location" not in fields
    new_end = TOMORROW_18 + 4 * 3600  # moved 2 h later, still 2 h long
    assert fields["Ends"].startswith(f"<t:{new_end}:F>")


async def test_edit_with_nothing_to_change_says_so(world):
    await create(world)
    res = await world.admin.slash(world.general, "event edit", event="1")
    assert "Nothing to change" in res.response.content


async def test_edit_refuses_an_end_before_the_start_and_keeps_the_event(world):
    await create(world)
    res = await world.admin.slash(world.general, "event edit", event="1", end="tomorrow 10:00")
    world.refused(res, InvalidField, "`end`: must be after the start")
    fields = {f.name for f in world.general.last_message.embeds[0].fields}
    assert "Ends" not in fields


async def test_delete_marks_the_card_cancelled(world):
    await create(world)
    res = await world.admin.slash(world.general, "event delete", event="1")
    assert "Deleted **Raid** (`#1`). Its card now says cancelled." in res.response.content
    card = world.general.last_message.embeds[0]
    assert card.title == "Cancelled: Raid"
    assert card.description.startswith("**This event was cancelled.**")
    world.refused(await world.alice.slash(world.general, "event show", event="1"), NotFound, "no event `1`")


async def test_a_card_that_cannot_be_posted_does_not_lose_the_event(world):
    await world.admin.slash(world.general, "calendar create", name="Raids", channel=world.events)
    world.env.inject_error("POST", f"/channels/{world.events.id}/messages", status=403, code=50013)
    res = await create(world, calendar="Raids")
    assert "Created **Raid**" in res.response.content
    assert f"could not post its card in <#{world.events.id}>" in res.response.content
    assert "Send Messages" in res.response.content
    listing = await world.alice.slash(world.general, "event list")
    assert "**Raid**" in listing.response.embeds[0].description


async def test_user_text_never_pings(world):
    role = world.guild.create_role("Raiders")
    res = await create(world, name=f"@everyone @here <@&{role.id}> raid", description="@everyone come")
    assert "@everyone" in res.response.content
    card_request = world.sent_json(world.general)[-1]
    assert card_request["allowed_mentions"] == {"parse": []}
    followups = [r for r in world.env.http_requests if r.path.startswith("/webhooks/")]
    assert all(r.json.get("allowed_mentions") == {"parse": []} for r in followups if r.json)


# ---- found in review: each of these once failed


async def test_a_long_error_still_reaches_the_member(world):
    for n in range(25):  # 25 calendars with 100-character names: the "pick one" list runs past 2000 characters
        await world.admin.slash(world.general, "calendar create", name=f"{n:02d}" + "x" * 98)
    res = await create(world)
    text = world.refused(res, InvalidField, "several calendars")
    assert len(text) <= 2000 and text.endswith("…")


@pytest.mark.parametrize(
    ("command", "options", "says"),
    [
        ("event list", {"month": "9999-12"}, "`month`: must be between the years 1970 and 9000"),
        ("event list", {"month": "0001-01"}, "`month`: must be between the years"),
        ("event list", {"date": "9999-12-31"}, "`date`: must be between the years"),
        ("event create", {"name": "Long", "start": "tomorrow 10:00", "duration": "99999999 days"}, "at most a year"),
        ("event create", {"name": "Far", "start": "9999-12-31", "all_day": True}, "`start`: must be between"),
    ],
)
async def test_dates_at_the_edges_are_refused_not_crashed(world, command, options, says):
    world.refused(await world.admin.slash(world.general, command, **options), InvalidField, says)


async def test_edits_read_times_in_the_events_own_zone(world):
    await world.admin.slash(world.general, "settings timezone", timezone="Europe/Berlin")
    await create(world, start="2030-03-01 18:00")
    await world.admin.slash(world.general, "settings timezone", timezone="America/New_York")
    res = await world.admin.slash(world.general, "event edit", event="1", start="2030-03-02 18:00")
    assert "read as `2030-03-02 18:00 Europe/Berlin`" in res.response.content


async def test_switching_to_all_day_with_a_new_start_lasts_one_day(world):
    await create(world, duration="2h")
    res = await world.admin.slash(world.general, "event edit", event="1", all_day=True, start="2026-01-10")
    assert "Sat 10 Jan 2026 (all day)" in res.response.content


async def test_moving_an_event_into_the_past_is_refused(world):
    await create(world)
    res = await world.admin.slash(world.general, "event edit", event="1", start="2020-01-01 10:00")
    world.refused(res, InvalidField, "is in the past")
    shown = await world.alice.slash(world.general, "event show", event="1")
    assert {f.name: f.value for f in shown.response.embeds[0].fields}["Starts"].startswith(f"<t:{TOMORROW_18}:F>")


async def test_the_registration_deadline_is_echoed(world):
    res = await create(world, deadline="tomorrow 12:00")
    deadline = int(datetime(2026, 1, 2, 12, 0, tzinfo=UTC).timestamp())
    assert f"Registration closes <t:{deadline}:F> (`2026-01-02 12:00 UTC`)." in res.response.content


async def test_an_exact_name_wins_over_names_that_contain_it(world):
    await create(world, name="Raid night")
    await create(world, name="Raid")
    await create(world, name="Raid 2")
    shown = await world.alice.slash(world.general, "event show", event="raid")
    assert shown.response.embeds[0].title == "Raid"
    world.refused(await world.alice.slash(world.general, "event show", event="²"), NotFound, "no event `²`")
    world.refused(await world.alice.slash(world.general, "event show", event="Rai"), InvalidField, "several events")


async def test_an_event_picked_from_the_list_is_that_event_even_if_another_is_named_like_its_id(world):
    await create(world, name="Raid")
    await create(world, name="1")  # an event named like the first one's id
    [picked] = await world.alice.autocomplete(world.general, "event show", "event", "raid")
    shown = await world.alice.slash(world.general, "event show", event=picked["value"])
    assert shown.response.embeds[0].title == "Raid"
