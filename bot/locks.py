"""`KeyedLocks`: one asyncio lock per key (an event id), kept only while someone holds or waits for it.

A `defaultdict(asyncio.Lock)` keeps a lock for every event ever planned or followed up: on a bot up for
months with guilds of 250,000 events, that is memory that only grows. Imports nothing of ours.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        """How many keys are held or waited for now."""
        return len(self._locks)

    @contextlib.asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        """Hold `key`'s lock: callers with the same key take turns, first come first served."""
        lock, users = self._locks.get(key, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:  # nobody else holds or waits: the next caller starts a fresh lock
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
