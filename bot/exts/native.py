"""Discord's own Events tab, kept in step with calbot both ways (the rules: bot/domain/native.py).

Mirror out. A calendar with `discord_events` on has its events in the tab. Work is a durable queue of passes,
one row per guild (bot/storage/native.py), leased like the reminder outbox: every write of an event of such
a guild asks for a pass in its follow-up step (bot/exts/follow_up.py), a calendar switched on or off does in
its own write, and each pass ends by saying when the next is due (when the nearest mirrored event ends, so
the next one moves up into a freed place, or a series' next occurrence comes into its window; at the latest
PASS_EVERY). A pass
lists the guild's scheduled events first and compares: what calbot wants there is created, edited back or
deleted, and nothing else. Every description calbot writes carries its marker, so a scheduled event whose
id a crash kept from being stored is found by that list and taken over, never created twice. A 429 is
waited out (discord.py waits; one it gives up on is retried after its retry_after); a 403 (no Manage
Events) is recorded once in /notifications and the guild waits for the next change instead of retrying.

Mirror in. With `/settings discord-events import:<calendar>`, scheduled events members make in the tab (not
calbot's own: its creator id and marker tell) become events of that calendar through the same road as every
write (store, then the follow-up: card, reminders), and their edits and cancellations follow.

Interested = answer. GUILD_SCHEDULED_EVENT_USER_ADD/REMOVE are read from the raw gateway payload (discord.py
drops them when the member is not in its cache, which without the members intent is the usual case): a member
interested in a mirrored event answers "maybe" for its occurrence, unless they gave an answer on the card;
taking it back removes only such an answer. At start-up and after a resume, each mirrored event's users
route is read to catch up with what happened meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
from discord.ext import commands

from bot.domain.edits import edited
from bot.domain.errors import DomainError, NotFound
from bot.domain.models import Calendar, Event, card_link
from bot.domain.native import (
    CANCELED,
    NATIVE_CAP,
    SCHEDULED,
    STAGE,
    VOICE,
    Mirror,
    Native,
    differs,
    enters,
    mirrors,
    named_channel,
    nearest,
    read_marker,
)
from bot.domain.occurrences import next_occurrence
from bot.domain.rsvp import MAYBE, ONE_OFF, RegistrationClosed
from bot.locks import KeyedLocks
from bot.storage.native import NATIVE_CHANNEL, Claim, NativeLink
from bot.storage.problems import EVENTS_TAB, describe

from .cards import update_card
from .messages import FIELD_VALUE, escape, shorten
from .notifications import clear_problems, record_problem
from .rsvp import answer

if TYPE_CHECKING:
    from bot.app import CalBot

log = logging.getLogger(__name__)

LEASE_SECONDS = 120  # a pass of a crashed worker is taken up again after this
PASS_EVERY = timedelta(hours=1)  # the longest a mirroring guild goes without a pass
RETRY_FIRST, RETRY_LONGEST = timedelta(seconds=5), timedelta(minutes=10)  # a failed pass, doubling
SERIES_AHEAD = timedelta(days=5 * 366)  # series starting later than this are not looked at
USERS_PAGE = 100  # the users route's largest page
REFUSED = "calbot lacks the Manage Events permission on this server, so it cannot keep the Events tab"
WATCHED = (
    "GUILD_SCHEDULED_EVENT_CREATE",
    "GUILD_SCHEDULED_EVENT_UPDATE",
    "GUILD_SCHEDULED_EVENT_DELETE",
    "GUILD_SCHEDULED_EVENT_USER_ADD",
    "GUILD_SCHEDULED_EVENT_USER_REMOVE",
)


class _Refused(Exception):
    """Discord answered 403 to a write for this event (None: to the guild's list)."""

    def __init__(self, event_id: int | None, error: discord.HTTPException) -> None:
        super().__init__(str(error))
        self.event_id = event_id


async def tab_summary(bot: CalBot, guild_id: int) -> str:
    """The Events tab on this server, in words (/settings show): what is mirrored, what the 100 cap left
    out and why, where events made there go, and whether Discord refuses."""
    settings = await bot.store.native.settings(guild_id)
    calendars = await bot.store.calendars.list(guild_id)
    names = {c.id: f"**{escape(c.name)}**" for c in calendars}
    mirrored = [names[c.id] for c in calendars if c.discord_events]
    lines = [
        f"Mirrored there: {', '.join(mirrored)}." if mirrored
        else "No calendar is mirrored there (`/calendar edit discord_events:True`).",
    ]  # fmt: skip
    if settings.import_calendar_id in names:
        lines.append(f"Events members make there become events of {names[settings.import_calendar_id]}.")
    else:
        lines.append("Events members make there stay there (`/settings discord-events import:`).")
    lines.append(f"Series Discord cannot repeat itself are shown {settings.window_days} days ahead.")
    left = {k: v for k, v in settings.left_out.items() if k in names and v}
    if left:
        lines.append(f"Not shown: {', '.join(f'{v} of {names[k]}' for k, v in left.items())}. {CAP_NOTE}")
    if settings.refused:
        lines.append(refused_note(settings.refused))
    return shorten("\n".join(lines), FIELD_VALUE)


CAP_NOTE = (
    f"Discord allows {NATIVE_CAP} scheduled events per server, so the nearest are shown and the rest follow as "
    "earlier ones pass."
)


def refused_note(refused: str) -> str:
    return f"⚠️ {refused}: give it that permission; the next change tries again."


class NativeEvents(commands.Cog):
    def __init__(self, bot: CalBot) -> None:
        self.bot = bot
        self.shards = bot.config.discord.shards
        self._marked = False  # a pass was asked for since the worker last looked
        self._tasks: set[asyncio.Task] = set()
        self._parsers: dict[str, Any] = {}
        self._sent: dict[int, dict[str, Any]] = {}  # what calbot last wrote to each scheduled event: its echo
        self._locks = KeyedLocks()  # one pass or gateway change at a time per guild

    async def cog_load(self) -> None:
        parsers = self.bot._connection.parsers  # the raw payloads, before discord.py's cache drops them
        for name in WATCHED:
            self._parsers[name] = parsers[name]
            parsers[name] = functools.partial(self._raw, name, parsers[name])
        self._spawn(self._work(), "native-events")
        await self.bot.store.subscribe(NATIVE_CHANNEL, self._on_notice)

    def _on_notice(self, payload: str) -> None:
        with contextlib.suppress(ValueError):
            self.bot.dispatch("native_marked", int(payload))

    async def cog_unload(self) -> None:
        parsers = self.bot._connection.parsers
        parsers.update(self._parsers)
        for task in list(self._tasks):
            task.cancel()

    def _spawn(self, work: Coroutine, name: str) -> asyncio.Task:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None and not self.bot.is_closed():
            log.error("%s failed", task.get_name(), exc_info=task.exception())

    @commands.Cog.listener()
    async def on_native_marked(self, _guild_id: int) -> None:
        self._marked = True

    # ---------------------------------------------------------------- the queue

    async def _work(self) -> None:
        await self.bot.wait_until_ready()
        store = self.bot.store
        await store.native.mark_all(shards=self.shards)  # what changed (or crashed) while calbot was down
        while not self.bot.is_closed():
            self._marked = False
            # A mark wakes the worker (by the store's notification when another process made it, on PostgreSQL);
            # otherwise it looks as often as the event_sync drain does, for an API process sharing SQLite.
            delay = self.bot.config.api.sync_seconds
            try:
                due = await store.native.next_due(shards=self.shards)  # a read: the idle loop takes no lock
                if due is not None and due <= self.bot.now():
                    claims = await store.native.claim(LEASE_SECONDS, shards=self.shards)
                    for claim in claims:
                        await self._pass(claim)
                    continue
                if due is not None:
                    delay = min(delay, (due - self.bot.now()).total_seconds())
            except Exception:
                if self.bot.is_closed():
                    return
                log.exception("The Events tab mirror could not read its queue; trying again shortly")
            if self._marked:  # asked for while this round ran: no wait
                continue
            with contextlib.suppress(TimeoutError):
                await self.bot.wait_for("native_marked", timeout=delay)

    async def _pass(self, claim: Claim) -> None:
        store, now = self.bot.store, self.bot.now()
        try:
            async with self._locks.hold(claim.guild_id):
                following, left_out = await self.mirror(claim.guild_id)
        except _Refused as refused:
            log.warning("Discord refused the Events tab mirror of guild %s: %s", claim.guild_id, refused)
            await store.native.refuse(claim, REFUSED)
            if refused.event_id is not None:
                await record_problem(self.bot, claim.guild_id, refused.event_id, EVENTS_TAB, REFUSED)
        except discord.RateLimited as limited:  # one discord.py did not wait out itself
            await store.native.retry(claim, now + timedelta(seconds=limited.retry_after), describe(limited))
        except Exception as error:  # Discord down, a timeout, or a bug: back off, never spin
            pause = min(RETRY_LONGEST, RETRY_FIRST * 2 ** min(claim.attempts, 10))
            limited = isinstance(error, discord.HTTPException) and error.status == 429  # discord.py gave up
            if limited or isinstance(error, discord.DiscordServerError | aiohttp.ClientError | TimeoutError | OSError):
                log.warning("The Events tab mirror of guild %s failed (%s); again in %s", claim.guild_id,
                            describe(error), pause)  # fmt: skip
            else:
                log.exception("The Events tab mirror of guild %s failed; again in %s", claim.guild_id, pause)
            await store.native.retry(claim, now + pause, describe(error))
        else:
            await store.native.finish(claim, following, left_out)

    # ---------------------------------------------------------------- mirror out (and in, for what was missed)

    async def mirror(self, guild_id: int) -> tuple[datetime | None, dict[int, int]]:
        """One pass over the guild: the tab made to hold what calbot wants there. Returns when the next pass is
        due and how many events the cap left out, per calendar."""
        store, now, me = self.bot.store, self.bot.now(), self.bot.user.id
        settings = await store.native.settings(guild_id)
        listed = [Native.of(d) for d in await self._call(None, "GET", "/guilds/{guild_id}/scheduled-events",
                                                          guild_id)]  # fmt: skip
        links = {link.native_id: link for link in await store.native.links(guild_id)}
        ours: dict[tuple[int, int], Native] = {}
        doubles: list[Native] = []
        foreign: list[Native] = []
        for native in listed:
            link = links.get(native.id)
            if link is not None and link.imported:
                if not await self._exists(link):  # deleted in calbot: it goes from the tab too
                    await self._delete(guild_id, native, None)
                    continue
                foreign.append(native)
                if link.seen != native.fingerprint():  # changed in the tab since calbot last matched it
                    await self._follow_import(link, native)
                else:  # changed in calbot, if at all
                    await self._push_import(link, native, now)
                continue
            key = (link.event_id, link.key) if link is not None else None
            if key is None and native.creator_id == me:
                key = read_marker(native.description)  # created by a pass a crash cut short: taken over
            if key is None:
                foreign.append(native)
            elif key in ours:
                doubles.append(native)
            else:
                ours[key] = native
        present = {n.id for n in listed}
        for link in links.values():
            if link.native_id not in present:  # deleted in the tab, or by Discord once over
                await store.native.unlink(guild_id, link.native_id)
                if link.imported:
                    await self._retire_import(link)
        if settings.import_calendar_id is not None:
            for native in foreign:
                if native.id not in links and native.live and native.creator_id != me:
                    await self._import(guild_id, settings.import_calendar_id, native)
        events: dict[int, Event] = {}
        wanted: list[Mirror] = []
        left_out: dict[int, int] = {}
        window = timedelta(days=settings.window_days)
        imported = {link.event_id for link in links.values() if link.imported}
        wakes: list[datetime] = []  # when a series' window rolls on to its next occurrence
        for calendar in await store.calendars.list(guild_id):
            if calendar.discord_events:
                beyond = await self._wanted(calendar, now, window, events, wanted, wakes)
                if beyond:
                    left_out[calendar.id] = beyond
        wanted = [m for m in wanted if m.event_id not in imported]
        room = NATIVE_CAP - sum(1 for n in foreign if n.live)
        keep, cut = nearest(wanted, room)
        for calendar_id, count in cut.items():
            left_out[calendar_id] = left_out.get(calendar_id, 0) + count
        kept = {(m.event_id, m.key) for m in keep}
        for key, native in ours.items():
            if key not in kept:
                await self._delete(guild_id, native, key[0])
        for native in doubles:
            await self._delete(guild_id, native, None)
        for mirror in keep:
            await self._write(guild_id, mirror, events[mirror.event_id], ours.get((mirror.event_id, mirror.key)),
                              links, now)  # fmt: skip
        following = min([now + PASS_EVERY, *(m.ends for m in keep if m.ends > now), *wakes])
        if not events and settings.import_calendar_id is None:
            following = None  # nothing mirrored or imported any more: no pass until something changes
        return following, left_out

    async def _exists(self, link: NativeLink) -> bool:
        try:
            await self.bot.store.events.get(link.guild_id, link.event_id)
        except NotFound:
            return False
        return True

    async def _wanted(
        self, calendar: Calendar, now: datetime, window: timedelta, events: dict[int, Event], wanted: list[Mirror],
        wakes: list[datetime],
    ) -> int:  # fmt: skip
        """Add what of the calendar belongs in the tab to `wanted` (and when a series' window next rolls on to
        `wakes`); return how many one-off events are beyond the cap anyway (not even read)."""
        store, guild_id = self.bot.store, calendar.guild_id
        one_offs, total = await store.events.upcoming(guild_id, now, calendar_id=calendar.id, limit=NATIVE_CAP)
        series = await store.events.series(guild_id, now + SERIES_AHEAD, calendar_id=calendar.id)
        changes = await store.changes.for_events(guild_id, [e.id for e in series])
        for event in [*one_offs, *series]:
            try:
                found = mirrors(event, changes.get(event.id, []), now, window)
                wake = enters(event, changes.get(event.id, []), now, window)
            except Exception as error:  # a row that raises is recorded and skipped: the rest are mirrored
                await record_problem(self.bot, guild_id, event.id, EVENTS_TAB, error)
                continue
            events[event.id] = event
            wanted.extend(found)
            if wake is not None:
                wakes.append(wake)
        return total - len(one_offs)

    def _channel(self, mirror: Mirror) -> tuple[int, int] | None:
        """(entity type, id) of the voice or stage channel the event's location names."""
        channel_id = named_channel(mirror.location)
        channel = self.bot.get_channel(channel_id) if channel_id else None
        if isinstance(channel, discord.StageChannel):
            return STAGE, channel.id
        if isinstance(channel, discord.VoiceChannel):
            return VOICE, channel.id
        return None

    async def _write(
        self, guild_id: int, mirror: Mirror, event: Event, native: Native | None, links: dict[int, NativeLink],
        now: datetime,
    ) -> None:  # fmt: skip
        body = mirror.payload(self._channel(mirror), card_link(event))
        link = links.get(native.id) if native is not None else None
        # A cover is fetched once per image address: one that cannot be had is not tried again until it changes.
        attempt = bool(event.image) and (link is None or link.cover != event.image)
        cover = await self._cover(event.image) if attempt else None
        if cover is not None:
            body["image"] = cover
        try:
            if native is None:
                if mirror.starts <= now:
                    return  # Discord takes no start in the past: an event already running is not added
                created = await self._call(event.id, "POST", "/guilds/{guild_id}/scheduled-events", guild_id, body)
                native_id = int(created["id"])
            elif native.status == SCHEDULED and (link is None or cover is not None or differs(native, body)):
                await self._call(event.id, "PATCH", f"/guilds/{{guild_id}}/scheduled-events/{native.id}", guild_id,
                                 body)  # fmt: skip
                native_id = native.id
            elif link is None:
                native_id = native.id  # found by its marker, already as wanted
            else:
                return
        except discord.HTTPException as error:
            if error.status >= 500 or error.status == 429:
                raise
            # Discord refused this one (a field it will not take): recorded, and the rest go on.
            await record_problem(self.bot, guild_id, event.id, EVENTS_TAB, error)
            return
        self._sent[native_id] = body
        sent = event.image if attempt else (link.cover if link is not None else None)
        await self.bot.store.native.link(NativeLink(native_id, guild_id, event.id, mirror.key, False, sent))
        await clear_problems(self.bot, guild_id, event.id, EVENTS_TAB)

    async def _delete(self, guild_id: int, native: Native, event_id: int | None) -> None:
        await self.bot.store.native.unlink(guild_id, native.id)  # first: its deletion's echo is then known as ours
        self._sent.pop(native.id, None)
        with contextlib.suppress(discord.NotFound):  # gone already
            await self._call(event_id, "DELETE", f"/guilds/{{guild_id}}/scheduled-events/{native.id}", guild_id)

    async def _call(
        self, event_id: int | None, method: str, path: str, guild_id: int, body: dict[str, Any] | None = None
    ) -> Any:
        route = discord.http.Route(method, path, guild_id=guild_id)
        try:
            return await self.bot.http.request(route, **({} if body is None else {"json": body}))
        except discord.Forbidden as error:
            raise _Refused(event_id, error) from error

    async def _cover(self, url: str) -> str | None:
        """The event's image as the data URI Discord takes for a cover, fetched behind the webhooks' fence
        against private addresses; None if it cannot be had (the event is mirrored without a cover)."""
        if self.bot.webhooks is None:
            return None
        try:
            return await self.bot.webhooks.fetch_image(url)
        except Exception as error:
            log.info("No cover for an Events tab mirror from %s: %s", url, describe(error))
            return None

    # ---------------------------------------------------------------- mirror in

    async def _import(self, guild_id: int, calendar_id: int, native: Native) -> Event | None:
        settings = await self.bot.guild_settings(guild_id)
        draft = Event(
            guild_id=guild_id,
            calendar_id=calendar_id,
            timezone=settings.timezone,
            notifications_interval=settings.default_reminders,
            notifications_channels=settings.default_channels,
            author_id=native.creator_id,
            **{**native.as_changes(), "name": native.name or "Event"},
        )
        try:
            created = await self.bot.store.native.import_event(draft, native.id, native.fingerprint())
        except DomainError as error:  # a field calbot does not take, or imported meanwhile
            log.info("Did not import scheduled event %s of guild %s: %s", native.id, guild_id, error)
            return None
        log.info("Imported scheduled event %s of guild %s as event %s", native.id, guild_id, created.id)
        await self.bot.follow_up.complete(guild_id, created.id)
        return created

    async def _follow_import(self, link: NativeLink, native: Native) -> None:
        """An imported scheduled event as Discord has it now: calbot's event follows its edits, and goes
        when it is cancelled."""
        if native.status == CANCELED:
            await self._retire_import(link)
            return
        try:
            event = await self.bot.store.events.get(link.guild_id, link.event_id)
        except NotFound:
            return
        changes = {k: v for k, v in native.as_changes().items() if getattr(event, k) != v and v is not None}
        if changes and (native.status == SCHEDULED or not set(changes) <= {"starts", "ends"}):
            try:
                await self.bot.store.events.update(edited(event, changes))
            except DomainError as error:
                log.info("Did not follow the edit of scheduled event %s: %s", native.id, error)
                return
            await self.bot.follow_up.complete(link.guild_id, link.event_id)
        await self.bot.store.native.saw(link.guild_id, native.id, native.fingerprint())

    async def _push_import(self, link: NativeLink, native: Native, now: datetime) -> None:
        """An imported event edited in calbot: its scheduled event (the member's own, so unmarked) follows."""
        if native.status != SCHEDULED:
            return
        try:
            event = await self.bot.store.events.get(link.guild_id, link.event_id)
        except NotFound:
            return
        found = [m for m in mirrors(event, [], now, timedelta(0)) if m.key == ONE_OFF]
        if not found or found[0].starts <= now:
            return
        body = found[0].payload(self._channel(found[0]), None, marked=False)
        if not differs(native, body):
            return
        try:
            patched = await self._call(event.id, "PATCH", f"/guilds/{{guild_id}}/scheduled-events/{native.id}",
                                       link.guild_id, body)  # fmt: skip
        except discord.HTTPException as error:
            if error.status >= 500 or error.status == 429:
                raise
            await record_problem(self.bot, link.guild_id, event.id, EVENTS_TAB, error)
            return
        await self.bot.store.native.saw(link.guild_id, native.id, Native.of(patched).fingerprint())

    async def _retire_import(self, link: NativeLink) -> None:
        with contextlib.suppress(NotFound):
            await self.bot.store.events.delete(link.guild_id, link.event_id)
            await self.bot.follow_up.complete(link.guild_id, link.event_id)

    # ---------------------------------------------------------------- the gateway

    def _raw(self, name: str, parse: Any, data: dict[str, Any]) -> None:
        try:
            parse(data)  # discord.py's own handling, which may drop it
        finally:
            if not self.bot.is_closed():
                self._spawn(self._on_raw(name, data), f"native-{name.lower()}")

    async def _on_raw(self, name: str, data: dict[str, Any]) -> None:
        guild_id = int(data["guild_id"])
        if self.shards is not None and not self.shards.owns(guild_id):
            return
        if name.endswith(("USER_ADD", "USER_REMOVE")):
            native_id, user_id = int(data["guild_scheduled_event_id"]), int(data["user_id"])
            await self._interest(guild_id, native_id, user_id, name.endswith("ADD"))
            return
        native = Native.of(data)
        if native.creator_id == self.bot.user.id and read_marker(native.description) is not None:
            await self._own_changed(guild_id, name, native)
            return
        async with self._locks.hold(guild_id):
            link = await self.bot.store.native.link_of(guild_id, native.id)
            if link is not None and link.imported:
                if name.endswith("DELETE"):
                    await self.bot.store.native.unlink(guild_id, native.id)
                    await self._retire_import(link)
                else:
                    await self._follow_import(link, native)
            elif link is None and name.endswith("CREATE"):
                settings = await self.bot.store.native.settings(guild_id)
                if settings.import_calendar_id is not None:
                    await self._import(guild_id, settings.import_calendar_id, native)

    async def _own_changed(self, guild_id: int, name: str, native: Native) -> None:
        """One of calbot's own scheduled events changed: the echo of calbot's own write is let be; an edit or
        deletion made in the tab asks for a pass, which puts calbot's version back."""
        if name.endswith("CREATE"):
            return
        if name.endswith("UPDATE"):
            sent = self._sent.get(native.id)
            if sent is not None and not differs(native, sent):
                return
        elif await self.bot.store.native.link_of(guild_id, native.id) is None:
            return  # deleted by a pass, which forgot it first
        await self.bot.store.native.mark(guild_id)
        self.bot.dispatch("native_marked", guild_id)

    # ---------------------------------------------------------------- Interested = answer

    async def _interest(self, guild_id: int, native_id: int, user_id: int, interested: bool) -> None:
        link = await self.bot.store.native.link_of(guild_id, native_id)
        if link is None:
            return
        key = await self._occurrence(link)
        if key is None:
            return
        store = self.bot.store
        current = next((a.status for a in await store.attendees.list(guild_id, link.event_id, key)
                        if a.user_id == user_id), None)  # fmt: skip
        try:
            if interested and current is None:
                await answer(self.bot, guild_id, link.event_id, key, user_id, "maybe")
                await store.native.set_interested(native_id, user_id, True)
            elif not interested and user_id in await store.native.interested(native_id):
                await store.native.set_interested(native_id, user_id, False)
                if not await store.attendees.withdraw(guild_id, link.event_id, key, user_id, MAYBE):
                    return  # answered otherwise on the card since: that answer stands
                with contextlib.suppress(NotFound):  # the member's own reminders, if any, go with the answer
                    await self.bot.reminders.answered(await store.events.get(guild_id, link.event_id), [user_id])
            else:
                return  # an answer given on the card stands
        except (RegistrationClosed, NotFound) as error:
            log.info("Interested in scheduled event %s not recorded: %s", native_id, error)
            return
        await self._refresh_card(guild_id, link.event_id)

    async def _occurrence(self, link: NativeLink) -> int | None:
        """The occurrence a scheduled event's Interested answers: its own, or a series' next one."""
        if link.key != ONE_OFF:
            return link.key
        try:
            event = await self.bot.store.events.get(link.guild_id, link.event_id)
        except NotFound:
            return None
        if event.recurrence is None:
            return ONE_OFF
        changes = (await self.bot.store.changes.for_events(link.guild_id, [event.id])).get(event.id, [])
        following = next_occurrence(event, changes, self.bot.now())
        return following.key if following is not None else None

    async def _refresh_card(self, guild_id: int, event_id: int) -> None:
        with contextlib.suppress(NotFound):
            event = await self.bot.store.events.get(guild_id, event_id)
            await update_card(self.bot, event, await self.bot.store.calendars.get(guild_id, event.calendar_id))

    @commands.Cog.listener("on_ready")  # at start-up, and after a connection that could not resume
    @commands.Cog.listener("on_resumed")
    async def _connected(self) -> None:
        self._spawn(self._catch_up_interested(), "native-interested")

    async def _catch_up_interested(self) -> None:
        """Read each mirrored event's Interested list: what changed while the gateway did not tell us."""
        for guild_id in await self.bot.store.native.guilds(shards=self.shards):
            for link in await self.bot.store.native.links(guild_id):
                try:
                    users = await self._users(guild_id, link.native_id)
                except discord.HTTPException as error:
                    log.info("Could not read who is interested in scheduled event %s: %s", link.native_id, error)
                    continue
                recorded = await self.bot.store.native.interested(link.native_id)
                for user_id in users - recorded:
                    await self._interest(guild_id, link.native_id, user_id, True)
                for user_id in recorded - users:
                    await self._interest(guild_id, link.native_id, user_id, False)

    async def _users(self, guild_id: int, native_id: int) -> set[int]:
        found: set[int] = set()
        after = 0
        while True:
            route = discord.http.Route(
                "GET", "/guilds/{guild_id}/scheduled-events/{event_id}/users", guild_id=guild_id, event_id=native_id
            )
            page = await self.bot.http.request(route, params={"limit": USERS_PAGE, "after": after})
            found |= {int(entry["user"]["id"]) for entry in page}
            if len(page) < USERS_PAGE:
                return found
            after = max(int(entry["user"]["id"]) for entry in page)


async def setup(bot: CalBot) -> None:
    await bot.add_cog(NativeEvents(bot))
