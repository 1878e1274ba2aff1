"""A member's DM channel is opened once and kept in the store: every later DM reminder is one request."""

from __future__ import annotations

from bot.domain.rsvp import GOING, ONE_OFF

MINUTE = 60


def dm_opens(world) -> list:
    return [r for r in world.env.http_requests if r.method == "POST" and r.path == "/users/@me/channels"]


async def test_a_known_members_dm_reminder_is_one_request_even_after_a_restart(world):
    for name in ("Raid", "Feast"):
        await world.admin.slash(world.general, "event create", name=name, start="in 1 hour", channels="private")
    for event_id in (1, 2):
        await world.bot.store.attendees.respond(world.guild.id, event_id, ONE_OFF, world.alice.id, GOING, None)
    await world.admin.slash(world.general, "event create", name="Later", start="in 3 hours", channels="private")
    await world.bot.store.attendees.respond(world.guild.id, 3, ONE_OFF, world.alice.id, GOING, None)
    await world.env.advance_time(46 * MINUTE)
    assert len(world.alice.user.dm_channel.history()) == 2
    await world.restart()  # discord.py's own cache of DM channels is gone; the store's is not
    await world.env.advance_time(120 * MINUTE)
    assert len(world.alice.user.dm_channel.history()) == 3
    assert len(dm_opens(world)) == 1
    assert await world.bot.store.dm_channels.get(world.alice.id) == world.alice.user.dm_channel.id


async def test_a_stale_kept_channel_is_opened_again_and_the_reminder_still_arrives(world):
    await world.bot.store.dm_channels.save(world.alice.id, 1234567890123)  # no such channel
    await world.admin.slash(world.general, "event create", name="Raid", start="in 1 hour", channels="private")
    await world.bot.store.attendees.respond(world.guild.id, 1, ONE_OFF, world.alice.id, GOING, None)
    await world.env.advance_time(45 * MINUTE)
    await world.env.advance_time(10)  # the retry
    [dm] = world.alice.user.dm_channel.history()
    assert dm.content.startswith("⏰ **Raid**")
    assert await world.bot.store.dm_channels.get(world.alice.id) == world.alice.user.dm_channel.id
