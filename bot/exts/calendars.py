"""/calendar: create, list, show, edit and delete a guild's calendars, give their ICS feed address, and make one
follow an outside ICS feed (subscribe, unsubscribe)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.colors import Color
from bot.domain.errors import InvalidField
from bot.domain.feeds import feed_url, poll_every, shown_url
from bot.domain.models import Calendar, Event
from bot.net import check_literal
from bot.storage.native import NativeSettings
from bot.storage.subscriptions import Subscription

from .common import (
    COLOR_CHOICES,
    CalendarOption,
    ensure_postable,
    manager_only,
    read_time,
    respond,
    settings_for,
    think,
    timestamp,
)
from .messages import EMBED_TOTAL, FIELDS, escape, fit_embed, shorten
from .native import CAP_NOTE, refused_note
from .tree import ReportingView
from .view import show_view

if TYPE_CHECKING:
    from bot.app import CalBot

log = logging.getLogger(__name__)

CONFIRM_TIMEOUT = 60.0


class ConfirmDelete(ReportingView):
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
        await retire(bot, events, self.calendar)

    @discord.ui.button(label="Keep it", style=discord.ButtonStyle.secondary)
    async def keep(self, interaction: discord.Interaction, _button: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content="Kept. Nothing was deleted.", embed=None, view=None)


LIST_FIELDS = FIELDS
LIST_BUDGET = EMBED_TOTAL - 500  # room left for the footer ("and N more") and the title
DESCRIPTION_SHOWN = 300


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
        ping_role="A role its channel reminders mention",
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
        ping_role: discord.Role | None = None,
    ) -> None:
        """Create a calendar."""
        if channel is not None:
            ensure_postable(interaction, channel)
        calendar = await self.bot.store.calendars.create(
            Calendar(
                guild_id=interaction.guild_id,
                name=name,
                description=description or "",
                color=Color[color.value] if color else Color.NONE,
                channel_id=channel.id if channel else None,
                ping_role_id=pingable(interaction, ping_role),
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
        counts = {c.id: await store.calendars.count_events(interaction.guild_id, c.id) for c in calendars[:LIST_FIELDS]}
        await respond(interaction, embed=calendars_embed(calendars, counts))

    @app_commands.command(name="edit")
    @app_commands.describe(
        calendar="The calendar to change",
        name="A new name",
        description='A new description ("-" clears it)',
        color="A new colour for its event cards",
        channel="A new channel for its event cards and reminders",
        clear_channel="Post its cards in the server's default channel instead of its own",
        ping_role="A role its channel reminders mention",
        clear_ping_role="Stop mentioning a role in its reminders",
        discord_events="Show its events in Discord's own Events tab (calbot needs Manage Events)",
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
        clear_channel: bool = False,
        ping_role: discord.Role | None = None,
        clear_ping_role: bool = False,
        discord_events: bool | None = None,
    ) -> None:
        """Change a calendar's name, description, colour, channel, ping role or Events tab mirroring."""
        changes = {}
        if name is not None:
            changes["name"] = name
        if description is not None:
            changes["description"] = "" if description.strip() == "-" else description
        if color is not None:
            changes["color"] = Color[color.value]
        if channel is not None and clear_channel:
            raise InvalidField("clear_channel", "give a channel or clear it, not both")
        if channel is not None:
            ensure_postable(interaction, channel)
            changes["channel_id"] = channel.id
        if clear_channel:
            changes["channel_id"] = None
        if ping_role is not None and clear_ping_role:
            raise InvalidField("clear_ping_role", "give a ping role or clear it, not both")
        if ping_role is not None:
            changes["ping_role_id"] = pingable(interaction, ping_role)
        if clear_ping_role:
            changes["ping_role_id"] = None
        if discord_events is not None:
            changes["discord_events"] = discord_events
        if not changes:
            await respond(interaction, "Nothing to change: give at least one option.")
            return
        updated = await self.bot.store.calendars.update(dataclasses.replace(calendar, **changes))
        if discord_events is not None:
            self.bot.dispatch("native_marked", interaction.guild_id)
        await respond(interaction, f"Updated calendar **{updated.name}**.{mirroring_note(discord_events)}")

    @app_commands.command(name="delete")
    @app_commands.describe(calendar="The calendar to delete, with all its events")
    @manager_only()
    async def delete(
        self, interaction: discord.Interaction, calendar: app_commands.Transform[Calendar, CalendarOption]
    ) -> None:
        """Delete a calendar (asks first when it still holds events)."""
        count = await self.bot.store.calendars.count_events(interaction.guild_id, calendar.id)
        if count == 0:
            await think(interaction)
            # An event may have been added since the count: whatever the delete takes is cancelled too.
            events = await self.bot.store.calendars.delete(interaction.guild_id, calendar.id)
            await respond(interaction, f"Deleted calendar **{calendar.name}**.")
            await retire(self.bot, events, calendar)
            return
        warning = discord.Embed(
            title=f"Delete {calendar.name}?",
            description=f"It holds **{count}** event{'s' if count != 1 else ''}; they will be deleted too "
            "and their cards marked cancelled. This cannot be undone.",
            colour=calendar.color.value,
        )
        warning = fit_embed(warning)
        await respond(interaction, embed=warning, view=ConfirmDelete(self, interaction, calendar))

    @app_commands.command(name="view")
    @app_commands.describe(
        calendar="Only this calendar's events (default: every calendar)",
        month="The month to show, as YYYY-MM (default: this month)",
        week="Show one week instead: a day in it, e.g. 2026-12-14, today, next friday",
    )
    async def view(
        self,
        interaction: discord.Interaction,
        calendar: app_commands.Transform[Calendar, CalendarOption] | None = None,
        month: app_commands.Range[str, 1, 40] | None = None,
        week: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        """See the month (or a week) as a picture, in your time zone."""
        if month is not None and week is not None:
            raise InvalidField("week", "give a month or a week, not both")
        day = None
        if week is not None:
            zone = (await settings_for(interaction)).timezone
            day = (await read_time(interaction, week, "week", require_time=False)).astimezone(ZoneInfo(zone)).date()
        await show_view(interaction, calendar, month, day)

    @app_commands.command(name="subscribe")
    @app_commands.describe(
        calendar="The calendar that follows the feed (its events come from the feed, read-only)",
        url="The feed's address: https:// or webcal:// (Google's secret iCal address, Outlook's ICS link...)",
        every="How often to look for changes, e.g. 15m, 1h (5m to 1d; default 15m)",
    )
    @manager_only()
    async def subscribe(
        self,
        interaction: discord.Interaction,
        calendar: app_commands.Transform[Calendar, CalendarOption],
        url: app_commands.Range[str, 1, 2048],
        every: app_commands.Range[str, 1, 20] | None = None,
    ) -> None:
        """Make a calendar follow an outside ICS feed: its events become calbot events, with cards and reminders."""
        address, interval = feed_url(url), poll_every(every)
        subscriptions = self.bot.config.subscriptions
        if not subscriptions.allow_private_targets:  # a name is checked as it is resolved, at each poll
            check_literal(address, subscriptions.trusted_networks)
        subscription = await self.bot.store.subscriptions.subscribe(
            interaction.guild_id, calendar.id, address, interval, created_by=interaction.user.id
        )
        if self.bot.feeds is not None:
            self.bot.feeds.wake()
        await respond(
            interaction,
            f"**{calendar.name}** now follows {masked(subscription.url)}, polled every {words(interval)}. "
            "Its events arrive in a moment, with their cards and reminders; members answer them as usual, and "
            "changes are made at the source. `/calendar show` tells how the last poll went.",
        )

    @app_commands.command(name="unsubscribe")
    @app_commands.describe(calendar="The calendar to stop following its feed (its events stay, editable)")
    @manager_only()
    async def unsubscribe(
        self, interaction: discord.Interaction, calendar: app_commands.Transform[Calendar, CalendarOption]
    ) -> None:
        """Stop following a calendar's outside feed; the events it brought stay as ordinary events."""
        subscription = await self.bot.store.subscriptions.get(interaction.guild_id, calendar.id)
        if subscription is None:
            raise InvalidField("calendar", f"{calendar.name} follows no feed")
        await self.bot.store.subscriptions.unsubscribe(interaction.guild_id, calendar.id)
        await respond(
            interaction,
            f"**{calendar.name}** no longer follows {masked(subscription.url)}. The events it brought stay, and "
            "can now be edited here.",
        )

    @app_commands.command(name="show")
    @app_commands.describe(calendar="The calendar to show")
    async def show(
        self, interaction: discord.Interaction, calendar: app_commands.Transform[Calendar, CalendarOption]
    ) -> None:
        """Show a calendar: its channel, events, and the feed it follows (last poll, its result, the next)."""
        count = await self.bot.store.calendars.count_events(interaction.guild_id, calendar.id)
        subscription = await self.bot.store.subscriptions.get(interaction.guild_id, calendar.id)
        tab = await self.bot.store.native.settings(interaction.guild_id)
        await respond(interaction, embed=calendar_embed(calendar, count, subscription, tab))

    @app_commands.command(name="feed")
    @app_commands.describe(
        calendar="The calendar to subscribe to",
        reset="Make a new address; the old one stops working",
    )
    @manager_only()
    async def feed(
        self,
        interaction: discord.Interaction,
        calendar: app_commands.Transform[Calendar, CalendarOption],
        reset: bool = False,
    ) -> None:
        """The secret address calendar apps subscribe to for this calendar's events."""
        secret = await self.bot.store.calendars.feed_secret(interaction.guild_id, calendar.id, reset=reset)
        api = self.bot.config.api
        base = api.public_url or f"http://{api.host}:{api.port}"
        lines = [
            f"{'New subscription' if reset else 'Subscription'} address for **{calendar.name}**"
            + (" (the old ones no longer work)" if reset else "")
            + ":",
            f"<{base}/ics/{secret}.ics>",
            f"The same calendar as a web page: <{base}/calendars/{secret}>",
            "Anyone with it can read this calendar's events, so share it only with people who may; "
            "`reset:True` replaces it.",
            "Google Calendar: *Other calendars → From URL*. Apple Calendar: *File → New Calendar Subscription*. "
            "Outlook: *Add calendar → Subscribe from web*.",
        ]
        if not api.public_url:
            lines.append("⚠️ `[api] public_url` is not set, so this is the API's local address.")
        if not api.enabled:
            lines.append("⚠️ This bot does not serve the API (`[api] enabled`); run `python -m bot api` to serve it.")
        await respond(interaction, "\n".join(lines))


def pingable(interaction: discord.Interaction, role: discord.Role | None) -> int | None:
    """A ping role must be one a reminder can mention on purpose: not @everyone, not a bot's own role."""
    if role is None:
        return None
    if role.is_default() or role.managed:
        raise InvalidField("ping_role", f"{role.mention} cannot be a ping role; pick a role members can join")
    return role.id


def masked(url: str) -> str:
    return f"`{shown_url(url)}`"


def words(interval: timedelta) -> str:
    minutes = int(interval.total_seconds() // 60)
    if minutes % 60:
        return f"{minutes} minutes"
    return "hour" if minutes == 60 else f"{minutes // 60} hours"


def calendar_embed(
    calendar: Calendar, count: int, subscription: Subscription | None, tab: NativeSettings
) -> discord.Embed:
    """/calendar show: the calendar, whether Discord's Events tab shows it (and what the cap left out), and the
    feed it follows."""
    embed = discord.Embed(title=calendar.name, description=shorten(calendar.description, DESCRIPTION_SHOWN) or None)
    embed.add_field(name="Events", value=str(count))
    embed.add_field(name="Cards", value=f"<#{calendar.channel_id}>" if calendar.channel_id else "default channel")
    if calendar.discord_events:
        tab_lines = ["Its events are shown there."]
        if tab.left_out.get(calendar.id):
            tab_lines.append(f"{tab.left_out[calendar.id]} not shown: {CAP_NOTE}")
        if tab.refused:
            tab_lines.append(refused_note(tab.refused))
    else:
        tab_lines = ["Not shown there (`/calendar edit discord_events:True`)."]
    embed.add_field(name="Discord's Events tab", value="\n".join(tab_lines), inline=False)
    if subscription is None:
        embed.add_field(name="Feed", value="none: its events are kept here", inline=False)
        return fit_embed(embed)
    lines = [f"{masked(subscription.url)} · every {words(subscription.every)}"]
    if subscription.last_poll is None:
        lines.append("Not polled yet.")
    else:
        ok = "⚠️" if subscription.failures else "✅"
        result = shorten(subscription.last_result or "", 600)
        lines.append(f"Last poll {timestamp(subscription.last_poll, 'R')}: {ok} {escape(result)}")
    if subscription.paused:
        lines.append(f"⏸️ Paused after {subscription.failures} failed polls; `/calendar subscribe` again resumes it.")
    else:
        lines.append(f"Next poll {timestamp(subscription.next_poll, 'R')}")
    embed.add_field(name="Feed (read-only: change events at the source)", value="\n".join(lines), inline=False)
    return fit_embed(embed)


def calendars_embed(calendars: Sequence[Calendar], counts: Mapping[int, int]) -> discord.Embed:
    """/calendar list: a field per calendar (`counts`: its number of events), as many as fit, then "and N
    more"."""
    embed = discord.Embed(title=f"Calendars ({len(calendars)})")
    for shown, calendar in enumerate(calendars):
        count = counts.get(calendar.id, 0)
        lines = [shorten(calendar.description, DESCRIPTION_SHOWN)] if calendar.description else []
        lines.append(f"{count} event{'s' if count != 1 else ''} · colour {calendar.color.label}")
        lines.append(f"cards in <#{calendar.channel_id}>" if calendar.channel_id else "cards in the default channel")
        if calendar.ping_role_id:
            lines.append(f"reminders mention <@&{calendar.ping_role_id}>")
        value = "\n".join(lines)
        if shown == LIST_FIELDS or len(embed) + len(calendar.name) + len(value) > LIST_BUDGET:
            embed.set_footer(text=f"and {len(calendars) - shown} more")
            break
        embed.add_field(name=calendar.name, value=value, inline=False)
    return fit_embed(embed)


def mirroring_note(discord_events: bool | None) -> str:
    if discord_events is None:
        return ""
    if discord_events:
        return " Its events now appear in Discord's Events tab (nearest first, 100 at most per server)."
    return " Its events are leaving Discord's Events tab."


async def retire(bot: CalBot, events: list[Event], calendar: Calendar) -> None:
    """Events deleted with their calendar: cancel their reminders and mark their cards cancelled."""
    for event in events:
        await bot.follow_up.complete(event.guild_id, event.id, calendar=calendar)


async def setup(bot: CalBot) -> None:
    await bot.add_cog(Calendars(bot))
