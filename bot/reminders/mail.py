"""The `mail` channel: reminders as mail over SMTP (aiosmtplib), through a small pool of reused connections.

A reminder mail has a plain-text and an HTML part, the event's time in the member's own zone, a link to
the card, and the occurrence as an `.ics` attachment. Its Message-ID derives from the delivery key, so a
resend after a crash carries the same id and mail clients (and the tests) can tell it is one mail.
SMTP's 4xx answers are passing (retried with backoff), 5xx are final (failed, with the reason). An
address never reaches a log line or a reason: reasons have it replaced.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.policy
import functools
import hashlib
import html
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import aiosmtplib

from bot.config import MailConfig
from bot.domain.contacts import MAIL
from bot.domain.ical import event_file, filename
from bot.domain.models import card_link
from bot.domain.occurrences import Occurrence
from bot.domain.reminders import Reminder, Verdict, parse_interval
from bot.storage import Store

from .engine import RetryLater, Undeliverable

log = logging.getLogger(__name__)

SUBJECT_NAME = 80  # characters of the event's name in a subject line


def message_id(key: str, from_address: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<reminder.{digest}@{from_address.rpartition('@')[2]}>"


def local_when(occurrence: Occurrence, zone: str) -> str:
    """`Saturday 10 January 2026, 18:00 CET (Europe/Berlin)`; an all-day event's date(s) in its own zone."""
    event = occurrence.event
    if event.all_day:
        own = ZoneInfo(event.timezone)
        first = occurrence.starts.astimezone(own).date()
        last = (occurrence.effective_end.astimezone(own) - timedelta(seconds=1)).date()
        return f"{first:%A %d %B %Y}" + ("" if last == first else f" to {last:%A %d %B %Y}") + " (all day)"
    local = occurrence.starts.astimezone(ZoneInfo(zone))
    return f"{local:%A %d %B %Y, %H:%M} {local.tzname()} ({zone})"


def reminder_mail(
    reminder: Reminder, occurrence: Occurrence, verdict: Verdict, *, to: str, zone: str, sender: str, now: datetime
) -> bytes:
    """The whole mail, ready for SMTP: the recipient's own headers before a body shared by every member who
    reads the occurrence in the same zone (built once: a fan-out to 1,000 members builds it once, not 1,000
    times; the email package takes some 15 ms a mail)."""
    subject, body = _reminder_body(occurrence, zone, reminder.interval, verdict is Verdict.LATE)
    return _headers(subject, sender=sender, to=to, now=now, message_id=message_id(reminder.key, sender)) + body


@functools.lru_cache(maxsize=64)
def _reminder_body(occurrence: Occurrence, zone: str, interval: str, late: bool) -> tuple[str, bytes]:
    """(subject, the MIME body: text and HTML alternatives, and the occurrence as an .ics attachment)."""
    event = occurrence.event
    when = local_when(occurrence, zone)
    starting = parse_interval(interval).at_start and not event.all_day
    name = occurrence.name if len(occurrence.name) <= SUBJECT_NAME else occurrence.name[: SUBJECT_NAME - 1] + "…"
    lines = [f"{occurrence.name} is starting now" if starting else occurrence.name, f"When: {when}"]
    if occurrence.location:
        lines.append(f"Where: {occurrence.location}")
    link = card_link(event)
    if link:
        lines.append(f"Card: {link}")
    if late:
        lines.append("This reminder is late: calbot was not running when it was due.")
    footer = "You get this because you answered going or maybe. To stop mail, use /me email clear in Discord."
    text = "\n".join(lines) + f"\n\n-- \n{footer}\n"
    items = "".join(f"<p>{html.escape(line)}</p>" for line in lines[1:] if not line.startswith("Card: "))
    card = f'<p><a href="{html.escape(link)}">Open the event card</a></p>' if link else ""
    page = (
        f"<!doctype html><html><body><h2>{html.escape(lines[0])}</h2>{items}{card}"
        f"<hr><p><small>{html.escape(footer)}</small></p></body></html>"
    )
    single = dataclasses.replace(
        event, name=occurrence.name, starts=occurrence.starts, ends=occurrence.ends, description=occurrence.description,
        location=occurrence.location, recurrence=None, repeats=False,
    )  # fmt: skip
    # DTSTAMP from the event's last change, not the clock: the same occurrence gives the same bytes.
    ics = MIMEText(event_file(single, [], now=event.updated_at or occurrence.starts).decode(), "calendar", "utf-8")
    ics.add_header("Content-Disposition", "attachment", filename=filename(occurrence.name))
    alternatives = MIMEMultipart(
        "alternative", _subparts=[MIMEText(text, "plain", "utf-8"), MIMEText(page, "html", "utf-8")]
    )
    mixed = MIMEMultipart("mixed", _subparts=[alternatives, ics])
    subject = f"Starting now: {name}" if starting else f"Reminder: {name}"
    return subject, mixed.as_bytes(policy=email.policy.SMTP)


def _headers(subject: str, *, sender: str, to: str, now: datetime, message_id: str | None = None) -> bytes:
    lines = [
        f"Subject: {Header(subject, 'utf-8').encode()}",
        f"From: {sender}",
        f"To: {to}",
        f"Date: {format_datetime(now)}",
        *([f"Message-ID: {message_id}"] if message_id else []),
        "Auto-Submitted: auto-generated",  # RFC 3834: no vacation replies
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def code_mail(*, to: str, code: str, sender: str, now: datetime) -> bytes:
    body = MIMEText(
        f"Your code is {code}.\n\nType /me email verify code:{code} in Discord within 15 minutes to receive "
        "calbot's reminders at this address. If you did not ask for it, ignore this mail: nothing is sent "
        "to an address that was not confirmed.\n",
        "plain",
        "utf-8",
    )
    return _headers(f"Your calbot code: {code}", sender=sender, to=to, now=now) + body.as_bytes(
        policy=email.policy.SMTP
    )


def _redacted(text: str, address: str) -> str:
    return text.replace(address, "the address") if address else text


class SmtpPool:
    """Up to `pool_size` SMTP connections, opened when needed and reused; one that fails is dropped."""

    def __init__(self, config: MailConfig) -> None:
        self.config = config
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(config.pool_size)

    async def _connect(self) -> aiosmtplib.SMTP:
        config = self.config
        client = aiosmtplib.SMTP(
            hostname=config.host, port=config.port, timeout=config.timeout_seconds,
            use_tls=config.tls == "tls", start_tls=config.tls == "starttls",
            username=config.username, password=config.password,
        )  # fmt: skip
        await client.connect()
        return client

    async def send(self, mail: bytes, to: str) -> None:
        """Send `mail`; raises RetryLater (4xx, connection trouble) or Undeliverable (5xx)."""
        async with self._slots:
            client = None
            try:
                client = self._idle.pop() if self._idle else await self._connect()
                if not client.is_connected:
                    client = await self._connect()
                await client.sendmail(self.config.from_address, [to], mail)
            except aiosmtplib.SMTPRecipientsRefused as error:
                await _drop(client)
                refused = error.recipients[0]  # one recipient a mail: the one refused
                raise _answer(refused.code, refused.message, to) from None
            except aiosmtplib.SMTPResponseException as error:
                await _drop(client)
                raise _answer(error.code, error.message, to) from None
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                await _drop(client)
                raise RetryLater(f"could not reach the mail server: {type(error).__name__}") from None
            self._idle.append(client)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client in idle:
            await _drop(client)


async def _drop(client: aiosmtplib.SMTP | None) -> None:
    if client is not None and client.is_connected:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()


def _answer(code: int, message: str, to: str) -> RetryLater | Undeliverable:
    reason = f"the mail server answered {code} {_redacted(message, to)}"[:300]
    return RetryLater(reason) if 400 <= code < 500 else Undeliverable(reason)


class MailSender:
    """Delivers `mail` reminders: one row per member with a confirmed address (target: the member)."""

    def __init__(self, store: Store, config: MailConfig, clock: Callable[[], datetime]) -> None:
        self.store, self.config, self.clock = store, config, clock
        self.pool = SmtpPool(config)

    async def deliver(self, reminder: Reminder, occurrence: Occurrence, verdict: Verdict) -> int | None:
        contact = await self.store.contacts.get(reminder.target, MAIL)
        if contact is None or not contact.confirmed:
            raise Undeliverable("the member has no confirmed mail address any more")
        own = await self.store.users.get(reminder.target)
        zone = own.timezone if own is not None else occurrence.event.timezone
        mail = reminder_mail(
            reminder, occurrence, verdict, to=contact.address, zone=zone, sender=self.config.from_address,
            now=self.clock(),
        )  # fmt: skip
        await self.pool.send(mail, contact.address)
        return None

    async def send_code(self, address: str, code: str) -> None:
        mail = code_mail(to=address, code=code, sender=self.config.from_address, now=self.clock())
        await self.pool.send(mail, address)

    async def close(self) -> None:
        await self.pool.close()
