"""What the `broadcast` channel sends: one JSON body per notification, the same to every webhook and on the
API's notification stream. Pure."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .models import card_link
from .occurrences import Occurrence
from .reminders import Reminder, Verdict


def broadcast_payload(reminder: Reminder, occurrence: Occurrence, verdict: Verdict) -> dict[str, Any]:
    """What the `broadcast` channel sends (each webhook, and the API's notification stream): the notification,
    no member's data."""
    event = occurrence.event
    return {
        "type": "event.reminder",
        "delivery_key": reminder.key,
        "guild_id": str(event.guild_id),
        "data": {
            "event": {
                "id": event.id,
                "calendar_id": event.calendar_id,
                "name": occurrence.name,
                "description": occurrence.description,
                "location": occurrence.location,
                "url": event.url,
                "timezone": event.timezone,
                "all_day": event.all_day,
                "starts": iso_utc(occurrence.starts),
                "ends": iso_utc(occurrence.ends),
            },
            "occurrence": occurrence.key,
            "interval": reminder.interval,
            "due": iso_utc(reminder.scheduled_for),
            "late": verdict is Verdict.LATE,
            "card_url": card_link(event),
        },
    }


def iso_utc(instant: datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
