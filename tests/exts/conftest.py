"""Behaviour tests: the real bot, driven through SimCord's simulated Discord.

SimCord's clock starts at 2026-01-01T00:00Z (a Thursday) and moves only with `env.advance_time`.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord
import pytest
import simcord

from bot.app import CalBot
from bot.config import Config


@pytest.fixture
def simcord_bot(config: Config) -> CalBot:
    return CalBot(config)


@pytest.fixture(autouse=True)
async def _close_store(simcord_bot: CalBot):
    # SimCord never calls bot.close(); this fixture is set up first, so it is torn down last.
    yield
    if simcord_bot._store is not None:
        await simcord_bot._store.close()


@dataclass
class World:
    env: simcord.Env
    guild: simcord.GuildHandle
    general: simcord.ChannelHandle
    events: simcord.ChannelHandle
    admin: simcord.MemberActor  # has Manage Server
    alice: simcord.MemberActor  # an ordinary member
    bob: simcord.MemberActor  # another ordinary member

    @property
    def bot(self) -> CalBot:
        return self.env.bot

    def refused(self, result: simcord.InteractionResult, error_type: type[Exception], says: str) -> str:
        """Assert the bot answered privately with a message naming the problem, caused by `error_type`.

        Reading `env.errors` also acknowledges the error SimCord recorded (our tree handled it).
        """
        assert result.ephemeral, "errors must be private"
        text = result.response.content
        assert text.startswith("⚠️") and says in text, text
        assert "Traceback" not in text
        causes = [getattr(e, "original", None) or e.__cause__ or e for e in self.env.errors]
        assert any(isinstance(c, error_type) for c in causes), causes
        return text

    def sent_json(self, channel: simcord.ChannelHandle) -> list[dict]:
        """The bodies of the messages the bot posted to `channel`, as sent over REST."""
        path = f"/channels/{channel.id}/messages"
        return [r.json for r in self.env.http_requests if r.method == "POST" and r.path == path]


@pytest.fixture
def world(simcord_env: simcord.Env) -> World:
    env = simcord_env
    guild = env.create_guild(name="Guild")
    general = guild.create_text_channel("general")
    events = guild.create_text_channel("events")
    admins = guild.create_role("Admins", permissions=discord.Permissions(manage_guild=True))
    return World(
        env=env,
        guild=guild,
        general=general,
        events=events,
        admin=guild.add_member(env.create_user("admin"), roles=[admins]),
        alice=guild.add_member(env.create_user("alice")),
        bob=guild.add_member(env.create_user("bob")),
    )
