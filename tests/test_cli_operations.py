"""The command line as an operator meets it: the version, a config check for the API alone, a data folder the
process may not write, and what the log looks like (JSON lines, no secret, no routine scheduler lines)."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from bot.config import load_config
from bot.logs import JsonFormatter, Redact, secrets_of
from tests.standin.process import BotProcess
from tests.test_cli import ROOT, TOKEN, config_file, run
from tests.test_e2e import stopped

NOBODY = 65534


def test_version_prints_the_installed_version() -> None:
    result = run(ROOT, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"calbot {version('calbot')}"


def test_check_config_for_the_api_needs_no_token(tmp_path: Path) -> None:
    config_file(tmp_path, "[api]\nport = 8181\n")
    result = run(tmp_path, "check-config", "--api")
    assert result.returncode == 0, result.stderr
    assert 'token = "<NOT SET>"' in result.stdout and "port = 8181" in result.stdout
    # Checked for the bot, the token is still required.
    refused = run(tmp_path, "check-config")
    assert refused.returncode == 2 and "discord.token" in refused.stderr


# Root writes anywhere; without these capabilities it obeys the folder's permissions like any user.
AS_AN_ORDINARY_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []


@pytest.mark.parametrize("command", ["migrate", "run", "api"])
def test_an_unwritable_data_folder_is_one_line_naming_the_path_and_the_user(tmp_path: Path, command: str) -> None:
    """As in Docker with a bind mount made on the host: the folder exists and belongs to someone else."""
    data = tmp_path / "data"
    data.mkdir(mode=0o555)
    if os.geteuid() == 0:
        os.chown(data, NOBODY, NOBODY)
    config = config_file(tmp_path, db=f"{data}/calbot.sqlite3")
    clean = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "CALBOT_CONFIG")}
    result = subprocess.run(
        [*AS_AN_ORDINARY_USER, sys.executable, "-m", "bot", command, "--config", str(config)],
        cwd=tmp_path, env={**clean, "DISCORD_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    user = os.getuid()
    assert result.stderr.strip() == (
        f"calbot: database.url: the folder {data} is not writable by this process (user id {user}); "
        f"give it to user id {user} (chown)"
    )
    assert list(data.iterdir()) == []


async def test_json_logs_are_one_object_per_line_without_secrets_or_scheduler_chatter(standin, tmp_path):
    bot = BotProcess(standin, tmp_path, standin.add_guild("Guild"), log_format="json")
    await bot.start(standin.token)
    await standin.wait_for(lambda: "Logged in as" in bot.output(), timeout=60, interval=0.1)
    bot.process.send_signal(signal.SIGTERM)
    code, output = await stopped(bot)
    assert code == 0, output
    entries = [json.loads(line) for line in output.splitlines()]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any(e["message"].startswith("Logged in as") and e["level"] == "INFO" for e in entries)
    assert standin.token not in output
    # The dispatch job ran at start (it runs at once), but its routine lines stay below INFO.
    assert not [e for e in entries if e["logger"].startswith("apscheduler")], entries


def test_a_secret_in_a_log_line_or_its_traceback_is_masked(tmp_path: Path) -> None:
    """A last guard: calbot never logs the token or the database password, but a library's error might."""
    config = load_config(
        str(config_file(tmp_path)),
        environ={"DISCORD_TOKEN": TOKEN, "CALBOT_DATABASE_URL": "postgresql://calbot:p%40ss-word@db/calbot"},
    )
    for formatter in (JsonFormatter(), logging.Formatter("%(message)s")):
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        handler.addFilter(Redact(secrets_of(config)))
        logger = logging.getLogger(f"test.redact.{id(formatter)}")
        logger.addHandler(handler)
        logger.propagate = False
        try:
            raise RuntimeError(f"login with {TOKEN} to p@ss-word failed")
        except RuntimeError:
            logger.exception("token %s, password %s", TOKEN, "p%40ss-word")
        text = stream.getvalue()
        assert TOKEN not in text and "p@ss-word" not in text and "p%40ss-word" not in text, text
        assert text.count("***") >= 4 and "RuntimeError" in text
