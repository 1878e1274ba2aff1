"""The iCalendar feed against independent readers: TEXT escaping (RFC 5545 §3.3.11), VTIMEZONEs checked
against zoneinfo through dateutil's `tzical`, instants a local time cannot name written in UTC, and one
calendar exercising all of it read with the same meaning by `icalendar`, `vobject` and `ics`."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import ics
import pytest
import recurring_ical_events
import vobject
from dateutil import tz
from dateutil.rrule import rrulestr

from bot.domain.ical import ZONE_RULES_UNTIL, _transitions, build_calendar, vtimezone
from bot.domain.models import Event, OccurrenceChange
from bot.domain.occurrences import expand
from bot.domain.recurrence import Recurrence, occurrences, parse_rrule
from bot.domain.timeparse import read_when

NOW = datetime(2026, 1, 1, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
ZONES = ["Europe/Berlin", "America/New_York", "America/Santiago", "Australia/Lord_Howe", "Pacific/Chatham",
         "Asia/Kolkata", "UTC", "America/Nuuk", "Africa/Casablanca", "Europe/Dublin"]  # fmt: skip


def event(id_: int, **fields) -> Event:
    """A validated event; its text as given (rows stored before input refused control characters)."""
    base = dict(guild_id=1, calendar_id=1, id=id_, name=f"Event {id_}", starts=datetime(2026, 5, 1, 9, tzinfo=UTC))
    text = {key: fields.pop(key) for key in ("name", "description", "location") if key in fields}
    return dataclasses.replace(Event(**{**base, **fields}).validated(), **text)


def calendar(*events: Event, changes=None, name="Raids", description="") -> bytes:
    return build_calendar(name, events, changes or {}, now=NOW, description=description)


# ---- TEXT


def test_text_values_are_escaped_and_control_characters_dropped():
    body = calendar(
        event(1, name="A, B; C\\D\x00\x07\x1b\x7f\x85E", description="line 1\r\nline 2\rline 3\u2028x\x0c",
              location="Hall; 2, left"),
        name="A, B; C\x01", description="Caldesc, with; punctuation\nand a newline\x1f",
    )  # fmt: skip
    for control in (b"\x00", b"\x01", b"\x07", b"\x0c", b"\x1b", b"\x1f", b"\x7f", "\x85".encode()):
        assert control not in body
    assert b"X-WR-CALNAME:A\\, B\\; C\r\n" in body and b"NAME:A\\, B\\; C\r\n" in body
    parsed = icalendar.Calendar.from_ical(body)
    # icalendar reads these calendar properties untyped (still escaped); vobject and ics read them as TEXT.
    read = vobject.readOne(body.decode())
    assert read.x_wr_calname.value == "A, B; C" and read.contents["name"][0].value == "A, B; C"
    assert read.x_wr_caldesc.value == "Caldesc, with; punctuation\nand a newline"
    [vevent] = parsed.walk("VEVENT")
    assert str(vevent["summary"]) == "A, B; C\\DE"
    assert str(vevent["description"]) == "line 1\nline 2\nline 3\nx"
    assert str(vevent["location"]) == "Hall; 2, left"


# ---- VTIMEZONE


def _tzical(name: str, first_year: int) -> tz.tzical:
    wrapper = icalendar.Calendar()
    wrapper.add("prodid", "-//test//EN")
    wrapper.add("version", "2.0")
    wrapper.add_component(vtimezone(name, first_year))
    return tz.tzical(io.StringIO(wrapper.to_ical().decode())).get(name)


@pytest.mark.parametrize("first_year", [1975, 2025])
@pytest.mark.parametrize("name", ZONES)
def test_vtimezone_gives_zoneinfos_offset_at_every_instant(name, first_year):
    """Half-hourly around every transition from `first_year` to ZONE_RULES_UNTIL, and four times a year to
    2400 (beyond the listed transitions: the RRULEs), dateutil's tzical reading our VTIMEZONE gives each
    local time that names one instant (what a reader does with a DTSTART;TZID=...) zoneinfo's UTC offset."""
    zone, read = ZoneInfo(name), _tzical(name, first_year)
    first = int(datetime(first_year, 1, 1, tzinfo=UTC).timestamp())
    _, transitions = _transitions(name, first, int(datetime(ZONE_RULES_UNTIL, 1, 1, tzinfo=UTC).timestamp()))
    instants = {t.at + hours * 1800 for t in transitions for hours in range(-8, 9)}
    instants |= {
        int(datetime(y, m, 15, tzinfo=UTC).timestamp()) for y in range(first_year, 2400) for m in (1, 4, 7, 10)
    }
    wrong = []
    for at in sorted(instants):
        truth = datetime.fromtimestamp(at, zone)
        if truth.replace(fold=1 - truth.fold).utcoffset() != truth.utcoffset():
            continue  # the second instance of a repeated hour: the feed writes it in UTC
        ours = truth.replace(tzinfo=read, fold=0)
        if ours.utcoffset() != truth.utcoffset():
            wrong.append((truth, ours.utcoffset(), truth.utcoffset()))
    assert not wrong, wrong[:5]
    assert name in ("UTC", "Asia/Kolkata") or transitions


def test_a_steady_zone_is_a_few_yearly_rules():
    vtz = vtimezone("Europe/Berlin", 2025)
    rules = [c["rrule"].to_ical() for c in vtz.subcomponents if "rrule" in c]
    assert sorted(rules) == [b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10", b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"]
    [daylight] = [c for c in vtz.walk("DAYLIGHT") if "rrule" in c]
    # The onset is 02:00 on the clock before it (RFC 5545 §3.6.5), not 03:00.
    assert daylight.decoded("dtstart").time().hour == 2


# ---- Instants a local time cannot name


def test_the_second_instance_of_a_repeated_hour_is_written_in_utc():
    second = datetime(2027, 10, 31, 2, 30, tzinfo=BERLIN, fold=1)  # 01:30 UTC
    body = calendar(event(1, name="Late", timezone="Europe/Berlin", starts=second, ends=second + timedelta(hours=1)),
                    event(2, name="Across", timezone="Europe/Berlin",
                          starts=datetime(2027, 10, 31, 1, 30, tzinfo=BERLIN),
                          ends=datetime(2027, 10, 31, 1, 30, tzinfo=UTC)))  # fmt: skip
    assert b"DTSTART:20271031T013000Z" in body and b"DTEND;TZID=Europe/Berlin:20271031T033000" in body
    assert b"DTSTART;TZID=Europe/Berlin:20271031T013000" in body and b"DTEND:20271031T013000Z" in body
    for vevent in icalendar.Calendar.from_ical(body).walk("VEVENT"):
        length = vevent.decoded("dtend") - vevent.decoded("dtstart")
        assert length == timedelta(hours=1 if str(vevent["summary"]) == "Late" else 2)


def test_a_series_starting_at_the_second_instance_moves_its_first_occurrence():
    second = datetime(2027, 10, 31, 2, 30, tzinfo=BERLIN, fold=1)
    series = event(1, timezone="Europe/Berlin", starts=second, ends=second + timedelta(hours=1),
                   recurrence=Recurrence("DAILY", count=3))  # fmt: skip
    assert series.starts == second.astimezone(UTC)  # the start as sent, not a day later (issue 11, case 2)
    parsed = icalendar.Calendar.from_ical(calendar(series))
    main, moved = parsed.walk("VEVENT")
    assert main["dtstart"].to_ical() == b"20271031T023000" and main.decoded("dtend") - main.decoded(
        "dtstart"
    ) == timedelta(hours=1)
    assert moved.decoded("recurrence-id") == main.decoded("dtstart")
    assert moved.decoded("dtstart") == second.astimezone(UTC) and moved.decoded("dtend") == second.astimezone(
        UTC
    ) + timedelta(hours=1)


def _expanded_by_oracle(body: bytes, after: datetime, before: datetime) -> list[tuple[datetime, str]]:
    """What recurring-ical-events (an independent RFC 5545 engine) lists from the feed."""
    found = recurring_ical_events.of(icalendar.Calendar.from_ical(body)).between(after, before)
    return sorted((v.decoded("dtstart").astimezone(UTC), str(v["summary"])) for v in found)


@pytest.mark.parametrize(
    ("zone", "typed"),
    [
        ("Europe/Berlin", datetime(2027, 3, 27, 2, 30)),  # noqa: DTZ001 - the day before the gap
        ("Europe/Berlin", datetime(2027, 3, 28, 2, 30)),  # noqa: DTZ001 - typed inside the gap itself
        ("America/New_York", datetime(2027, 3, 13, 2, 30)),  # noqa: DTZ001
        ("America/New_York", datetime(2027, 3, 14, 2, 30)),  # noqa: DTZ001
        ("Australia/Lord_Howe", datetime(2027, 10, 2, 2, 15)),  # noqa: DTZ001
        ("America/Santiago", datetime(2027, 9, 4, 0, 30)),  # noqa: DTZ001
    ],
)
def test_cancelled_and_moved_occurrences_on_a_gap_day_read_back_as_calbot_lists_them(zone, typed):
    # Issue 11, cases 1 and 5: EXDATE and RECURRENCE-ID name an occurrence by the wall time the rule generates
    # (inside the gap), which readers move forward exactly as calbot does.
    tz = ZoneInfo(zone)
    start = typed.replace(tzinfo=tz).astimezone(UTC)
    series = event(1, name="Daily", timezone=zone, starts=start, anchor=typed, ends=start + timedelta(hours=1),
                   recurrence=Recurrence("DAILY", count=5))  # fmt: skip
    originals = occurrences(series.recurrence, series.starts, tz, after=start, before=start + timedelta(days=9),
                            wall=series.anchor)  # fmt: skip
    gap_day = next(o for o in originals if o.astimezone(tz).time() != typed.time())  # the shifted one
    after_gap = originals[originals.index(gap_day) + 1]
    for cancel, move in ((gap_day, after_gap), (after_gap, gap_day)):
        changes = {1: [OccurrenceChange(guild_id=1, event_id=1, occurrence=cancel, cancelled=True),
                       OccurrenceChange(guild_id=1, event_id=1, occurrence=move, starts=move + timedelta(hours=5),
                                        name="Moved")]}  # fmt: skip
        listed = [(o.starts, o.name) for o in expand(series, changes[1], after=start, before=start + timedelta(days=9))]
        assert _expanded_by_oracle(calendar(series, changes=changes), start, start + timedelta(days=9)) == listed
        assert (move + timedelta(hours=5), "Moved") in listed and cancel not in [s for s, _ in listed]
    body = calendar(series).decode()
    assert f"DTSTART;TZID={zone}:{typed:%Y%m%dT%H%M%S}" in body  # the wall time typed, as calbot repeats it


# ---- Three readers, one meaning


def _mixed() -> bytes:
    weekly = event(
        1, name="Raid, night; \\weekly", timezone="Europe/Berlin", description="Bring\x00 snacks\nand, water",
        starts=datetime(2027, 10, 16, 2, 30, tzinfo=BERLIN), ends=datetime(2027, 10, 16, 4, tzinfo=BERLIN),
        recurrence=Recurrence("WEEKLY", count=6), location="Hall; 2",
    )  # fmt: skip
    changes = {
        1: [
            OccurrenceChange(guild_id=1, event_id=1, occurrence=datetime(2027, 10, 23, 0, 30, tzinfo=UTC),
                             cancelled=True),
            # moved into the second instance of the repeated hour on the fall-back night
            OccurrenceChange(guild_id=1, event_id=1,
                             occurrence=datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
                             starts=datetime(2027, 10, 31, 1, 30, tzinfo=UTC), name="Moved\x07 late"),
            OccurrenceChange(guild_id=1, event_id=1, occurrence=datetime(2027, 11, 6, 1, 30, tzinfo=UTC),
                             starts=datetime(2027, 11, 7, 17, tzinfo=UTC)),
        ],
        # New York springs forward on 14 March 2027: that day's 02:30 starts at 03:30 EDT (07:30 UTC)
        6: [
            OccurrenceChange(guild_id=1, event_id=6, occurrence=datetime(2027, 3, 14, 7, 30, tzinfo=UTC),
                             cancelled=True),
            OccurrenceChange(guild_id=1, event_id=6, occurrence=datetime(2027, 3, 27, 6, 30, tzinfo=UTC),
                             starts=datetime(2027, 3, 27, 15, tzinfo=UTC), name="Moved brunch"),
        ],
    }  # fmt: skip
    return calendar(
        weekly,
        event(2, name="Second 01:30", timezone="America/New_York",
              starts=datetime(2027, 11, 7, 1, 30, tzinfo=NEW_YORK, fold=1),
              ends=datetime(2027, 11, 7, 3, tzinfo=NEW_YORK)),
        event(3, name="Camp", timezone="Europe/Berlin", all_day=True, starts=datetime(2027, 7, 10, tzinfo=BERLIN),
              ends=datetime(2027, 7, 13, tzinfo=BERLIN)),
        event(4, name="Meeting", starts=datetime(2027, 5, 1, 9, tzinfo=UTC)),
        event(5, name="Chatham", timezone="Pacific/Chatham",
              starts=datetime(2027, 4, 4, 2, 50, tzinfo=ZoneInfo("Pacific/Chatham")),
              ends=datetime(2027, 4, 4, 3, 50, tzinfo=ZoneInfo("Pacific/Chatham"), fold=1)),
        # issue 11's cases 3, 4 and 5: an UNTIL instant, a WKST, a change on each side of a spring-forward day
        event(6, name="Weekends", timezone="America/New_York", starts=datetime(2027, 3, 13, 2, 30, tzinfo=NEW_YORK),
              ends=datetime(2027, 3, 13, 3, 30, tzinfo=NEW_YORK),
              recurrence=parse_rrule("FREQ=WEEKLY;INTERVAL=2;BYDAY=SA,SU;WKST=SA;UNTIL=20270329T000000Z")),
        # case 1: a series typed at 02:30 on Berlin's spring-forward day
        event(7, name="Gap start", timezone="Europe/Berlin", **_typed("2027-03-28 02:30", BERLIN),
              recurrence=Recurrence("DAILY", count=3)),
        changes=changes, name="Guild, calendar; one", description="All\x1b of it",
    )  # fmt: skip


def _typed(text: str, zone: ZoneInfo) -> dict:
    """A start as the slash command reads it: the instant and the wall time typed."""
    typed = read_when(text, now=NOW, zone=zone)
    return {"starts": typed.instant, "anchor": typed.wall}


# Each event's zone in _mixed(), by UID.
_ZONE_OF = {f"event-{i}@calbot": ZoneInfo(zone) for i, zone in enumerate(
    ["Europe/Berlin", "America/New_York", "Europe/Berlin", "UTC", "Pacific/Chatham", "America/New_York",
     "Europe/Berlin"], start=1)}  # fmt: skip


def _instant(value, zone: ZoneInfo | None = None):
    """What a DTSTART, DTEND, RECURRENCE-ID or EXDATE value means: a date, or an instant. A local time that does
    not exist (inside a spring-forward gap) is compared as written: RFC 5545 §3.3.5 reads it with the offset
    before the gap (icalendar, through zoneinfo, does), while vobject and ics read it, through dateutil's tz, with
    the offset after it, an hour earlier."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    wall = value.replace(tzinfo=None)
    if zone is not None and value.utcoffset() and not _exists(wall, zone):
        return wall
    return value.astimezone(UTC)


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def _from_icalendar(body: bytes) -> set[tuple]:
    found = set()
    for v in icalendar.Calendar.from_ical(body).walk("VEVENT"):
        zone = _ZONE_OF[str(v["uid"])]
        rid = _instant(v.decoded("recurrence-id"), zone) if "recurrence-id" in v else None
        end = _instant(v.decoded("dtend"), zone) if "dtend" in v else None
        found.add((str(v["uid"]), rid, _instant(v.decoded("dtstart"), zone), end, str(v["summary"])))
    return found


def _from_vobject(body: bytes) -> set[tuple]:
    found = set()
    for v in vobject.readOne(body.decode()).vevent_list:
        zone = _ZONE_OF[v.uid.value]
        rid = _instant(v.recurrence_id.value, zone) if hasattr(v, "recurrence_id") else None
        end = _instant(v.dtend.value, zone) if hasattr(v, "dtend") else None
        found.add((v.uid.value, rid, _instant(v.dtstart.value, zone), end, v.summary.value))
    return found


def _from_ics(body: bytes) -> set[tuple]:
    found = set()
    for v in ics.Calendar(body.decode()).events:
        zone = _ZONE_OF[v.uid]
        if v.all_day:
            start, end = v.begin.date(), v.end.date()
        else:
            start, end = _instant(v.begin.datetime, zone), _instant(v.end.datetime, zone) if v.has_end() else None
        found.add((v.uid, start, end, v.name))
    return found


def test_icalendar_vobject_and_ics_read_the_same_calendar():
    body = _mixed()
    ours = _from_icalendar(body)
    assert ours == _from_vobject(body)
    assert {(uid, start, end, summary) for uid, _rid, start, end, summary in ours} == _from_ics(body)
    summaries = {summary for *_, summary in ours}
    assert summaries == {"Raid, night; \\weekly", "Moved late", "Second 01:30", "Camp", "Meeting", "Chatham",
                         "Weekends", "Moved brunch", "Gap start"}  # fmt: skip
    by_summary = {summary: (start, end) for _uid, _rid, start, end, summary in ours}
    assert by_summary["Second 01:30"] == (
        datetime(2027, 11, 7, 6, 30, tzinfo=UTC),
        datetime(2027, 11, 7, 8, tzinfo=UTC),
    )
    assert by_summary["Moved late"][0] == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    assert by_summary["Chatham"][1] - by_summary["Chatham"][0] == timedelta(hours=2)
    assert by_summary["Camp"] == (date(2027, 7, 10), date(2027, 7, 13))


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        # 02:30 Berlin each week (the first instance on the fall-back night), one week cancelled
        ("Raid, night; \\weekly", ["10-16 02:30", "10-30 02:30", "11-06 02:30", "11-13 02:30", "11-20 02:30"]),
        # weeks from Saturday: both days of every other weekend until UNTIL; the spring-forward Sunday cancelled.
        # (written as the wall time the rule generates, which every reader resolves as the rule's own)
        ("Weekends", ["03-13 02:30", "03-27 02:30", "03-28 02:30"]),
        # typed on the spring-forward day: DTSTART is that 02:30 (read as 03:30 that day), then 02:30 each day
        ("Gap start", ["03-28 02:30", "03-29 02:30", "03-30 02:30"]),
    ],
)  # fmt: skip
def test_each_series_expands_alike_in_icalendar_and_vobject(summary, expected):
    body = _mixed()
    [main] = [v for v in icalendar.Calendar.from_ical(body).walk("VEVENT") if "rrule" in v and v["summary"] == summary]
    zone = _ZONE_OF[str(main["uid"])]
    start = main.decoded("dtstart")
    lines = main.get("exdate", [])
    excluded = {_instant(d.dt, zone) for line in (lines if isinstance(lines, list) else [lines]) for d in line.dts}
    ours = [
        _instant(o, zone)
        for o in rrulestr(main["rrule"].to_ical().decode(), dtstart=start)
        if _instant(o, zone) not in excluded
    ]
    theirs = next(v for v in vobject.readOne(body.decode()).vevent_list if v.uid.value == str(main["uid"]))
    assert [_instant(o, zone) for o in theirs.getrruleset()] == ours
    assert [f"{_local(o, zone):%m-%d %H:%M}" for o in ours] == expected


def _local(value: datetime, zone: ZoneInfo) -> datetime:
    return value if value.tzinfo is None else value.astimezone(zone)
