"""The operator's view, end to end: `python -m bot run` and `python -m bot api` as real processes, scraped
and probed over HTTP the way Prometheus and an orchestrator would.

- A burst of reminders against a rate-limited stand-in: every scrape during it agrees with the outbox, and
  at the end the counters equal the outbox's rows and the stand-in's own count of 429s.
- `/readyz` goes unready when the database stops answering, naming it, and ready again when it is back.
- The API process answers `/healthz` and `/readyz` on its own port and counts its requests by route.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import signal
import socket
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.standin import DiscordStandIn, StandInTimeout
from tests.standin.process import REPOSITORY, BotProcess
from tests.test_crash import GUILD_ID, arrange

BURST = 150
WAIT = 60.0  # seconds any one wait may take; the waits end as soon as their condition holds


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url, timeout=aiohttp.ClientTimeout(10)) as response:
        return response.status, await response.text()


async def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, keyed by (sample name, sorted labels)."""
    status, text = await get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200, text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def wait_until(condition, what: str, timeout: float = WAIT) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.1)


async def logged_in(standin: DiscordStandIn, bot: BotProcess) -> None:
    with contextlib.suppress(StandInTimeout):  # told apart below
        await standin.wait_for(
            lambda: "Logged in as" in bot.output() or bot.process.returncode is not None, timeout=WAIT, interval=0.1
        )
    assert "Logged in as" in bot.output(), bot.output()


def outbox_states(database: Path) -> dict[str, int]:
    with sqlite3.connect(database, timeout=10) as connection:
        return dict(connection.execute("SELECT state, count(*) FROM reminders GROUP BY state").fetchall())


async def test_a_scrape_during_a_burst_agrees_with_the_outbox(tmp_path: Path) -> None:
    # Discord's limit at 20/s against a bot paced at 40/s: the burst takes seconds, and draws 429s.
    standin = DiscordStandIn(rate_limit_per_second=20)
    await standin.start()
    port = free_port()
    bot = BotProcess(standin, tmp_path / "bot", GUILD_ID, requests_per_second=40, metrics_port=port)
    try:
        standin.add_guild("Guild", guild_id=GUILD_ID)
        channel = standin.add_channel(GUILD_ID, "raids")
        # Due a minute ago, while the bot was down, and useful still (each event starts 15 minutes after its
        # reminder): sent as soon as the bot is up, labelled late, however long the set-up took.
        due = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
        await arrange(f"sqlite:///{bot.database}", GUILD_ID, channel, [due] * BURST)
        await bot.start(standin.token)

        samples_during = 0

        async def burst_over() -> bool:
            nonlocal samples_during
            try:
                samples = await scrape(port)
            except aiohttp.ClientConnectionError:
                return False  # not listening yet
            states = await asyncio.to_thread(outbox_states, bot.database)  # read after the scrape
            sent = value(samples, "calbot_reminders_sent_total", channel="discord_public")
            assert sent <= states.get("sent", 0), (samples, states)  # counted once stored, never before
            assert value(samples, "calbot_reminders_due_total", channel="discord_public") <= BURST
            if 0 < sent < BURST:
                samples_during += 1
                assert value(samples, "calbot_outbox_backlog") >= BURST - states.get("sent", 0) - 1 > 0
                assert value(samples, "calbot_outbox_oldest_pending_age_seconds") >= 60
            return states == {"sent": BURST} and sent == BURST

        await wait_until(burst_over, "every reminder was sent and counted")
        assert samples_during >= 2, "no scrape fell within the burst"

        final = await scrape(port)
        channel_label = {"channel": "discord_public"}
        assert value(final, "calbot_reminders_due_total", **channel_label) == BURST
        assert value(final, "calbot_reminders_sent_total", **channel_label) == BURST
        assert value(final, "calbot_reminders_failed_total", **channel_label) == 0
        assert value(final, "calbot_reminders_missed_total", **channel_label) == 0
        # Each was due a minute or more before it went out.
        assert value(final, "calbot_reminder_lag_seconds_count", **channel_label) == BURST
        assert value(final, "calbot_reminder_lag_seconds_bucket", le="30.0", **channel_label) == 0
        assert value(final, "calbot_reminder_lag_seconds_sum", **channel_label) >= 60 * BURST
        assert value(final, "calbot_outbox_backlog") == 0
        assert value(final, "calbot_outbox_oldest_pending_age_seconds") == 0
        # The 429s the stand-in sent, every one counted, by scope.
        assert standin.rate_limited > 0
        assert value(final, "calbot_discord_rate_limited_total", scope="global") == standin.rate_limited
        assert value(final, "calbot_discord_requests_total", status="429") == standin.rate_limited
        assert value(final, "calbot_discord_requests_total", status="200") >= BURST
        latency = value(final, "calbot_gateway_latency_seconds", shard="none")
        assert math.isfinite(latency) and latency >= 0

        status, body = await get(f"http://127.0.0.1:{port}/readyz")
        assert (status, json.loads(body)["status"]) == (200, "ready"), body
        assert value(await scrape(port), "calbot_ready") == 1
        code, _took = await bot.stop(signal.SIGTERM)
        assert code == 0
        assert "Traceback" not in bot.output()
    finally:
        if bot.process is not None and bot.process.returncode is None:
            bot.process.kill()
            await bot.process.wait()
        await standin.close()


@pytest.fixture
async def own_database(postgres_database: str) -> AsyncIterator[tuple[str, str]]:
    """A PostgreSQL database of the test's own, which it can shut to connections: (its URL, its name)."""
    name = f"calbot_ready_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres_database)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit(urlsplit(postgres_database)._replace(path=f"/{name}")), name
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_readyz_is_unready_while_the_database_is_down_and_ready_once_it_is_back(
    own_database: tuple[str, str], postgres_database: str, tmp_path: Path
) -> None:
    url, name = own_database
    standin = DiscordStandIn()
    await standin.start()
    port = free_port()
    bot = BotProcess(standin, tmp_path / "bot", GUILD_ID, database=url, metrics_port=port)
    admin = await asyncpg.connect(postgres_database)

    async def readyz() -> tuple[int, dict]:
        status, body = await get(f"http://127.0.0.1:{port}/readyz")
        return status, json.loads(body)

    async def ready() -> bool:
        return (await readyz())[0] == 200

    try:
        standin.add_guild("Guild", guild_id=GUILD_ID)
        await bot.start(standin.token)
        await logged_in(standin, bot)
        await wait_until(ready, "the bot was ready")
        status, body = await get(f"http://127.0.0.1:{port}/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok"})

        # The database stops: no new connection, and every open one cut.
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name)

        async def unready() -> bool:
            return (await readyz())[0] == 503

        await wait_until(unready, "/readyz answered 503")
        status, body = await readyz()
        assert body["status"] == "unready" and set(body["problems"]) == {"database"}, body
        status, _ = await get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200  # the process is up all the same: no restart wanted

        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await wait_until(ready, "/readyz answered 200 again")
        code, _took = await bot.stop(signal.SIGTERM)
        assert code == 0
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()
        if bot.process is not None and bot.process.returncode is None:
            bot.process.kill()
            await bot.process.wait()
        await standin.close()


async def test_the_api_process_answers_health_checks_and_counts_requests_by_route(tmp_path: Path) -> None:
    api_port, metrics_port = free_port(), free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/calbot.sqlite3"\n'
        f"[api]\nport = {api_port}\n[metrics]\nenabled = true\nport = {metrics_port}\n",
        encoding="utf-8",
    )
    log = (tmp_path / "api.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "api", "--config", str(config), cwd=REPOSITORY, stdout=log, stderr=log,
        env={"PATH": "/usr/bin:/bin"},  # no DISCORD_TOKEN: the API process needs none
    )  # fmt: skip
    try:

        async def listening() -> bool:
            try:
                return (await get(f"http://127.0.0.1:{api_port}/healthz"))[0] == 200
            except aiohttp.ClientConnectionError:
                return False

        await wait_until(listening, "the API answered /healthz")
        for port in (api_port, metrics_port):
            status, body = await get(f"http://127.0.0.1:{port}/readyz")
            assert (status, json.loads(body)) == (200, {"status": "ready", "checks": ["database"]})
        assert (await get(f"http://127.0.0.1:{api_port}/v2/events/12345"))[0] == 401  # no token
        assert (await get(f"http://127.0.0.1:{api_port}/no/such/route"))[0] == 404
        samples = await scrape(metrics_port)
        requests = {labels: n for (name, labels), n in samples.items() if name == "calbot_api_requests_total"}
        assert requests[(("method", "GET"), ("route", "/v2/events/{id}"), ("status", "401"))] == 1  # no id
        assert requests[(("method", "GET"), ("route", "unmatched"), ("status", "404"))] == 1
        assert requests[(("method", "GET"), ("route", "/readyz"), ("status", "200"))] == 1
        assert value(samples, "calbot_outbox_backlog") == 0
        assert (await get(f"http://127.0.0.1:{api_port}/metrics"))[0] == 404  # not on the public port
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 15) == 0
        log.close()
    assert "Traceback" not in (tmp_path / "api.log").read_text()
