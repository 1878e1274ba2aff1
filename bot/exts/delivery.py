"""Delivering reminders through Discord: what a reminder says, where it goes, and how failures map
onto the engine's retry-or-give-up decision."""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import TYPE_CHECKING

import aiohttp
import discord

from bot.domain.models import card_link
from bot.domain.occurrences import Occurrence
from bot.domain.reminders import Reminder, Verdict, delivery_nonce, parse_interval
from bot.reminders import RetryLater, Undeliverable

from .common import event_when, public_reminder_channel, timestamp
from .messages import CONTENT, Text, compose

if TYPE_CHECKING:
    from bot.app import CalBot

log = logging.getLogger(__name__)

# Discord JSON error codes worth naming to a server admin.
ERROR_NAMES = {
    50007: "the member's DMs are closed (50007)",
    50001: "calbot cannot see that channel (50001)",
    50013: "calbot lacks permission to post there (50013)",
    10003: "the channel no longer exists (10003)",
    10013: "the user no longer exists (10013)",
}


def reminder_text(
    reminder: Reminder,
    occurrence: Occurrence,
    verdict: Verdict,
    *,
    guild_name: str | None = None,
    ping_role_id: int | None = None,
) -> str:
    """What a reminder says about one occurrence (a one-off event's only one), within Discord's 2,000
    characters however long the names and location are once escaped: the longest of them is shortened
    (messages.compose). A channel reminder may start with its calendar's ping role."""
    event = occurrence.event
    name = ("**", Text(occurrence.name), "**")
    where = (" on **", Text(guild_name), "**") if guild_name else ()
    if event.all_day:  # a date, not a timestamp of midnight that viewers west of its zone see as the day before
        line = ("📅 ", *name, *where, f": {event_when(occurrence)}.")
    elif parse_interval(reminder.interval).at_start:
        line = ("🔔 ", *name, *where, f" is starting now ({timestamp(occurrence.starts, 't')}).")
    else:
        line = ("⏰ ", *name, *where, f" starts {timestamp(occurrence.starts, 'R')} ({timestamp(occurrence.starts)}).")
    parts: list[str | Text] = [f"<@&{ping_role_id}> " if ping_role_id is not None else "", *line]
    if occurrence.location:
        parts += ["\n📍 ", Text(occurrence.location)]
    if link := card_link(event):
        parts.append(f"\n{link}")
    if verdict is Verdict.LATE:
        parts.append("\n*This reminder is late: calbot was not running when it was due.*")
    return compose(*parts, limit=CONTENT)


class Pacer:
    """Keeps reminder requests under Discord's global limit instead of running into it: at most `limit`
    requests in flight or ended within the last `period` seconds. Use it around each request.

    Why: discord.py learns of the global limit only from a 429, then holds every request for `retry_after`
    and lets them all go at once, into the limit again. A burst of 5,000 reminders sent as fast as the
    engine allowed drew 683 429s (bench/reminder_burst.py). Each 429 counts toward Cloudflare's limit of
    10,000 invalid requests per 10 minutes, past which Discord blocks the bot's IP address for an hour.

    A turn is given back `period` after its request *ended*, not after it started: the request reached
    Discord before its answer came back, so no window of `period` at Discord can hold more than `limit` of
    them, however the network delays each. Counting from the start instead let a few milliseconds of
    jitter put a 49th and 50th request into Discord's window (127 429s in the same burst). The price is the
    round trip: a long burst goes at about limit / (period + round trip), 47.9/s against the local
    stand-in, some 44/s over a 100 ms round trip. A burst of up to `limit` goes out at once, so a handful
    of reminders due together is not slowed at all.
    """

    def __init__(self, limit: int, period: float = 1.0) -> None:
        self.limit, self.period = limit, period
        self._in_flight = 0
        self._ended: collections.deque[float] = collections.deque()  # when recent requests ended, in order
        self._turn = asyncio.Lock()  # callers wait for a free turn one at a time, first come first served
        self._released = asyncio.Event()

    async def __aenter__(self) -> None:
        async with self._turn:
            loop = asyncio.get_running_loop()
            while True:
                now = loop.time()
                while self._ended and now - self._ended[0] >= self.period:
                    self._ended.popleft()
                if self._in_flight + len(self._ended) < self.limit:
                    self._in_flight += 1
                    return
                if self._ended:  # the oldest of them frees a turn
                    await asyncio.sleep(self._ended[0] + self.period - now)
                else:  # every turn is in flight: wait for one to end, then for its period
                    self._released.clear()
                    await self._released.wait()

    async def __aexit__(self, *exc_info: object) -> None:
        self._in_flight -= 1
        self._ended.append(asyncio.get_running_loop().time())
        self._released.set()


class DiscordSender:
    def __init__(self, bot: CalBot) -> None:
        self.bot = bot
        # Discord lets a bot make 50 requests per second in all (the global limit; interaction responses
        # are not counted); reminders keep to [discord] requests_per_second of it.
        self.pacer = Pacer(bot.config.discord.requests_per_second)

    async def deliver(self, reminder: Reminder, occurrence: Occurrence, verdict: Verdict) -> int | None:
        nonce = delivery_nonce(reminder.key)
        try:
            if reminder.channel == "discord_public":
                return await self._post(reminder, occurrence, verdict, nonce)
            return await self._direct_message(reminder, occurrence, verdict, nonce)
        except discord.Forbidden as error:
            raise Undeliverable(ERROR_NAMES.get(error.code, f"Discord refused: {error.status} {error.text}")) from None
        except discord.NotFound as error:
            raise Undeliverable(ERROR_NAMES.get(error.code, f"not found: {error.text}")) from None
        except discord.HTTPException as error:
            if error.status == 429 or error.status >= 500:
                raise RetryLater(f"Discord answered {error.status}", retry_after_of(error)) from None
            raise Undeliverable(f"Discord refused the message: {error.status} {error.text}") from None
        except (TimeoutError, aiohttp.ClientError) as error:
            raise RetryLater(f"could not reach Discord: {error!r}") from None

    async def _post(self, reminder: Reminder, occurrence: Occurrence, verdict: Verdict, nonce: str) -> int:
        store, event = self.bot.store, occurrence.event
        calendar = await store.calendars.get(event.guild_id, event.calendar_id)
        settings = await self.bot.guild_settings(event.guild_id)
        channel_id = public_reminder_channel(calendar, settings, event)
        if channel_id is None:
            raise Undeliverable("no channel to post in: set one with /calendar edit or /settings channel")
        text = reminder_text(reminder, occurrence, verdict, ping_role_id=calendar.ping_role_id)
        mentions = discord.AllowedMentions.none()
        if calendar.ping_role_id is not None:  # the one ping a reminder may carry, set by an admin
            mentions = discord.AllowedMentions(
                everyone=False, users=False, roles=[discord.Object(calendar.ping_role_id)]
            )
        channel = self.bot.get_partial_messageable(channel_id, guild_id=event.guild_id)
        async with self.pacer:
            message = await channel.send(text, nonce=nonce, allowed_mentions=mentions)
        return message.id

    async def _direct_message(self, reminder: Reminder, occurrence: Occurrence, verdict: Verdict, nonce: str) -> int:
        guild = self.bot.get_guild(occurrence.event.guild_id)
        text = reminder_text(reminder, occurrence, verdict, guild_name=guild.name if guild else None)
        channel = await self._dm_channel(reminder.target)
        try:
            async with self.pacer:
                message = await channel.send(text, nonce=nonce, allowed_mentions=discord.AllowedMentions.none())
        except discord.NotFound as error:
            if error.code != 10003:  # Unknown Channel: the kept id is stale; open it again on the retry
                raise
            await self.bot.store.dm_channels.forget(reminder.target)
            raise RetryLater("the member's DM channel had to be opened again") from None
        return message.id

    async def _dm_channel(self, user_id: int) -> discord.abc.Messageable:
        """The member's DM channel: the id kept in the store once opened (a DM then costs one request, not
        two: Discord's global limit allows twice as many reminders), else opened now and kept."""
        channel_id = await self.bot.store.dm_channels.get(user_id)
        if channel_id is None:
            async with self.pacer:
                opened = await self.bot.create_dm(discord.Object(user_id))
            await self.bot.store.dm_channels.save(user_id, opened.id)
            return opened
        return self.bot.get_partial_messageable(channel_id, type=discord.ChannelType.private)


def retry_after_of(error: discord.HTTPException) -> float | None:
    """Discord's Retry-After header, when the response carried one."""
    headers = getattr(error.response, "headers", None) or {}
    try:
        return float(headers.get("Retry-After"))
    except (TypeError, ValueError):
        return None
