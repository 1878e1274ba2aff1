"""RSVPs: the Going / Maybe / Not going buttons on event cards, and the one path every answer takes.

The buttons are `DynamicItem`s: a click carries everything it needs in its custom_id (event,
occurrence, answer), so the buttons of every card ever posted keep working after a restart, with no
per-message state to load. `/event rsvp` (in events.py) takes the same path through `answer`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import discord

from bot.domain.errors import NotFound
from bot.domain.models import Calendar, Event
from bot.domain.rsvp import (
    GOING,
    MAYBE,
    NOT_GOING,
    ONE_OFF,
    WAITLISTED,
    Attendee,
    RegistrationClosed,
    ensure_open,
    parse_response,
    waitlist_place,
)

from .common import calbot, respond, timestamp
from .tree import report_error

if TYPE_CHECKING:
    from bot.app import CalBot

log = logging.getLogger(__name__)

ANSWERS = ("going", "maybe", "not_going")  # what a member says; parse_response maps it to a stored status
BUTTONS = {
    "going": ("Going", discord.ButtonStyle.success),
    "maybe": ("Maybe", discord.ButtonStyle.secondary),
    "not_going": ("Not going", discord.ButtonStyle.danger),
}
CUSTOM_ID = "calbot:rsvp:{event}:{occurrence}:{answer}"
TEMPLATE = r"calbot:rsvp:(?P<event>\d+):(?P<occurrence>\d+):(?P<answer>" + "|".join(map(re.escape, ANSWERS)) + ")"
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
    attendees = await bot.store.attendees.list(guild_id, event.id, occurrence)
    calendar = await bot.store.calendars.get(guild_id, event.calendar_id)
    status = next((a.status for a in attendees if a.user_id == user_id), NOT_GOING)
    promoted = [c.user_id for c in changes if c.status == GOING and c.user_id != user_id]
    return Answer(event, calendar, occurrence, user_id, status, attendees, promoted)


def confirmation(result: Answer) -> str:
    """What the member is now, told privately."""
    name = f"**{discord.utils.escape_markdown(result.event.name)}**"
    if result.status == GOING:
        return f"✅ You're going to {name}."
    if result.status == MAYBE:
        return f"🤔 You're a maybe for {name}."
    if result.status == WAITLISTED:
        return (
            f"⏳ {name} is full, so you're on the waitlist: number {result.place}. "
            "I'll send you a DM if a place opens up."
        )
    return f"You're not going to {name}."


def closed_text(error: RegistrationClosed) -> str:
    if error.closed_at is None:
        return "Registration is off for this event."
    return f"Registration for this event closed {timestamp(error.closed_at)} ({timestamp(error.closed_at, 'R')})."


async def notify_promoted(bot: CalBot, event: Event, occurrence: int, user_ids: list[int]) -> bool:
    """DM each member who got a place off the waitlist. A DM that fails is logged, never an error for
    whoever freed the place; closed DMs are recorded on the attendee (the card flags them). Returns
    whether any such record was written, so the caller can show it."""
    if not user_ids:
        return False
    guild = bot.get_guild(event.guild_id)
    where = f" on **{discord.utils.escape_markdown(guild.name)}**" if guild else ""
    text = (
        f"🎉 A place opened up: you're going to **{discord.utils.escape_markdown(event.name)}**{where}, "
        f"{timestamp(event.starts)}."
    )
    if event.card_message_id is not None:
        text += f"\nhttps://discord.com/channels/{event.guild_id}/{event.card_channel_id}/{event.card_message_id}"
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
        from .posting import render_card  # posting renders cards with these buttons: imported here, not above

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
