"""/api token create, list and revoke, as a member sees them; and a token made there working against the
API the bot serves itself (`[api] enabled`), whose events get their card and reminders."""

from __future__ import annotations

import re
import socket

import aiohttp
import pytest
from simcord.backend.errors import SetupError

from bot.config import load_config
from bot.domain.errors import NotFound
from bot.exts.common import NotManager
from tests.conftest import write_config

SYNC_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def config(tmp_path, port):
    body = (
        f'[api]\nenabled = true\nport = {port}\nsync_seconds = {SYNC_SECONDS}\npublic_url = "https://cal.example.org"\n'
    )
    return load_config(str(write_config(tmp_path, body)), environ={"DISCORD_TOKEN": "t"})


def token_in(text: str) -> str:
    match = re.search(r"```\n(cbt_\d+_[A-Za-z0-9_-]+)\n```", text)
    assert match, text
    return match.group(1)


async def test_create_shows_the_token_once_and_privately(world):
    res = await world.admin.slash(world.general, "api token create", name="Website", scope="read")
    assert res.ephemeral
    text = res.response.content
    token = token_in(text)
    assert "Created read token **#1 Website (read)**" in text and "not shown again" in text
    assert "https://cal.example.org" in text
    listing = await world.admin.slash(world.general, "api token list")
    embed = listing.response.embeds[0]
    assert listing.ephemeral and embed.title == "API tokens (1)"
    assert embed.fields[0].name == "#1 Website" and "scope **read**" in embed.fields[0].value
    assert f"<@{world.admin.id}>" in embed.fields[0].value and "never used" in embed.fields[0].value
    assert token not in str(embed.to_dict())  # the secret is never shown again


async def test_a_token_from_the_command_drives_the_api_the_bot_serves(world, port):
    await world.admin.slash(world.general, "settings channel", channel=world.events)
    token = token_in((await world.admin.slash(world.general, "api token create")).response.content)
    headers = {"Authorization": f"Bearer {token}"}
    body = {"name": "From the API", "starts": "2026-01-01T01:00:00Z"}
    url = f"http://127.0.0.1:{port}/v2/events"
    async with aiohttp.ClientSession() as http, http.post(url, json=body, headers=headers) as response:
        assert response.status == 201, await response.text()
        created = (await response.json())["data"]
    await world.env.advance_time(SYNC_SECONDS)
    card = world.events.last_message
    assert card.embeds[0].title == "From the API"
    reminders = await world.bot.store.reminders.for_event(world.guild.id, created["id"])
    assert [r.state for r in reminders] == ["pending"]
    listing = await world.admin.slash(world.general, "api token list")
    assert "last used" in listing.response.embeds[0].fields[0].value


async def test_revoke_autocompletes_and_stops_the_token(world, port):
    token = token_in((await world.admin.slash(world.general, "api token create", name="Old")).response.content)
    await world.admin.slash(world.general, "api token create", name="New")
    choices = await world.admin.autocomplete(world.general, "api token revoke", "token", "old")
    assert choices == [{"name": "#1 Old (write)", "value": "1"}]
    res = await world.admin.slash(world.general, "api token revoke", token="1")
    assert "Revoked token **#1 Old (write)**" in res.response.content
    url = f"http://127.0.0.1:{port}/v2/events"
    async with aiohttp.ClientSession() as http, http.get(url, headers={"Authorization": token}) as response:
        assert response.status == 401
    names = [f.name for f in (await world.admin.slash(world.general, "api token list")).response.embeds[0].fields]
    assert names == ["#2 New"]
    again = await world.admin.slash(world.general, "api token revoke", token="1")
    world.refused(again, NotFound, "no API token `1`")


async def test_only_manage_server_may_handle_tokens(world):
    role = world.guild.create_role("Planners")
    await world.admin.slash(world.general, "settings manager-role", role=role)
    planner = world.guild.add_member(world.env.create_user("planner"), roles=[role])
    with pytest.raises(SetupError, match="default-member-permissions"):  # /api is hidden from members
        await world.alice.slash(world.general, "api token list")
    # A server may show /api to a role anyway; the manager role is still not enough: a token reaches everything.
    [api] = [c for c in await world.bot.tree.fetch_commands() if c.name == "api"]
    world.guild.set_command_permissions(api, {role: True})
    res = await planner.slash(world.general, "api token create", name="Mine")
    world.refused(res, NotManager, "Manage Server")
    world.refused(await planner.slash(world.general, "api token list"), NotManager, "Manage Server")
    assert await world.bot.store.tokens.list(world.guild.id) == []


async def test_a_guild_without_tokens_is_told_how_to_make_one(world):
    res = await world.admin.slash(world.general, "api token list")
    assert "no API tokens" in res.response.content
