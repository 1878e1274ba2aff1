"""/me: a member's own settings, the same in every server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.models import UserSettings

from .common import ZoneOption, reading_notes, respond, settings_for, timestamp, wall_time

if TYPE_CHECKING:
    from bot.app import CalBot


class Me(commands.GroupCog, group_name="me", group_description="Your own calbot settings"):
    def __init__(self, bot: CalBot) -> None:
        self.bot = bot

    @app_commands.command(name="timezone")
    @app_commands.describe(timezone="Your time zone (a city or an IANA name); leave empty to use the server's")
    async def timezone(
        self, interaction: discord.Interaction, timezone: app_commands.Transform[str, ZoneOption] | None = None
    ) -> None:
        """Set the time zone the times you type are read in."""
        users = self.bot.store.users
        if timezone is None:
            await users.clear(interaction.user.id)
            await respond(interaction, "Times you type are read in the server's time zone again.")
            return
        saved = await users.save(UserSettings(user_id=interaction.user.id, timezone=timezone))
        now = self.bot.now()
        await respond(
            interaction,
            f"Times you type are now read in **{saved.timezone}**: it is `{wall_time(now, saved.timezone)}` "
            f"there ({timestamp(now, 't')} for you)." + (f"\n{read}" if (read := reading_notes(interaction)) else ""),
        )

    @app_commands.command(name="show")
    async def show(self, interaction: discord.Interaction) -> None:
        """Show the time zone your typed times are read in."""
        own = await self.bot.store.users.get(interaction.user.id)
        if own is not None:
            await respond(interaction, f"Times you type are read in **{own.timezone}** (set with `/me timezone`).")
            return
        server = (await settings_for(interaction)).timezone if interaction.guild_id else "UTC"
        await respond(interaction, f"Times you type are read in the server's time zone, **{server}**.")


async def setup(bot: CalBot) -> None:
    await bot.add_cog(Me(bot))
