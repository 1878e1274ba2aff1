"""RSVPs: the one path every answer takes, what the member is told, and the DMs to those who got a place.

The card's Going / Maybe / Not going buttons (in cards.py) and `/event rsvp` (in events.py) both answer
through `answer`. The three answers and their button labels live here, so both can use them; this
module never imports cards.py (cards.py imports it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import discord

from bot.domain.errors import NotFound
from bot.domain.models import Calendar, Event
from bot.domain.rsvp import (
    GOING,
    MAYBE,
    NOT_GOING,
    WAITLISTED,
    Attendee,
    RegistrationClosed,
    ensure_open,
    parse_response,
    waitlist_place,
)

from .common import timestamp
from .messages import CONTENT, Text, compose

if TYPE_CHECKING:
    from bot.app import CalBot

log = logging.getLogger(__name__)

ANSWERS = ("going", "maybe", "not_going")  # what a member says; parse_response maps it to a stored status
BUTTONS = {
    "going": ("Going", discord.ButtonStyle.success),
    "maybe": ("Maybe", discord.ButtonStyle.secondary),
    "not_going": ("Not going", discord.ButtonStyle.danger),
}
# Recorded on an attendee whose DMs are closed, as the reminder engine records it.
DMS_CLOSED_ERROR = "the member's DMs are closed (50007)"
DMS_CLOSED_CODE = 50007


@dataclass(frozen=True, slots=True)
class Answer:
    """Where a member stands after answering, and who got a place because of it."""

    event: Event
    calendar: Calendar
    occurrence: int
    user_id: int
    status: str
    attendees: list[Attendee]
    promoted: list[int]

    @property
    def place(self) -> int | None:
        return waitlist_place(self.attendees, self.user_id)


async def answer(bot: CalBot, guild_id: int, event_id: int, occurrence: int, user_id: int, said: str) -> Answer:
    """Record `user_id`'s answer (`going`, `maybe` or `not_going`) to an event of `guild_id`.

    Raises NotFound for an event of another guild or one since deleted, RegistrationClosed when
    registration is off or over, InvalidField for an answer that is not one of the three."""
    wanted = parse_response(said)
    shown = await bot.store.events.occurrence(guild_id, event_id, occurrence)
    event = shown.event
    if shown.cancelled:
        raise RegistrationClosed(None)
    ensure_open(event, bot.now(), starts=shown.starts, ends=shown.effective_end)
    changes = await bot.store.attendees.respond(guild_id, event.id, occurrence, user_id, wanted, event.capacity)
    # The member's answer, and those it moved off the waitlist: any of them may have reminders of their own.
    await bot.reminders.answered(event, [user_id, *(c.user_id for c in changes)])
    attendees = await bot.store.attendees.list(guild_id, event.id, occurrence)
    calendar = await bot.store.calendars.get(guild_id, event.calendar_id)
    status = next((a.status for a in attendees if a.user_id == user_id), NOT_GOING)
    promoted = [c.user_id for c in changes if c.status == GOING and c.user_id != user_id]
    return Answer(event, calendar, occurrence, user_id, status, attendees, promoted)


def confirmation(result: Answer) -> str:
    """What the member is now, told privately."""
    name = ("**", Text(result.event.name), "**")
    if result.status == GOING:
        return compose("✅ You're going to ", *name, ".")
    if result.status == MAYBE:
        return compose("🤔 You're a maybe for ", *name, ".")
    if result.status == WAITLISTED:
        return compose(
            "⏳ ", *name, f" is full, so you're on the waitlist: number {result.place}. ",
            "I'll send you a DM if a place opens up.",
        )  # fmt: skip
    return compose("You're not going to ", *name, ".")


def closed_text(error: RegistrationClosed) -> str:
    if error.closed_at is None:
        return "Registration is off for this event."
    return f"Registration for this event closed {timestamp(error.closed_at)} ({timestamp(error.closed_at, 'R')})."


def promotion_text(event: Event, starts: datetime, guild_name: str | None = None) -> str:
    """The DM to a member who got a place off the waitlist, for the occurrence starting at `starts`."""
    where = (" on **", Text(guild_name), "**") if guild_name else ()
    parts: list[str | Text] = [
        "🎉 A place opened up: you're going to **",
        Text(event.name),
        "**",
        *where,
        f", {timestamp(starts)}.",
    ]
    if event.card_message_id is not None:
        parts.append(f"\nhttps://discord.com/channels/{event.guild_id}/{event.card_channel_id}/{event.card_message_id}")
    return compose(*parts, limit=CONTENT)


async def notify_promoted(bot: CalBot, event: Event, occurrence: int, user_ids: list[int]) -> bool:
    """DM each member who got a place off the waitlist. A DM that fails is logged, never an error for
    whoever freed the place; closed DMs are recorded on the attendee (the card flags them). Returns
    whether any such record was written, so the caller can show it."""
    if not user_ids:
        return False
    guild = bot.get_guild(event.guild_id)
    try:  # the occurrence they got a place at, not the series' first (and where it was moved, if it was)
        starts = (await bot.store.events.occurrence(event.guild_id, event.id, occurrence)).starts
    except NotFound:
        starts = event.starts
    text = promotion_text(event, starts, guild.name if guild else None)
    recorded = False
    for user_id in user_ids:
        try:
            channel = await bot.create_dm(discord.Object(user_id))
            await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as error:
            log.warning("Could not tell member %s of event %s that they got a place: %s", user_id, event.id, error)
            if isinstance(error, discord.Forbidden) and error.code == DMS_CLOSED_CODE:
                await bot.store.attendees.set_dm_error(event.guild_id, event.id, occurrence, user_id, DMS_CLOSED_ERROR)
                recorded = True
    return recorded
