"""/settings: the guild's time zone, manager role, default channel and default reminders."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.errors import InvalidField
from bot.domain.models import Calendar
from bot.domain.native import WINDOW_MAX_DAYS
from bot.domain.notifications import parse_intervals
from bot.reminders import DeliveryError
from bot.storage.database import Unavailable

from .cards import settings_embed
from .common import (
    CalendarOption,
    ChannelsOption,
    ZoneOption,
    ensure_postable,
    manager_only,
    reading_notes,
    respond,
    settings_for,
    think,
)
from .messages import escape
from .native import tab_summary

if TYPE_CHECKING:
    from bot.app import CalBot

log = logging.getLogger(__name__)


@app_commands.guild_only()
class Settings(commands.GroupCog, group_name="settings", group_description="How calbot works on this server"):
    def __init__(self, bot: CalBot) -> None:
        self.bot = bot

    async def _save(self, interaction: discord.Interaction, note: str, **changes) -> None:
        saved = await self.bot.store.settings.change(await settings_for(interaction), **changes)
        await respond(interaction, note, embed=settings_embed(saved))

    @app_commands.command(name="show")
    async def show(self, interaction: discord.Interaction) -> None:
        """Show this server's calendar settings."""
        embed = settings_embed(await settings_for(interaction))
        embed.add_field(
            name="Discord's Events tab", value=await tab_summary(self.bot, interaction.guild_id), inline=False
        )
        await respond(interaction, embed=embed)

    @app_commands.command(name="timezone")
    @app_commands.describe(timezone="An IANA time zone such as Europe/Berlin; times people type are read in it")
    @manager_only()
    async def timezone(
        self, interaction: discord.Interaction, timezone: app_commands.Transform[str, ZoneOption]
    ) -> None:
        """Set the time zone that typed times are read in."""
        note = f"Times typed on this server are now read in **{timezone}**."
        if read := reading_notes(interaction):
            note += f"\n{read}"
        await self._save(interaction, note, timezone=timezone)

    @app_commands.command(name="manager-role")
    @app_commands.rename(role="role")
    @app_commands.describe(role="Members with this role may change calendars and events; leave empty to clear")
    @manager_only(role_may=False)  # the manager role must not be able to hand itself on
    async def manager_role(self, interaction: discord.Interaction, role: discord.Role | None = None) -> None:
        """Choose a role that may manage calendars, besides Manage Server."""
        if role is not None and role.is_default():
            raise InvalidField("role", "@everyone cannot be the manager role; everyone would manage the calendars")
        note = f"Members with {role.mention} may now manage calendars." if role else "The manager role is cleared."
        await self._save(interaction, note, manager_role_id=role.id if role else None)

    @app_commands.command(name="organiser-role")
    @app_commands.describe(
        role="Members with this role create events and change their own; @everyone lets every member; empty: none"
    )
    @manager_only()
    async def organiser_role(self, interaction: discord.Interaction, role: discord.Role | None = None) -> None:
        """Choose who may create events and manage the ones they created."""
        if role is None:
            note = "No organisers now: only managers create and change events."
        elif role.is_default():
            note = "Every member may now create events and change the ones they created."
        else:
            note = f"Members with {role.mention} may now create events and change the ones they created."
        await self._save(interaction, note, organiser_role_id=role.id if role else None)

    @app_commands.command(name="channel")
    @app_commands.describe(channel="Where event cards go when their calendar has no channel; leave empty to clear")
    @manager_only()
    async def channel(self, interaction: discord.Interaction, channel: discord.TextChannel | None = None) -> None:
        """Set the default channel for event cards and reminders."""
        if channel is not None:
            ensure_postable(interaction, channel)
        note = f"Event cards now default to {channel.mention}." if channel else "The default channel is cleared."
        await self._save(interaction, note, default_channel_id=channel.id if channel else None)

    @app_commands.command(name="reminders")
    @app_commands.describe(
        intervals="How long before new events to remind: 15m, 1 hour, 1 day (several: 1 day, 15m), or none",
        channels="Where reminders go by default",
    )
    @manager_only()
    async def reminders(
        self,
        interaction: discord.Interaction,
        intervals: str | None = None,
        channels: app_commands.Transform[tuple[str, ...], ChannelsOption] | None = None,
    ) -> None:
        """Set the default reminders of new events."""
        changes = {}
        if intervals is not None:
            changes["default_reminders"] = parse_intervals(intervals)
        if channels is not None:
            changes["default_channels"] = channels
        if not changes:
            await respond(interaction, "Nothing to change: give intervals, channels or both.")
            return
        await self._save(interaction, "Default reminders updated; they apply to events created from now on.", **changes)

    @app_commands.command(name="date-order")
    @app_commands.describe(order="How numeric dates such as 03/04 are read")
    @app_commands.choices(
        order=[
            app_commands.Choice(name="day/month/year (24/12)", value="DMY"),
            app_commands.Choice(name="month/day/year (12/24)", value="MDY"),
            app_commands.Choice(name="year/month/day (2026/12/24)", value="YMD"),
        ]
    )
    @manager_only()
    async def date_order(self, interaction: discord.Interaction, order: app_commands.Choice[str]) -> None:
        """Choose how numeric dates are read on this server."""
        await self._save(interaction, f"Numeric dates are now read as **{order.name}**.", date_order=order.value)

    @app_commands.command(name="all-day-time")
    @app_commands.describe(time="Local time reminders of all-day events count from, e.g. 09:00")
    @manager_only()
    async def all_day_time(self, interaction: discord.Interaction, time: app_commands.Range[str, 1, 20]) -> None:
        """Set when all-day events' reminders go out (their 'start' for reminders)."""
        await think(interaction)  # every all-day event's reminders are planned again before the reply
        saved = await self.bot.store.settings.change(await settings_for(interaction), all_day_time=time)
        planned, failed = await self._plan_all_day_events(saved.guild_id)
        note = f"Reminders of all-day events now count from **{saved.all_day_time}** local time."
        if planned:
            note += f" The reminders of {_events(planned)} were planned again."
        if failed:
            note += f" Those of {_events(failed)} could not be; it has been logged."
        await respond(interaction, note, embed=settings_embed(saved))

    async def _plan_all_day_events(self, guild_id: int) -> tuple[int, int]:
        """Plan the reminders of every all-day event of the guild that is not over (series included) again,
        now counted from the new all-day time: the ones counted from the old time are cancelled, as after
        any edit. Returns how many events were planned again, and how many failed (logged)."""
        now = self.bot.now()
        events, _total = await self.bot.store.events.page(guild_id, limit=None)
        planned = failed = 0
        for event in events:
            if not event.all_day or (event.recurrence is None and event.effective_end <= now):
                continue
            try:
                await self.bot.reminders.schedule(event)
            except Unavailable:
                raise  # every other event would fail the same way
            except Exception:  # one bad row must not keep the others' reminders where they were
                log.exception("Could not plan the reminders of all-day event %s again", event.id)
                failed += 1
            else:
                planned += 1
        return planned, failed

    # ---- outgoing webhooks: the broadcast channel (bot/reminders/webhooks.py)

    @app_commands.command(name="discord-events")
    @app_commands.describe(
        import_="Events members make in Discord's Events tab become events of this calendar",
        stop_import="Stop bringing events made in the Events tab into calbot",
        window="Days ahead shown in the tab of series Discord cannot repeat itself (default 7)",
    )
    @app_commands.rename(import_="import")
    @manager_only()
    async def discord_events(
        self,
        interaction: discord.Interaction,
        import_: app_commands.Transform[Calendar, CalendarOption] | None = None,
        stop_import: bool = False,
        window: app_commands.Range[int, 1, WINDOW_MAX_DAYS] | None = None,
    ) -> None:
        """Bring events made in Discord's Events tab into calbot, and set how far ahead series are shown there."""
        if import_ is not None and stop_import:
            raise InvalidField("stop_import", "give a calendar to import into or stop importing, not both")
        current = await self.bot.store.native.settings(interaction.guild_id)
        target = None if stop_import else (import_.id if import_ is not None else current.import_calendar_id)
        await self.bot.store.native.configure(interaction.guild_id, import_calendar_id=target, window=window)
        self.bot.dispatch("native_marked", interaction.guild_id)
        await respond(interaction, await tab_summary(self.bot, interaction.guild_id))

    webhooks = app_commands.Group(name="webhooks", description="Send every notification to other systems")

    @webhooks.command(name="add")
    @app_commands.describe(
        url="An https:// address that receives every notification as signed JSON",
        calendar="Only this calendar's notifications (default: every calendar)",
    )
    @manager_only()
    async def webhooks_add(
        self,
        interaction: discord.Interaction,
        url: app_commands.Range[str, 1, 2048],
        calendar: app_commands.Transform[Calendar, CalendarOption] | None = None,
    ) -> None:
        """Add a webhook: events that remind by broadcast POST each notification to it."""
        await think(interaction)  # the address is resolved before it is stored
        checked = await self.bot.webhooks.check(url)
        hook = await self.bot.store.webhooks.add(
            interaction.guild_id, checked, calendar.id if calendar else None, created_by=interaction.user.id
        )
        scope = f"notifications of **{escape(calendar.name)}**" if calendar else "every notification of this server"
        await respond(
            interaction,
            f"Webhook **#{hook.id}** added: {scope} with `broadcast` among its channels is POSTed to it, signed as "
            "Standard Webhooks says. Its signing secret, shown only this once:\n"
            f"```\n{hook.secret}\n```\nCheck it with `/settings webhooks test webhook:{hook.id}`.",
        )

    @webhooks.command(name="list")
    @manager_only()
    async def webhooks_list(self, interaction: discord.Interaction) -> None:
        """List this server's webhooks, and whether each works."""
        hooks = await self.bot.store.webhooks.list(interaction.guild_id)
        if not hooks:
            await respond(interaction, "This server has no webhooks; add one with `/settings webhooks add`.")
            return
        names = {c.id: c.name for c in await self.bot.store.calendars.list(interaction.guild_id)}
        lines = []
        for hook in hooks:
            scope = escape(names.get(hook.calendar_id, "?")) if hook.calendar_id else "every calendar"
            state = "✅ working" if hook.enabled else f"🔕 disabled: {escape(hook.disabled_reason or '')}"
            if hook.enabled and hook.failures:
                state = f"⚠️ failed {hook.failures} time(s) in a row"
            lines.append(f"**#{hook.id}** · {target_host(hook.url)} · {scope} · {state}")
        await respond(interaction, "\n".join(lines))

    @webhooks.command(name="remove")
    @app_commands.describe(webhook="The webhook's number, from /settings webhooks list")
    @manager_only()
    async def webhooks_remove(self, interaction: discord.Interaction, webhook: app_commands.Range[int, 1]) -> None:
        """Remove a webhook; nothing more is sent to it."""
        removed = await self.bot.store.webhooks.remove(interaction.guild_id, webhook)
        await respond(interaction, f"Webhook **#{removed.id}** ({target_host(removed.url)}) is removed.")

    @webhooks.command(name="test")
    @app_commands.describe(webhook="The webhook's number, from /settings webhooks list")
    @manager_only()
    async def webhooks_test(self, interaction: discord.Interaction, webhook: app_commands.Range[int, 1]) -> None:
        """Send a signed test notification to a webhook; a disabled one that answers is enabled again."""
        hook = await self.bot.store.webhooks.get(interaction.guild_id, webhook)
        await think(interaction)
        body = {"type": "webhook.test", "guild_id": str(hook.guild_id), "data": {"webhook": hook.id}}
        try:
            status = await self.bot.webhooks.post(hook, f"test_{uuid.uuid4().hex}", body)
        except DeliveryError as error:
            await respond(interaction, f"⚠️ Webhook **#{hook.id}** did not take the test: {escape(error.reason)}.")
            return
        await self.bot.store.webhooks.enable(hook.guild_id, hook.id)
        again = " It was disabled; it is enabled again." if not hook.enabled else ""
        await respond(interaction, f"Webhook **#{hook.id}** answered {status}: it works.{again}")


def target_host(url: str) -> str:
    """Where a webhook goes, without its path: a webhook URL's path often holds a secret of its own."""
    parts = urlsplit(url)
    return f"`{parts.scheme}://{parts.netloc}/…`"


def _events(count: int) -> str:
    return "1 all-day event" if count == 1 else f"{count} all-day events"


async def setup(bot: CalBot) -> None:
    await bot.add_cog(Settings(bot))
