"""Running calbot as a real process against the stand-in (end-to-end tests and benchmarks)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from pathlib import Path

from .server import DiscordStandIn, StandInTimeout

REPOSITORY = Path(__file__).resolve().parents[2]
SHUTDOWN_LIMIT = 5.0  # seconds a signalled bot may take to exit
READY = "Logged in as"  # bot.app logs it on READY, after the commands are synced and the reminders started


class BotProcess:
    """`python -m bot run` in its own process, configured to talk to `standin` and log to a file.

    `shards` (`(shard_count, shard_ids)`) runs it as one shard process of several; `database` points several
    processes at one database (default: a SQLite file of its own in `folder`); `command_guilds` defaults to
    `[guild_id]`; `requests_per_second` sets `[discord] requests_per_second` (default: the bot's own);
    `sections` is more TOML appended as it is (e.g. `[mail]` pointing at a local SMTP server).
    """

    def __init__(
        self,
        standin: DiscordStandIn,
        folder: Path,
        guild_id: int,
        *,
        shards: tuple[int, list[int]] | None = None,
        database: str | None = None,
        command_guilds: list[int] | None = None,
        requests_per_second: int | None = None,
        metrics_port: int | None = None,
        log_format: str = "text",
        sections: str = "",
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / "config.toml"
        self.database = folder / "data" / "calbot.sqlite3"
        self.log = folder / "bot.log"
        sharding = "" if shards is None else f"shard_count = {shards[0]}\nshard_ids = {list(shards[1])}\n"
        pacing = "" if requests_per_second is None else f"requests_per_second = {requests_per_second}\n"
        self.config.write_text(
            "[discord]\n"
            f'api_base_url = "{standin.api_base_url}"\n'
            f'gateway_url = "{standin.gateway_url}"\n'
            f"command_guilds = {command_guilds if command_guilds is not None else [guild_id]}\n"
            f"{sharding}"
            f"{pacing}"
            "[database]\n"
            f'url = "{database or f"sqlite:///{self.database}"}"\n'
            "[logging]\n"
            'level = "INFO"\n'
            f'format = "{log_format}"\n'
            + ("" if metrics_port is None else f"[metrics]\nenabled = true\nport = {metrics_port}\n")
            + sections,
            encoding="utf-8",
        )
        self.folder = folder
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, token: str) -> None:
        env = {**os.environ, "DISCORD_TOKEN": token}
        env.pop("CALBOT_CONFIG", None)
        with self.log.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--config", str(self.config),
                cwd=REPOSITORY, env=env, stdout=log, stderr=log,
            )  # fmt: skip

    async def start_ready(self, standin: DiscordStandIn, budget: float) -> float:
        """Start against `standin` and wait until the bot is logged in (READY, commands synced, reminders started);
        how long that took. Fails with the bot's log if it is not within `budget` seconds, or if it exits."""
        started = time.monotonic()
        await self.start(standin.token)
        with contextlib.suppress(StandInTimeout):  # told apart below
            await standin.wait_for(
                lambda: READY in self.output() or self.process.returncode is not None, timeout=budget, interval=0.05
            )
        if READY not in self.output():
            raise AssertionError(f"the bot did not start within {budget:.0f} s:\n{self.output()}")
        return time.monotonic() - started

    async def stop(self, signum: int) -> tuple[int, float]:
        started = time.monotonic()
        self.process.send_signal(signum)
        code = await asyncio.wait_for(self.process.wait(), timeout=SHUTDOWN_LIMIT + 5)
        return code, time.monotonic() - started

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wal_checkpointed(self) -> bool:
        """After a clean close SQLite has folded its write-ahead log back into the database file."""
        return self.database.exists() and not Path(f"{self.database}-wal").exists()
