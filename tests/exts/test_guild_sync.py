"""With `command_guilds` set, commands sync to those guilds at start-up (instantly), not globally."""

from __future__ import annotations

import pytest

from bot.config import load_config
from tests.conftest import write_config
from tests.exts.test_bot import command_puts


@pytest.fixture
def config(tmp_path):  # a config that syncs to one guild, as a developer would set it
    return load_config(
        str(write_config(tmp_path, "[discord]\ncommand_guilds = [424242]\n")), environ={"DISCORD_TOKEN": "t"}
    )


async def test_command_guilds_sync_to_those_guilds_only(simcord_env):
    assert command_puts(simcord_env) == [f"/applications/{simcord_env.backend.application_id}/guilds/424242/commands"]
    synced = simcord_env.create_guild(id=424242, name="Dev")
    channel = synced.create_text_channel("general")
    member = synced.add_member(simcord_env.create_user("dev"))
    assert "event list" in member.available_commands(channel)
    elsewhere = simcord_env.create_guild(name="Elsewhere")
    outsider = elsewhere.add_member(simcord_env.create_user("outsider"))
    assert "event list" not in outsider.available_commands(elsewhere.create_text_channel("general"))
