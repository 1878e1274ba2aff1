"""Benchmark: the worst cost of a rule on the event loop (issues 11 and 13: under 5 ms per request).

Times, in this process, what a request does with a series' rule: validating it (a rule that never
happens is refused, after a bounded search), listing a month of it, and finding its next five
occurrences as `/event show` does (within five years);
for rules that never happen, rules that happen rarely, and ordinary ones, in two zones. dateutil alone
walked to the year 9999 for a rule that never happens (about 3 s). Prints the figures; asserts nothing.

    python bench/expansion_worst.py [--runs 200]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.domain.errors import InvalidField
from bot.domain.models import Event
from bot.domain.occurrences import expand
from bot.domain.recurrence import Recurrence, occurrences, parse_rrule

RULES = {
    "never: DAILY in February on the 30th": "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    "never: every 2 days, February 30th": "FREQ=DAILY;INTERVAL=2;BYMONTH=2;BYMONTHDAY=30",
    "never: April 31st, monthly": "FREQ=MONTHLY;BYMONTH=4;BYMONTHDAY=31",
    "rare: February 29th on a Monday": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
    "rare: Friday the 13th": "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13",
    "ordinary: weekly on Tuesday and Thursday": "FREQ=WEEKLY;BYDAY=TU,TH",
    "ordinary: last Friday of the month": "FREQ=MONTHLY;BYDAY=-1FR",
}
ZONES = ("Europe/Berlin", "America/New_York")
START = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
MONTH = (datetime(2031, 6, 1, tzinfo=UTC), datetime(2031, 7, 1, tzinfo=UTC))  # five years on
FIVE_YEARS = MONTH[0] + timedelta(days=366 * 5)  # how far `/event show` looks for the next occurrences


def timed(action, runs: int) -> tuple[float, float]:
    """Median and worst, in milliseconds of this thread's CPU time: what the call holds the event loop for, without
    the time a busy machine gives the CPU to others (which wall time would count)."""
    action()  # once before timing: the first call in a process builds the capped walk for the year (cached)
    spent = []
    for _ in range(runs):
        began = time.thread_time()
        action()
        spent.append((time.thread_time() - began) * 1000)
    return statistics.median(spent), max(spent)


def series(rule: Recurrence, zone: str) -> Event:
    """The rule as a stored series (validation would refuse the rules that never happen: rows stored before)."""
    return Event(guild_id=1, calendar_id=1, name="x", starts=START, timezone=zone, recurrence=rule)


def validate(text: str, zone: str) -> None:
    with contextlib.suppress(InvalidField):  # refused: what a request answers with
        Event(
            guild_id=1, calendar_id=1, name="x", starts=START, timezone=zone, recurrence=parse_rrule(text)
        ).validated()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    print(f"{'rule':45} {'zone':17} {'validate':>15} {'a month':>15} {'next 5':>15}   (median / worst ms)")
    worst = 0.0
    for label, text in RULES.items():
        rule = parse_rrule(text)
        for name in ZONES:
            zone, stored = ZoneInfo(name), series(rule, name)
            figures = [
                timed(lambda text=text, name=name: validate(text, name), runs),
                timed(
                    lambda rule=rule, zone=zone: occurrences(rule, START, zone, after=MONTH[0], before=MONTH[1]), runs
                ),
                timed(lambda stored=stored: expand(stored, [], after=MONTH[0], before=FIVE_YEARS, limit=5), runs),
            ]
            worst = max(worst, *(w for _m, w in figures))
            cells = " ".join(f"{m:7.3f} / {w:5.2f}" for m, w in figures)
            print(f"{label:45} {name:17} {cells}")
    print(f"\nworst single call: {worst:.2f} ms (target: under 5 ms per request on the event loop)")


if __name__ == "__main__":
    main()
