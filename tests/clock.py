"""A clock a test moves by hand: stores, engines and pollers take it where they would read the time."""

from __future__ import annotations

from datetime import datetime


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def at(self, instant: datetime) -> None:
        self.now = instant
