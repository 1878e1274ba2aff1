"""What the mail and sms channels send, built without any server: segments, parts, ids."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest

from bot.domain.models import Event
from bot.domain.occurrences import Occurrence
from bot.domain.reminders import Reminder, Verdict
from bot.reminders.mail import message_id, reminder_mail
from bot.reminders.sms import GSM7_SEGMENT, UCS2_SEGMENT, segment_limit, sms_text

START = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 in London, the night clocks go forward
LINK = "https://discord.com/channels/1/2/3"


def reminder(target: int = 7, interval: str = "pt1h") -> Reminder:
    return Reminder(1, 1, 5, START, interval, "mail", target, START, START)


def occurrence(name: str = "Raid ✨", location: str = "Castle") -> Occurrence:
    event = Event(guild_id=1, calendar_id=2, name=name, starts=START, location=location, id=5,
                  card_channel_id=2, card_message_id=3)  # fmt: skip
    return Occurrence.of(event)


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("Raid night: 18:00 @ Castle!", GSM7_SEGMENT),
        ("Über Ände é", GSM7_SEGMENT),  # in GSM-7's basic set
        ("Raid {night}", UCS2_SEGMENT),  # GSM-7 extension characters take two septets: counted as UCS-2, safe
        ("Raid ✨", UCS2_SEGMENT),
        ("Ünïcödé", UCS2_SEGMENT),  # ï is not GSM-7
    ],
)
def test_the_segment_is_gsm7_unless_a_character_needs_ucs2(name, limit):
    assert segment_limit(name) == limit


@pytest.mark.parametrize("name", ["Raid", "Raid " + "x" * 95, "Ründe ✨ " + "y" * 90])
def test_an_sms_fits_one_segment_dropping_the_link_then_shortening_the_name(name):
    text = sms_text(name, "Sunday 29 March 2026, 01:30 GMT (Europe/London)", LINK)
    assert len(text) <= segment_limit(text)
    assert text.endswith("(Europe/London)" + (f" {LINK}" if LINK in text else ""))
    if len(name) < 10:
        assert LINK in text


def test_a_reminder_mail_has_its_parts_its_zone_and_a_stable_message_id():
    now = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    raw = reminder_mail(reminder(), occurrence(), Verdict.LATE, to="a@example.org", zone="Europe/London",
                        sender="calbot@example.com", now=now)  # fmt: skip
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert mail["Subject"] == "Reminder: Raid ✨" and mail["To"] == "a@example.org"
    assert mail["Message-ID"] == message_id(reminder().key, "calbot@example.com")
    text = mail.get_body(("plain",)).get_content()
    assert "When: Sunday 29 March 2026, 00:30 GMT (Europe/London)" in text and "Where: Castle" in text
    assert f"Card: {LINK}" in text and "This reminder is late" in text
    assert f'<a href="{LINK}">' in mail.get_body(("html",)).get_content()
    [ics] = list(mail.iter_attachments())
    assert ics.get_content_type() == "text/calendar" and "DTSTART:20260329T003000Z" in ics.get_content()
    again = reminder_mail(reminder(), occurrence(), Verdict.LATE, to="a@example.org", zone="Europe/London",
                          sender="calbot@example.com", now=now)  # fmt: skip
    assert again == raw  # a resend is the same mail
    other = reminder_mail(reminder(target=8), occurrence(), Verdict.LATE, to="b@example.org",
                          zone="Europe/London", sender="calbot@example.com", now=now)  # fmt: skip
    assert email.message_from_bytes(other, policy=email.policy.default)["Message-ID"] != mail["Message-ID"]


def test_html_in_a_name_is_escaped_in_the_html_part():
    raw = reminder_mail(reminder(), occurrence(name="<script>x</script>", location=""), Verdict.ON_TIME,
                        to="a@example.org", zone="UTC", sender="calbot@example.com", now=START)  # fmt: skip
    page = email.message_from_bytes(raw, policy=email.policy.default).get_body(("html",)).get_content()
    assert "<script>" not in page and "&lt;script&gt;" in page
