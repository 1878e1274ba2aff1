"""The command line, run as a user runs it: `python -m bot ...` in a fresh process."""

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
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.storage.database import migrations
from tests.standin.process import BotProcess

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.cli-secret-token-text"
LATEST = migrations("sqlite")[-1][0]


def run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "CALBOT_CONFIG")}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), clean.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def config_file(folder: Path, body: str = "", name: str = "config.toml", db: str = "data/calbot.sqlite3") -> Path:
    path = folder / name
    path.write_text(f'[database]\nurl = "sqlite:///{db}"\n{body}', encoding="utf-8")
    return path


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]


def test_check_config_prints_the_settings_with_the_token_hidden(tmp_path: Path) -> None:
    config_file(tmp_path, '[defaults]\ntimezone = "europe/berlin"\n')
    result = run(tmp_path, "check-config", env={"DISCORD_TOKEN": TOKEN})
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stdout + result.stderr
    assert 'token = "<set, hidden>"' in result.stdout
    assert 'timezone = "Europe/Berlin"' in result.stdout
    assert 'url = "sqlite:///data/calbot.sqlite3"' in result.stdout


def test_check_config_hides_a_token_from_the_file_too(tmp_path: Path) -> None:
    config_file(tmp_path, f'[discord]\ntoken = "{TOKEN}"\n')
    result = run(tmp_path, "check-config")
    assert result.returncode == 0, result.stderr
    assert TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize("args", [["check-config"], ["run"], []])
def test_a_missing_token_is_one_line_naming_the_key(tmp_path: Path, args: list[str]) -> None:
    config_file(tmp_path)
    assert_one_line_error(run(tmp_path, *args), 2, "discord.token", "DISCORD_TOKEN")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[discord]\ntoken = "unterminated\n', "not valid TOML"),
        ('[discord]\ntokn = "x"\n', "discord.tokn"),
        ("[discord]\ncommand_guilds = [-1]\n", "discord.command_guilds"),
        ('[defaults]\nreminders = "pt15m"\n', "defaults.reminders"),
        ('[defaults]\ntimezone = "Mars/Base"\n', "defaults.timezone"),
        ('[logging]\nlevel = "LOUD"\n', "logging.level"),
        ("[reminder]\nx = 1\n", "reminder"),
    ],
)
@pytest.mark.parametrize("command", ["check-config", "migrate"])
def test_a_bad_config_is_one_line_naming_the_key(tmp_path: Path, body: str, needle: str, command: str) -> None:
    config_file(tmp_path, body)
    result = run(tmp_path, command, env={"DISCORD_TOKEN": TOKEN})
    assert_one_line_error(result, 2, needle)
    assert not (tmp_path / "data").exists()


def test_a_postgresql_url_is_accepted_and_its_password_never_printed(tmp_path: Path) -> None:
    body = '[database]\nurl = "postgresql://calbot:secretpw@db.invalid/calbot"\npool_max_size = 4\n'
    (tmp_path / "config.toml").write_text(body, encoding="utf-8")
    result = run(tmp_path, "check-config", env={"DISCORD_TOKEN": TOKEN})
    assert result.returncode == 0, result.stderr
    assert "secretpw" not in result.stdout + result.stderr
    assert 'url = "postgresql://calbot:***@db.invalid/calbot"' in result.stdout
    assert "pool_max_size = 4" in result.stdout


@pytest.mark.parametrize("command", ["check-config", "migrate"])
def test_an_unknown_database_scheme_is_refused_in_one_line(tmp_path: Path, command: str) -> None:
    (tmp_path / "config.toml").write_text('[database]\nurl = "mysql://u:secretpw@db/x"\n', encoding="utf-8")
    result = run(tmp_path, command, env={"DISCORD_TOKEN": TOKEN})
    assert_one_line_error(result, 2, "database.url", "postgresql://", "sqlite:///")
    assert "secretpw" not in result.stderr


def test_a_postgresql_server_that_refuses_is_one_line_naming_the_key(tmp_path: Path) -> None:
    server = os.environ.get("CALBOT_TEST_POSTGRES_DSN")
    if not server:
        pytest.skip("needs CALBOT_TEST_POSTGRES_DSN (a PostgreSQL server to ask for a database it does not have)")
    missing = urlunsplit(urlsplit(server)._replace(path="/calbot_no_such_database"))
    (tmp_path / "config.toml").write_text(f'[database]\nurl = "{missing}"\n', encoding="utf-8")
    result = run(tmp_path, "migrate")
    assert_one_line_error(result, 1, "cannot use the database", "(database.url)", "calbot_no_such_database")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("[discord]\nshard_ids = [1]\n", "discord.shard_ids"),
        ("[discord]\nshard_count = 2\nshard_ids = [2]\n", "discord.shard_ids"),
        ("[discord]\nshard_count = 0\n", "discord.shard_count"),
        ("pool_min_size = 3\npool_max_size = 2\n", "database.pool_min_size"),  # config_file opens [database]
    ],
)
def test_bad_shard_and_pool_settings_are_one_line_naming_the_key(tmp_path: Path, body: str, needle: str) -> None:
    config_file(tmp_path, body)
    assert_one_line_error(run(tmp_path, "check-config", env={"DISCORD_TOKEN": TOKEN}), 2, needle)


@pytest.mark.parametrize("before", [True, False], ids=["before-command", "after-command"])
def test_config_path_works_before_or_after_the_command(tmp_path: Path, before: bool) -> None:
    path = config_file(tmp_path, '[defaults]\ntimezone = "asia/tokyo"\n', name="elsewhere.toml")
    args = ["--config", str(path), "check-config"] if before else ["check-config", "--config", str(path)]
    result = run(tmp_path, *args, env={"DISCORD_TOKEN": TOKEN})
    assert result.returncode == 0, result.stderr
    assert 'timezone = "Asia/Tokyo"' in result.stdout
    assert str(path) in result.stdout


def test_a_missing_config_path_is_an_error(tmp_path: Path) -> None:
    result = run(tmp_path, "check-config", "--config", "nope.toml", env={"DISCORD_TOKEN": TOKEN})
    assert_one_line_error(result, 2, "nope.toml", "no such file")


def test_calbot_config_in_the_environment_is_read(tmp_path: Path) -> None:
    path = config_file(tmp_path, '[defaults]\ntimezone = "america/new york"\n', name="env.toml")
    result = run(tmp_path, "check-config", env={"DISCORD_TOKEN": TOKEN, "CALBOT_CONFIG": str(path)})
    assert result.returncode == 0, result.stderr
    assert 'timezone = "America/New_York"' in result.stdout


def test_migrate_creates_the_database_and_can_run_again(tmp_path: Path) -> None:
    config_file(tmp_path)  # no token needed to migrate
    database = tmp_path / "data" / "calbot.sqlite3"
    assert not database.parent.exists()

    first = run(tmp_path, "migrate")
    assert first.returncode == 0, first.stderr
    assert "up to date" in first.stdout
    assert database.is_file()
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA user_version").fetchone() == (LATEST,)
    finally:
        connection.close()

    second = run(tmp_path, "migrate")
    assert second.returncode == 0, second.stderr
    assert "Traceback" not in second.stderr


def test_migrate_refuses_a_database_from_a_newer_calbot_in_one_line(tmp_path: Path) -> None:
    config_file(tmp_path)
    assert run(tmp_path, "migrate").returncode == 0
    connection = sqlite3.connect(tmp_path / "data" / "calbot.sqlite3")
    connection.execute(f"PRAGMA user_version = {LATEST + 1}")
    connection.close()
    result = run(tmp_path, "migrate")
    assert_one_line_error(result, 1, "database.url", "newer", "upgrade calbot")


@pytest.mark.parametrize("blocker", ["file-as-folder", "folder-as-file"])
def test_migrate_reports_a_database_it_cannot_open_in_one_line(tmp_path: Path, blocker: str) -> None:
    if blocker == "file-as-folder":
        (tmp_path / "data").write_text("not a folder")  # the database's folder is a file
    else:
        (tmp_path / "data" / "calbot.sqlite3").mkdir(parents=True)  # the database is a folder
    config_file(tmp_path)
    assert_one_line_error(run(tmp_path, "migrate"), 1, "database.url")


def test_run_reports_an_unreachable_discord_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a local port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config_file(tmp_path, f'[discord]\napi_base_url = "http://127.0.0.1:{port}/api/v10"\n')
    result = run(tmp_path, "run", env={"DISCORD_TOKEN": TOKEN})
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert TOKEN not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"calbot: cannot reach Discord at http://127.0.0.1:{port}/api/v10 (discord.api_base_url)")


# ---- migrate-data: a whole installation, SQLite to PostgreSQL


def test_migrate_data_moves_an_installation_to_postgresql(tmp_path: Path, postgres_url: str) -> None:
    config_file(tmp_path)
    created = run(tmp_path, "token", "create", "--guild", "42", "--name", "CI")
    assert created.returncode == 0, created.stderr
    token_text = created.stdout.strip().splitlines()[-1]
    source = f"sqlite:///{tmp_path}/data/calbot.sqlite3"

    moved = run(tmp_path, "migrate-data", "--from", source, "--to", postgres_url)
    assert moved.returncode == 0, moved.stderr
    assert "api_tokens: 1 row(s)" in moved.stdout
    assert "every table's count matches the source" in moved.stdout

    # The token made on SQLite now opens the API on PostgreSQL: `token list` there shows it.
    listed = run(tmp_path, "token", "list", "--guild", "42", env={"CALBOT_DATABASE_URL": postgres_url})
    assert listed.returncode == 0, listed.stderr
    assert "\tCI\t" in listed.stdout and token_text.split("_")[1] == listed.stdout.split("\t")[0]

    again = run(tmp_path, "migrate-data", "--from", source, "--to", postgres_url)
    assert_one_line_error(again, 1, "already holds data", "api_tokens (1)", "--replace")
    replaced = run(tmp_path, "migrate-data", "--from", source, "--to", postgres_url, "--replace")
    assert replaced.returncode == 0, replaced.stderr


def test_migrate_data_from_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    result = run(
        tmp_path, "migrate-data", "--from", "sqlite:///old.sqlite3", "--to", f"sqlite:///{tmp_path}/new.sqlite3"
    )
    assert_one_line_error(result, 1, "no database file", "old.sqlite3", "--from")
    assert list(tmp_path.iterdir()) == []


def test_migrate_data_names_the_url_it_cannot_use(tmp_path: Path) -> None:
    config_file(tmp_path)
    assert run(tmp_path, "migrate").returncode == 0
    result = run(tmp_path, "migrate-data", "--from", "sqlite:///data/calbot.sqlite3", "--to", "mysql://u:pw@db/x")
    assert_one_line_error(result, 1, "--to", "mysql")
    assert "pw" not in result.stderr


# ---- one bot per SQLite file

HOLDER = """
import sys, time
from bot.storage.sqlite import process_lock
process_lock(sys.argv[1]).acquire()
print("locked", flush=True)
time.sleep(600)
"""


@pytest.fixture
def holder(tmp_path: Path):
    """Another process holding the lock of data/calbot.sqlite3 in tmp_path, as a running bot does."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, "sqlite:///data/calbot.sqlite3"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout.readline().strip() == "locked"
    yield process
    process.kill()
    process.wait(timeout=10)


def unreachable_discord(tmp_path: Path) -> None:
    """A config whose Discord is a port nothing listens on: a `run` that gets past the database fails there."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config_file(tmp_path, f'[discord]\napi_base_url = "http://127.0.0.1:{port}/api/v10"\n')


def test_a_second_bot_on_the_file_refuses_to_start_in_one_line(tmp_path: Path, holder: subprocess.Popen) -> None:
    unreachable_discord(tmp_path)
    result = run(tmp_path, "run", env={"DISCORD_TOKEN": TOKEN})
    assert_one_line_error(
        result, 2, "calbot: database.url: sqlite:///data/calbot.sqlite3 is in use by another calbot process",
        f"(pid {holder.pid})", "PostgreSQL",
    )  # fmt: skip
    assert "cannot reach Discord" not in result.stderr  # refused before it tried


def test_short_commands_and_the_api_work_beside_a_running_bot(tmp_path: Path, holder: subprocess.Popen) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config_file(tmp_path, f"[api]\nport = {port}\n")
    commands = (["migrate"], ["check-config"], ["token", "create", "--guild", "42"], ["token", "list", "--guild", "42"])
    for args in commands:
        result = run(tmp_path, *args, env={"DISCORD_TOKEN": TOKEN})
        assert result.returncode == 0, (args, result.stderr)
    assert "\twrite\t" in result.stdout  # the token made beside the bot is listed

    # The API process neither dispatches reminders nor drains the bot's queue: it may run beside the bot.
    log = tmp_path / "api.log"
    clean = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "CALBOT_CONFIG")}
    with log.open("wb") as out:
        api = subprocess.Popen(
            [sys.executable, "-m", "bot", "api"], cwd=tmp_path, stdout=out, stderr=out,
            env={**clean, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    try:
        for _ in range(400):
            if "HTTP API listening" in log.read_text() or api.poll() is not None:
                break
            time.sleep(0.05)
        assert "HTTP API listening" in log.read_text(), log.read_text()
    finally:
        api.send_signal(signal.SIGTERM)
        assert api.wait(timeout=20) == 0, log.read_text()


def test_the_lock_goes_with_a_killed_bot(tmp_path: Path, holder: subprocess.Popen) -> None:
    unreachable_discord(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    result = run(tmp_path, "run", env={"DISCORD_TOKEN": TOKEN})
    assert result.returncode == 1, result.stderr  # past the database, stopped by Discord being unreachable
    assert "cannot reach Discord" in result.stderr.strip().splitlines()[-1]


def test_migrate_data_waits_for_the_bot_to_stop(tmp_path: Path, holder: subprocess.Popen) -> None:
    config_file(tmp_path)
    assert run(tmp_path, "migrate").returncode == 0
    result = run(tmp_path, "migrate-data", "--from", "sqlite:///data/calbot.sqlite3", "--to", "sqlite:///copy.sqlite3")
    assert_one_line_error(result, 1, "--from", f"in use by another calbot process (pid {holder.pid})", "stop it first")
    assert not (tmp_path / "copy.sqlite3").exists()


def test_migrate_data_sees_one_file_under_two_names(tmp_path: Path) -> None:
    config_file(tmp_path)
    assert run(tmp_path, "migrate").returncode == 0
    absolute = f"sqlite:///{tmp_path}/data/calbot.sqlite3"
    result = run(tmp_path, "migrate-data", "--from", "sqlite:///data/calbot.sqlite3", "--to", absolute)
    assert_one_line_error(result, 1, "--from and --to name the same database")


async def test_a_second_bot_process_is_refused_until_the_first_is_killed(standin, tmp_path: Path) -> None:
    guild_id = standin.add_guild("Guild")
    first = BotProcess(standin, tmp_path, guild_id)
    await first.start(standin.token)
    try:
        await standin.wait_for(lambda: "Logged in as" in first.output(), timeout=30, message="the first bot")
        env = {"DISCORD_TOKEN": standin.token}
        second = await asyncio.to_thread(run, tmp_path, "run", "--config", str(first.config), env=env)
        assert_one_line_error(second, 2, "database.url", f"in use by another calbot process (pid {first.process.pid})")
        assert "Logged in as" not in second.stderr

        first.process.kill()  # SIGKILL: no clean shutdown, and still no lock left behind
        await first.process.wait()
        replacement = BotProcess(standin, tmp_path / "replacement", guild_id, database=f"sqlite:///{first.database}")
        await replacement.start(standin.token)
        try:
            await standin.wait_for(
                lambda: "Logged in as" in replacement.output(), timeout=30, message="the replacement bot"
            )
        finally:
            code, _took = await replacement.stop(signal.SIGTERM)
        assert code == 0, replacement.output()
    finally:
        if first.process.returncode is None:
            first.process.kill()
            await first.process.wait()
