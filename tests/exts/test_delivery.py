"""The sender: its pacer keeps reminder requests under Discord's global limit instead of running into it;
a reminder whose text would pass Discord's limits once escaped is still delivered, shortened."""

from __future__ import annotations

import asyncio
import contextlib

from bot.domain.rsvp import GOING, ONE_OFF
from bot.exts.delivery import Pacer

PERIOD = 0.3


async def test_a_burst_up_to_the_limit_goes_at_once_and_the_next_waits_a_period_after_one_ended():
    pacer = Pacer(3, PERIOD)
    loop = asyncio.get_running_loop()
    started: list[tuple[int, float]] = []
    ended: list[float] = []

    async def request(n: int, takes: float) -> None:
        async with pacer:
            started.append((n, loop.time()))
            await asyncio.sleep(takes)
        ended.append(loop.time())

    t0 = loop.time()
    await asyncio.gather(request(0, 0.05), request(1, 0.0), request(2, 0.0), request(3, 0.0), request(4, 0.0))
    assert [n for n, _at in started] == [0, 1, 2, 3, 4]  # first come, first served
    assert all(at - t0 < PERIOD / 3 for _n, at in started[:3])  # the limit goes out at once
    # The fourth waits for the first request to *end* and a period more: whatever the network did to the
    # three before it, no window of PERIOD at Discord holds four of them.
    first_ended = min(ended[:3])
    assert started[3][1] >= first_ended + PERIOD - 0.005
    assert started[4][1] >= sorted(ended[:3])[1] + PERIOD - 0.005


async def test_a_failed_request_gives_its_turn_back_too():
    pacer = Pacer(1, PERIOD)
    loop = asyncio.get_running_loop()

    async def failing() -> None:
        async with pacer:
            raise RuntimeError("Discord answered 500")

    for _ in range(2):
        with contextlib.suppress(RuntimeError):
            await failing()
    t0 = loop.time()
    async with pacer:
        waited = loop.time() - t0
    assert PERIOD - 0.01 < waited < PERIOD * 2


async def test_a_cancelled_wait_takes_no_turn():
    pacer = Pacer(1, PERIOD)
    async with pacer:
        pass
    waiting = asyncio.create_task(pacer.__aenter__())
    await asyncio.sleep(0.01)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    await asyncio.sleep(PERIOD)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    async with pacer:  # only the finished request counted; its period is over
        assert loop.time() - t0 < PERIOD / 3


async def test_a_location_of_1024_underscores_is_still_delivered_in_the_channel_and_by_dm(world):
    # Escaping doubles the location to 2,048 characters: Discord refused the reminder and nobody was reminded.
    raiders = world.guild.create_role("Raiders")
    await world.admin.slash(world.general, "calendar create", name="Raids", channel=world.events, ping_role=raiders)
    res = await world.admin.slash(
        world.general,
        "event create",
        name="Raid",
        start="in 1 hour",
        reminders="pt15m",
        channels="both",
        calendar="Raids",
        location="_" * 1024,
    )
    assert "Created" in res.response.content, res.response.content
    await world.bot.store.attendees.respond(world.guild.id, 1, ONE_OFF, world.alice.id, GOING, None)
    await world.env.advance_time(45 * 60)
    posted = world.events.last_message.content
    dm = world.alice.user.dm_channel.last_message.content
    for text in (posted, dm):
        assert len(text) <= 2000
        assert "\n📍 \\_\\_" in text and "\\_…\n" in text  # shortened visibly, between escapes
        assert "https://discord.com/channels/" in text  # the card link survives whole
    assert posted.startswith(f"<@&{raiders.id}> ⏰ **Raid** starts")
