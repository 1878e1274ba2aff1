"""When reminders fall due, what to send for an event, and what happens to one that is late. Pure.

RFC 5545 §3.3.6: weeks and days are nominal (the same wall-clock time one day earlier in the
event's zone, whatever daylight saving does in between); hours, minutes and seconds are exact.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from .durations import calendar_parts
from .errors import InvalidField
from .timeparse import wall_to_utc

MAX_INTERVAL = timedelta(weeks=4)
ON_TIME = timedelta(seconds=60)  # sent within this of its due time, a reminder is on time
START_GRACE = timedelta(minutes=15)  # "starting now" is still worth sending this long after the start
NONCE_LENGTH = 25  # Discord's limit for a message nonce

# Every PERSCOM channel is delivered. Those of FAN_OUT_CHANNELS are planned as one row (target 0) that turns,
# when due, into one row per recipient: a member (DM, mail, sms) or a webhook (broadcast). None of them needs
# a guild's gateway connection, so any process may send them.
FAN_OUT_CHANNELS = ("broadcast", "discord_private", "mail", "sms")
# The channels that reach one member; a member's own preferences (ReminderPrefs) may replace the event's.
PRIVATE_CHANNELS = ("discord_private", "mail", "sms")

_ISO = re.compile(r"p(?:(?P<w>\d+)w)?(?:(?P<d>\d+)d)?(?:t(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?)?")


@dataclass(frozen=True, slots=True, order=True)
class Interval:
    """How long before the start a reminder goes out: `days` nominal, `seconds` exact."""

    days: int
    seconds: int

    @property
    def code(self) -> str:
        """Canonical, lower-case ISO 8601: pt0m, pt15m, pt1h, p1d, p1w, p2dt12h..."""
        if self.days == 0 and self.seconds == 0:
            return "pt0m"
        weeks, days = divmod(self.days, 7)
        date_part = f"{weeks}w" if weeks and not days and not self.seconds else ""
        if not date_part and self.days:
            date_part = f"{self.days}d"
        hours, rest = divmod(self.seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        time_part = "".join(f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n)
        return "p" + date_part + (f"t{time_part}" if time_part else "")

    @property
    def at_start(self) -> bool:
        return self.days == 0 and self.seconds == 0

    @property
    def words(self) -> str:
        """`15 minutes before`, `1 day 2 hours before`, `at the start`."""
        if self.at_start:
            return "at the start"
        weeks, days = divmod(self.days, 7)
        if days:  # "8 days", not "1 week 1 day"
            weeks, days = 0, self.days
        hours, rest = divmod(self.seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        units = ((weeks, "week"), (days, "day"), (hours, "hour"), (minutes, "minute"), (seconds, "second"))
        return " ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in units if n) + " before"

    def approximate(self) -> timedelta:
        return timedelta(days=self.days, seconds=self.seconds)


def parse_interval(text: str, field: str = "reminders") -> Interval:
    """`pt15m`, `PT30M`, `p1d`, `P2DT12H`, `p1w`: any ISO 8601 duration up to four weeks; or the same in
    everyday words: `15m`, `1 hour`, `90 minutes`, `1 day`, `2h30m` (days and weeks stay calendar days)."""
    raw = text.strip().lower()
    match = _ISO.fullmatch(raw)
    if match and raw not in ("p", "pt") and not raw.endswith("t"):
        parts = {k: int(v) for k, v in match.groupdict().items() if v}
        days = parts.get("w", 0) * 7 + parts.get("d", 0)
        seconds = parts.get("h", 0) * 3600 + parts.get("m", 0) * 60 + parts.get("s", 0)
    elif (everyday := calendar_parts(raw)) is not None:
        days, seconds = everyday
    else:
        raise InvalidField(
            field,
            f"unknown interval {text!r}; write how long before the start, such as 15m, 1 hour, 1 day or 2h30m "
            "(or the codes pt0m pt15m pt1h p1d p1w)",
        )
    try:
        interval = Interval(days=days, seconds=seconds)
        too_long = interval.approximate() > MAX_INTERVAL
    except OverflowError:
        too_long = True
    if too_long:
        raise InvalidField(field, f"{text!r} is longer than four weeks")
    return interval


def due_time(start: datetime, interval: Interval, zone: tzinfo) -> datetime:
    """The UTC instant a reminder `interval` before `start` is due."""
    due = start
    if interval.days:
        wall = start.astimezone(zone).replace(tzinfo=None) - timedelta(days=interval.days)
        due = wall_to_utc(wall, zone)
    return due - timedelta(seconds=interval.seconds)


@dataclass(frozen=True, slots=True)
class PlannedReminder:
    occurrence: int  # whose answers a DM reminder goes to: 0 for a one-off event, else the occurrence's key
    occurrence_start: datetime  # what the reminder counts back from (for all-day events: the guild's time that day)
    interval: str
    channel: str
    due: datetime

    @property
    def slot(self) -> tuple[datetime, str, str]:
        return self.occurrence_start, self.interval, self.channel


@dataclass(frozen=True, slots=True)
class ReminderPrefs:
    """A member's own private reminders, for events they answer going or maybe: `intervals` and `channels`
    replace the event's private ones (None keeps the event's); `off`: no private reminders at all."""

    user_id: int
    intervals: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None
    off: bool = False


Slot = tuple[str, str]  # (interval, channel)


def private_slots(
    intervals: Iterable[str], channels: Iterable[str], enabled: bool, prefs: ReminderPrefs | None
) -> frozenset[Slot]:
    """The private reminders a member going or maybe gets from an event with these settings. Preferences
    apply only to an event that sends private reminders at all: an organiser who chose the channel post
    alone (or no reminders) is not overridden."""
    intervals, private = tuple(intervals), tuple(c for c in channels if c in PRIVATE_CHANNELS)
    if not enabled or not intervals or not private or (prefs is not None and prefs.off):
        return frozenset()
    if prefs is not None:
        intervals = intervals if prefs.intervals is None else prefs.intervals
        private = private if prefs.channels is None else prefs.channels
    return frozenset((code, channel) for code in intervals for channel in private)


def plan(
    *,
    occurrences: Iterable[tuple[int, datetime]],
    intervals: tuple[str, ...],
    channels: tuple[str, ...],
    enabled: bool,
    zone: tzinfo,
    personal: Iterable[Slot] = (),
) -> list[PlannedReminder]:
    """The reminders of these (key, start) occurrences: one per occurrence, interval and channel, plus
    one per `personal` (interval, channel) members' own preferences ask for that the event lacks; past
    ones included; the engine decides which are still to come."""
    if not enabled:
        return []
    slots = [(code, channel) for code in intervals for channel in channels]
    slots += sorted(set(personal) - set(slots))
    return [
        PlannedReminder(key, start, code, channel, due_time(start, parse_interval(code), zone))
        for key, start in occurrences
        for code, channel in slots
    ]


class Verdict(enum.Enum):
    ON_TIME = "on_time"
    LATE = "late"  # still useful: sent, and says it is late
    MISSED = "missed"  # no longer useful: recorded, not sent


def judge(
    *, due: datetime, occurrence_start: datetime, interval: str, now: datetime, up_since: datetime | None = None
) -> Verdict:
    """The late policy: a reminder that came due while the bot was down (before `up_since`) is still sent
    if it is still useful (before the start; "starting now" up to START_GRACE after it) and says it is late;
    otherwise it is missed. One that came due while the bot ran but waited its turn (a burst held under
    Discord's rate limit) is not "late": it is sent as usual while useful."""
    if now - due <= ON_TIME:
        return Verdict.ON_TIME
    useful = now < occurrence_start or (parse_interval(interval).at_start and now - occurrence_start <= START_GRACE)
    if not useful:
        return Verdict.MISSED
    if up_since is not None and due >= up_since:
        return Verdict.ON_TIME
    return Verdict.LATE


def delivery_key(event_id: int, occurrence_start: datetime, interval: str, channel: str, target: int) -> str:
    return f"{event_id}:{int(occurrence_start.timestamp())}:{interval}:{channel}:{target}"


def delivery_nonce(key: str) -> str:
    """A Discord message nonce derived from the delivery key: a resend after a crash carries the same
    nonce, so Discord answers with the message already posted instead of posting it twice."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest(), "big")
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    chars = []
    while len(chars) < NONCE_LENGTH:
        digest, index = divmod(digest, 36)
        chars.append(alphabet[index])
    return "".join(chars)


def retry_delay(attempts: int) -> timedelta:
    """Backoff after a transient failure: 5 s, 10 s, 20 s ... capped at 5 minutes."""
    return timedelta(seconds=min(300, 5 * 2 ** max(0, attempts - 1)))


PENDING, CLAIMED, SENT, FAILED, MISSED, CANCELLED = "pending", "claimed", "sent", "failed", "missed", "cancelled"


@dataclass(frozen=True, slots=True)
class Reminder:
    """One row of the outbox."""

    id: int
    guild_id: int
    event_id: int
    occurrence_start: datetime
    interval: str
    channel: str
    target: int  # the user for a DM; 0 for a channel post or the DM fan-out
    scheduled_for: datetime  # when it is meant to go out
    due: datetime  # when to try next
    state: str = PENDING
    attempts: int = 0
    late: bool = False
    last_error: str | None = None
    message_id: int | None = None
    updated_at: datetime | None = None
    occurrence: int = 0  # whose answers: 0 for a one-off event, else the occurrence's key

    @property
    def key(self) -> str:
        return delivery_key(self.event_id, self.occurrence_start, self.interval, self.channel, self.target)

    @property
    def is_fan_out(self) -> bool:
        return self.channel in FAN_OUT_CHANNELS and self.target == 0


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a claimed reminder ended: what its finish records."""

    reminder_id: int
    state: str
    error: str | None = None
    message_id: int | None = None
    late: bool = False
