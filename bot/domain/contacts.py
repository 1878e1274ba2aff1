"""Members' own mail addresses and phone numbers: what is a valid one, and the codes that confirm them. Pure.

An address is personal data: it is validated here once, stored, and used only to deliver; nothing shows it
back but its owner's own `/me show` (masked).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers

from .errors import InvalidField

MAIL, SMS = "mail", "sms"
KINDS = (MAIL, SMS)
CODE_LIFETIME = timedelta(minutes=15)
CODE_COOLDOWN = timedelta(minutes=1)  # between two codes to one member
CODE_ATTEMPTS = 5  # wrong codes before a new one must be asked for
CODE_DIGITS = 6
MAIL_MAX = 254  # RFC 5321's limit on a forward path

# One @, a local part without spaces or quotes, a domain of dot-separated labels ending in a letter label.
# Deliberately stricter than RFC 5322 (no quoted local parts, no IP literals): a member's own mailbox.
_MAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                   r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Contact:
    """A member's address of one kind; `confirmed_at` None until they typed the code sent to it."""

    user_id: int
    kind: str
    address: str
    confirmed_at: datetime | None = None

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def masked(self) -> str:
        """Enough for its owner to recognise it, not enough to read it off a screenshot."""
        return mask(self.kind, self.address)


def parse_mail(text: str, field: str = "address") -> str:
    """`Alice@Example.ORG ` → `Alice@example.org`: the domain lower-cased, the local part kept."""
    raw = text.strip()
    if len(raw) > MAIL_MAX:
        raise InvalidField(field, f"is {len(raw)} characters long; a mail address has at most {MAIL_MAX}")
    if not _MAIL.fullmatch(raw) or ".." in raw or raw.startswith("."):
        raise InvalidField(field, "is not a mail address like name@example.org")
    local, _, domain = raw.rpartition("@")
    return f"{local}@{domain.lower()}"


def parse_phone(text: str, field: str = "number") -> str:
    """A phone number in international form (`+49 151 23456789`) → E.164 (`+4915123456789`)."""
    raw = text.strip()
    if not raw.startswith(("+", "00")) or len(raw) > 32:
        raise InvalidField(field, "must be in international form with its country code, such as +49 151 23456789")
    try:
        number = phonenumbers.parse("+" + raw[2:] if raw.startswith("00") else raw, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidField(field, "is not a valid phone number; give it with its country code: +49 151 23456789")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(kind: str, address: str) -> str:
    if kind == MAIL:
        local, _, domain = address.rpartition("@")
        return f"{local[:1]}…@{domain}"
    return f"{address[:3]}…{address[-2:]}"


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(user_id: int, kind: str, code: str) -> str:
    """Stored instead of the code; keyed by member and kind, so one hash says nothing about another."""
    return hashlib.sha256(f"{user_id}:{kind}:{code.strip()}".encode()).hexdigest()


def code_matches(stored: str | None, user_id: int, kind: str, code: str) -> bool:
    return stored is not None and hmac.compare_digest(stored, code_hash(user_id, kind, code))
