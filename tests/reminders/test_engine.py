"""The reminder engine with an injected clock, a real SQLite outbox, and a sender that records what it
was asked to deliver (Discord is faked only at that edge). Every state transition and the late policy."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.models import Event
from bot.domain.occurrences import Occurrence
from bot.domain.reminders import Reminder, ReminderPrefs, Verdict
from bot.domain.rsvp import GOING, MAYBE, NOT_GOING, ONE_OFF
from bot.reminders import ReminderEngine, RetryLater, Undeliverable
from bot.storage import Store, open_store
from tests.clock import Clock

GUILD = 1
START = datetime(2026, 6, 1, 18, 0, tzinfo=UTC)


class RecordingSender:
    """Stands in for Discord: records deliveries; `failures` makes the next calls raise."""

    def __init__(self) -> None:
        self.delivered: list[tuple[Reminder, Verdict]] = []
        self.failures: list[Exception] = []

    async def deliver(self, reminder: Reminder, occurrence: Occurrence, verdict: Verdict) -> int | None:
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append((reminder, verdict))
        return 9000 + len(self.delivered)

    def sent(self) -> list[tuple[str, str, int, Verdict]]:
        return [(r.interval, r.channel, r.target, v) for r, v in self.delivered]


@pytest.fixture
def clock() -> Clock:
    return Clock(START - timedelta(days=10))


@pytest.fixture
async def store(store_url: str, clock) -> AsyncIterator[Store]:
    opened = await open_store(store_url, clock=clock)
    yield opened
    await opened.close()


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
async def engine(store, sender, clock) -> AsyncIterator[ReminderEngine]:
    engine = ReminderEngine(store, sender, clock=clock)
    yield engine
    await engine.stop()


async def make_event(store, **fields) -> Event:
    calendar = await store.calendars.get_or_create(GUILD, "General")
    defaults = dict(
        guild_id=GUILD,
        calendar_id=calendar.id,
        name="Raid",
        starts=START,
        notifications_interval=("pt15m",),
        notifications_channels=("discord_public",),
    )
    return await store.events.create(Event(**{**defaults, **fields}))


async def rows(store) -> list[Reminder]:
    return await store.reminders.for_event(GUILD, 1)


async def test_planning_writes_one_row_per_interval_and_channel(store, engine):
    event = await make_event(
        store, notifications_interval=("pt0m", "pt15m", "p1d"), notifications_channels=("discord_public", "database")
    )
    await engine.schedule(event)
    await engine.schedule(event)  # planning again changes nothing
    planned = {(r.interval, r.channel, r.due) for r in await rows(store)}
    assert planned == {
        ("pt0m", "discord_public", START),
        ("pt0m", "database", START),
        ("pt15m", "discord_public", START - timedelta(minutes=15)),
        ("pt15m", "database", START - timedelta(minutes=15)),
        ("p1d", "discord_public", START - timedelta(days=1)),
        ("p1d", "database", START - timedelta(days=1)),
    }
    assert all(r.state == "pending" for r in await rows(store))


async def test_mail_sms_and_broadcast_are_planned_as_one_fan_out_row_each(store, engine):
    await engine.schedule(await make_event(store, notifications_channels=("mail", "sms", "broadcast")))
    planned = await rows(store)
    assert sorted((r.channel, r.target) for r in planned) == [("broadcast", 0), ("mail", 0), ("sms", 0)]
    assert all(r.is_fan_out for r in planned)


async def test_a_day_before_is_the_same_wall_time_across_a_dst_change(store, engine, clock):
    # Berlin moves its clocks forward on 29 March 2026: 18:00 that day is 16:00 UTC.
    clock.at(datetime(2026, 3, 1, tzinfo=UTC))
    start = datetime(2026, 3, 29, 16, 0, tzinfo=UTC)
    event = await make_event(store, starts=start, timezone="Europe/Berlin", notifications_interval=("p1d", "pt1h"))
    await engine.schedule(event)
    dues = {r.interval: r.due for r in await rows(store)}
    assert dues["p1d"] == datetime(2026, 3, 28, 17, 0, tzinfo=UTC)  # 18:00 CET the day before, not 23 h earlier
    assert dues["pt1h"] == datetime(2026, 3, 29, 15, 0, tzinfo=UTC)  # exactly one hour


async def test_nothing_is_sent_before_it_is_due_and_everything_when_it_is(store, engine, sender, clock):
    await engine.schedule(await make_event(store))
    clock.at(START - timedelta(minutes=16))
    assert await engine.dispatch() == 0
    clock.at(START - timedelta(minutes=15))
    assert await engine.dispatch() == 1
    assert sender.sent() == [("pt15m", "discord_public", 0, Verdict.ON_TIME)]
    [row] = await rows(store)
    assert (row.state, row.message_id, row.late, row.attempts) == ("sent", 9001, False, 1)
    assert await engine.dispatch() == 0  # sent once, never again


@pytest.mark.parametrize(
    ("interval", "now", "verdict"),
    [
        ("pt15m", START - timedelta(minutes=14), Verdict.ON_TIME),  # within a minute of its due time
        ("pt15m", START - timedelta(minutes=5), Verdict.LATE),  # still before the start
        ("pt15m", START + timedelta(minutes=1), Verdict.MISSED),  # the event has started
        ("pt0m", START + timedelta(minutes=14), Verdict.LATE),  # "starting now" is still worth it
        ("pt0m", START + timedelta(minutes=16), Verdict.MISSED),
        ("p1d", START - timedelta(hours=2), Verdict.LATE),
    ],
)
async def test_the_late_policy(store, engine, sender, clock, interval, now, verdict):
    await engine.schedule(await make_event(store, notifications_interval=(interval,)))
    clock.at(now)
    await engine.dispatch()
    [row] = await rows(store)
    if verdict is Verdict.MISSED:
        assert sender.delivered == []
        assert row.state == "missed" and "no longer useful" in row.last_error
    else:
        assert sender.sent() == [(interval, "discord_public", 0, verdict)]
        assert row.state == "sent" and row.late is (verdict is Verdict.LATE)


async def test_a_passing_failure_is_retried_with_backoff_and_judged_by_its_first_due(store, engine, sender, clock):
    await engine.schedule(await make_event(store))
    due = START - timedelta(minutes=15)
    clock.at(due)
    sender.failures = [RetryLater("Discord answered 500"), RetryLater("Discord answered 429", retry_after=30)]
    await engine.dispatch()
    [row] = await rows(store)
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "Discord answered 500")
    assert row.due == due + timedelta(seconds=5) and row.scheduled_for == due

    clock.at(due + timedelta(seconds=5))
    await engine.dispatch()
    [row] = await rows(store)
    assert row.due == due + timedelta(seconds=35)  # Discord's retry_after beats the 10 s backoff

    clock.at(due + timedelta(seconds=35))
    await engine.dispatch()
    [row] = await rows(store)
    assert row.state == "sent" and row.attempts == 3
    assert sender.sent() == [("pt15m", "discord_public", 0, Verdict.ON_TIME)]


async def test_failures_that_never_pass_end_as_failed_with_the_reason(store, sender, clock):
    engine = ReminderEngine(store, sender, clock=clock, max_attempts=3)
    await engine.schedule(await make_event(store))
    clock.at(START - timedelta(minutes=15))
    for _ in range(3):
        sender.failures = [RetryLater("Discord answered 502")]
        await engine.dispatch()
        clock.at(clock.now + timedelta(minutes=1))
    [row] = await rows(store)
    assert row.state == "failed"
    assert row.last_error == "gave up after 3 attempts: Discord answered 502"


async def test_dm_reminders_go_to_those_going_or_maybe_and_closed_dms_are_recorded(store, engine, sender, clock):
    event = await make_event(store, notifications_channels=("discord_private",))
    for user, answer in ((101, GOING), (102, MAYBE), (103, NOT_GOING), (104, GOING)):
        await store.attendees.respond(GUILD, event.id, ONE_OFF, user, answer, None)
    await engine.schedule(event)
    clock.at(START - timedelta(minutes=15))
    sender.failures = [Undeliverable("the member's DMs are closed (50007)")]  # the first DM: user 101
    await engine.dispatch()

    assert sorted(target for _i, _c, target, _v in sender.sent()) == [102, 104]
    by_target = {r.target: r for r in await rows(store)}
    assert by_target[0].state == "sent" and by_target[0].last_error == "sent as 3 DM(s)"
    assert by_target[101].state == "failed" and by_target[101].last_error == "the member's DMs are closed (50007)"
    assert {by_target[102].state, by_target[104].state} == {"sent"}
    assert 103 not in by_target
    attendees = {a.user_id: a for a in await store.attendees.list(GUILD, event.id, ONE_OFF)}
    assert attendees[101].dm_error == "the member's DMs are closed (50007)"
    assert attendees[102].dm_error is None


async def test_members_own_preferences_plan_their_intervals_and_choose_who_gets_each(store, engine, sender, clock):
    # An event as any road stores it (the API's, here): the engine plans from what is stored.
    event = await make_event(store, notifications_channels=("discord_public", "discord_private"))
    await store.reminder_prefs.save(ReminderPrefs(101, intervals=("pt1h", "pt15m")))
    await store.reminder_prefs.save(ReminderPrefs(102, intervals=("pt1h",)))  # not going: changes nothing
    await store.reminder_prefs.save(ReminderPrefs(104, off=True))
    for user, answer in ((101, MAYBE), (102, NOT_GOING), (103, GOING), (104, GOING)):
        await store.attendees.respond(GUILD, event.id, ONE_OFF, user, answer, None)
    await engine.schedule(event)
    assert {(r.interval, r.channel) for r in await rows(store)} == {
        ("pt15m", "discord_public"), ("pt15m", "discord_private"), ("pt1h", "discord_private")
    }  # fmt: skip
    clock.at(START - timedelta(hours=1))
    await engine.dispatch()
    assert sender.sent() == [("pt1h", "discord_private", 101, Verdict.ON_TIME)]
    clock.at(START - timedelta(minutes=15))
    await engine.dispatch()
    assert sorted(sender.sent()[1:]) == [
        ("pt15m", "discord_private", 101, Verdict.ON_TIME), ("pt15m", "discord_private", 103, Verdict.ON_TIME),
        ("pt15m", "discord_public", 0, Verdict.ON_TIME),
    ]  # fmt: skip


async def test_database_reminders_are_logged_without_a_message(store, engine, sender, clock):
    await engine.schedule(await make_event(store, notifications_channels=("database",)))
    clock.at(START - timedelta(minutes=15))
    await engine.dispatch()
    assert sender.delivered == []
    [row] = await rows(store)
    assert row.state == "sent"
    assert [r.id for r in await store.reminders.recent(GUILD)] == [row.id]


async def test_moving_an_event_reschedules_and_deleting_it_cancels(store, engine, sender, clock):
    event = await make_event(store)
    await engine.schedule(event)
    moved = await store.events.update(dataclasses.replace(event, starts=START + timedelta(hours=2)))
    await engine.schedule(moved)
    states = {(r.occurrence_start, r.state) for r in await rows(store)}
    assert states == {(START, "cancelled"), (START + timedelta(hours=2), "pending")}

    clock.at(START - timedelta(minutes=15))  # the old due time: nothing
    assert await engine.dispatch() == 0

    await engine.cancel(moved)
    clock.at(START + timedelta(hours=2) - timedelta(minutes=15))
    assert await engine.dispatch() == 0
    assert sender.delivered == []
    assert {r.state for r in await rows(store)} == {"cancelled"}


async def test_turning_reminders_off_cancels_the_pending_ones(store, engine, clock):
    event = await make_event(store, notifications_interval=("pt15m", "pt1h"))
    await engine.schedule(event)
    await engine.schedule(await store.events.update(dataclasses.replace(event, notifications_enabled=False)))
    assert {r.state for r in await rows(store)} == {"cancelled"}


async def test_a_reminder_already_past_when_planned_is_not_created(store, engine, clock):
    clock.at(START - timedelta(minutes=10))  # an event made ten minutes before it starts
    await engine.schedule(await make_event(store, notifications_interval=("pt15m", "pt0m")))
    assert [r.interval for r in await rows(store)] == ["pt0m"]


async def test_a_claim_whose_worker_died_is_released_after_its_lease(store, sender, clock):
    crashed = ReminderEngine(store, sender, clock=clock)
    await crashed.schedule(await make_event(store))
    clock.at(START - timedelta(minutes=15))
    claimed = await store.reminders.claim(clock(), crashed.worker, crashed.lease, 10)
    assert len(claimed) == 1  # ... and the worker dies before sending

    survivor = ReminderEngine(store, sender, clock=clock)
    assert await survivor.dispatch() == 0  # still leased to the dead worker
    clock.at(clock.now + crashed.lease + timedelta(seconds=1))
    await survivor.housekeeping()
    await survivor.dispatch()
    [row] = await rows(store)
    assert row.state == "sent" and row.attempts == 2
    assert len(sender.delivered) == 1
    assert not await store.reminders.finish(row.id, crashed.worker, "sent")  # the dead worker's ack is refused
    await survivor.stop()


async def test_start_up_recovers_claims_left_by_a_crash(store, store_url, sender, clock):
    crashed = ReminderEngine(store, sender, clock=clock)
    await crashed.schedule(await make_event(store))
    clock.at(START - timedelta(minutes=15))
    await store.reminders.claim(clock(), crashed.worker, crashed.lease, 10)
    restarted = ReminderEngine(store, sender, clock=clock)
    await restarted.start()
    try:
        if not store_url.startswith("sqlite"):
            # A shared database: the claim may be another live process's, so it waits for its lease.
            await restarted.dispatch()
            assert [r.state for r in await rows(store)] == ["claimed"] and sender.delivered == []
            clock.at(clock() + crashed.lease + timedelta(seconds=1))
            await restarted.housekeeping()
        await restarted.dispatch()
    finally:
        await restarted.stop()
    [row] = await rows(store)
    assert row.state == "sent"


async def test_a_burst_is_delivered_exactly_once(store, engine, sender, clock):
    for n in range(500):
        await engine.schedule(await make_event(store, name=f"Event {n}", notifications_interval=("pt0m",)))
    clock.at(START)
    assert await engine.dispatch() == 500
    keys = [r.key for r, _v in sender.delivered]
    assert len(keys) == 500 == len(set(keys))


# ---- series, all-day events, and what review found


async def test_a_series_is_planned_over_the_horizon_and_extended(store, engine, clock):
    from bot.domain.recurrence import Recurrence
    from bot.reminders.engine import HORIZON

    await engine.schedule(await make_event(store, recurrence=Recurrence("WEEKLY")))
    first = await rows(store)
    # one a week from the first occurrence (ten days away) to six weeks from now: an endless series is bounded
    assert [r.occurrence_start for r in first] == [START + timedelta(weeks=n) for n in range(5)]
    assert max(r.occurrence_start for r in first) <= clock.now + HORIZON
    assert {r.occurrence for r in first} == {int(r.occurrence_start.timestamp()) for r in first}
    clock.at(clock.now + timedelta(weeks=2))
    await engine.extend_horizon()
    later = [r for r in await rows(store) if r.state == "pending"]
    assert max(r.occurrence_start for r in later) > max(r.occurrence_start for r in first)


async def test_dm_reminders_of_a_series_go_to_that_occurrences_attendees(store, engine, sender, clock):
    from bot.domain.recurrence import Recurrence

    event = await make_event(store, recurrence=Recurrence("WEEKLY"), notifications_channels=("discord_private",))
    second = START + timedelta(weeks=1)
    await store.attendees.respond(GUILD, event.id, int(START.timestamp()), 101, GOING, None)
    await store.attendees.respond(GUILD, event.id, int(second.timestamp()), 102, GOING, None)
    await engine.schedule(event)
    clock.at(second - timedelta(minutes=15))
    await engine.dispatch()
    # the first occurrence's reminder came due a week ago, its event is over: missed; the second one's DMs
    # go to the second occurrence's attendees only
    assert [(r.occurrence_start, r.target) for r, _v in sender.delivered] == [(second, 102)]
    states = {(r.occurrence_start, r.target): r.state for r in await rows(store)}
    assert states[(START, 0)] == "missed"


async def test_moved_and_cancelled_occurrences_move_and_drop_their_reminders(store, engine, sender, clock):
    from bot.domain.models import OccurrenceChange
    from bot.domain.recurrence import Recurrence

    event = await make_event(store, recurrence=Recurrence("WEEKLY"))
    second, third = START + timedelta(weeks=1), START + 2 * timedelta(weeks=1)
    await store.changes.save(OccurrenceChange(GUILD, event.id, second, cancelled=True))
    await store.changes.save(OccurrenceChange(GUILD, event.id, third, starts=third + timedelta(hours=2), name="Later"))
    await engine.schedule(event)
    starts = sorted(r.occurrence_start for r in await rows(store) if r.state == "pending")
    assert second not in starts and third not in starts and third + timedelta(hours=2) in starts
    clock.at(third + timedelta(hours=2) - timedelta(minutes=15))
    await engine.dispatch()
    assert [(r.occurrence_start, v) for r, v in sender.delivered if r.occurrence == int(third.timestamp())] == [
        (third + timedelta(hours=2), Verdict.ON_TIME)
    ]


async def test_all_day_reminders_count_from_the_guilds_all_day_time(store, engine):
    from bot.domain.models import GuildSettings

    day = datetime(2026, 6, 1, tzinfo=UTC)
    await store.settings.save(GuildSettings(guild_id=GUILD, timezone="Europe/Berlin", all_day_time="08:30"))
    event = await make_event(store, starts=day, all_day=True, timezone="Europe/Berlin", notifications_interval=("p1d",))
    await engine.schedule(event)
    [row] = await rows(store)
    assert row.due == datetime(2026, 5, 31, 6, 30, tzinfo=UTC)  # 08:30 in Berlin, the day before


async def test_re_planning_does_not_cancel_a_reminder_that_is_due_but_not_sent_yet(store, engine, sender, clock):
    event = await make_event(store)
    await engine.schedule(event)
    clock.at(START - timedelta(minutes=15) + timedelta(seconds=10))  # due ten seconds ago, not dispatched
    renamed = await store.events.update(dataclasses.replace(event, name="Raid (renamed)"))
    await engine.schedule(renamed)  # what /event edit does
    assert [r.state for r in await rows(store)] == ["pending"]
    await engine.dispatch()
    assert sender.sent() == [("pt15m", "discord_public", 0, Verdict.ON_TIME)]


async def test_waiting_behind_a_rate_limit_is_not_being_late(store, engine, sender, clock):
    await engine.schedule(await make_event(store))
    engine.up_since = clock.now  # the bot was running when the reminder fell due
    clock.at(START - timedelta(minutes=10))  # five minutes after its due time: a burst held it back
    await engine.dispatch()
    assert sender.sent() == [("pt15m", "discord_public", 0, Verdict.ON_TIME)]


async def test_a_one_off_event_months_ahead_gets_its_reminders(store, engine, clock):
    far = START + timedelta(days=200)
    await engine.schedule(await make_event(store, starts=far, notifications_interval=("p1w", "pt15m")))
    assert sorted(r.due for r in await rows(store)) == [far - timedelta(weeks=1), far - timedelta(minutes=15)]


async def test_a_cancelled_reminder_comes_back_when_planned_again(store, engine, sender, clock):
    event = await make_event(store)
    await engine.schedule(event)
    moved = await store.events.update(dataclasses.replace(event, starts=START + timedelta(hours=1)))
    await engine.schedule(moved)
    back = await store.events.update(dataclasses.replace(moved, starts=START))  # moved back to 18:00
    await engine.schedule(back)
    assert sorted((r.occurrence_start, r.state) for r in await rows(store)) == [
        (START, "pending"), (START + timedelta(hours=1), "cancelled"),
    ]  # fmt: skip
    clock.at(START - timedelta(minutes=15))
    await engine.dispatch()
    assert sender.sent() == [("pt15m", "discord_public", 0, Verdict.ON_TIME)]


async def test_planning_from_an_old_copy_reads_the_event_again(store, engine, clock):
    event = await make_event(store)
    moved = await store.events.update(dataclasses.replace(event, starts=START + timedelta(hours=2)))
    await engine.schedule(event)  # a caller still holding the copy from before the move
    assert [r.occurrence_start for r in await rows(store)] == [moved.starts]


async def test_a_row_left_by_a_crash_before_re_planning_is_not_sent_at_the_old_time(store, engine, sender, clock):
    event = await make_event(store)
    await engine.schedule(event)
    later = START + timedelta(hours=2)
    await store.events.update(dataclasses.replace(event, starts=later))  # ... and the bot dies before re-planning
    clock.at(START - timedelta(minutes=15))
    await engine.dispatch()
    assert sender.delivered == []
    by_start = {r.occurrence_start: r for r in await rows(store)}
    assert (
        by_start[START].state == "cancelled" and by_start[START].last_error == "the event changed since it was planned"
    )
    assert by_start[later].state == "pending"
    clock.at(later - timedelta(minutes=15))
    await engine.dispatch()
    assert [(r.occurrence_start, v) for r, v in sender.delivered] == [(later, Verdict.ON_TIME)]


# ---- stopping: stop() returns only once nothing the engine started still uses the store (the bot closes it next)


class Gate:
    """Wraps one of the real store's calls so that it waits until the test opens the gate: the test
    decides when the call goes on, nothing of the store is faked."""

    def __init__(self, call: Callable[..., Awaitable[object]]) -> None:
        self.call = call
        self.reached = asyncio.Event()  # the call is waiting at the gate
        self.opened = asyncio.Event()
        self.returned = False

    async def __call__(self, *args, **kwargs):
        self.reached.set()
        await self.opened.wait()
        result = await self.call(*args, **kwargs)
        self.returned = True
        return result


HELD = 0.3  # seconds stop() is given to return early, were it to, while a store call is held


async def test_stop_waits_for_the_dispatch_pass_up_to_its_next_due_query(store, engine, sender, clock, monkeypatch):
    await engine.schedule(await make_event(store, notifications_interval=("pt1h", "pt15m")))
    clock.at(START - timedelta(hours=1))
    gate = Gate(store.reminders.next_due)
    monkeypatch.setattr(store.reminders, "next_due", gate)
    dispatching = asyncio.create_task(engine.dispatch())
    await asyncio.wait_for(gate.reached.wait(), 10)  # the hour's reminder is sent; the pass asks what is next
    assert sender.sent() == [("pt1h", "discord_public", 0, Verdict.ON_TIME)]

    stopping = asyncio.create_task(engine.stop())
    await asyncio.sleep(HELD)
    assert not stopping.done(), "stop() returned while the dispatch pass was still querying the store"
    gate.opened.set()
    await asyncio.wait_for(stopping, 10)
    assert gate.returned and dispatching.done() and dispatching.result() == 1
    # The 15-minute reminder's due time, which that query returned, armed no timer: the engine has stopped.
    assert engine._timer is None
    assert await engine.dispatch() == 0
    assert [r.state for r in await rows(store)] == ["sent", "pending"]


async def test_stop_lets_the_schedulers_dispatch_finish_rather_than_cancel_it(
    store, engine, sender, clock, monkeypatch, caplog
):
    await engine.schedule(await make_event(store))
    clock.at(START - timedelta(minutes=15))
    gate = Gate(store.reminders.next_due)
    monkeypatch.setattr(store.reminders, "next_due", gate)
    await engine.start()  # APScheduler runs the dispatch job at once
    await asyncio.wait_for(gate.reached.wait(), 10)

    stopping = asyncio.create_task(engine.stop())
    await asyncio.sleep(HELD)
    assert not stopping.done(), "stop() returned while the scheduler's dispatch job was still querying the store"
    gate.opened.set()
    await asyncio.wait_for(stopping, 10)
    await asyncio.sleep(0.05)  # the scheduler shuts down on the loop's next turn
    assert gate.returned  # the job ran to its end: not cancelled by the scheduler's shutdown
    assert sender.sent() == [("pt15m", "discord_public", 0, Verdict.ON_TIME)]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_a_wake_up_during_the_next_due_query_makes_the_pass_look_again(store, engine, sender, clock, monkeypatch):
    first = await make_event(store)
    second = await make_event(store, name="Later", starts=START + timedelta(minutes=1))
    await engine.schedule(first)
    await engine.schedule(second)
    clock.at(START - timedelta(minutes=15))
    gate = Gate(store.reminders.next_due)
    monkeypatch.setattr(store.reminders, "next_due", gate)
    dispatching = asyncio.create_task(engine.dispatch())
    await asyncio.wait_for(gate.reached.wait(), 10)
    clock.at(START - timedelta(minutes=14))  # the second event's reminder falls due while the pass ends
    # No second pass beside the first (it would wait at the gate too): the first one looks again.
    assert await asyncio.wait_for(engine.dispatch(), 5) == 0
    gate.opened.set()
    assert await asyncio.wait_for(dispatching, 10) == 2
    assert [r.event_id for r, _v in sender.delivered] == [first.id, second.id]


async def test_stop_waits_for_housekeeping_under_way(store, engine, monkeypatch):
    gate = Gate(store.reminders.release_expired)
    monkeypatch.setattr(store.reminders, "release_expired", gate)
    housekeeping = asyncio.create_task(engine.housekeeping())
    await asyncio.wait_for(gate.reached.wait(), 10)

    stopping = asyncio.create_task(engine.stop())
    await asyncio.sleep(HELD)
    assert not stopping.done(), "stop() returned while housekeeping was still using the store"
    gate.opened.set()
    await asyncio.wait_for(stopping, 10)
    assert gate.returned and housekeeping.done() and housekeeping.exception() is None


async def test_a_pass_still_running_after_the_grace_is_cancelled_before_stop_returns(
    store, engine, clock, monkeypatch, caplog
):
    from bot.reminders import engine as engine_module

    monkeypatch.setattr(engine_module, "STOP_GRACE", 0.2)
    await engine.schedule(await make_event(store))
    clock.at(START - timedelta(minutes=15))
    gate = Gate(store.reminders.next_due)  # never opened: a pass that would not end
    monkeypatch.setattr(store.reminders, "next_due", gate)
    dispatching = asyncio.create_task(engine.dispatch())
    await asyncio.wait_for(gate.reached.wait(), 10)

    await asyncio.wait_for(engine.stop(), 10)
    assert dispatching.done() and dispatching.result() == 0  # cut short, not an error for its caller
    assert not gate.returned
    assert "Cancelling 1 reminder task(s) still running" in caplog.text


def counted(engine: ReminderEngine, name: str, channel: str = "discord_public") -> float:
    return engine.metrics.registry.get_sample_value(f"calbot_reminders_{name}_total", {"channel": channel}) or 0.0


async def test_the_counters_follow_how_each_reminder_ended(store, engine, sender, clock):
    """Due once each (a retry is no new due), and ended once each: sent, failed or missed."""
    await engine.schedule(await make_event(store, name="Sent after a retry"))
    await engine.schedule(await make_event(store, name="Refused", starts=START + timedelta(hours=1)))
    await engine.schedule(await make_event(store, name="Missed", starts=START - timedelta(days=1)))
    clock.at(START - timedelta(minutes=15))
    sender.failures = [RetryLater("Discord answered 500")]
    await engine.dispatch()  # the first is retried, the missed one missed, the refused one not due yet
    assert (counted(engine, "due"), counted(engine, "sent"), counted(engine, "missed")) == (2, 0, 1)
    clock.at(START - timedelta(minutes=14))
    await engine.dispatch()
    assert (counted(engine, "due"), counted(engine, "sent")) == (2, 1)
    clock.at(START + timedelta(minutes=45))
    sender.failures = [Undeliverable("calbot lacks permission to post there (50013)")]
    await engine.dispatch()
    assert (counted(engine, "due"), counted(engine, "failed"), counted(engine, "missed")) == (3, 1, 1)
    lag = engine.metrics.registry.get_sample_value("calbot_reminder_lag_seconds_sum", {"channel": "discord_public"})
    assert lag == 60  # the retried one went out a minute after it was due
    states = [r.state for event_id in (1, 2, 3) for r in await store.reminders.for_event(GUILD, event_id)]
    assert states == ["sent", "failed", "missed"]  # what the counters say, row by row


async def test_a_reminder_another_process_took_over_is_not_counted_twice(store, sender, clock):
    slow, survivor = ReminderEngine(store, sender, clock=clock), ReminderEngine(store, sender, clock=clock)
    await slow.schedule(await make_event(store))
    clock.at(START - timedelta(minutes=15))
    [claim] = await store.reminders.claim(clock(), slow.worker, slow.lease, 10)
    clock.at(clock.now + slow.lease + timedelta(seconds=1))  # the slow one's lease runs out mid-send
    await survivor.housekeeping()
    await survivor.dispatch()
    await slow._deliver(claim)  # ... and it finishes its send late: the outbox refuses its ack
    assert counted(survivor, "sent") == 1 and counted(slow, "sent") == 0
    await survivor.stop()
