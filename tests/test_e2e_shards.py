"""End to end: the bot as two shard processes, `python -m bot run` each, against the local Discord stand-in.

Each process identifies with its shard (`[id, 2]`), is told only of its shard's guilds, answers the
commands of those guilds, and only the process running shard 0 syncs the commands.
"""

from __future__ import annotations

import signal

from tests.standin import DiscordStandIn
from tests.standin.process import BotProcess

MEMBER_ID = 3100000000000000002


async def test_two_shard_processes_each_serve_their_own_guilds(standin: DiscordStandIn, tmp_path, postgres_url) -> None:
    guilds = [standin.add_guild(f"Guild {n}", guild_id=standin.guild_id_on_shard(n, 2)) for n in (0, 1)]
    channels = [standin.add_channel(guild, "general") for guild in guilds]
    for guild in guilds:
        standin.add_member(guild, MEMBER_ID, "member")
    # One database for both: several bot processes need PostgreSQL (a SQLite file serves one bot process).
    database = postgres_url
    bots = [
        BotProcess(
            standin, tmp_path / f"shard{n}", guilds[n], shards=(2, [n]), database=database, command_guilds=guilds
        )
        for n in (0, 1)
    ]
    try:
        for bot in bots:  # one after the other, as Discord's identify limit asks anyway
            await bot.start(standin.token)
            await standin.wait_for(lambda: "Logged in as" in bot.output(), timeout=30, message="not ready")  # noqa: B023
        await standin.wait_for(lambda: all(g in standin.commands for g in guilds), timeout=30, message="sync")

        identified = sorted(tuple(d["shard"]) for op, d in standin.gateway_received if op == 2)
        assert identified == [(0, 2), (1, 2)]
        assert standin.shard_guilds() == {(0, 2): [guilds[0]], (1, 2): [guilds[1]]}
        assert all(standin.command_puts[g] == 1 for g in guilds)  # synced once, by the shard 0 process

        for guild, channel in zip(guilds, channels, strict=True):  # each answered by the process of its shard
            listing = await standin.slash(guild, channel, MEMBER_ID, "event", subcommand_path=("list",))
            assert listing["embeds"][0]["title"] == "Upcoming events"
    finally:
        outputs = []
        for bot in bots:
            if bot.process is not None and bot.process.returncode is None:
                code, _took = await bot.stop(signal.SIGTERM)
                outputs.append((code, bot.output()))
            print(bot.output())  # shown when the test fails
    for code, output in outputs:
        assert code == 0, output
        assert "Traceback" not in output
    assert "Commands are synced by the process running shard 0" in bots[1].output()
    assert "on shard 1 of 2 in 1 guilds" in bots[1].output()
    assert "on shard 0 of 2 in 1 guilds" in bots[0].output()
