"""A member's own reminders (`/me reminders`) as they see them: set, shown, off, reset; for events they answer
going or maybe they replace the event's private intervals and channels, while the channel post is unchanged.
The virtual clock starts at 2026-01-01T00:00Z; "in 1 hour" starts at 01:00."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.errors import InvalidField

MINUTE = 60
START = int(datetime(2026, 1, 1, 1, 0, tzinfo=UTC).timestamp())


async def create(world, **options):
    options = {"name": "Raid", "start": "in 1 hour", "reminders": "pt15m", "channels": "both", **options}
    res = await world.admin.slash(world.general, "event create", **options)
    assert "Created" in res.response.content, res.response.content


async def rsvp(world, member, status="going", event="1"):
    res = await member.slash(world.general, "event rsvp", event=event, status=status)
    assert res.ephemeral, res


async def set_prefs(member, world, **options) -> str:
    res = await member.slash(world.general, "me reminders", **options)
    assert res.ephemeral
    return res.followups[-1].content if res.followups else res.response.content


def dms(member) -> list[str]:
    return [m.content for m in member.user.dm_channel.history() if m.content.startswith(("⏰", "🔔"))]


def posts(channel) -> list[str]:
    return [m.content for m in channel.history() if m.content.startswith(("⏰", "🔔"))]


async def test_set_show_off_and_reset(world):
    said = await set_prefs(world.alice, world, intervals="1 day 1h", channels="dm mail")
    assert said.startswith("Your reminders are now: 1 hour before, 1 day before · by DM, by email."), said
    assert "no confirmed mail contact yet" in said  # mail goes only to a confirmed address
    shown = (await world.alice.slash(world.general, "me show")).response.content
    assert "Your reminders (`/me reminders`): 1 hour before, 1 day before · by DM, by email." in shown
    # An option left empty keeps what was set.
    said = await set_prefs(world.alice, world, intervals="30m")
    assert said.startswith("Your reminders are now: 30 minutes before · by DM, by email."), said
    said = await set_prefs(world.alice, world, intervals="off")
    assert said.startswith("Your reminders are now: off: no reminders by DM, mail or SMS."), said
    shown = (await world.alice.slash(world.general, "me reminders")).response.content
    assert shown.startswith("Your reminders: off"), shown
    said = await set_prefs(world.alice, world, reset=True)
    assert said.startswith("Your reminders are now: each event's own."), said
    assert "each event's own" in (await world.alice.slash(world.general, "me show")).response.content
    # Others are not touched.
    assert "each event's own" in (await world.bob.slash(world.general, "me show")).response.content


async def test_bad_preferences_are_refused_before_anything_is_stored(world):
    await set_prefs(world.alice, world, intervals="1h")
    res = await world.alice.slash(world.general, "me reminders", channels="public")
    world.refused(res, InvalidField, "unknown channel 'public'; use dm, mail or sms")
    res = await world.alice.slash(world.general, "me reminders", intervals="soonish")
    world.refused(res, InvalidField, "unknown interval 'soonish'")
    res = await world.alice.slash(world.general, "me reminders", intervals="5 weeks")
    world.refused(res, InvalidField, "longer than four weeks")
    shown = (await world.alice.slash(world.general, "me reminders")).response.content
    assert shown.startswith("Your reminders: 1 hour before · each event's private channels."), shown


async def test_own_intervals_replace_the_events_and_the_channel_post_is_unchanged(world):
    await set_prefs(world.alice, world, intervals="30m")
    await create(world)
    await rsvp(world, world.alice)  # has preferences: her own reminder is planned
    await rsvp(world, world.bob)  # has none: the event's
    await world.env.advance_time(30 * MINUTE)  # 00:30: 30 minutes before
    assert len(dms(world.alice)) == 1 and dms(world.alice)[0].startswith("⏰ **Raid**")
    assert dms(world.bob) == [] and posts(world.general) == []
    await world.env.advance_time(15 * MINUTE)  # 00:45: the event's 15 minutes
    assert len(dms(world.alice)) == 1  # not the event's interval for her
    assert len(dms(world.bob)) == 1
    assert len(posts(world.general)) == 1  # the channel post, as the event says
    await world.env.advance_time(60 * MINUTE)
    assert (len(dms(world.alice)), len(dms(world.bob)), len(posts(world.general))) == (1, 1, 1)  # once each


async def test_maybe_counts_and_not_going_gets_nothing(world):
    for member in (world.alice, world.bob):
        await set_prefs(member, world, intervals="30m 10m")
    await create(world, channels="private")
    await rsvp(world, world.alice, "maybe")
    await rsvp(world, world.bob, "not_going")
    await world.env.advance_time(55 * MINUTE)
    assert len(dms(world.alice)) == 2
    assert world.bob.user.dm_channel.last_message is None


async def test_off_stops_private_reminders_but_not_the_channel_post(world):
    await set_prefs(world.alice, world, intervals="off")
    await create(world)
    await rsvp(world, world.alice)
    await rsvp(world, world.bob)
    await world.env.advance_time(50 * MINUTE)
    assert world.alice.user.dm_channel.last_message is None
    assert len(dms(world.bob)) == 1
    assert len(posts(world.general)) == 1


async def test_changed_preferences_change_reminders_already_planned(world):
    await create(world)
    await rsvp(world, world.alice)  # planned with the event's 15 minutes
    await set_prefs(world.alice, world, intervals="30m")
    await world.env.advance_time(31 * MINUTE)
    assert len(dms(world.alice)) == 1
    await set_prefs(world.alice, world, reset=True)  # back to the event's: 15 minutes before is hers again
    await world.env.advance_time(15 * MINUTE)
    assert len(dms(world.alice)) == 2


async def test_preferences_do_not_override_an_event_without_private_reminders(world):
    await set_prefs(world.alice, world, intervals="30m", channels="dm")
    await create(world, channels="public")
    await rsvp(world, world.alice)
    await world.env.advance_time(50 * MINUTE)
    assert world.alice.user.dm_channel.last_message is None
    assert len(posts(world.general)) == 1


async def test_event_show_lists_the_viewers_own_reminders_only(world):
    await set_prefs(world.alice, world, intervals="30m")
    await create(world, channels="private")
    await rsvp(world, world.alice)
    fields = lambda res: {f.name: f.value for f in res.response.embeds[0].fields}  # noqa: E731
    hers = fields(await world.alice.slash(world.general, "event show", event="1"))["Next reminders"]
    assert "30 minutes before · by DM to those going · yours" in hers
    assert "15 minutes before · by DM to those going" in hers
    his = fields(await world.bob.slash(world.general, "event show", event="1"))["Next reminders"]
    assert "30 minutes" not in his and "15 minutes before" in his


async def test_a_series_occurrence_answered_gets_the_members_own_interval(world):
    await set_prefs(world.alice, world, intervals="30m")
    res = await world.admin.slash(
        world.general, "event create", name="Raid", start="2026-01-01 01:00", end="2026-01-01 02:00", repeat="daily",
        count=3, reminders="pt15m",
        channels="private",
    )  # fmt: skip
    assert "Created" in res.response.content, res.response.content
    await rsvp(world, world.alice)  # the next occurrence
    await world.env.advance_time(31 * MINUTE)
    assert len(dms(world.alice)) == 1
    for _hour in range(24):  # past the next day's occurrence, which she did not answer
        await world.env.advance_time(60 * MINUTE)
    assert len(dms(world.alice)) == 1


async def test_a_member_let_in_from_the_waitlist_gets_their_own_interval(world):
    await set_prefs(world.bob, world, intervals="30m")
    await create(world, channels="private", capacity=1)
    await rsvp(world, world.alice)
    await rsvp(world, world.bob)  # waitlisted: no reminder of his own yet
    await rsvp(world, world.alice, "not_going")  # her place goes to him
    await world.env.advance_time(31 * MINUTE)
    assert len(dms(world.bob)) == 1 and dms(world.bob)[0].startswith("⏰ **Raid**")  # his own 30 minutes
    assert dms(world.alice) == []
