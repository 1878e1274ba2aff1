"""/calendar view: the month (or a week) as a picture, with the same month as text for screen readers, and
Previous / Next buttons.

The buttons are `DynamicItem`s, as the cards' are: the custom_id carries the calendar (0: all of them), the
period (`2026-12` a month, `2026-12-14` the week starting that day) and the zone the picture shows, so they
keep working after a restart with no state kept anywhere. The picture is drawn in a thread (Pillow is
CPU-bound; the event loop keeps serving everyone else meanwhile).
"""

from __future__ import annotations

import asyncio
import io
import re
from datetime import date
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord

from bot.domain.errors import DomainError, NotFound
from bot.domain.models import Calendar
from bot.domain.month import Item, Period, month_of, parse_period, week_of, week_start
from bot.domain.timezones import resolve_zone
from bot.render.month import render_month, zone_caption
from bot.storage.views import view_items

from .common import calbot, respond
from .messages import DESCRIPTION, escape, fit_embed, shorten
from .tree import report_error

if TYPE_CHECKING:
    from bot.app import CalBot


CUSTOM_ID = "calbot:view:{calendar}:{period}:{zone}"
TEMPLATE = r"calbot:view:(?P<calendar>\d+):(?P<period>\d{4}-\d{2}(?:-\d{2})?):(?P<zone>[A-Za-z0-9_+\-/]{1,60})"
ALL_CALENDARS = 0


def _day_line(day: date, entries: list[Item], zone: ZoneInfo) -> str:
    parts = []
    for item in entries:
        if item.all_day:
            when = "all day" if item.first == item.last else f"all day to {item.last:%a} {item.last.day} {item.last:%b}"
        else:
            when = f"{item.starts.astimezone(zone):%H:%M}"
        text = f"{when} {escape(item.name)}" + (" (repeats)" if item.series else "")
        parts.append(f"~~{text}~~ (cancelled)" if item.cancelled else text)
    return f"**{day:%a} {day.day} {day:%b}**: " + "; ".join(parts)


def month_text(period: Period, shown: list[Item], zone: ZoneInfo) -> str:
    """The picture as text, one line per day with events, for screen readers and for search."""
    lines = []
    for day in period.days:
        if not period.in_period(day):
            continue
        entries = [i for i in shown if i.first == day or (i.first < day == period.first <= i.last)]
        if entries:
            lines.append(_day_line(day, entries, zone))
    return shorten("\n".join(lines), DESCRIPTION) if lines else "No events."


def period_from_key(key: str, start: int) -> Period:
    """A button's period: `2026-12` a month, `2026-12-14` the week holding that day."""
    year, month, *day = map(int, key.split("-"))
    return week_of(date(year, month, day[0]), start) if day else month_of(date(year, month, 1), start)


async def month_message(
    bot: CalBot, guild_id: int, period: Period, zone_name: str, calendar: Calendar | None
) -> tuple[discord.Embed, discord.File, discord.ui.View]:
    """The embed with its picture attached, and the buttons to the periods before and after."""
    zone = ZoneInfo(zone_name)
    start, end = period.bounds(zone)
    shown = await view_items(bot.store, guild_id, start, end, zone, calendar_id=calendar.id if calendar else None)
    title = period.title + (f" · {calendar.name}" if calendar else "")
    today = bot.now().astimezone(zone).date()
    png = await asyncio.to_thread(
        render_month, period, shown, zone=zone, zone_label=zone_name, today=today, title=title
    )
    filename = f"calendar-{period.key}.png"
    embed = discord.Embed(title=shorten(title, 256), description=month_text(period, shown, zone))
    if calendar is not None:
        embed.colour = calendar.color.value
    embed.set_image(url=f"attachment://{filename}")
    embed.set_footer(text=zone_caption(period, zone, zone_name))
    return (
        fit_embed(embed),
        discord.File(io.BytesIO(png), filename, description=f"{title}: calendar picture"),
        _buttons(calendar.id if calendar else ALL_CALENDARS, period, zone_name),
    )


def _buttons(calendar_id: int, period: Period, zone_name: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    word = "week" if period.week else "month"
    view.add_item(PeriodButton(calendar_id, period.previous().key, zone_name, f"◀ Previous {word}"))
    view.add_item(PeriodButton(calendar_id, period.next().key, zone_name, f"Next {word} ▶"))
    return view


class PeriodButton(discord.ui.DynamicItem[discord.ui.Button], template=TEMPLATE):
    """Previous or Next: shows the period its custom_id names, in place."""

    def __init__(self, calendar_id: int, period: str, zone: str, label: str = "Show") -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=CUSTOM_ID.format(calendar=calendar_id, period=period, zone=zone),
            )
        )
        self.calendar_id, self.period, self.zone = calendar_id, period, zone

    @classmethod
    async def from_custom_id(
        cls, _interaction: discord.Interaction, _item: discord.ui.Button, match: re.Match[str]
    ) -> PeriodButton:
        return cls(int(match["calendar"]), match["period"], match["zone"])

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self._show(interaction)
        except Exception as error:  # discord.py only logs what a dynamic item raises; the member deserves an answer
            await report_error(interaction, error)

    async def _show(self, interaction: discord.Interaction) -> None:
        bot = calbot(interaction)
        if interaction.guild_id is None:
            await respond(interaction, "⚠️ Calendar views belong to a server.")
            return
        settings = await bot.guild_settings(interaction.guild_id)
        calendar = None
        if self.calendar_id != ALL_CALENDARS:
            try:
                calendar = await bot.store.calendars.get(interaction.guild_id, self.calendar_id)
            except NotFound:
                await respond(interaction, "⚠️ That calendar no longer exists on this server.")
                return
        try:  # the custom_id came from a client: take nothing in it on trust
            zone_name = str(resolve_zone(self.zone))
            period = period_from_key(self.period, week_start(settings.timezone))
        except (DomainError, ValueError):
            await respond(interaction, "⚠️ This button is not one calbot made; run `/calendar view` again.")
            return
        embed, file, view = await month_message(bot, interaction.guild_id, period, zone_name, calendar)
        await interaction.response.edit_message(embed=embed, attachments=[file], view=view)


async def show_view(
    interaction: discord.Interaction, calendar: Calendar | None, month: str | None, week_day: date | None
) -> None:
    """/calendar view: the month (or the week holding `week_day`) in the member's zone, else the server's."""
    bot = calbot(interaction)
    settings = await bot.guild_settings(interaction.guild_id)
    own = await bot.store.users.get(interaction.user.id)
    zone_name = own.timezone if own else settings.timezone
    start = week_start(settings.timezone)
    if week_day is not None:
        period = week_of(week_day, start)
    else:
        period = parse_period(month, today=bot.now().astimezone(ZoneInfo(zone_name)).date(), start=start)
    await interaction.response.defer(ephemeral=True, thinking=True)
    embed, file, view = await month_message(bot, interaction.guild_id, period, zone_name, calendar)
    await interaction.followup.send(
        embed=embed, file=file, view=view, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
    )


async def setup(bot: CalBot) -> None:
    bot.add_dynamic_items(PeriodButton)


async def teardown(bot: CalBot) -> None:
    bot.remove_dynamic_items(PeriodButton)
