"""/calendar: create, list, edit and delete a guild's calendars."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.colors import Color
from bot.domain.models import Calendar

from .common import COLOR_CHOICES, CalendarOption, manager_only, respond
from .posting import cancel_cards

if TYPE_CHECKING:
    from bot.app import CalBot

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT = 60.0


class ConfirmDelete(discord.ui.View):
    """Delete / Keep buttons for a calendar that still holds events; only the member who asked may answer."""

    def __init__(self, cog: Calendars, origin: discord.Interaction, calendar: Calendar) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT)
        self.cog, self.origin, self.calendar = cog, origin, calendar

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.origin.user.id:
            await respond(interaction, "Only the member who asked can answer this.")
            return False
        return True

    async def on_timeout(self) -> None:
        try:
            await self.origin.edit_original_response(
                content="No answer, so nothing was deleted.", embed=None, view=None
            )
        except discord.HTTPException:
            log.debug("Could not expire the confirmation of interaction %s", self.origin.id)

    @discord.ui.button(label="Delete calendar and events", style=discord.ButtonStyle.danger)
    async def delete(self, interaction: discord.Interaction, _button: discord.ui.Button) -> None:
        self.stop()
        bot = self.cog.bot
        events = await bot.store.calendars.delete(self.calendar.guild_id, self.calendar.id)
        await interaction.response.edit_message(
            content=f"Deleted calendar **{self.calendar.name}** and its {len(events)} event(s).", embed=None, view=None
        )
        await cancel_cards(bot, events, self.calendar)

    @discord.ui.button(label="Keep it", style=discord.ButtonStyle.secondary)
    async def keep(self, interaction: discord.Interaction, _button: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content="Kept. Nothing was deleted.", embed=None, view=None)


@app_commands.guild_only()
class Calendars(commands.GroupCog, group_name="calendar", group_description="Keep the server's calendars"):
    def __init__(self, bot: CalBot) -> None:
        self.bot = bot

    @app_commands.command(name="create")
    @app_commands.describe(
        name="The calendar's name, unique on this server",
        description="What the calendar is for",
        color="Colour of its event cards",
        channel="Where its event cards and reminders are posted",
    )
    @app_commands.choices(color=COLOR_CHOICES)
    @manager_only()
    async def create(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, 100],
        description: app_commands.Range[str, 0, 1000] | None = None,
        color: app_commands.Choice[str] | None = None,
        channel: discord.TextChannel | None = None,
    ) -> None:
        """Create a calendar."""
        calendar = await self.bot.store.calendars.create(
            Calendar(
                guild_id=interaction.guild_id,
                name=name,
                description=description or "",
                color=Color[color.value] if color else Color.NONE,
                channel_id=channel.id if channel else None,
            )
        )
        where = f" Its cards go to <#{calendar.channel_id}>." if calendar.channel_id else ""
        await respond(interaction, f"Created calendar **{calendar.name}**.{where}")

    @app_commands.command(name="list")
    async def list_(self, interaction: discord.Interaction) -> None:
        """List this server's calendars."""
        store = self.bot.store
        calendars = await store.calendars.list(interaction.guild_id)
        if not calendars:
            await respond(
                interaction,
                "This server has no calendars yet. Create one with `/calendar create`, or just `/event create`.",
            )
            return
        embed = discord.Embed(title=f"Calendars ({len(calendars)})")
        for calendar in calendars[:25]:  # an embed holds 25 fields
            count = await store.calendars.count_events(interaction.guild_id, calendar.id)
            lines = [calendar.description] if calendar.description else []
            lines.append(f"{count} event{'s' if count != 1 else ''} · colour {calendar.color.label}")
            lines.append(
                f"cards in <#{calendar.channel_id}>" if calendar.channel_id else "cards in the default channel"
            )
            embed.add_field(name=calendar.name, value="\n".join(lines), inline=False)
        if len(calendars) > 25:
            embed.set_footer(text=f"and {len(calendars) - 25} more")
        await respond(interaction, embed=embed)

    @app_commands.command(name="edit")
    @app_commands.describe(
        calendar="The calendar to change",
        name="A new name",
        description='A new description ("-" clears it)',
        color="A new colour for its event cards",
        channel="A new channel for its event cards and reminders",
    )
    @app_commands.choices(color=COLOR_CHOICES)
    @manager_only()
    async def edit(
        self,
        interaction: discord.Interaction,
        calendar: app_commands.Transform[Calendar, CalendarOption],
        name: app_commands.Range[str, 1, 100] | None = None,
        description: app_commands.Range[str, 0, 1000] | None = None,
        color: app_commands.Choice[str] | None = None,
        channel: discord.TextChannel | None = None,
    ) -> None:
        """Change a calendar's name, description, colour or channel."""
        changes = {}
        if name is not None:
            changes["name"] = name
        if description is not None:
            changes["description"] = "" if description.strip() == "-" else description
        if color is not None:
            changes["color"] = Color[color.value]
        if channel is not None:
            changes["channel_id"] = channel.id
        if not changes:
            await respond(interaction, "Nothing to change: give at least one option.")
            return
        updated = await self.bot.store.calendars.update(dataclasses.replace(calendar, **changes))
        await respond(interaction, f"Updated calendar **{updated.name}**.")

    @app_commands.command(name="delete")
    @app_commands.describe(calendar="The calendar to delete, with all its events")
    @manager_only()
    async def delete(
        self, interaction: discord.Interaction, calendar: app_commands.Transform[Calendar, CalendarOption]
    ) -> None:
        """Delete a calendar (asks first when it still holds events)."""
        count = await self.bot.store.calendars.count_events(interaction.guild_id, calendar.id)
        if count == 0:
            await self.bot.store.calendars.delete(interaction.guild_id, calendar.id)
            await respond(interaction, f"Deleted calendar **{calendar.name}**.")
            return

        warning = discord.Embed(
            title=f"Delete {calendar.name}?",
            description=f"It holds **{count}** event{'s' if count != 1 else ''}; they will be deleted too "
            "and their cards marked cancelled. This cannot be undone.",
            colour=calendar.color.value,
        )
        await respond(interaction, embed=warning, view=ConfirmDelete(self, interaction, calendar))


async def setup(bot: CalBot) -> None:
    await bot.add_cog(Calendars(bot))
