"""Reminders as members see them: in the calendar's channel and by DM, on time, once, through Discord
errors and restarts. The virtual clock starts at 2026-01-01T00:00Z and moves with `advance_time`."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from bot.domain.rsvp import GOING, MAYBE, NOT_GOING, ONE_OFF

MINUTE = 60
START = int(datetime(2026, 1, 1, 1, 0, tzinfo=UTC).timestamp())  # "in 1 hour"


def reminders_in(channel) -> list:
    return [m for m in channel.history() if m.content.startswith(("⏰", "🔔", "<@&"))]


def reminder_requests(world, channel) -> list[dict]:
    return [body for body in world.sent_json(channel) if (body.get("content") or "").startswith(("⏰", "🔔", "<@&"))]


async def create(world, **options):
    options = {"name": "Raid", "start": "in 1 hour", "reminders": "pt15m", **options}
    res = await world.admin.slash(world.general, "event create", **options)
    assert "Created" in res.response.content, res.response.content
    return res


async def answer(world, member, status, event_id=1):
    await world.bot.store.attendees.respond(world.guild.id, event_id, ONE_OFF, member.id, status, None)


async def notifications(world) -> str:
    res = await world.alice.slash(world.general, "notifications")
    return res.response.embeds[0].description


async def test_a_channel_reminder_arrives_when_due_once_with_a_nonce(world):
    await create(world)
    await world.env.advance_time(44 * MINUTE)
    assert reminders_in(world.general) == []
    await world.env.advance_time(1 * MINUTE)
    [reminder] = reminders_in(world.general)
    assert reminder.content.startswith(f"⏰ **Raid** starts <t:{START}:R> (<t:{START}:F>).")
    assert f"https://discord.com/channels/{world.guild.id}/{world.general.id}/" in reminder.content  # the card
    [request] = reminder_requests(world, world.general)
    assert len(request["nonce"]) == 25 and request["enforce_nonce"] is True
    assert request["allowed_mentions"] == {"parse": []}
    await world.env.advance_time(60 * MINUTE)
    assert len(reminders_in(world.general)) == 1
    assert "✅" in await notifications(world)


async def test_at_the_start_it_says_starting_now(world):
    await create(world, reminders="pt0m")
    await world.env.advance_time(60 * MINUTE)
    [reminder] = reminders_in(world.general)
    assert reminder.content.startswith(f"🔔 **Raid** is starting now (<t:{START}:t>).")


async def test_the_ping_role_is_the_only_mention(world):
    raiders = world.guild.create_role("Raiders")
    await world.admin.slash(world.general, "calendar create", name="Raids", channel=world.events, ping_role=raiders)
    await create(world, name="@everyone raid", calendar="Raids")
    await world.env.advance_time(45 * MINUTE)
    [reminder] = reminders_in(world.events)
    assert reminder.content.startswith(f"<@&{raiders.id}> ⏰ **@everyone raid**")
    [request] = reminder_requests(world, world.events)
    assert request["allowed_mentions"]["parse"] == []
    assert [int(r) for r in request["allowed_mentions"]["roles"]] == [raiders.id]
    assert reminder.mention_everyone is False


async def test_dms_go_to_members_going_or_maybe(world):
    await create(world, channels="private")
    await answer(world, world.alice, GOING)
    await answer(world, world.bob, MAYBE)
    await answer(world, world.admin, NOT_GOING)
    await world.env.advance_time(45 * MINUTE)
    for member in (world.alice, world.bob):
        dm = member.user.dm_channel.last_message
        assert dm.content.startswith(f"⏰ **Raid** on **{world.guild.name}** starts <t:{START}:R>")
    assert world.admin.user.dm_channel.last_message is None
    assert reminders_in(world.general) == []  # private only


async def test_closed_dms_are_recorded_not_retried(world):
    await create(world, channels="private")
    await answer(world, world.alice, GOING)
    dm = world.alice.user.dm_channel
    world.env.inject_error(
        "POST", f"/channels/{dm.id}/messages", status=403, code=50007, message="Cannot send messages", times=None
    )
    await world.env.advance_time(45 * MINUTE)
    await world.env.advance_time(30 * MINUTE)
    attempts = [r for r in world.env.http_requests if r.method == "POST" and r.path == f"/channels/{dm.id}/messages"]
    assert len(attempts) == 1  # not retried
    log = await notifications(world)
    assert "❌" in log and f"DM to <@{world.alice.id}> · failed: the member's DMs are closed (50007)" in log
    [attendee] = await world.bot.store.attendees.list(world.guild.id, 1, ONE_OFF)
    assert attendee.dm_error == "the member's DMs are closed (50007)"


async def test_a_server_error_is_retried_and_the_reminder_arrives_once(world):
    await create(world)
    world.env.inject_error("POST", f"/channels/{world.general.id}/messages", status=500, times=1)
    await world.env.advance_time(45 * MINUTE)
    assert reminders_in(world.general) == []
    await world.env.advance_time(5)  # the first backoff
    [reminder] = reminders_in(world.general)
    assert "late" not in reminder.content
    assert len(reminder_requests(world, world.general)) == 2  # the failed try and the one that worked


async def test_a_rate_limit_is_retried(world):
    await create(world)
    world.env.inject_error("POST", f"/channels/{world.general.id}/messages", status=429, times=2)
    await world.env.advance_time(45 * MINUTE)
    await world.env.advance_time(5)
    assert reminders_in(world.general) == []
    await world.env.advance_time(10)
    assert len(reminders_in(world.general)) == 1


async def test_moving_the_event_moves_its_reminder(world):
    await create(world)
    await world.admin.slash(world.general, "event edit", event="1", start="in 2 hours")
    await world.env.advance_time(45 * MINUTE)
    assert reminders_in(world.general) == []  # the old time passes quietly
    await world.env.advance_time(60 * MINUTE)
    [reminder] = reminders_in(world.general)
    moved = int(datetime(2026, 1, 1, 2, 0, tzinfo=UTC).timestamp())
    assert f"<t:{moved}:R>" in reminder.content


async def test_deleting_the_event_cancels_its_reminders(world):
    await create(world, reminders="pt15m pt0m")
    await world.admin.slash(world.general, "event delete", event="1")
    await world.env.advance_time(2 * 60 * MINUTE)
    assert reminders_in(world.general) == []
    assert await notifications(world) == "No reminder has gone out yet."


async def test_database_reminders_appear_in_the_notification_log(world):
    await create(world, reminders="pt15m")
    event = await world.bot.store.events.get(world.guild.id, 1)
    # /event create offers public and private; the database channel comes from the API's PERSCOM fields.
    logged = await world.bot.store.events.update(dataclasses.replace(event, notifications_channels=("database",)))
    await world.bot.reminders.schedule(logged)
    await world.env.advance_time(45 * MINUTE)
    assert reminders_in(world.general) == []
    assert "· 15 minutes before · log · sent" in await notifications(world)


async def test_reminders_due_while_the_bot_was_down_are_sent_late_or_recorded_missed(world):
    await create(world, name="Soon", start="in 1 hour", reminders="pt15m")  # due at 00:45, starts 01:00
    await create(world, name="Later", start="in 3 hours", reminders="pt1h")  # due at 02:00, starts 03:00
    await world.stop()
    await world.env.advance_time(2 * 60 * MINUTE + 30 * MINUTE)  # calbot is down until 02:30
    await world.restart()

    [late] = reminders_in(world.general)
    assert late.content.startswith("⏰ **Later**")
    assert late.content.endswith("*This reminder is late: calbot was not running when it was due.*")
    log = await notifications(world)
    missed = "**Soon** · 15 minutes before · channel · missed: due at 2026-01-01 00:45 UTC; it was no longer useful"
    assert missed in log
    assert "**Later** · 1 hour before · channel · sent (late)" in log
