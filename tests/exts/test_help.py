"""/help, the welcome, and the descriptions /help is made of."""

from __future__ import annotations

import discord
from discord import app_commands
from simcord.backend import serializers

from bot.domain.errors import NotFound
from bot.exts.help import WELCOME


def listed(embed: discord.Embed) -> str:
    return "\n".join(f.value for f in embed.fields)


async def test_every_command_and_option_has_a_description(world):
    for command in world.bot.tree.walk_commands():
        assert command.description and command.description != "…", command.qualified_name
        if isinstance(command, app_commands.Command):
            for parameter in command.parameters:
                assert parameter.description and parameter.description != "…", (
                    f"/{command.qualified_name} {parameter.display_name}"
                )


async def test_help_says_what_calbot_does_and_lists_what_a_member_may_use(world):
    res = await world.alice.slash(world.general, "help")
    assert res.ephemeral
    embed = res.response.embeds[0]
    assert "calbot keeps this server's calendars" in embed.description
    text = listed(embed)
    assert "`/event list`" in text and "`/event rsvp`" in text and "`/me timezone`" in text
    assert "`/event create`" not in text and "`/settings timezone`" not in text and "`/setup`" not in text


async def test_help_lists_more_to_organisers_and_managers(world):
    role = world.guild.create_role("Organisers")
    await world.admin.slash(world.general, "settings organiser-role", role=role)
    olga = world.guild.add_member(world.env.create_user("olga"), roles=[role])
    organiser = listed((await olga.slash(world.general, "help")).response.embeds[0])
    assert "`/event create`" in organiser and "`/event delete`" in organiser
    assert "`/settings timezone`" not in organiser
    manager = listed((await world.admin.slash(world.general, "help")).response.embeds[0])
    assert "`/settings timezone`" in manager and "`/setup`" in manager and "`/calendar create`" in manager


async def test_help_on_a_command_explains_each_option_in_words(world):
    res = await world.alice.slash(world.general, "help", command="event rsvp")
    embed = res.response.embeds[0]
    assert embed.title == "/event rsvp"
    fields = {f.name: f.value for f in embed.fields}
    assert fields["event"].startswith("The event to answer")
    assert "One of: Going, Maybe, Not going" in fields["status"]
    assert "occurrence (optional)" in fields

    big = (await world.admin.slash(world.general, "help", command="/event create")).response.embeds[0]
    assert len(big.fields) <= 25 and "Who may use it: organisers and managers" in big.description


async def test_help_refuses_a_command_the_member_may_not_use(world):
    choices = await world.alice.autocomplete(world.general, "help", "command", "settings")
    assert [c["value"] for c in choices] == ["settings show"]
    res = await world.alice.slash(world.general, "help", command="settings timezone")
    world.refused(res, NotFound, "There is no command you may use `settings timezone`")


async def test_the_welcome_goes_to_the_system_channel_once_on_joining(world):
    guild = world.env.create_guild(name="New server")
    lobby = guild.create_text_channel("lobby")
    announcements = guild.create_text_channel("announcements")
    backend = world.env.backend
    backend.guilds[guild.id].system_channel_id = announcements.id
    # calbot is removed and invited again: Discord sends GUILD_DELETE, then a GUILD_CREATE without `unavailable`
    backend.emit("GUILD_DELETE", {"id": str(guild.id)})
    joined = serializers.guild_create_payload(backend, backend.guilds[guild.id])
    joined.pop("unavailable", None)
    backend.emit("GUILD_CREATE", joined)
    await world.env.settle()
    assert announcements.last_message.content == WELCOME
    assert "/setup" in WELCOME and "/help" in WELCOME
    assert lobby.last_message is None


async def test_without_a_system_channel_the_welcome_goes_to_the_first_channel_calbot_may_post_in(world):
    guild = world.env.create_guild(name="Quiet server")
    rules = guild.create_text_channel(
        "rules", overwrites={guild.default_role: discord.PermissionOverwrite(send_messages=False)}
    )
    chat = guild.create_text_channel("chat")
    backend = world.env.backend
    backend.channels[rules.id].position, backend.channels[chat.id].position = 0, 1
    backend.emit("GUILD_DELETE", {"id": str(guild.id)})
    joined = serializers.guild_create_payload(backend, backend.guilds[guild.id])
    joined.pop("unavailable", None)
    backend.emit("GUILD_CREATE", joined)
    await world.env.settle()
    posts = [r.path for r in world.env.http_requests if r.method == "POST" and r.path.endswith("/messages")]
    assert f"/channels/{rules.id}/messages" not in posts  # not even tried: calbot checks before it posts
    assert chat.last_message.content == WELCOME
