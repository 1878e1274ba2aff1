"""The bot as a whole: command sync, restarts, data kept per guild."""

from __future__ import annotations

import discord
import simcord

from bot.domain.errors import NotFound

COMMANDS = {
    "calendar create",
    "calendar list",
    "calendar edit",
    "calendar delete",
    "event create",
    "event list",
    "event show",
    "event edit",
    "event delete",
    "settings show",
    "settings timezone",
    "settings manager-role",
    "settings channel",
    "settings reminders",
}


def command_puts(env: simcord.Env) -> list[str]:
    return [r.path for r in env.http_requests if r.method == "PUT" and r.path.endswith("/commands")]


async def test_every_command_is_synced_and_visible(world):
    assert set(world.alice.available_commands(world.general)) >= COMMANDS


async def test_restart_keeps_data_and_does_not_resync_unchanged_commands(world, config):
    await world.admin.slash(world.general, "event create", name="Raid", start="tomorrow 18:00")
    puts = command_puts(world.env)
    assert len(puts) == 1  # the first start synced globally

    await world.restart()
    assert command_puts(world.env) == puts  # the command set did not change: no new global sync

    shown = await world.alice.slash(world.general, "event show", event="Raid")
    assert shown.response.embeds[0].title == "Raid"
    await world.admin.slash(world.general, "event edit", event="Raid", name="Raid (after restart)")
    assert world.general.last_message.embeds[0].title == "Raid (after restart)"


async def test_data_is_kept_per_guild(world):
    other = world.env.create_guild(name="Other")
    other_channel = other.create_text_channel("general")
    stranger = other.add_member(
        world.env.create_user("stranger"),
        roles=[other.create_role("Admins", permissions=discord.Permissions(manage_guild=True))],
    )
    await world.admin.slash(world.general, "event create", name="Secret raid", start="tomorrow 18:00")

    listing = await stranger.slash(other_channel, "event list")
    assert listing.response.embeds[0].description == "No events."
    assert await stranger.autocomplete(other_channel, "event show", "event", "") == []
    for command in ("event show", "event edit", "event delete"):
        options = {"event": "1"} | ({"name": "Mine now"} if command == "event edit" else {})
        world.refused(await stranger.slash(other_channel, command, **options), NotFound, "no event `1`")
    shown = await world.alice.slash(world.general, "event show", event="1")
    assert shown.response.embeds[0].title == "Secret raid"
