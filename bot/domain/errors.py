"""Domain errors carry data, so each layer can phrase them for its own audience."""

from __future__ import annotations


class DomainError(Exception):
    """Base class of every error a user can cause and fix."""


class InvalidField(DomainError):
    """A value a user gave for `field` is not acceptable."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFound(DomainError):
    """No `kind` matching `ref` exists in this guild."""

    def __init__(self, kind: str, ref: object) -> None:
        super().__init__(f"no {kind} matching {ref!r}")
        self.kind = kind
        self.ref = ref


class Conflict(DomainError):
    """The change would break a uniqueness rule (e.g. two calendars with one name)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
