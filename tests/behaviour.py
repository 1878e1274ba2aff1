"""For behaviour tests outside tests/exts (the road contract, poisoned rows, hostile input): the real bot
under SimCord with its world of members (tests/exts/conftest.py's fixtures, used as they are), on SQLite
and on PostgreSQL. A test module takes the fixtures from FIXTURES and builds its `config` with `bot_config`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Config, load_config
from tests.conftest import write_config
from tests.exts.conftest import _close_stores, bots, simcord_bot, world

BACKENDS = ["sqlite", "postgres"]


def bot_config(request: pytest.FixtureRequest, tmp_path: Path, body: str) -> Config:
    """The bot's config on the backend `request.param` names (a fresh PostgreSQL schema for "postgres")."""
    environ = {"DISCORD_TOKEN": "test-token"}
    if request.param == "postgres":
        environ["CALBOT_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    return load_config(str(write_config(tmp_path, body)), environ=environ)


# A module that uses them assigns them to its own names (`bots, simcord_bot, world, _close_stores =
# behaviour.FIXTURES`), which pytest finds there.
FIXTURES = (bots, simcord_bot, world, _close_stores)
