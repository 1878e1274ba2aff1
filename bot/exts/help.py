"""/help and the welcome: what calbot does, and the commands a member may use, each option in words.

/help reads the command tree itself (descriptions are the commands' docstrings and `describe` texts), so it
never goes stale; it lists a member only what their standing lets them use (the checks in common.py say
what each command needs)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.errors import NotFound
from bot.domain.permissions import Standing

from .common import (
    AUTOCOMPLETE_LIMIT,
    NEEDS_MANAGE_SERVER,
    NEEDS_MANAGER,
    NEEDS_ORGANISER,
    respond,
    standing_of,
)
from .messages import FIELD_VALUE, FIELDS, fit_embed, shorten

if TYPE_CHECKING:
    from bot.app import CalBot

log = logging.getLogger(__name__)

ABOUT = (
    "calbot keeps this server's calendars: events with a card in a channel, answers (going, maybe, not going, "
    "waitlists), and reminders in the channel and by DM before each event. Times you type are read in the "
    "server's time zone (or yours, with `/me timezone`) and shown to everyone in their own."
)
WELCOME = (
    "👋 Hello, I'm **calbot**: I keep this server's calendars and remind people before events.\n"
    "Someone with **Manage Server** can set me up in a minute with `/setup` (time zone, channel, roles, "
    "reminders). Everyone can see what I do with `/help`."
)
# Top-level commands by the heading /help lists them under, in this order.
GROUP_TITLES = {
    "help": "Getting started",
    "setup": "Getting started",
    "event": "Events",
    "calendar": "Calendars",
    "notifications": "Reminders",
    "me": "Your own settings",
    "settings": "Server settings",
    "api": "HTTP API",
}
ORDER = list(dict.fromkeys(GROUP_TITLES.values()))


def needs(command: app_commands.Command) -> str | None:
    """What a command's checks need: organiser, manager, Manage Server, or None (every member)."""
    found = [getattr(check, "needs", None) for check in command.checks]
    for level in (NEEDS_MANAGE_SERVER, NEEDS_MANAGER, NEEDS_ORGANISER):
        if level in found:
            return level
    return None


def may_use(command: app_commands.Command, standing: Standing, manages_server: bool) -> bool:
    need = needs(command)
    if need is None:
        return True
    if need == NEEDS_MANAGE_SERVER:
        return manages_server
    if need == NEEDS_MANAGER:
        return standing is Standing.MANAGER
    return standing in (Standing.MANAGER, Standing.ORGANISER)


def usable_commands(tree: app_commands.CommandTree, standing: Standing, manages_server: bool):
    """The slash commands (subcommands resolved) a member may use, by their full names."""
    return [
        c for c in tree.walk_commands() if isinstance(c, app_commands.Command) and may_use(c, standing, manages_server)
    ]


def overview(commands_: list[app_commands.Command]) -> discord.Embed:
    embed = discord.Embed(title="calbot", description=ABOUT)
    groups: dict[str, list[str]] = {}
    for command in commands_:
        top = command.qualified_name.split(" ", 1)[0]
        groups.setdefault(GROUP_TITLES.get(top, "More"), []).append(
            f"`/{command.qualified_name}` {command.description}"
        )
    for title, lines in sorted(
        groups.items(), key=lambda group: ORDER.index(group[0]) if group[0] in ORDER else len(ORDER)
    ):
        embed.add_field(name=title, value=shorten("\n".join(lines), FIELD_VALUE), inline=False)
    embed.set_footer(text="/help command:<name> explains a command's options")
    return fit_embed(embed)


def option_text(parameter: app_commands.Parameter) -> str:
    text = parameter.description
    if parameter.choices:
        text += " One of: " + ", ".join(c.name for c in parameter.choices) + "."
    elif parameter.autocomplete:
        text += " Suggestions appear as you type."
    return text


def command_help(command: app_commands.Command) -> discord.Embed:
    embed = discord.Embed(title=f"/{command.qualified_name}", description=command.description)
    need = needs(command)
    if need is not None:
        embed.description += f"\nWho may use it: {'organisers and managers' if need == NEEDS_ORGANISER else need}."
    parameters = command.parameters
    shown = parameters[: FIELDS - 1] if len(parameters) > FIELDS else parameters
    for parameter in shown:
        flag = "" if parameter.required else " (optional)"
        embed.add_field(name=f"{parameter.display_name}{flag}", value=shorten(option_text(parameter), FIELD_VALUE))
    if len(shown) < len(parameters):
        rest = ", ".join(p.display_name for p in parameters[len(shown) :])
        embed.add_field(name="And", value=shorten(rest, FIELD_VALUE), inline=False)
    return fit_embed(embed)


class Help(commands.Cog):
    def __init__(self, bot: CalBot) -> None:
        self.bot = bot

    async def _usable(self, interaction: discord.Interaction) -> list[app_commands.Command]:
        if interaction.guild is None:  # in a DM: only what works without a server
            return [
                c for c in self.bot.tree.walk_commands() if isinstance(c, app_commands.Command) and not c.guild_only
            ]
        standing = await standing_of(interaction)
        return usable_commands(self.bot.tree, standing, interaction.permissions.manage_guild)

    @app_commands.command(name="help")
    @app_commands.describe(command="A command to explain, such as event create; empty: all you may use")
    async def help(self, interaction: discord.Interaction, command: app_commands.Range[str, 1, 100] | None = None):
        """What calbot does, and the commands you may use."""
        usable = await self._usable(interaction)
        if command is None:
            await respond(interaction, embed=overview(usable))
            return
        wanted = " ".join(command.strip().lstrip("/").casefold().split())
        for candidate in usable:
            if candidate.qualified_name == wanted:
                await respond(interaction, embed=command_help(candidate))
                return
        raise NotFound("command you may use", command)

    @help.autocomplete("command")
    async def _command_choices(self, interaction: discord.Interaction, current: str):
        needle = current.strip().lstrip("/").casefold()
        names = [c.qualified_name for c in await self._usable(interaction)]
        return [app_commands.Choice(name=f"/{n}", value=n) for n in names if needle in n][:AUTOCOMPLETE_LIMIT]

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        """One short welcome, where the server's system messages go or else in the first channel calbot may
        post in (never a ping)."""
        me = guild.me
        candidates = [guild.system_channel] if guild.system_channel else []
        candidates += sorted(guild.text_channels, key=lambda c: (c.position, c.id))
        for channel in candidates:
            allowed = channel.permissions_for(me)
            if allowed.view_channel and allowed.send_messages:
                try:
                    await channel.send(WELCOME, allowed_mentions=discord.AllowedMentions.none())
                except discord.HTTPException as error:
                    log.info("Could not welcome guild %s in channel %s: %s", guild.id, channel.id, error.status)
                    continue
                return
        log.info("Joined guild %s with no channel to post a welcome in", guild.id)


async def setup(bot: CalBot) -> None:
    await bot.add_cog(Help(bot))
