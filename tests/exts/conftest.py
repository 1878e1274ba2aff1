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
def bots() -> list[CalBot]:
    """Every bot a test starts, the first and any it restarts with."""
    return []


@pytest.fixture
def simcord_bot(config: Config, bots: list[CalBot]) -> CalBot:
    bots.append(CalBot(config))
    return bots[0]


@pytest.fixture(autouse=True)
async def _close_stores(bots: list[CalBot]):
    # SimCord never calls bot.close(); this fixture is set up first, so it is torn down last.
    yield
    for bot in bots:
        if bot.feeds is not None:
            await bot.feeds.stop()
        await bot.close_senders()
        if bot._store is not None:
            await bot._store.close()


@dataclass
class World:
    env: simcord.Env
    guild: simcord.GuildHandle
    general: simcord.ChannelHandle
    events: simcord.ChannelHandle
    admin: simcord.MemberActor  # has Manage Server
    alice: simcord.MemberActor  # an ordinary member
    bob: simcord.MemberActor  # another ordinary member

    config: Config
    bots: list[CalBot]

    @property
    def bot(self) -> CalBot:
        return self.env.bot

    async def stop(self) -> None:
        """calbot goes down (the simulated Discord and its clock go on)."""
        await self.env.bot.close()

    async def restart(self) -> CalBot:
        """Start a fresh bot process on the same database; the old one is stopped first if it runs."""
        if not self.env.bot.is_closed():
            await self.stop()
        self.bots.append(CalBot(self.config))
        await self.env.restart_bot(self.bots[-1])
        return self.bots[-1]

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
def world(simcord_env: simcord.Env, config: Config, bots: list[CalBot]) -> World:
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
        config=config,
        bots=bots,
    )
