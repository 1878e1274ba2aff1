"""The `sms` channel: reminders as text messages through a Twilio-compatible Messages API.

`POST {api_base_url}/Accounts/{account_id}/Messages.json` with `To`, `From` and `Body`, HTTP basic auth
(the account id and the token). `[sms] api_base_url` lets another provider with the same API, or a local
stand-in, take Twilio's place. A message is kept within one segment where possible: 160 characters when it
is all GSM-7, 70 when it is not (then the event's name is shortened, and the card link goes first).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from datetime import datetime

import aiohttp

from bot.config import SmsConfig
from bot.domain.contacts import SMS
from bot.domain.models import card_link
from bot.domain.occurrences import Occurrence
from bot.domain.reminders import Reminder, Verdict, parse_interval
from bot.storage import Store

from .engine import RetryLater, Undeliverable
from .mail import local_when

log = logging.getLogger(__name__)

# GSM 03.38's basic character set; a message with any other character is sent as UCS-2, 70 to a segment.
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_SEGMENT, UCS2_SEGMENT = 160, 70


def segment_limit(text: str) -> int:
    return GSM7_SEGMENT if set(text) <= GSM7 else UCS2_SEGMENT


def sms_text(name: str, when: str, link: str | None, *, late: bool = False, starting: bool = False) -> str:
    """The message, in one segment when it can be: the link is dropped, then the name shortened, to fit."""
    tail = " (late)" if late else ""
    verb = "is starting now" if starting else f"- {when}"
    for with_link in (True, False):
        ending = f" {link}" if link and with_link else ""
        text = f"{name} {verb}{tail}{ending}"
        if len(text) <= segment_limit(text):
            return text
    limit = segment_limit(f"{name} {verb}{tail}")
    room = limit - len(f" {verb}{tail}") - 1
    return f"{name[: max(room, 1)]}… {verb}{tail}" if room > 0 else f"{name} {verb}{tail}"


class SmsSender:
    """Delivers `sms` reminders and confirmation codes; one row per member with a confirmed number."""

    def __init__(self, store: Store, config: SmsConfig, clock: Callable[[], datetime]) -> None:
        self.store, self.config, self.clock = store, config, clock
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            login = base64.b64encode(f"{self.config.account_id}:{self.config.token}".encode()).decode()
            self._session = aiohttp.ClientSession(
                headers={"Authorization": f"Basic {login}"},
                timeout=aiohttp.ClientTimeout(total=self.config.timeout_seconds),
            )
        return self._session

    async def deliver(self, reminder: Reminder, occurrence: Occurrence, verdict: Verdict) -> int | None:
        contact = await self.store.contacts.get(reminder.target, SMS)
        if contact is None or not contact.confirmed:
            raise Undeliverable("the member has no confirmed phone number any more")
        own = await self.store.users.get(reminder.target)
        zone = own.timezone if own is not None else occurrence.event.timezone
        text = sms_text(
            occurrence.name, local_when(occurrence, zone), card_link(occurrence.event), late=verdict is Verdict.LATE,
            starting=parse_interval(reminder.interval).at_start and not occurrence.event.all_day,
        )  # fmt: skip
        await self.send(contact.address, text)
        return None

    async def send_code(self, number: str, code: str) -> None:
        await self.send(number, f"Your calbot code is {code}. Type /me phone verify code:{code} in Discord.")

    async def send(self, number: str, text: str) -> None:
        """Raises RetryLater (429, 5xx, unreachable) or Undeliverable (refused), never naming the number."""
        url = f"{self.config.api_base_url}/Accounts/{self.config.account_id}/Messages.json"
        form = {"To": number, "From": self.config.sender or "", "Body": text}
        try:
            async with self._client().post(url, data=form, allow_redirects=False) as response:
                if response.status < 300:
                    return
                detail = await _detail(response)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise RetryLater(f"could not reach the SMS API: {type(error).__name__}") from None
        reason = f"the SMS API answered {response.status}{detail}".replace(number, "the number")[:300]
        retry_after = _seconds(response.headers.get("Retry-After"))
        if response.status == 429 or response.status >= 500:
            raise RetryLater(reason, retry_after)
        raise Undeliverable(reason)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


async def _detail(response: aiohttp.ClientResponse) -> str:
    """Twilio's error body: `{"code": 21211, "message": "..."}`."""
    try:
        body = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return ""
    if not isinstance(body, dict):
        return ""
    code, message = body.get("code"), body.get("message")
    return f" ({code}: {message})" if code or message else ""


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
