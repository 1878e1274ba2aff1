"""/calendar view as members see it: the month as a picture with the month as text, Previous/Next buttons
that work after a restart, the member's own time zone, and clear refusals.

SimCord's clock stands at 2026-01-01T00:00Z, a Thursday."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image
from simcord.components import walk_components

from bot.domain.errors import InvalidField

BUTTON = 2


async def create(world, **options) -> None:
    res = await world.admin.slash(world.general, "event create", **options)
    assert "Created" in res.response.content, res.response.content


async def png_of(message) -> Image.Image:
    [attachment] = message.attachments
    return Image.open(io.BytesIO(await attachment.read()))


def buttons(message) -> list[tuple[str, str]]:
    rows = [r if isinstance(r, dict) else r.to_dict() for r in message.components]
    return [(c["label"], c["custom_id"]) for c in walk_components(rows) if c["type"] == BUTTON]


async def test_view_shows_the_month_as_a_picture_and_as_text(world):
    await world.admin.slash(world.general, "settings timezone", timezone="Europe/Berlin")
    await create(world, name="Raid night", start="2026-01-10 18:00", duration="2h")
    await create(world, name="Training", start="2026-01-06 19:00", repeat="weekly", count=3)
    await create(world, name="Trip", start="2026-01-20", end="2026-01-22", all_day=True)

    res = await world.alice.slash(world.general, "calendar view")
    message = res.followups[0] if res.followups else res.response
    assert message.ephemeral
    [embed] = message.embeds
    assert embed.title == "January 2026"
    assert embed.image.url.startswith("attachment://calendar-2026-01.png")
    assert embed.description.splitlines() == [
        "**Tue 6 Jan**: 19:00 Training (repeats)",
        "**Sat 10 Jan**: 18:00 Raid night",
        "**Tue 13 Jan**: 19:00 Training (repeats)",
        "**Tue 20 Jan**: all day to Thu 22 Jan Trip; 19:00 Training (repeats)",
    ]
    assert embed.footer.text == "Times in Europe/Berlin (UTC+01:00)"
    image = await png_of(message)
    assert image.format == "PNG" and image.width == 1292 and 900 < image.height < 1300
    assert buttons(message) == [
        ("◀ Previous month", "calbot:view:0:2025-12:Europe/Berlin"),
        ("Next month ▶", "calbot:view:0:2026-02:Europe/Berlin"),
    ]


def shown(res):
    """The view a command or a click answered with (a command defers, then follows up)."""
    return res.followups[0] if res.followups else res.response


async def test_next_and_previous_show_the_other_months_in_place(world):
    await create(world, name="February thing", start="2026-02-14 12:00")
    first = shown(await world.alice.slash(world.general, "calendar view"))

    following = await world.alice.click(first, label="Next month ▶")
    message = shown(following)
    assert message.id == first.id  # the same message, edited
    [embed] = message.embeds
    assert embed.title == "February 2026" and embed.description == "**Sat 14 Feb**: 12:00 February thing"
    assert [a.filename for a in message.attachments] == ["calendar-2026-02.png"]
    assert buttons(message)[1] == ("Next month ▶", "calbot:view:0:2026-03:UTC")

    back = shown(await world.alice.click(message, label="◀ Previous month"))
    assert back.embeds[0].title == "January 2026" and back.embeds[0].description == "No events."


async def test_buttons_keep_working_after_a_restart(world):
    await create(world, name="February thing", start="2026-02-14 12:00")
    first = shown(await world.alice.slash(world.general, "calendar view"))
    old = world.bot
    await world.restart()
    assert world.bot is not old
    message = shown(await world.alice.click(first, label="Next month ▶"))
    assert message.embeds[0].title == "February 2026"
    assert "February thing" in message.embeds[0].description


async def test_a_member_with_a_time_zone_sees_their_own(world):
    await create(world, name="Late call", start="2026-01-10 23:30")  # UTC, the server's zone
    await world.alice.slash(world.general, "me timezone", timezone="Asia/Tokyo")
    mine = shown(await world.alice.slash(world.general, "calendar view"))
    assert mine.embeds[0].description == "**Sun 11 Jan**: 08:30 Late call"
    assert mine.embeds[0].footer.text == "Times in Asia/Tokyo (UTC+09:00)"
    assert buttons(mine)[0][1] == "calbot:view:0:2025-12:Asia/Tokyo"
    theirs = shown(await world.bob.slash(world.general, "calendar view"))
    assert theirs.embeds[0].description == "**Sat 10 Jan**: 23:30 Late call"


async def test_a_week_a_calendar_and_a_cancelled_occurrence(world):
    await world.admin.slash(world.general, "calendar create", name="Raids", color="RED")
    await create(world, name="Raid", start="2026-01-05 20:00", repeat="daily", count=5, calendar="Raids")
    await world.admin.slash(world.general, "calendar create", name="Other")
    await create(world, name="Elsewhere", start="2026-01-06 10:00", calendar="Other")
    wednesday = str(int(datetime(2026, 1, 7, 20, tzinfo=UTC).timestamp()))
    res = await world.admin.slash(world.general, "event cancel", event="Raid", occurrence=wednesday)
    assert "Cancelled" in res.response.content, res.response.content

    res = await world.alice.slash(world.general, "calendar view", calendar="Raids", week="2026-01-07")
    message = shown(res)
    [embed] = message.embeds
    assert embed.title == "Week of 5 Jan 2026 · Raids"
    assert embed.description.splitlines() == [
        "**Mon 5 Jan**: 20:00 Raid (repeats)",
        "**Tue 6 Jan**: 20:00 Raid (repeats)",
        "**Wed 7 Jan**: ~~20:00 Raid (repeats)~~ (cancelled)",
        "**Thu 8 Jan**: 20:00 Raid (repeats)",
        "**Fri 9 Jan**: 20:00 Raid (repeats)",
    ]
    calendar_id = (await world.bot.store.calendars.find(world.guild.id, "Raids")).id
    assert buttons(message) == [
        ("◀ Previous week", f"calbot:view:{calendar_id}:2025-12-29:UTC"),
        ("Next week ▶", f"calbot:view:{calendar_id}:2026-01-12:UTC"),
    ]
    picture = await png_of(message)
    assert picture.width == 1292 and picture.height > 500


async def test_weeks_start_where_the_server_is(world):
    await world.admin.slash(world.general, "settings timezone", timezone="America/New_York")
    message = shown(await world.alice.slash(world.general, "calendar view", week="2026-01-07"))
    assert message.embeds[0].title == "Week of 4 Jan 2026"  # a Sunday: weeks start on Sunday in the US


async def test_bad_input_is_refused_privately(world):
    res = await world.alice.slash(world.general, "calendar view", month="December")
    world.refused(res, InvalidField, "is not a month")
    res = await world.alice.slash(world.general, "calendar view", month="2026-01", week="today")
    world.refused(res, InvalidField, "give a month or a week, not both")


async def test_a_button_of_a_deleted_calendar_says_so(world):
    await world.admin.slash(world.general, "calendar create", name="Raids")
    first = shown(await world.alice.slash(world.general, "calendar view", calendar="Raids"))
    await world.admin.slash(world.general, "calendar delete", calendar="Raids")
    res = await world.alice.click(first, label="Next month ▶")
    assert res.ephemeral and res.response.content == "⚠️ That calendar no longer exists on this server."
