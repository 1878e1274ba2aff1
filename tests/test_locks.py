"""`KeyedLocks`: callers with the same key take turns; a key nobody holds or waits for is forgotten."""

from __future__ import annotations

import asyncio

from bot.locks import KeyedLocks


async def test_the_same_key_takes_turns_and_other_keys_do_not_wait():
    locks = KeyedLocks()
    order: list[str] = []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def first():
        async with locks.hold(7):
            order.append("first in")
            first_in.set()
            await release.wait()
            order.append("first out")

    async def second():
        async with locks.hold(7):
            order.append("second in")

    async def other():
        async with locks.hold(8):
            order.append("other key in")

    holder = asyncio.create_task(first())
    await first_in.wait()
    waiter = asyncio.create_task(second())
    await other()
    await asyncio.sleep(0)
    assert order == ["first in", "other key in"]  # 7 is held: the second waits, 8 does not
    assert len(locks) == 1
    release.set()
    await asyncio.gather(holder, waiter)
    assert order == ["first in", "other key in", "first out", "second in"]


async def test_locks_are_forgotten_once_nobody_holds_or_waits():
    locks = KeyedLocks()
    for event_id in range(10_000):
        async with locks.hold(event_id):
            pass
    assert len(locks) == 0


async def test_a_failure_inside_releases_the_key():
    locks = KeyedLocks()
    try:
        async with locks.hold(1):
            raise RuntimeError("planning failed")
    except RuntimeError:
        pass
    assert len(locks) == 0
    async with asyncio.timeout(1):
        async with locks.hold(1):
            pass
