"""Fixtures shared by every test: a config whose database is a real SQLite file in a temp dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Config, load_config


def write_config(folder: Path, body: str = "") -> Path:
    path = folder / "config.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{folder}/calbot.sqlite3"\n{body}', encoding="utf-8")
    return path


# Behaviour tests move SimCord's clock by hours; the bot looks for API changes only hourly there, so each
# hour simulated costs no queue polling (tests of that sync set their own interval).
QUIET_SYNC = "[api]\nsync_seconds = 3600\n"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(str(write_config(tmp_path, QUIET_SYNC)), environ={"DISCORD_TOKEN": "test-token"})


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/store.sqlite3"
