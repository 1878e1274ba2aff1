"""/notifications: the guild's recent reminders and how each one ended; and, for its managers first, what
needs attention: work a background task could not do for one of its events (bot/storage/problems.py).

`record_problem` and `clear_problems` are how the cogs' background work (the series-card roller, the
event_sync drain, the follow-up step) keeps that list: never raising, since the caller goes on with the
other rows and guilds whatever happens to the record."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.errors import NotFound
from bot.domain.permissions import Standing
from bot.domain.reminders import Reminder, parse_interval
from bot.storage.problems import WHAT, Problem
from bot.storage.subscriptions import Subscription
from bot.storage.webhooks import Webhook

from .common import respond, standing_of, timestamp
from .messages import DESCRIPTION, EMBED_TOTAL, escape, shorten

if TYPE_CHECKING:
    from bot.app import CalBot

log = logging.getLogger(__name__)

SHOWN = 20
CHANNEL_LABELS = {
    "discord_public": "channel",
    "discord_private": "DM",
    "database": "log",
    "mail": "mail",
    "sms": "SMS",
    "broadcast": "webhook",
}
STATE_ICONS = {"sent": "✅", "failed": "❌", "missed": "⏭️"}
# A message's embeds hold at most EMBED_TOTAL characters together: "Needs attention" takes what the recent
# reminders leave. A name and an error are cut to these lengths before escaping.
NAME_SHOWN, ERROR_SHOWN = 60, 120
WHAT_LABELS = {
    "series card": "its card cannot move on",
    "reminders": "its reminders cannot be planned",
    "follow-up": "a change cannot be applied on Discord",
    "delivery": "a reminder could not be handled",
    "events tab": "it cannot be shown in Discord's Events tab",
}


class Notifications(commands.Cog):
    def __init__(self, bot: CalBot) -> None:
        self.bot = bot

    @app_commands.command(name="notifications")
    @app_commands.guild_only()
    async def notifications(self, interaction: discord.Interaction) -> None:
        """Show the server's recent reminders: sent, failed (and why) or missed; managers see problems first."""
        recent = await self.bot.store.reminders.recent(interaction.guild_id, limit=SHOWN)
        embed = discord.Embed(title="Recent reminders")
        if not recent:
            embed.description = "No reminder has gone out yet."
        else:
            names = {}
            for reminder in recent:
                if reminder.event_id not in names:
                    names[reminder.event_id] = await self._event_name(reminder)
            embed.description = shorten("\n".join(line(r, names[r.event_id]) for r in recent), DESCRIPTION)
        embeds = [embed]
        if await _manages(interaction):
            problems = await self.bot.store.problems.for_guild(interaction.guild_id)
            disabled = [w for w in await self.bot.store.webhooks.list(interaction.guild_id) if not w.enabled]
            paused = await self._paused_feeds(interaction.guild_id)
            if problems or disabled or paused:
                embeds.insert(0, attention(problems, disabled, paused, budget=EMBED_TOTAL - len(embed)))
        await respond(interaction, embeds=embeds)

    async def _paused_feeds(self, guild_id: int) -> list[tuple[str, Subscription]]:
        """The guild's feeds paused for failing, with their calendars' names."""
        calendars = {c.id: c.name for c in await self.bot.store.calendars.list(guild_id)}
        paused = await self.bot.store.subscriptions.paused(guild_id)
        return [(calendars.get(s.calendar_id, f"calendar #{s.calendar_id}"), s) for s in paused]

    async def _event_name(self, reminder: Reminder) -> str:
        try:
            event = await self.bot.store.events.get(reminder.guild_id, reminder.event_id)
        except NotFound:
            return f"deleted event #{reminder.event_id}"
        except Exception:  # a row that cannot be read: "Needs attention" says so to managers
            return f"event #{reminder.event_id}"
        return escape(event.name)


async def _manages(interaction: discord.Interaction) -> bool:
    """Whether the member may change the calendar (as `manager_only` lets them): Manage Server or the role."""
    return await standing_of(interaction) is Standing.MANAGER


def _cut(text: str, limit: int) -> str:
    """`text` at most `limit` characters, escaped for markdown after it is cut (so no escape is cut in two)."""
    return escape(shorten(text, limit))


def attention(
    problems: list[Problem],
    disabled: list[Webhook] = (),
    paused: list[tuple[str, Subscription]] = (),
    *,
    budget: int = EMBED_TOTAL,
) -> discord.Embed:
    """The "Needs attention" embed, in at most `budget` characters: a line per webhook disabled for failing and
    per subscribed feed paused for failing (with its calendar's name), then a line per event, the most recently
    failing first, with what failed for it, since when, and its latest error."""
    by_event: dict[int, list[Problem]] = {}
    for problem in problems:  # most recently seen first
        by_event.setdefault(problem.event_id, []).append(problem)
    title = "Needs attention"
    room = min(DESCRIPTION, budget - len(title)) - 40  # kept for the line saying how many more
    lines = [
        f"🔕 **webhook #{w.id}** was disabled: {_cut(w.disabled_reason or '', ERROR_SHOWN)} · "
        "`/settings webhooks test` it, or remove it and add it again"
        for w in disabled
    ]
    lines += [
        f"⏸️ **the feed of {_cut(name, NAME_SHOWN)}** was paused after {s.failures} failed polls: "
        f"{_cut(s.paused_reason or '', ERROR_SHOWN)} · `/calendar subscribe` again resumes it"
        for name, s in paused
    ]
    for index, (event_id, its) in enumerate(by_event.items()):
        name = f"**event #{event_id}**"
        if its[0].event_name:
            name = f"**{_cut(its[0].event_name, NAME_SHOWN)}** (#{event_id})"
        failed = ", ".join(WHAT_LABELS.get(p.what, p.what) for p in sorted(its, key=lambda p: WHAT.index(p.what)))
        since = timestamp(min(p.first_seen for p in its), "R")
        text = f"⚠️ {name}: {failed} · since {since} · {_cut(its[0].error, ERROR_SHOWN)}"
        if sum(len(t) + 1 for t in lines) + len(text) > room:
            lines.append(f"…and {len(by_event) - index} more")
            break
        lines.append(text)
    return discord.Embed(title=title, description="\n".join(lines), color=discord.Color.orange())


def line(reminder: Reminder, event_name: str) -> str:
    # A member by mention, never by address; a webhook by its number (its URL may carry a secret).
    to = f" #{reminder.target}" if reminder.channel == "broadcast" else f" to <@{reminder.target}>"
    to = to if reminder.target else ""
    where = CHANNEL_LABELS.get(reminder.channel, reminder.channel)
    text = (
        f"{STATE_ICONS.get(reminder.state, '')} {timestamp(reminder.updated_at, 'f')} · **{event_name}** · "
        f"{parse_interval(reminder.interval).words} · {where}{to} · {reminder.state}"
    )
    if reminder.late:
        text += " (late)"
    if reminder.last_error and reminder.state != "sent":
        text += f": {reminder.last_error}"
    return text


async def record_problem(bot: CalBot, guild_id: int, event_id: int, what: str, error: BaseException | str) -> None:
    """Record that `what` failed for the event, for its guild's managers; a record that fails is logged only."""
    try:
        await bot.store.problems.record(guild_id, event_id, what, error)
    except Exception:
        log.exception("Could not record that the %s of event %s (guild %s) failed", what, event_id, guild_id)


async def clear_problems(bot: CalBot, guild_id: int, event_id: int, *what: str) -> None:
    """`what` works again for the event: its problems go from the list; a failure to say so is logged only."""
    try:
        await bot.store.problems.clear(guild_id, event_id, *what)
    except Exception:
        log.exception("Could not clear the problems of event %s (guild %s)", event_id, guild_id)


async def setup(bot: CalBot) -> None:
    await bot.add_cog(Notifications(bot))
