"""The API as its own process: `python -m bot api` serves without Discord and stops cleanly on a signal;
`python -m bot token ...` manages tokens; and an event written through the API in one process gets its
card from the bot running in another (`python -m bot run` against the local Discord stand-in), as does one
written through the API the bot serves itself."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.standin import DiscordStandIn
from tests.standin.process import REPOSITORY, SHUTDOWN_LIMIT, BotProcess

GUILD = 1_000_000_000_000_000_001


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "CALBOT_CONFIG")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPOSITORY), env.get("PYTHONPATH")]))
    return env


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args, "--config", str(config)],
        cwd=config.parent, env=environment(), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def write_config(folder: Path, port: int, extra: str = "") -> Path:
    path = folder / "config.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{folder}/data/calbot.sqlite3"\n'
        f"[api]\nport = {port}\nsync_seconds = 0.2\n{extra}",
        encoding="utf-8",
    )
    return path


def test_token_commands_create_list_and_revoke(tmp_path):
    config = write_config(tmp_path, free_port())
    created = cli(config, "token", "create", "--guild", str(GUILD), "--name", "CI", "--scope", "read")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("cbt_1_") and created.stderr == ""
    assert "Created read token 1 (CI)" in created.stdout
    listed = cli(config, "token", "list", "--guild", str(GUILD))
    assert listed.returncode == 0 and "\tread\tCI\t" in listed.stdout and "active" in listed.stdout
    assert token.split("_", 2)[2] not in listed.stdout  # the secret is never printed again
    revoked = cli(config, "token", "revoke", "1")
    assert revoked.returncode == 0 and f"Revoked token 1 (CI) of guild {GUILD}." in revoked.stdout
    assert cli(config, "token", "list", "--guild", str(GUILD)).stdout.strip() == f"Guild {GUILD} has no API tokens."
    assert "revoked" in cli(config, "token", "list", "--guild", str(GUILD), "--all").stdout
    missing = cli(config, "token", "revoke", "99")
    assert missing.returncode == 1 and missing.stderr.strip() == "calbot: there is no API token 99"
    bad = cli(config, "token", "create", "--guild", "abc")
    assert bad.returncode == 2 and "is not an id" in bad.stderr


class ApiProcess:
    def __init__(self, config: Path) -> None:
        self.config = config
        self.log = config.parent / "api.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "api", "--config", str(self.config),
                cwd=REPOSITORY, env=environment(), stdout=log, stderr=log,
            )  # fmt: skip

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    async def wait_listening(self, port: int) -> None:
        for _ in range(200):
            if "HTTP API listening" in self.output():
                return
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        raise AssertionError("the API did not start:\n" + self.output())

    async def stop(self, signum: int) -> tuple[int, float]:
        started = time.monotonic()
        self.process.send_signal(signum)
        code = await asyncio.wait_for(self.process.wait(), timeout=SHUTDOWN_LIMIT + 5)
        return code, time.monotonic() - started


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_the_api_process_serves_without_discord_and_stops_cleanly(tmp_path, signum):
    port = free_port()
    config = write_config(tmp_path, port)
    token = cli(config, "token", "create", "--guild", str(GUILD)).stdout.strip().splitlines()[-1]
    api = ApiProcess(config)
    await api.start()
    await api.wait_listening(port)
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
        async with http.get("/openapi.json") as response:
            assert response.status == 200
        async with http.post("/v1/events/create", headers={"Authorization": token}, json={
            "guild_id": GUILD, "epochStart": 1893456000000, "epochEnd": 1893459600000, "summary": "From the CLI API",
        }) as response:  # fmt: skip
            assert response.status == 200, await response.text()
    code, took = await api.stop(signum)
    output = api.output()
    assert code == 0, output
    assert took < SHUTDOWN_LIMIT
    assert "Traceback" not in output and token not in output
    assert "closed" in output
    database = tmp_path / "data" / "calbot.sqlite3"
    assert not await asyncio.to_thread(Path(f"{database}-wal").exists)  # closed cleanly: the WAL was checkpointed
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT name FROM events").fetchall() == [("From the CLI API",)]


async def test_a_taken_port_is_one_line_naming_the_keys(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = write_config(tmp_path, taken.getsockname()[1])
        result = await asyncio.to_thread(cli, config, "api")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert "cannot serve the HTTP API" in last and "(api.host, api.port)" in last
    assert "Traceback" not in result.stderr


async def wait_card(standin: DiscordStandIn, channel: int, title: str) -> dict:
    await standin.wait_for(
        lambda: any(m["embeds"] and m["embeds"][0]["title"] == title for m in standin.messages[channel]),
        timeout=30, message=f"the card of {title!r}",
    )  # fmt: skip
    return next(m for m in standin.messages[channel] if m["embeds"] and m["embeds"][0]["title"] == title)


@pytest.mark.parametrize("in_process", [False, True], ids=["api in another process", "api served by the bot"])
async def test_an_event_written_through_the_api_gets_its_card_from_the_bot(standin, tmp_path, in_process):
    standin.add_guild("Guild", guild_id=GUILD)
    channel = standin.add_channel(GUILD, "events")
    bot = BotProcess(standin, tmp_path, GUILD)
    port = free_port()
    api_section = f"[api]\nport = {port}\nsync_seconds = 0.2\nenabled = {'true' if in_process else 'false'}\n"
    bot.config.write_text(bot.config.read_text() + api_section, encoding="utf-8")
    token = cli(bot.config, "token", "create", "--guild", str(GUILD)).stdout.strip().splitlines()[-1]
    api = None
    await bot.start(standin.token)
    try:
        await standin.wait_ready(timeout=30)
        if in_process:
            await standin.wait_for(lambda: "HTTP API listening" in bot.output(), timeout=30, message="the API")
        else:
            api = ApiProcess(bot.config)
            await api.start()
            await api.wait_listening(port)
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with http.post("/v2/calendars", json={"name": "Raids"}, headers=headers) as response:
                assert response.status == 201
            await asyncio.to_thread(_set_channel, bot.database, channel)  # a card needs a channel
            body = {"name": "Raid", "starts": "2030-01-10T18:00:00Z", "calendar_id": 1}
            async with http.post("/v2/events", json=body, headers=headers) as response:
                assert response.status == 201, await response.text()
                event_id = (await response.json())["data"]["id"]
            card = await wait_card(standin, channel, "Raid")
            async with http.patch(f"/v2/events/{event_id}", json={"name": "Raid (moved)"}, headers=headers):
                pass
            await standin.wait_for(
                lambda: standin.get_message(card["id"])["embeds"][0]["title"] == "Raid (moved)", timeout=30,
                message="the card updated",
            )  # fmt: skip
            async with http.delete(f"/v2/events/{event_id}", headers=headers):
                pass
            await standin.wait_for(
                lambda: standin.get_message(card["id"])["embeds"][0]["title"] == "Cancelled: Raid (moved)",
                timeout=30, message="the card cancelled",
            )  # fmt: skip
    finally:
        if api is not None and api.process.returncode is None:
            code, _took = await api.stop(signal.SIGTERM)
            assert code == 0, api.output()
        code, _took = await bot.stop(signal.SIGTERM)
    assert code == 0, bot.output()
    assert "Traceback" not in bot.output()
    assert ("HTTP API stopped" in bot.output()) is in_process


def _set_channel(database: Path, channel: int) -> None:
    with sqlite3.connect(database, timeout=10) as db:
        db.execute("UPDATE calendars SET channel_id = ?", (channel,))
