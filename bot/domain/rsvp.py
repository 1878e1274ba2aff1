"""Who is coming: responses, capacity and the waitlist. Pure.

Statuses are stored with PERSCOM's names; members say "maybe" for PERSCOM's `interested`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .errors import DomainError, InvalidField
from .models import Event

GOING, MAYBE, NOT_GOING, WAITLISTED = "going", "interested", "not_going", "waitlisted"
# What members choose (buttons, /event rsvp) → the stored status.
RESPONSES = {"going": GOING, "maybe": MAYBE, "not_going": NOT_GOING}
LABELS = {GOING: "Going", MAYBE: "Maybe", NOT_GOING: "Not going", WAITLISTED: "Waitlisted"}
# Who gets a reminder by DM.
REMINDED = (GOING, MAYBE)
ONE_OFF = 0  # the occurrence key of an event that does not repeat


@dataclass(frozen=True, slots=True)
class Attendee:
    guild_id: int
    event_id: int
    occurrence: int
    user_id: int
    status: str
    seq: int = 0  # order of the latest change: the waitlist is served first come, first served
    dm_error: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    user_id: int
    status: str


class RegistrationClosed(DomainError):
    """RSVPs are refused: registration is off (`closed_at` None) or closed at `closed_at`."""

    def __init__(self, closed_at: datetime | None) -> None:
        super().__init__("registration is closed")
        self.closed_at = closed_at


def parse_response(text: str) -> str:
    key = text.strip().lower().replace(" ", "_").replace("-", "_")
    if key in RESPONSES:
        return RESPONSES[key]
    raise InvalidField("status", f"unknown answer {text!r}; use going, maybe or not_going")


def ensure_open(event: Event, now: datetime, *, starts: datetime | None = None, ends: datetime | None = None) -> None:
    """Refuse RSVPs when registration is off, past its deadline, or the event (for a series: the occurrence
    from `starts` to `ends`) is over. A series' deadline closes each occurrence as long before its start as
    the deadline was before the first one's."""
    if not event.registration_enabled:
        raise RegistrationClosed(None)
    deadline = event.registration_deadline
    if deadline is not None and starts is not None and event.recurrence is not None:
        deadline = starts - (event.starts - deadline)
    closes = deadline or ends or event.effective_end
    if now >= closes:
        raise RegistrationClosed(closes)


def respond(attendees: list[Attendee], user_id: int, wanted: str, capacity: int | None) -> list[Change]:
    """The changes when `user_id` answers `wanted`: beyond `capacity` "going" means waitlisted; a place
    that frees up goes to whoever has waited longest. Answering "going" again keeps one's place."""
    current = next((a.status for a in attendees if a.user_id == user_id), None)
    others_going = sum(1 for a in attendees if a.status == GOING and a.user_id != user_id)
    if wanted == GOING and current in (GOING, WAITLISTED):
        status = current
    elif wanted == GOING and capacity is not None and others_going >= capacity:
        status = WAITLISTED
    else:
        status = wanted
    if status == current:  # nothing to write, and one's place in the waitlist is kept
        return promotions(attendees, capacity)
    after = [a for a in attendees if a.user_id != user_id]
    if status != NOT_GOING:
        after.append(Attendee(0, 0, 0, user_id, status, seq=max((a.seq for a in attendees), default=0) + 1))
    return [Change(user_id, status), *promotions(after, capacity)]


def grouped(attendees: list[Attendee]) -> dict[str, list[Attendee]]:
    """Attendees by status, each list in the order they answered: the waitlist's order of service."""
    groups: dict[str, list[Attendee]] = {status: [] for status in LABELS}
    for attendee in sorted(attendees, key=lambda a: a.seq):
        groups.setdefault(attendee.status, []).append(attendee)
    return groups


def waitlist_place(attendees: list[Attendee], user_id: int) -> int | None:
    """1 for whoever is next to get a place; None for someone not waitlisted."""
    waiting = grouped(attendees)[WAITLISTED]
    return next((n for n, a in enumerate(waiting, 1) if a.user_id == user_id), None)


def promotions(attendees: list[Attendee], capacity: int | None) -> list[Change]:
    """Waitlisted attendees who now have a place, longest-waiting first."""
    waiting = sorted((a for a in attendees if a.status == WAITLISTED), key=lambda a: a.seq)
    going = sum(1 for a in attendees if a.status == GOING)
    free = len(waiting) if capacity is None else max(0, capacity - going)
    return [Change(a.user_id, GOING) for a in waiting[:free]]
