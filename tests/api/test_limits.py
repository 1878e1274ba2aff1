"""The rate limiter's bucket and the response cache's bounds, with an injected clock."""

from __future__ import annotations

import asyncio

import bot.api.context as context_module
from bot.api.auth import RateLimiter, retry_after, token_text
from bot.api.context import Api


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_a_burst_then_refills_evenly():
    ticks = Ticks()
    limiter = RateLimiter(60, clock=ticks)  # one a second
    assert [limiter.take("a")[0] for _ in range(60)] == [True] * 60
    allowed, left, wait = limiter.take("a")
    assert (allowed, left) == (False, 0) and 0.9 < wait <= 1.0 and retry_after(wait) == "1"
    assert limiter.take("b")[0]  # another key has its own bucket
    ticks.now += 1.0
    assert limiter.take("a")[:2] == (True, 0)
    ticks.now += 3600
    assert limiter.take("a")[1] == 59  # refilled to the burst, not beyond


def test_the_authorization_header_forms():
    assert token_text("Bearer cbt_1_x") == "cbt_1_x"
    assert token_text("bearer   cbt_1_x ") == "cbt_1_x"
    assert token_text("cbt_1_x") == "cbt_1_x"
    assert token_text("") is None and token_text(None) is None and token_text("Bearer ") is None


def test_the_response_cache_keeps_to_its_bounds(store, config, monkeypatch):
    monkeypatch.setattr(context_module, "RESPONSE_CACHE_BYTES", 100)
    api = Api(store, config)
    version = (1, 1)
    api.remember(("a",), version, b"a" * 60, 60)
    api.remember(("b",), version, b"b" * 30, 30)
    assert api.cached(("a",), version) == b"a" * 60  # now the most recently used
    api.remember(("c",), version, b"c" * 30, 30)  # 120 bytes: the least recently used (b) goes
    assert api.cached(("b",), version) is None and api.cached(("a",), version) is not None
    assert api.cached(("a",), (1, 2)) is None  # another database version: not an answer
    api.remember(("a",), version, b"x", 1)
    assert api._cached_bytes == 31


async def test_concurrent_misses_compute_once(store, config):
    api = Api(store, config)
    calls = []

    async def compute():
        calls.append(1)
        await asyncio.sleep(0.01)
        return b"answer", 6

    answers = await asyncio.gather(*(api.answer(("k",), (1, 1), compute) for _ in range(10)))
    assert answers == [b"answer"] * 10 and len(calls) == 1
    assert await api.answer(("k",), (1, 1), compute) == b"answer" and len(calls) == 1  # from memory
    await api.answer(("k",), (1, 2), compute)  # the database changed: computed again
    assert len(calls) == 2

    async def broken():
        raise RuntimeError("boom")

    results = await asyncio.gather(*(api.answer(("x",), (1, 1), broken) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert api._flights == {}
