"""Repeating events as members see them. SimCord's clock starts at 2026-01-01T00:00Z, a Thursday."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.errors import InvalidField
from bot.domain.permissions import NotAllowed


def ts(*args) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


def lines_of(embed) -> list[str]:
    return embed.description.splitlines() if embed.description else []


async def weekly_raid(world, **options):
    await world.admin.slash(world.general, "settings timezone", timezone="Europe/Berlin")
    options = {"name": "Raid", "start": "2026-01-06 18:00", "repeat": "weekly", **options}  # a Tuesday
    res = await world.admin.slash(world.general, "event create", **options)
    assert "Created" in res.response.content, res.response.content
    return res


async def test_a_weekly_series_keeps_1800_berlin_in_winter_and_summer(world):
    res = await weekly_raid(world)
    assert "Repeats weekly on Tuesday at 18:00 (Europe/Berlin)." in res.response.content
    card = {f.name: f.value for f in world.general.last_message.embeds[0].fields}
    assert card["Next"].startswith(f"<t:{ts(2026, 1, 6, 17)}:F>")
    assert card["Repeats"] == "weekly on Tuesday at 18:00 (Europe/Berlin)"

    march = (await world.alice.slash(world.general, "event list", month="2026-03")).response.embeds[0]
    starts = [ts(2026, 3, 3, 17), ts(2026, 3, 10, 17), ts(2026, 3, 17, 17), ts(2026, 3, 24, 17), ts(2026, 3, 31, 16)]
    assert [line.split("<t:")[1].split(":")[0] for line in lines_of(march)] == [str(t) for t in starts]
    assert all("🔁" in line for line in lines_of(march))
    november = (await world.alice.slash(world.general, "event list", month="2026-11")).response.embeds[0]
    assert lines_of(november)[0].count(f"<t:{ts(2026, 11, 3, 17)}:f>") == 1  # 18:00 CET again


async def test_show_says_the_rule_in_words_and_what_comes_next(world):
    await weekly_raid(world, repeat="monthly", on="2tu")
    shown = await world.alice.slash(world.general, "event show", event="Raid")
    fields = {f.name: f.value for f in shown.response.embeds[0].fields}
    assert fields["Repeats"] == "every 2nd Tuesday of the month at 18:00 (Europe/Berlin)"
    assert fields["Next"].startswith(f"<t:{ts(2026, 1, 13, 17)}:F>")  # the start moved to the first 2nd Tuesday
    assert fields["Then"].splitlines()[0].startswith(f"<t:{ts(2026, 2, 10, 17)}:f>")


async def test_a_raw_rrule_and_a_count(world):
    res = await weekly_raid(world, repeat="FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4")
    assert "Repeats weekly on Tuesday and Thursday at 18:00 (Europe/Berlin), 4 times." in res.response.content
    listing = (await world.alice.slash(world.general, "event list")).response.embeds[0]
    assert len(lines_of(listing)) == 4


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"repeat": "fortnightly"}, "`repeat`: unknown frequency 'fortnightly'"),
        ({"repeat": "FREQ=WEEKLY;BYHOUR=9"}, "RRULE part BYHOUR is not supported"),
        ({"every": 2}, "`repeat`: every, count, until and on go with repeat"),
        ({"repeat": "weekly", "on": "someday"}, "`on`: 'someday' is not a weekday"),
        ({"repeat": "weekly", "count": 3, "until": "2026-03-01"}, "`until`: give a count or an end date, not both"),
        ({"repeat": "weekly", "on": "2tu"}, "needs a monthly or yearly repeat"),
    ],
)
async def test_bad_repeat_options_are_refused(world, options, says):
    res = await world.admin.slash(world.general, "event create", name="Raid", start="2026-01-06 18:00", **options)
    world.refused(res, InvalidField, says)


async def test_cancelling_one_occurrence(world):
    await weekly_raid(world)
    choices = await world.admin.autocomplete(world.general, "event cancel", "occurrence", "", event="1")
    assert choices[0] == {"name": "Tue 06 Jan 2026 18:00", "value": str(ts(2026, 1, 6, 17))}
    res = await world.admin.slash(world.general, "event cancel", event="1", occurrence=str(ts(2026, 1, 13, 17)))
    assert f"Cancelled the <t:{ts(2026, 1, 13, 17)}:F> occurrence of **Raid**" in res.response.content
    january = (await world.alice.slash(world.general, "event list", month="2026-01")).response.embeds[0]
    assert f"<t:{ts(2026, 1, 13, 17)}:f>" not in january.description
    assert f"<t:{ts(2026, 1, 20, 17)}:f>" in january.description
    again = await world.admin.slash(world.general, "event cancel", event="1", occurrence=str(ts(2026, 1, 13, 17)))
    assert "cancelled already" in again.response.content
    refused = await world.alice.slash(world.general, "event cancel", event="1")
    world.refused(refused, NotAllowed, "Manage Server")


async def test_editing_one_occurrence_leaves_the_rest(world):
    await weekly_raid(world)
    res = await world.admin.slash(
        world.general, "event edit", event="1", occurrence=str(ts(2026, 1, 13, 17)), start="2026-01-14 20:00",
        name="Raid (moved)",
    )  # fmt: skip
    assert "read as `2026-01-14 20:00 Europe/Berlin`" in res.response.content
    assert "The rest of the series is unchanged." in res.response.content
    january = lines_of((await world.alice.slash(world.general, "event list", month="2026-01")).response.embeds[0])
    assert [("moved" in line, f"<t:{ts(2026, 1, 14, 19)}:f>" in line) for line in january[:3]] == [
        (False, False),
        (True, True),
        (False, False),
    ]
    refused = await world.admin.slash(world.general, "event edit", event="1", scope="this", color="RED")
    world.refused(refused, InvalidField, "only name, start, end, description and location can differ")


async def test_this_and_following_splits_the_series(world):
    await weekly_raid(world, count=6)
    res = await world.admin.slash(
        world.general, "event edit", event="1", scope="following", occurrence=str(ts(2026, 1, 20, 17)),
        name="Late raid", start="2026-01-20 20:00",
    )  # fmt: skip
    assert "Split the series" in res.response.content and "**Late raid** (`#2`)" in res.response.content
    listing = lines_of((await world.alice.slash(world.general, "event list")).response.embeds[0])
    assert [line.split("**")[1] for line in listing] == [
        "Raid",
        "Raid",
        "Late raid",
        "Late raid",
        "Late raid",
        "Late raid",
    ]
    assert f"<t:{ts(2026, 1, 20, 19)}:f>" in listing[2]  # 20:00 Berlin from then on
    shown = await world.alice.slash(world.general, "event show", event="1")
    assert {f.name: f.value for f in shown.response.embeds[0].fields}["Repeats"].endswith("2 times")


async def test_answers_are_per_occurrence_and_default_to_the_next(world):
    await weekly_raid(world)
    await world.alice.slash(world.general, "event rsvp", event="Raid", status="going")
    second = str(ts(2026, 1, 13, 17))
    await world.bob.slash(world.general, "event rsvp", event="Raid", status="going", occurrence=second)
    first = (await world.alice.slash(world.general, "event attendees", event="Raid")).response.embeds[0]
    later = (
        await world.alice.slash(world.general, "event attendees", event="Raid", occurrence=second)
    ).response.embeds[0]
    assert f"<@{world.alice.id}>" in str(first.to_dict()) and f"<@{world.bob.id}>" not in str(first.to_dict())
    assert f"<@{world.bob.id}>" in str(later.to_dict()) and f"<@{world.alice.id}>" not in str(later.to_dict())
    # the card is about the next occurrence: its buttons answer for that one
    await world.bob.click(world.general.last_message, label="Maybe")
    first = (await world.alice.slash(world.general, "event attendees", event="Raid")).response.embeds[0]
    assert f"<@{world.bob.id}>" in str(first.to_dict())


async def test_a_members_zone_is_used_to_read_and_echo(world):
    await world.admin.slash(world.general, "me timezone", timezone="Asia/Tokyo")
    res = await weekly_raid(world, start="2026-01-06 18:00")
    assert "read as `2026-01-06 18:00 Asia/Tokyo`" in res.response.content
    card = {f.name: f.value for f in world.general.last_message.embeds[0].fields}
    assert card["Next"].startswith(f"<t:{ts(2026, 1, 6, 9)}:F>")  # 18:00 in Tokyo
    assert card["Repeats"] == "weekly on Tuesday at 10:00 (Europe/Berlin)"  # the series lives in the event's zone


async def test_the_card_moves_on_when_an_occurrence_is_over(world):
    await weekly_raid(world, start="2026-01-01 09:00", end="2026-01-01 10:00", repeat="daily")
    card = world.general.last_message
    assert {f.name: f.value for f in card.embeds[0].fields}["Next"].startswith(f"<t:{ts(2026, 1, 1, 8)}:F>")
    await world.alice.click(card, label="Going")
    await world.env.advance_time(10 * 3600)  # the first occurrence is over
    moved = next(m for m in world.general.history() if m.id == card.id)  # edited in place
    assert {f.name: f.value for f in moved.embeds[0].fields}["Next"].startswith(f"<t:{ts(2026, 1, 2, 8)}:F>")
    assert "Going (0)" in [f.name for f in moved.embeds[0].fields]  # a new occurrence: no answers yet


async def test_the_card_of_a_series_without_an_end_moves_on_once_its_occurrence_starts(world):
    await weekly_raid(world, start="2026-01-01 09:00", repeat="daily")  # no end: each occurrence is an instant
    card = world.general.last_message
    await world.env.advance_time(10 * 3600)
    moved = next(m for m in world.general.history() if m.id == card.id)
    assert {f.name: f.value for f in moved.embeds[0].fields}["Next"].startswith(f"<t:{ts(2026, 1, 2, 8)}:F>")


async def test_editing_one_occurrence_again_keeps_its_earlier_edit(world):
    await weekly_raid(world)
    second = str(ts(2026, 1, 13, 17))
    await world.admin.slash(world.general, "event edit", event="1", occurrence=second, name="Boss night")
    await world.admin.slash(world.general, "event edit", event="1", occurrence=second, location="The cave")
    listing = (await world.alice.slash(world.general, "event list", month="2026-01")).response.embeds[0]
    assert "**Boss night**" in listing.description


async def test_a_moved_occurrence_follows_its_place_when_the_whole_series_moves(world):
    await weekly_raid(world)
    await world.admin.slash(
        world.general, "event edit", event="1", occurrence=str(ts(2026, 1, 13, 17)), start="2026-01-14 20:00"
    )
    await world.admin.slash(world.general, "event edit", event="1", start="2026-01-07 18:00")  # a day later
    lines = lines_of((await world.alice.slash(world.general, "event list", month="2026-01")).response.embeds[0])
    starts = [line.split("<t:")[1].split(":")[0] for line in lines]
    # the second occurrence is still the one moved to 14 January 20:00, once; the others are Wednesdays 18:00
    assert starts == [
        str(t) for t in (ts(2026, 1, 7, 17), ts(2026, 1, 14, 19), ts(2026, 1, 21, 17), ts(2026, 1, 28, 17))
    ]


async def test_a_refused_this_and_following_edit_splits_nothing(world):
    await weekly_raid(world, count=6)
    res = await world.admin.slash(
        world.general, "event edit", event="1", scope="following", occurrence=str(ts(2026, 1, 20, 17)),
        end="2026-01-20 10:00",
    )  # fmt: skip
    world.refused(res, InvalidField, "`end`: must be after the start")
    listing = lines_of((await world.alice.slash(world.general, "event list")).response.embeds[0])
    assert [line.split("**")[1] for line in listing] == ["Raid"] * 6


async def test_raising_the_capacity_lets_in_every_occurrences_waitlist(world):
    await weekly_raid(world, capacity=1)
    later = str(ts(2026, 1, 20, 17))
    await world.bob.slash(world.general, "event rsvp", event="Raid", status="going", occurrence=later)
    waiting = await world.alice.slash(world.general, "event rsvp", event="Raid", status="going", occurrence=later)
    assert "waitlist" in waiting.response.content
    await world.admin.slash(world.general, "event edit", event="1", capacity=0)
    listed = await world.alice.slash(world.general, "event attendees", event="Raid", occurrence=later)
    assert "**Waitlisted (0)**" in listed.response.embeds[0].description
    assert world.alice.user.dm_channel.last_message.content.startswith("🎉 A place opened up")


async def test_answers_follow_their_occurrences_when_the_series_moves(world):
    await weekly_raid(world)
    second = str(ts(2026, 1, 13, 17))
    await world.bob.slash(world.general, "event rsvp", event="Raid", status="going", occurrence=second)
    await world.admin.slash(world.general, "event edit", event="1", occurrence=second, name="Boss night")
    await world.admin.slash(world.general, "event edit", event="1", start="2026-01-06 20:00")  # the series moves 2 h
    moved_second = str(ts(2026, 1, 13, 19))
    listed = await world.alice.slash(world.general, "event attendees", event="Raid", occurrence=moved_second)
    assert f"<@{world.bob.id}>" in listed.response.embeds[0].description
    january = (await world.alice.slash(world.general, "event list", month="2026-01")).response.embeds[0]
    assert f"**Boss night** 🔁 · <t:{ts(2026, 1, 13, 19)}:f>" in january.description


async def test_answers_follow_the_new_series_after_a_split_that_moves_it(world):
    await weekly_raid(world, count=6)
    fourth = str(ts(2026, 1, 27, 17))
    await world.bob.slash(world.general, "event rsvp", event="Raid", status="going", occurrence=fourth)
    res = await world.admin.slash(
        world.general, "event edit", event="1", scope="following", occurrence=str(ts(2026, 1, 20, 17)),
        start="2026-01-20 21:00",
    )  # fmt: skip
    assert "Split the series" in res.response.content
    listed = await world.alice.slash(world.general, "event attendees", event="#2", occurrence=str(ts(2026, 1, 27, 20)))
    assert f"<@{world.bob.id}>" in listed.response.embeds[0].description
