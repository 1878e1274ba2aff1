"""/event: create, list, show, edit and delete events; each one has a card in its calendar's channel.
Members answer with /event rsvp or the card's buttons (bot/exts/cards.py) and see who comes with
/event attendees."""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.colors import Color
from bot.domain.durations import parse_duration
from bot.domain.edits import edited, moved_to_rule, one_occurrence_change, split_series, with_changes
from bot.domain.errors import InvalidField
from bot.domain.ical import event_file, filename
from bot.domain.models import LONGEST_EVENT, MAX_CAPACITY, Calendar, Event
from bot.domain.notifications import parse_intervals, reminders_in_words
from bot.domain.occurrences import Occurrence, expand
from bot.domain.reminders import Slot, private_slots
from bot.domain.rsvp import ONE_OFF, REMINDED, RegistrationClosed
from bot.domain.timeparse import day_bounds, local_midnight, month_bounds

from .cards import attendees_embed, event_details, rule_in_words, update_card
from .common import (
    COLOR_CHOICES,
    CalendarOption,
    ChannelsOption,
    EventOption,
    ShortText,
    TimeText,
    UrlText,
    ZoneOption,
    event_when,
    may_change_event,
    organiser_only,
    public_reminder_channel,
    read_time,
    read_typed,
    reading_notes,
    reading_zone,
    respond,
    settings_for,
    think,
    timestamp,
    wall_time,
)
from .messages import escape, fit_embed, shorten
from .rsvp import ANSWERS, BUTTONS, answer, closed_text, confirmation, notify_promoted
from .series import (
    REPEAT_CHOICES,
    SCOPE_CHOICES,
    SERIES_OPTIONS,
    occurrence_choices,
    occurrence_of,
    read_rule,
)
from .tree import ReportingView

if TYPE_CHECKING:
    from bot.app import CalBot

log = logging.getLogger(__name__)

PAGE_SIZE = 10
UPCOMING = timedelta(days=366)  # how far "upcoming" looks: an endless series would go on for ever
SHOWN_OCCURRENCES = 5
PAGE_TIMEOUT = 300.0
DEFAULT_CALENDAR = "General"
PAST_GRACE = timedelta(minutes=1)  # "now" typed a moment ago is not the past
ON_RULE = "It starts on its rule's first occurrence, which is later than the start given."
CLEAR = "-"  # typed into an optional text option to clear it
NO_LIMIT = 0  # /event edit capacity:0 removes the limit
# A reply echoes the rule it understood in at most this many characters, so that the reply (name, calendar,
# times, notes) stays within Discord's 2,000.
ECHO_RULE = 1000
RSVP_CHOICES = [app_commands.Choice(name=BUTTONS[a][0], value=a) for a in ANSWERS]
EVENT_OPTIONS = dict(
    name="The event's name",
    start="When it starts: 2026-12-24 18:00, tomorrow 18:00, friday 8pm, in 2 hours",
    end="When it ends (or give a duration)",
    duration="How long it lasts: 2h, 1h30m, 90 minutes",
    calendar="The calendar it belongs to",
    description="What it is about",
    location="Where it takes place",
    url="A link for details (https://...)",
    all_day="Whether it lasts whole days (start and end are then dates)",
    color="Colour of its card",
    image="An image for its card (https://...)",
    reminders="How long before to remind: 15m, 1 hour, 1 day (several: 1 day, 15m), or none",
    channels="Where reminders go",
    registration="Whether members can sign up",
    deadline="When sign-up closes",
    capacity="How many can go; beyond it members are waitlisted (empty: no limit)",
)


def _optional_text(value: str | None) -> str | None:
    """None: option not given; "": cleared with "-"."""
    if value is None:
        return None
    return "" if value.strip() == CLEAR else value


class EventPages(ReportingView):
    """Previous / Next over a list too long for one message; only its requester can turn pages."""

    def __init__(
        self,
        origin: discord.Interaction,
        fetch: Callable[[int], Awaitable[tuple[list[Occurrence], int]]],
        render: Callable[[list[Occurrence], int, int], Awaitable[discord.Embed]],
        total: int,
    ) -> None:
        super().__init__(timeout=PAGE_TIMEOUT)
        self.origin, self.fetch, self.render = origin, fetch, render
        self.page, self.pages = 0, max(1, -(-total // PAGE_SIZE))
        self._sync_buttons()

    async def on_timeout(self) -> None:
        # The buttons would no longer answer, so remove them.
        try:
            await self.origin.edit_original_response(view=None)
        except discord.HTTPException:
            log.debug("Could not remove the paging buttons of interaction %s", self.origin.id)

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= self.pages - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.origin.user.id:
            await respond(interaction, "Run `/event list` yourself to page through it.")
            return False
        return True

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = min(max(self.page + step, 0), self.pages - 1)
        events, total = await self.fetch(self.page)
        self.pages = max(1, -(-total // PAGE_SIZE))
        self._sync_buttons()
        await interaction.response.edit_message(embed=await self.render(events, total, self.page), view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, _button: discord.ui.Button) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.primary)
    async def next(self, interaction: discord.Interaction, _button: discord.ui.Button) -> None:
        await self._turn(interaction, +1)


@app_commands.guild_only()
class Events(commands.GroupCog, group_name="event", group_description="Plan the server's events"):
    def __init__(self, bot: CalBot) -> None:
        self.bot = bot

    # ---- create

    @app_commands.command(name="create")
    @app_commands.describe(**EVENT_OPTIONS, **SERIES_OPTIONS)
    @app_commands.choices(color=COLOR_CHOICES)
    @organiser_only()
    async def create(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, 100],
        start: TimeText,
        end: TimeText | None = None,
        duration: TimeText | None = None,
        calendar: app_commands.Transform[Calendar, CalendarOption] | None = None,
        description: app_commands.Range[str, 0, 4000] | None = None,
        location: app_commands.Range[str, 0, 1024] | None = None,
        url: UrlText | None = None,
        all_day: bool = False,
        color: app_commands.Choice[str] | None = None,
        image: UrlText | None = None,
        reminders: ShortText | None = None,
        channels: app_commands.Transform[tuple[str, ...], ChannelsOption] | None = None,
        registration: bool = True,
        deadline: TimeText | None = None,
        capacity: app_commands.Range[int, 1, MAX_CAPACITY] | None = None,
        repeat: ShortText | None = None,
        every: app_commands.Range[int, 1, 999] | None = None,
        count: app_commands.Range[int, 1, 10_000] | None = None,
        until: TimeText | None = None,
        on: ShortText | None = None,
        timezone: app_commands.Transform[str, ZoneOption] | None = None,
    ) -> None:
        """Create an event (or a repeating series) and post its card."""
        await think(interaction)
        settings = await settings_for(interaction)
        now = self.bot.now()
        zone = timezone or settings.timezone
        typed = await read_typed(interaction, start, "start", require_time=not all_day, zone=zone)
        starts = typed.instant
        ends = await self._end(interaction, starts, end, duration, all_day=all_day, zone=zone)
        rule = await read_rule(interaction, repeat, every=every, count=count, until=until, on=on, zone=zone)
        draft = Event(
            guild_id=interaction.guild_id,
            calendar_id=0,
            name=name,
            starts=starts,
            anchor=typed.wall,
            ends=ends,
            timezone=zone,
            recurrence=rule,
            description=description or "",
            location=location or "",
            url=url,
            author_id=interaction.user.id,
            all_day=all_day,
            registration_enabled=registration,
            registration_deadline=deadline and await read_time(interaction, deadline, "deadline", zone=zone),
            notifications_interval=parse_intervals(reminders) if reminders else settings.default_reminders,
            notifications_channels=channels if channels else settings.default_channels,
            color=Color[color.value] if color else Color.NONE,
            image=image,
            capacity=capacity,
        )
        valid = draft.validated()  # before a default calendar may be created for it
        self._refuse_past(valid, now)
        calendar = calendar or await self._default_calendar(interaction.guild_id)
        channel_id = calendar.channel_id or settings.default_channel_id or interaction.channel_id
        created = await self.bot.store.events.create(
            dataclasses.replace(valid, calendar_id=calendar.id, card_channel_id=channel_id)
        )
        outcome = await self.bot.follow_up.complete(created.guild_id, created.id, calendar=calendar)
        event = outcome.event or created
        lines = [
            f"Created **{event.name}** (`#{event.id}`) in **{calendar.name}**.",
            self._echo(event, await reading_zone(interaction, event.timezone)),
        ]
        if moved_to_rule(draft, event):
            lines.append(ON_RULE)
        lines.append(f"Reminders: {reminders_in_words(event.notifications_interval, event.notifications_channels)}.")
        if read := reading_notes(interaction):
            lines.append(read)
        if outcome.problem or event.card_message_id is not None:
            lines.append(outcome.problem or f"Its card is in <#{event.card_channel_id}>.")
        await respond(interaction, "\n".join(lines))

    async def _end(
        self,
        interaction: discord.Interaction,
        starts: datetime,
        end: str | None,
        duration: str | None,
        *,
        all_day: bool,
        zone: str,
    ) -> datetime | None:
        if end is not None and duration is not None:
            raise InvalidField("duration", "give either an end or a duration, not both")
        if duration is not None:
            length = parse_duration(duration)
            if length > LONGEST_EVENT:
                raise InvalidField("duration", "must be at most a year")
            return starts + length
        if end is None:
            return None
        ends = await read_time(interaction, end, "end", require_time=not all_day, zone=zone)
        if all_day:  # people name the last day ("5 to 7 January"); the event ends when that day does
            tz = ZoneInfo(zone)
            ends = local_midnight(ends.astimezone(tz).date() + timedelta(days=1), tz)
        return ends

    @staticmethod
    def _refuse_past(event: Event, now: datetime) -> None:
        over = event.effective_end if event.all_day else event.starts
        if over < now - PAST_GRACE:
            raise InvalidField("start", f"{timestamp(event.starts)} is in the past; give a time still to come")

    async def _default_calendar(self, guild_id: int) -> Calendar:
        """A guild's first event creates "General"; with several calendars, "General" or the member's pick."""
        calendars = await self.bot.store.calendars.list(guild_id)
        if not calendars:
            return await self.bot.store.calendars.get_or_create(guild_id, DEFAULT_CALENDAR)
        if len(calendars) == 1:
            return calendars[0]
        for candidate in calendars:
            if candidate.name.casefold() == DEFAULT_CALENDAR.casefold():
                return candidate
        names = ", ".join(c.name for c in calendars)
        raise InvalidField("calendar", f"this server has several calendars ({names}); pick one")

    @staticmethod
    def _echo(event: Event, zone: str) -> str:
        """Every reply says which instant it understood: as a timestamp, and in the zone the member's
        typing was read in."""
        if event.all_day:
            text = f"When: {event_when(event)} in {event.timezone}."
        else:
            text = f"Starts {timestamp(event.starts)}, read as `{wall_time(event.starts, zone)}`"
            if event.ends:
                text += f"; ends {timestamp(event.ends)} (`{wall_time(event.ends, zone)}`)"
            text += "."
        if event.recurrence is not None:  # a rule with many days can run to thousands of characters
            text += f"\nRepeats {shorten(rule_in_words(event), ECHO_RULE)}."
        if event.registration_enabled and event.registration_deadline:
            deadline = event.registration_deadline
            text += f"\nRegistration closes {timestamp(deadline)} (`{wall_time(deadline, zone)}`)."
        return text

    @create.autocomplete("repeat")
    async def _repeat_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [c for c in REPEAT_CHOICES if current.strip().casefold() in c.value]

    # ---- list

    @app_commands.command(name="list")
    @app_commands.describe(
        calendar="Only this calendar's events",
        month="A month, as YYYY-MM",
        date="A day: YYYY-MM-DD, today, tomorrow, friday...",
    )
    async def list_(
        self,
        interaction: discord.Interaction,
        calendar: app_commands.Transform[Calendar, CalendarOption] | None = None,
        month: app_commands.Range[str, 1, 40] | None = None,
        date: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        """List upcoming events, or those of a month or a day."""
        if month is not None and date is not None:
            raise InvalidField("date", "give a month or a date, not both")
        settings = await settings_for(interaction)
        zone = ZoneInfo(settings.timezone)
        guild_id = interaction.guild_id
        calendar_id = calendar.id if calendar else None

        if month is not None:
            start, end, first = month_bounds(month, zone)
            title = f"Events in {first:%B %Y}"
        elif date is not None:
            day = (await read_time(interaction, date, "date", require_time=False)).astimezone(zone).date()
            (start, end), title = day_bounds(day, zone), f"Events on {day:%a %d %b %Y}"
        else:
            start = self.bot.now()
            end, title = start + UPCOMING, "Upcoming events"
        if calendar is not None:
            title += f" · {calendar.name}"
        events = self.bot.store.events
        names = {c.id: c.name for c in await self.bot.store.calendars.list(guild_id)}

        async def fetch(page: int) -> tuple[list[Occurrence], int]:
            offset = page * PAGE_SIZE
            shown, total = await events.occurrence_page(
                guild_id, start, end, calendar_id=calendar_id, offset=offset, limit=PAGE_SIZE
            )
            return await events.materialise(guild_id, shown), total

        async def render(shown: list[Occurrence], total: int, page: int) -> discord.Embed:
            return self.render_list(title, shown, total, page, names)

        first, total = await fetch(0)
        embed = await render(first, total, 0)
        if total <= PAGE_SIZE:
            await respond(interaction, embed=embed)
            return
        await respond(interaction, embed=embed, view=EventPages(interaction, fetch, render, total))

    @staticmethod
    def render_list(title: str, shown: list[Occurrence], total: int, page: int, names: dict[int, str]) -> discord.Embed:
        embed = discord.Embed(title=title)
        if not shown:
            embed.description = "No events." if total == 0 else "No events on this page."
            return fit_embed(embed)
        embed.description = "\n".join(
            f"`#{o.event.id}` **{escape(o.name)}**{' 🔁' if o.event.recurrence else ''}"
            f" · {event_when(o, short=True)} · {names.get(o.event.calendar_id, '?')}"
            for o in shown
        )
        pages = max(1, -(-total // PAGE_SIZE))
        embed.set_footer(text=f"Page {page + 1} of {pages} · {total} event{'s' if total != 1 else ''}")
        return fit_embed(embed)

    # ---- show

    @app_commands.command(name="show")
    @app_commands.describe(event="The event to show")
    async def show(self, interaction: discord.Interaction, event: app_commands.Transform[Event, EventOption]) -> None:
        """Show an event's details."""
        calendar = await self.bot.store.calendars.get(interaction.guild_id, event.calendar_id)
        upcoming = [Occurrence.of(event)]
        if event.recurrence is not None:
            now = self.bot.now()
            changes = (await self.bot.store.changes.for_events(event.guild_id, [event.id]))[event.id]
            upcoming = expand(event, changes, after=now, before=now + UPCOMING * 5, limit=SHOWN_OCCURRENCES) or upcoming
        attendees = await self.bot.store.attendees.list(interaction.guild_id, event.id, upcoming[0].key)
        planned = await self.bot.store.reminders.for_event(interaction.guild_id, event.id)
        channel_id = public_reminder_channel(calendar, await settings_for(interaction), event)
        content = None
        if event.card_message_id:
            content = (
                f"Card: https://discord.com/channels/{event.guild_id}/{event.card_channel_id}/{event.card_message_id}"
            )
        yours: frozenset[Slot] = frozenset()
        if any(a.user_id == interaction.user.id and a.status in REMINDED for a in attendees):
            settings = (event.notifications_interval, event.notifications_channels, event.notifications_enabled)
            yours = private_slots(*settings, await self.bot.store.reminder_prefs.get(interaction.user.id))
        details = event_details(
            event, calendar, attendees, upcoming=upcoming, planned=planned, public_channel_id=channel_id, yours=yours
        )
        await respond(interaction, content, embed=details)

    # ---- edit

    @app_commands.command(name="edit")
    @app_commands.describe(
        event="The event to change",
        **{
            k: v + ' ("-" clears it)' if k in ("end", "description", "location", "url", "image", "deadline") else v
            for k, v in EVENT_OPTIONS.items()
        }
        | {"capacity": "How many can go; beyond it members are waitlisted (0 removes the limit)"},
        **SERIES_OPTIONS,
        scope="For a series: this occurrence only, this and the following ones, or all (default)",
        occurrence="For a series: which occurrence (default: the next one)",
    )
    @app_commands.choices(color=COLOR_CHOICES, scope=SCOPE_CHOICES)
    @app_commands.autocomplete(occurrence=occurrence_choices)
    @organiser_only()
    async def edit(
        self,
        interaction: discord.Interaction,
        event: app_commands.Transform[Event, EventOption],
        name: app_commands.Range[str, 1, 100] | None = None,
        start: TimeText | None = None,
        end: TimeText | None = None,
        duration: TimeText | None = None,
        calendar: app_commands.Transform[Calendar, CalendarOption] | None = None,
        description: app_commands.Range[str, 0, 4000] | None = None,
        location: app_commands.Range[str, 0, 1024] | None = None,
        url: UrlText | None = None,
        all_day: bool | None = None,
        color: app_commands.Choice[str] | None = None,
        image: UrlText | None = None,
        reminders: ShortText | None = None,
        channels: app_commands.Transform[tuple[str, ...], ChannelsOption] | None = None,
        registration: bool | None = None,
        deadline: TimeText | None = None,
        capacity: app_commands.Range[int, NO_LIMIT, MAX_CAPACITY] | None = None,
        repeat: ShortText | None = None,
        every: app_commands.Range[int, 1, 999] | None = None,
        count: app_commands.Range[int, 1, 10_000] | None = None,
        until: TimeText | None = None,
        on: ShortText | None = None,
        timezone: app_commands.Transform[str, ZoneOption] | None = None,
        scope: app_commands.Choice[str] | None = None,
        occurrence: ShortText | None = None,
    ) -> None:
        """Change an event, one occurrence of a series, or this and the following ones; cards follow."""
        await may_change_event(interaction, event)
        await think(interaction)
        kind = scope.value if scope else ("this" if occurrence is not None else "all")
        if event.recurrence is None and (kind != "all" or occurrence is not None):
            raise InvalidField("scope", "this event does not repeat: leave scope and occurrence empty")
        picked = await occurrence_of(self.bot, event, occurrence) if kind != "all" else None
        zone = timezone or event.timezone  # the event's own zone, even if the guild's has changed since
        base = picked.starts if picked else event.starts
        changes: dict[str, object] = {}
        day_only = event.all_day if all_day is None else all_day
        if all_day is not None:
            changes["all_day"] = all_day
        if timezone is not None:
            changes["timezone"] = timezone
        if start is not None:
            typed = await read_typed(interaction, start, "start", require_time=not day_only, zone=zone)
            changes["starts"] = typed.instant
            if kind != "this":  # one occurrence has no wall time of its own to repeat
                changes["anchor"] = typed.wall
        starts = changes.get("starts", base)
        if _optional_text(end) == "":
            changes["ends"] = None
        elif end is not None or duration is not None:
            changes["ends"] = await self._end(interaction, starts, end, duration, all_day=day_only, zone=zone)
        for option, value in (("description", description), ("location", location)):
            if _optional_text(value) is not None:
                changes[option] = _optional_text(value)
        for option, value in (("url", url), ("image", image)):
            if _optional_text(value) is not None:
                changes[option] = _optional_text(value) or None
        if _optional_text(deadline) == "":
            changes["registration_deadline"] = None
        elif deadline is not None:
            changes["registration_deadline"] = await read_time(interaction, deadline, "deadline", zone=zone)
        if name is not None:
            changes["name"] = name
        if calendar is not None:
            changes["calendar_id"] = calendar.id
        if color is not None:
            changes["color"] = Color[color.value]
        if reminders is not None:
            changes["notifications_interval"] = parse_intervals(reminders)
        if channels is not None:
            changes["notifications_channels"] = channels
        if registration is not None:
            changes["registration_enabled"] = registration
        if capacity is not None:
            changes["capacity"] = None if capacity == NO_LIMIT else capacity
        rule = await read_rule(interaction, repeat, every=every, count=count, until=until, on=on, zone=zone)
        if rule is not None:
            changes["recurrence"] = rule
        if not changes:
            await respond(interaction, "Nothing to change: give at least one option.")
            return

        if kind == "this":
            await self._edit_one(interaction, event, picked, changes)
            return
        head, base = split_series(event, picked) if kind == "following" else (None, event)
        # The whole edit is checked before anything is stored: a refused edit splits nothing.
        wanted = edited(base, changes)
        if "starts" in changes:
            self._refuse_past(wanted, self.bot.now())
        follow_up = self.bot.follow_up
        if head is not None:
            tail = dataclasses.replace(wanted, card_channel_id=head.card_channel_id or interaction.channel_id)
            head, updated = await self.bot.store.events.split(head, tail, picked.key, unedited=base)
            await follow_up.complete(head.guild_id, head.id)
            lines = [
                f"Split the series: from {timestamp(picked.starts, 'D')} on it is **{updated.name}** (`#{updated.id}`)."
            ]
        else:
            updated = await self.bot.store.events.update(wanted)
            lines = [f"Updated **{updated.name}** (`#{updated.id}`)."]
        outcome = await follow_up.complete(updated.guild_id, updated.id, calendar=calendar)
        updated = outcome.event or updated
        lines.append(self._echo(updated, await reading_zone(interaction, updated.timezone)))
        if moved_to_rule(with_changes(base, changes), updated):
            lines.append(ON_RULE)
        if "notifications_interval" in changes or "notifications_channels" in changes:
            reminders = reminders_in_words(updated.notifications_interval, updated.notifications_channels)
            lines.append(f"Reminders: {reminders}.")
        if read := reading_notes(interaction):
            lines.append(read)
        if promoted := len(outcome.promoted):
            lines.append(f"{promoted} member{'s' if promoted != 1 else ''} got a place off the waitlist.")
        if outcome.problem:
            lines.append(outcome.problem)
        await respond(interaction, "\n".join(lines))

    async def _edit_one(
        self, interaction: discord.Interaction, event: Event, picked: Occurrence, changes: dict[str, object]
    ) -> None:
        """One occurrence moved or edited: a RECURRENCE-ID override; the series stays as it is."""
        change = one_occurrence_change(event, picked, changes)
        if change.starts is not None and change.starts < self.bot.now() - PAST_GRACE:
            raise InvalidField("start", f"{timestamp(change.starts)} is in the past; give a time still to come")
        await self.bot.store.changes.save(change)
        await self.bot.follow_up.complete(event.guild_id, event.id)
        moved = await self.bot.store.events.occurrence(event.guild_id, event.id, picked.key)
        zone = await reading_zone(interaction, event.timezone)
        await respond(
            interaction,
            f"Updated the {timestamp(picked.original, 'D')} occurrence of **{event.name}** (`#{event.id}`): "
            f"**{moved.name}** {timestamp(moved.starts)}, read as `{wall_time(moved.starts, zone)}`. "
            "The rest of the series is unchanged." + (f"\n{read}" if (read := reading_notes(interaction)) else ""),
        )

    @app_commands.command(name="cancel")
    @app_commands.describe(event="A repeating event", occurrence="Which occurrence (default: the next one)")
    @app_commands.autocomplete(occurrence=occurrence_choices)
    @organiser_only()
    async def cancel(
        self,
        interaction: discord.Interaction,
        event: app_commands.Transform[Event, EventOption],
        occurrence: ShortText | None = None,
    ) -> None:
        """Cancel one occurrence of a series (delete a one-off event with /event delete)."""
        await may_change_event(interaction, event)
        await think(interaction)
        picked = await occurrence_of(self.bot, event, occurrence)
        if picked.cancelled:
            await respond(interaction, "That occurrence is cancelled already.")
            return
        await self.bot.store.changes.save(
            dataclasses.replace(one_occurrence_change(event, picked, {}), starts=None, cancelled=True)
        )
        problem = (await self.bot.follow_up.complete(event.guild_id, event.id)).problem
        lines = [f"Cancelled the {timestamp(picked.starts, 'F')} occurrence of **{event.name}** (`#{event.id}`)."]
        await respond(interaction, "\n".join(filter(None, [*lines, problem])))

    # ---- answering, and who comes: open to every member

    async def _occurrence_key(self, event: Event, occurrence: str | None) -> int:
        """A series' picked (or next) occurrence; 0 for a one-off event."""
        if event.recurrence is None:
            if occurrence is not None:
                raise InvalidField("occurrence", "this event does not repeat: leave occurrence empty")
            return ONE_OFF
        return (await occurrence_of(self.bot, event, occurrence)).key

    @app_commands.command(name="rsvp")
    @app_commands.describe(
        event="The event to answer",
        status="Whether you're going",
        occurrence="For a series: which occurrence (default: the next one)",
    )
    @app_commands.choices(status=RSVP_CHOICES)
    @app_commands.autocomplete(occurrence=occurrence_choices)
    async def rsvp(
        self,
        interaction: discord.Interaction,
        event: app_commands.Transform[Event, EventOption],
        status: app_commands.Choice[str],
        occurrence: ShortText | None = None,
    ) -> None:
        """Say whether you're going to an event (the card's buttons do the same)."""
        await think(interaction)
        key = await self._occurrence_key(event, occurrence)
        try:
            result = await answer(self.bot, interaction.guild_id, event.id, key, interaction.user.id, status.value)
        except RegistrationClosed as closed:
            await respond(interaction, f"⚠️ {closed_text(closed)}")
            return
        await notify_promoted(self.bot, result.event, key, result.promoted)
        problem = await update_card(self.bot, result.event, result.calendar)
        await respond(interaction, "\n".join(filter(None, [confirmation(result), problem])))

    @app_commands.command(name="attendees")
    @app_commands.describe(
        event="The event whose attendees to list", occurrence="For a series: which occurrence (default: the next one)"
    )
    @app_commands.autocomplete(occurrence=occurrence_choices)
    async def attendees(
        self,
        interaction: discord.Interaction,
        event: app_commands.Transform[Event, EventOption],
        occurrence: ShortText | None = None,
    ) -> None:
        """List who is going, maybe going, waitlisted and not going."""
        calendar = await self.bot.store.calendars.get(interaction.guild_id, event.calendar_id)
        key = await self._occurrence_key(event, occurrence)
        attendees = await self.bot.store.attendees.list(interaction.guild_id, event.id, key)
        await respond(interaction, embed=attendees_embed(event, calendar, attendees))

    # ---- delete

    @app_commands.command(name="delete")
    @app_commands.describe(event="The event to delete; its card is marked cancelled")
    @organiser_only()
    async def delete(self, interaction: discord.Interaction, event: app_commands.Transform[Event, EventOption]) -> None:
        """Delete an event and mark its card cancelled."""
        await may_change_event(interaction, event)
        await think(interaction)
        deleted = await self.bot.store.events.delete(interaction.guild_id, event.id)
        problem = (await self.bot.follow_up.complete(deleted.guild_id, deleted.id)).problem
        lines = [
            f"Deleted **{deleted.name}** (`#{deleted.id}`)."
            + (" Its card now says cancelled." if deleted.card_message_id and not problem else "")
        ]
        if problem:
            lines.append(problem)
        await respond(interaction, "\n".join(lines))

    # ---- export

    @app_commands.command(name="export")
    @app_commands.describe(event="The event to add to your own calendar app")
    async def export(self, interaction: discord.Interaction, event: app_commands.Transform[Event, EventOption]) -> None:
        """Get an event as an .ics file for your calendar app."""
        changes = []
        if event.recurrence is not None:
            changes = (await self.bot.store.changes.for_events(interaction.guild_id, [event.id]))[event.id]
        body = event_file(event, changes, now=self.bot.now())
        await respond(
            interaction,
            f"**{event.name}** as an iCalendar file: open it to add the event to your calendar app.",
            file=discord.File(io.BytesIO(body), filename=filename(event.name)),
        )


async def setup(bot: CalBot) -> None:
    await bot.add_cog(Events(bot))
