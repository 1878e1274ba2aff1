"""The event card: its embed, its RSVP buttons, and posting and re-rendering it; plus the list embeds.

A card that cannot be posted never undoes the event itself. Every card is rendered here, with its
attendees loaded here, so whoever posts or updates one gets the whole card: details, who is coming, and
the RSVP buttons while registration is on.

The buttons are `DynamicItem`s: a click carries everything it needs in its custom_id (event,
occurrence, answer), so the buttons of every card ever posted keep working after a restart, with no
per-message state to load. A click takes the one path every answer takes (`answer` in rsvp.py), then
re-renders the card in place.
"""

from __future__ import annotations

import copy
import itertools
import logging
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord

from bot.domain.colors import shown_colour
from bot.domain.errors import NotFound
from bot.domain.ical import google_calendar_url
from bot.domain.models import Calendar, Event, GuildSettings
from bot.domain.notifications import channels_in_words, intervals_in_words, reminders_in_words
from bot.domain.occurrences import Occurrence, next_occurrence
from bot.domain.permissions import everyone_organises
from bot.domain.recurrence import describe
from bot.domain.reminders import PENDING, Reminder, Slot, delivery_nonce, parse_interval
from bot.domain.rsvp import GOING, MAYBE, NOT_GOING, ONE_OFF, WAITLISTED, Attendee, RegistrationClosed, grouped

from .common import calbot, event_when, respond, timestamp
from .messages import DESCRIPTION, FIELD_VALUE, first_fitting, fit_embed, masked_link
from .rsvp import ANSWERS, BUTTONS, answer, closed_text, confirmation, notify_promoted
from .tree import report_error

if TYPE_CHECKING:
    from bot.app import CalBot

log = logging.getLogger(__name__)

CANCELLED_COLOUR = 0x808080
# Names shown per status before "and N more": fewer when the rest of the card is long.
CARD_NAMES = (20, 10, 5, 0)
LIST_NAMES = (100, 50, 25, 10, 0)
NEXT_REMINDERS = 5  # planned reminders /event show lists
DMS_CLOSED = "⚠️ DMs closed"
CUSTOM_ID = "calbot:rsvp:{event}:{occurrence}:{answer}"
TEMPLATE = r"calbot:rsvp:(?P<event>\d+):(?P<occurrence>\d+):(?P<answer>" + "|".join(map(re.escape, ANSWERS)) + ")"


def rule_in_words(event: Event) -> str:
    """ "every 2nd Tuesday of the month at 19:00 (Europe/Berlin)"."""
    zone = ZoneInfo(event.timezone)
    return describe(event.recurrence, event.starts, zone, event.timezone, all_day=event.all_day, wall=event.anchor)


def fresh_copy(embed: discord.Embed) -> discord.Embed:
    """A copy whose fields can be added to: discord.py's Embed.copy() shares the fields list, so fields
    added to a copy would pile up on the original (and on every later try to make a card fit)."""
    return discord.Embed.from_dict(copy.deepcopy(embed.to_dict()))


def event_colour(event: Event, calendar: Calendar) -> int:
    return shown_colour(event.color, calendar.color)


def event_card(
    event: Event,
    calendar: Calendar,
    *,
    occurrence: Occurrence | None = None,
    attendees: Sequence[Attendee] = (),
    cancelled: bool = False,
) -> discord.Embed:
    """The card: what, when (for a series: the occurrence it is about), where, and who is coming (no one
    is listed on a cancelled card).

    It always fits Discord's limits (messages.py): a card near them first loses its "Add to your calendar"
    link, then attendee names, and only then are its longest texts shortened."""
    embed = _card(event, calendar, occurrence or Occurrence.of(event), cancelled=cancelled)
    if cancelled:
        return fit_embed(embed)
    linked = fresh_copy(embed)
    linked.add_field(name="Add to your calendar", value=calendar_link(event), inline=False)
    full = next(_with_attendees(linked, event, attendees))
    return first_fitting(itertools.chain([full], _with_attendees(embed, event, attendees)))


def calendar_link(event: Event) -> str:
    """A Google Calendar link filled in with the event, and where to get it for other apps. A link too long
    for a field (a long location in a script that percent-encodes to nine characters each) is left out
    rather than cut: a cut link would open a broken page."""
    other = " · `/event export` for other apps"
    link = masked_link("Add to Google Calendar", google_calendar_url(event), limit=FIELD_VALUE - len(other))
    return link + other if link else "`/event export` adds it to any calendar app"


def _card(event: Event, calendar: Calendar, shown: Occurrence, *, cancelled: bool = False) -> discord.Embed:
    embed = discord.Embed(
        title=("Cancelled: " if cancelled else "") + shown.name,
        url=event.url,
        description=("**This event was cancelled.**\n" if cancelled else "") + shown.description or None,
        colour=CANCELLED_COLOUR if cancelled else event_colour(event, calendar),
    )
    embed.add_field(name="Next" if event.recurrence else "Starts", value=event_when(shown), inline=False)
    if shown.ends is not None and not event.all_day:
        embed.add_field(name="Ends", value=f"{timestamp(shown.ends)} ({timestamp(shown.ends, 'R')})", inline=False)
    if event.recurrence is not None:
        embed.add_field(name="Repeats", value=rule_in_words(event), inline=False)
    if shown.location:
        embed.add_field(name="Location", value=shown.location, inline=False)
    embed.add_field(name="Calendar", value=calendar.name)
    if event.registration_enabled and event.registration_deadline is not None:
        embed.add_field(name="Registration closes", value=timestamp(event.registration_deadline))
    if event.image and not cancelled:
        embed.set_image(url=event.image)
    embed.set_footer(text=f"Event #{event.id} · {event.timezone}")
    return embed


def _with_attendees(embed: discord.Embed, event: Event, attendees: Sequence[Attendee]) -> Iterator[discord.Embed]:
    """The embed with who is going, maybe, and waiting: one variant per number of names shown, most names
    first, for `first_fitting` to pick from. An event without registration and without answers has no
    list at all (a single variant: the embed itself)."""
    if not (event.registration_enabled or attendees):
        yield embed
        return
    groups = grouped(list(attendees))
    for shown in CARD_NAMES:
        card = fresh_copy(embed)
        going = groups[GOING]
        card.add_field(
            name=f"Going ({going_count(event, going)})", value=names(going, shown) or "No one yet", inline=False
        )
        if groups[MAYBE]:
            card.add_field(name=f"Maybe ({len(groups[MAYBE])})", value=names(groups[MAYBE], shown), inline=False)
        if groups[WAITLISTED]:
            waiting = groups[WAITLISTED]
            card.add_field(name=f"Waitlist ({len(waiting)})", value=names(waiting, shown), inline=False)
        yield card


def going_count(event: Event, going: Sequence[Attendee]) -> str:
    """`3/10` with a capacity, else `3`."""
    return f"{len(going)}/{event.capacity}" if event.capacity is not None else str(len(going))


def who(attendee: Attendee) -> str:
    """A member as a mention (embeds never ping), flagged when a reminder DM could not reach them."""
    return f"<@{attendee.user_id}>" + (f" ({DMS_CLOSED})" if attendee.dm_error else "")


def names(people: Sequence[Attendee], shown: int, *, separator: str = ", ", numbered: bool = False) -> str:
    """The first `shown` people, then "and N more"; "" for no one."""
    if not people:
        return ""
    if shown == 0:
        return f"{len(people)} member{'s' if len(people) != 1 else ''}"
    parts = [f"{n}. {who(a)}" if numbered else who(a) for n, a in enumerate(people[:shown], 1)]
    if len(people) > shown:
        parts.append(f"and {len(people) - shown} more")
    return separator.join(parts)


def attendees_embed(event: Event, calendar: Calendar, attendees: Sequence[Attendee]) -> discord.Embed:
    """/event attendees: every status with its members, the waitlist numbered in its order of service."""
    embed = discord.Embed(title=f"Attendees: {event.name}", colour=event_colour(event, calendar))
    if not event.registration_enabled:
        header = "Registration is off."
    elif event.registration_deadline is not None:
        deadline = event.registration_deadline
        header = f"Registration deadline: {timestamp(deadline)} ({timestamp(deadline, 'R')})"
    else:
        header = None
    groups = grouped(list(attendees))
    sections = (
        (f"Going ({going_count(event, groups[GOING])})", groups[GOING], False),
        (f"Maybe ({len(groups[MAYBE])})", groups[MAYBE], False),
        (f"Waitlisted ({len(groups[WAITLISTED])})", groups[WAITLISTED], True),
        (f"Not going ({len(groups[NOT_GOING])})", groups[NOT_GOING], False),
    )
    for shown in LIST_NAMES:
        lines = [header] if header else []
        for title, people, numbered in sections:
            lines.append(f"**{title}**")
            lines.append(names(people, shown, separator="\n", numbered=numbered) or "No one")
        text = "\n".join(lines)
        if len(text) <= DESCRIPTION:
            break
    embed.description = text
    footer = f"Event #{event.id}"
    if any(a.dm_error for a in attendees):
        footer += f" · {DMS_CLOSED}: reminders by DM cannot reach that member"
    embed.set_footer(text=footer)
    return fit_embed(embed)


def event_details(
    event: Event,
    calendar: Calendar,
    attendees: Sequence[Attendee] = (),
    *,
    upcoming: Sequence[Occurrence] = (),
    planned: Sequence[Reminder] = (),
    public_channel_id: int | None = None,
    yours: frozenset[Slot] = frozenset(),
) -> discord.Embed:
    """The card plus what only people looking closely need: a series' next occurrences, reminders and the
    next ones planned (when each goes out, and where), registration, author. Of the reminders planned for
    members' own preferences, only the viewer's (`yours`) are listed, marked as theirs."""
    embed = _card(event, calendar, upcoming[0] if upcoming else Occurrence.of(event))
    if len(upcoming) > 1:
        later = "\n".join(f"{event_when(o, short=True)}" + ("" if o.name == event.name else f" · {o.name}")
                          for o in upcoming[1:])  # fmt: skip
        embed.add_field(name="Then", value=later, inline=False)
    if event.notifications_enabled and event.notifications_interval:
        reminders = reminders_in_words(event.notifications_interval, event.notifications_channels)
        embed.add_field(name="Reminders", value=reminders, inline=False)
        own = {(code, channel) for code in event.notifications_interval for channel in event.notifications_channels}
        coming = sorted(
            (r for r in planned if r.state == PENDING and r.target == 0 and (r.interval, r.channel) in own | yours),
            key=lambda r: (r.scheduled_for, r.channel),
        )[:NEXT_REMINDERS]
        if coming:
            lines = [
                planned_line(r, public_channel_id) + (" · yours" if (r.interval, r.channel) not in own else "")
                for r in coming
            ]
            embed.add_field(name="Next reminders", value="\n".join(lines), inline=False)
    else:
        embed.add_field(name="Reminders", value="off", inline=False)
    embed.add_field(name="Registration", value="open" if event.registration_enabled else "off")
    if event.author_id:
        embed.add_field(name="Created by", value=f"<@{event.author_id}>")
    return first_fitting(_with_attendees(embed, event, attendees))


def planned_line(reminder: Reminder, public_channel_id: int | None) -> str:
    """`<t:…:f> (in 2 days) · 15 minutes before · in #events`: when a planned reminder goes out, and where."""
    where = channels_in_words([reminder.channel])
    if reminder.channel == "discord_public" and public_channel_id is not None:
        where = f"in <#{public_channel_id}>"
    when = f"{timestamp(reminder.scheduled_for, 'f')} ({timestamp(reminder.scheduled_for, 'R')})"
    return f"{when} · {parse_interval(reminder.interval).words} · {where}"


def organisers_in_words(settings: GuildSettings) -> str:
    if settings.organiser_role_id is None:
        return "none (only managers create events)"
    if everyone_organises(settings):
        return "every member"
    return f"<@&{settings.organiser_role_id}>"


def settings_embed(settings: GuildSettings) -> discord.Embed:
    embed = discord.Embed(title="Calendar settings")
    embed.add_field(name="Time zone", value=settings.timezone)
    embed.add_field(
        name="Manager role",
        value=f"<@&{settings.manager_role_id}>" if settings.manager_role_id else "none (Manage Server only)",
    )
    embed.add_field(name="Organisers", value=organisers_in_words(settings))
    embed.add_field(
        name="Default channel",
        value=f"<#{settings.default_channel_id}>" if settings.default_channel_id else "none (where the command runs)",
    )
    embed.add_field(name="Default reminders", value=intervals_in_words(settings.default_reminders), inline=False)
    embed.add_field(name="Default reminder channels", value=channels_in_words(settings.default_channels))
    embed.add_field(name="Date order", value=settings.date_order)
    embed.add_field(name="All-day reminders from", value=settings.all_day_time)
    return fit_embed(embed)


def describe_failure(error: discord.HTTPException) -> str:
    if isinstance(error, discord.Forbidden):
        return "I lack the View Channel, Send Messages or Embed Links permission there"
    if isinstance(error, discord.NotFound):
        return "that channel no longer exists"
    return f"Discord answered {error.status}"


async def shown_occurrence(bot: CalBot, event: Event) -> Occurrence | None:
    """The occurrence a card is about: a one-off event's own; a series' running or next one (None once
    the series is over)."""
    if event.recurrence is None:
        return Occurrence.of(event)
    changes = (await bot.store.changes.for_events(event.guild_id, [event.id]))[event.id]
    return next_occurrence(event, changes, bot.now())


async def render_card(
    bot: CalBot, event: Event, calendar: Calendar, *, cancelled: bool = False
) -> tuple[discord.Embed, discord.ui.View | None]:
    """The card's embed and its buttons (None: no buttons). A cancelled card lists no one; a series that
    is over shows its last rule and takes no more answers."""
    shown = await shown_occurrence(bot, event)
    over = shown is None
    shown = shown or Occurrence.of(event)
    attendees = [] if cancelled else await bot.store.attendees.list(event.guild_id, event.id, shown.key)
    embed = event_card(event, calendar, occurrence=shown, attendees=attendees, cancelled=cancelled)
    return embed, card_view(event, shown.key, cancelled=cancelled or over)


async def post_card(bot: CalBot, event: Event, calendar: Calendar, channel_id: int) -> tuple[Event, str | None]:
    """Post the card to `channel_id` and remember where; return the event and any problem, in words."""
    channel = bot.get_partial_messageable(channel_id, guild_id=event.guild_id)
    embed, view = await render_card(bot, event, calendar)
    # A repost after a crash between Discord's answer and set_card carries the same nonce, so Discord answers
    # with the card already posted instead of posting a second one.
    nonce = delivery_nonce(f"card:{event.id}:{channel_id}")
    try:
        message = await channel.send(
            embed=embed, view=view, nonce=nonce, allowed_mentions=discord.AllowedMentions.none()
        )
    except discord.HTTPException as error:
        log.warning("Could not post the card of event %s in channel %s: %s", event.id, channel_id, error)
        return event, f"I could not post its card in <#{channel_id}>: {describe_failure(error)}."
    await bot.store.events.set_card(event.guild_id, event.id, channel_id, message.id)
    return await bot.store.events.get(event.guild_id, event.id), None


async def update_card(bot: CalBot, event: Event, calendar: Calendar, *, cancelled: bool = False) -> str | None:
    """Edit the event's card in place; return a problem in words, if any."""
    if event.card_channel_id is None or event.card_message_id is None:
        return None
    channel = bot.get_partial_messageable(event.card_channel_id, guild_id=event.guild_id)
    embed, view = await render_card(bot, event, calendar, cancelled=cancelled)
    try:
        # view=None takes the buttons off: registration turned off, or the event cancelled.
        await channel.get_partial_message(event.card_message_id).edit(embed=embed, view=view)
    except discord.HTTPException as error:
        log.warning("Could not update the card of event %s: %s", event.id, error)
        return f"I could not update its card in <#{event.card_channel_id}>: {describe_failure(error)}."
    return None


class RsvpButton(discord.ui.DynamicItem[discord.ui.Button], template=TEMPLATE):
    """One of a card's three answers. Everything a click needs is in its custom_id."""

    def __init__(self, event_id: int, occurrence: int, said: str) -> None:
        label, style = BUTTONS[said]
        super().__init__(
            discord.ui.Button(
                label=label,
                style=style,
                custom_id=CUSTOM_ID.format(event=event_id, occurrence=occurrence, answer=said),
            )
        )
        self.event_id, self.occurrence, self.said = event_id, occurrence, said

    @classmethod
    async def from_custom_id(
        cls, _interaction: discord.Interaction, _item: discord.ui.Button, match: re.Match[str]
    ) -> RsvpButton:
        return cls(int(match["event"]), int(match["occurrence"]), match["answer"])

    async def callback(self, interaction: discord.Interaction) -> None:
        # discord.py only logs what a dynamic item raises; the member deserves an answer.
        try:
            await self._answer(interaction)
        except Exception as error:
            await report_error(interaction, error)

    async def _answer(self, interaction: discord.Interaction) -> None:
        bot = calbot(interaction)
        if interaction.guild_id is None:  # cards live in guild channels; a forged click could come from a DM
            await respond(interaction, "⚠️ Answer on the event's card in its server.")
            return
        try:
            result = await answer(
                bot, interaction.guild_id, self.event_id, self.occurrence, interaction.user.id, self.said
            )
        except RegistrationClosed as closed:
            await respond(interaction, f"⚠️ {closed_text(closed)}")
            return
        except NotFound:
            await respond(interaction, "⚠️ There is no such event on this server; it may have been deleted.")
            return
        event, calendar = result.event, result.calendar
        # Update the card in place first: a click must be answered within 3 seconds.
        embed, view = await render_card(bot, event, calendar)
        await interaction.response.edit_message(embed=embed, view=view)
        await interaction.followup.send(
            confirmation(result), ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )
        if await notify_promoted(bot, event, self.occurrence, result.promoted):
            embed, view = await render_card(bot, event, calendar)
            await interaction.edit_original_response(embed=embed, view=view)


def card_view(event: Event, occurrence: int = ONE_OFF, *, cancelled: bool = False) -> discord.ui.View | None:
    """The card's buttons for one occurrence (0: a one-off event); None (no buttons) when registration is
    off or the event was cancelled."""
    if cancelled or not event.registration_enabled:
        return None
    view = discord.ui.View(timeout=None)
    for said in ANSWERS:
        view.add_item(RsvpButton(event.id, occurrence, said))
    return view


async def setup(bot: CalBot) -> None:
    bot.add_dynamic_items(RsvpButton)


async def teardown(bot: CalBot) -> None:
    bot.remove_dynamic_items(RsvpButton)
