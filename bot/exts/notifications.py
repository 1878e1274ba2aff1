"""/notifications: the guild's recent reminders and how each one ended."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.errors import NotFound
from bot.domain.reminders import Reminder

from .common import respond, timestamp

if TYPE_CHECKING:
    from bot.app import CalBot

SHOWN = 20
CHANNEL_LABELS = {"discord_public": "channel", "discord_private": "DM", "database": "log"}
STATE_ICONS = {"sent": "✅", "failed": "❌", "missed": "⏭️"}


class Notifications(commands.Cog):
    def __init__(self, bot: CalBot) -> None:
        self.bot = bot

    @app_commands.command(name="notifications")
    @app_commands.guild_only()
    async def notifications(self, interaction: discord.Interaction) -> None:
        """Show the server's recent reminders: sent, failed (and why) or missed."""
        recent = await self.bot.store.reminders.recent(interaction.guild_id, limit=SHOWN)
        embed = discord.Embed(title="Recent reminders")
        if not recent:
            embed.description = "No reminder has gone out yet."
        else:
            names = {}
            for reminder in recent:
                if reminder.event_id not in names:
                    names[reminder.event_id] = await self._event_name(reminder)
            embed.description = "\n".join(line(r, names[r.event_id]) for r in recent)[:4096]
        await respond(interaction, embed=embed)

    async def _event_name(self, reminder: Reminder) -> str:
        try:
            event = await self.bot.store.events.get(reminder.guild_id, reminder.event_id)
        except NotFound:
            return f"deleted event #{reminder.event_id}"
        return discord.utils.escape_markdown(event.name)


def line(reminder: Reminder, event_name: str) -> str:
    to = f" to <@{reminder.target}>" if reminder.target else ""
    text = (
        f"{STATE_ICONS.get(reminder.state, '')} {timestamp(reminder.updated_at, 'f')} · **{event_name}** · "
        f"{reminder.interval} · {CHANNEL_LABELS.get(reminder.channel, reminder.channel)}{to} · {reminder.state}"
    )
    if reminder.late:
        text += " (late)"
    if reminder.last_error and reminder.state != "sent":
        text += f": {reminder.last_error}"
    return text


async def setup(bot: CalBot) -> None:
    await bot.add_cog(Notifications(bot))
