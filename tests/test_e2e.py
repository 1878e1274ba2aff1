"""End to end: `python -m bot` as its own process, pointed at a local Discord stand-in.

The bot's REST calls go to `api_base_url` and its gateway connections, resumes included, to
`gateway_url`. It logs in, syncs its commands, answers every command, and shuts down cleanly on
SIGTERM and SIGINT within 5 s with the database closed.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3

import pytest

from bot.storage.database import migrations
from tests.standin import DiscordStandIn, Permissions
from tests.standin.process import SHUTDOWN_LIMIT, BotProcess

ADMIN_ID = 3100000000000000001
MEMBER_ID = 3100000000000000002


@pytest.fixture
async def standin():
    # READY hands out a resume URL where nothing listens: resumes reach the stand-in only because
    # the bot sends every gateway connection to its configured gateway_url.
    server = DiscordStandIn(resume_gateway_url="ws://127.0.0.1:9/unreachable")
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def running(standin, tmp_path):
    guild_id = standin.add_guild("Guild")
    general = standin.add_channel(guild_id, "general")
    events = standin.add_channel(guild_id, "events")
    admins = standin.add_role(guild_id, "Admins", permissions=Permissions.MANAGE_GUILD)
    standin.add_member(guild_id, ADMIN_ID, "admin", roles=[admins])
    standin.add_member(guild_id, MEMBER_ID, "member")
    bot = BotProcess(standin, tmp_path, guild_id)
    await bot.start(standin.token)
    try:
        await standin.wait_ready(timeout=30)
        await standin.wait_for(lambda: guild_id in standin.commands, timeout=30, message="command sync")
    except Exception:
        bot.process.kill()
        raise AssertionError("the bot did not start:\n" + bot.output()) from None
    yield standin, bot, guild_id, general, events
    if bot.process.returncode is None:
        bot.process.kill()
        await bot.process.wait()


async def test_every_command_answers_end_to_end_then_sigterm_closes_cleanly(running):
    standin, bot, guild, general, events = running

    async def run(user, command, *sub, **options):
        return await standin.slash(guild, general, user, command, subcommand_path=sub, options=options or None)

    synced = {c["name"] for c in standin.commands[guild]}
    assert synced == {"calendar", "event", "settings", "notifications", "me", "api", "help", "setup"}
    helped = await run(MEMBER_ID, "help")
    assert helped["ephemeral"] and "calbot keeps this server's calendars" in helped["embeds"][0]["description"]
    mine = await run(MEMBER_ID, "me", "timezone", timezone="Asia/Tokyo")
    assert mine["ephemeral"] and "Asia/Tokyo" in mine["content"]
    assert "Asia/Tokyo" in (await run(MEMBER_ID, "me", "show"))["content"]
    assert (await run(MEMBER_ID, "notifications"))["embeds"][0]["description"] == "No reminder has gone out yet."

    # settings
    shown = await run(MEMBER_ID, "settings", "show")
    assert shown["ephemeral"] and shown["embeds"][0]["title"] == "Calendar settings"
    zone = await run(ADMIN_ID, "settings", "timezone", timezone="Europe/Berlin")
    assert "Europe/Berlin" in zone["content"]
    choices = await standin.autocomplete(guild, general, ADMIN_ID, "settings", "timezone", "berl",
                                         subcommand_path=("timezone",))  # fmt: skip
    assert {"name": "Europe/Berlin", "value": "Europe/Berlin"} in choices
    assert "cleared" in (await run(ADMIN_ID, "settings", "manager-role"))["content"]
    assert f"<#{events}>" in (await run(ADMIN_ID, "settings", "channel", channel=events))["content"]
    reminders = await run(ADMIN_ID, "settings", "reminders", intervals="pt15m p1d", channels="both")
    assert "Default reminders updated" in reminders["content"]
    denied = await run(MEMBER_ID, "settings", "timezone", timezone="UTC")
    assert denied["ephemeral"] and "Manage Server" in denied["content"]

    # calendars
    created = await run(ADMIN_ID, "calendar", "create", name="Raids", color="RED")
    assert "Created calendar **Raids**" in created["content"]
    assert (await run(MEMBER_ID, "calendar", "list"))["embeds"][0]["fields"][0]["name"] == "Raids"
    assert (
        "Updated calendar"
        in (await run(ADMIN_ID, "calendar", "edit", calendar="Raids", description="Weekly"))["content"]
    )

    # events: the card goes to the default channel set above, times read in Europe/Berlin
    made = await run(ADMIN_ID, "event", "create", name="Raid night", start="2030-01-10 18:00", calendar="Raids")
    assert "read as `2030-01-10 18:00 Europe/Berlin`" in made["content"], made
    card = standin.messages[events][-1]
    assert card["embeds"][0]["title"] == "Raid night"
    assert card["allowed_mentions"] == {"parse": []}
    going = next(c for row in card["components"] for c in row["components"] if c.get("label") == "Going")
    answered = await standin.click(guild, events, MEMBER_ID, card, going["custom_id"])
    assert answered["followups"][0]["content"].startswith("✅ You're going to **Raid night**")
    fields = {f["name"]: f["value"] for f in standin.get_message(card["id"])["embeds"][0]["fields"]}
    assert fields["Going (1)"] == f"<@{MEMBER_ID}>"
    picks = await standin.autocomplete(guild, general, MEMBER_ID, "event", "event", "raid", subcommand_path=("show",))
    assert picks[0]["value"] == "#1"
    shown_event = await run(MEMBER_ID, "event", "show", event="1")
    assert shown_event["embeds"][0]["title"] == "Raid night"
    listing = await run(MEMBER_ID, "event", "list", month="2030-01")
    assert "Raid night" in listing["embeds"][0]["description"]
    edited = await run(ADMIN_ID, "event", "edit", event="1", name="Raid night (moved)", start="2030-01-11 19:00")
    assert "Updated **Raid night (moved)**" in edited["content"]
    assert standin.get_message(card["id"])["embeds"][0]["title"] == "Raid night (moved)"
    bad = await run(ADMIN_ID, "event", "create", name="Past", start="2001-01-01 10:00")
    assert bad["ephemeral"] and "is in the past" in bad["content"]

    # the gateway connection drops: the bot resumes, through gateway_url
    assert await standin.drop_connection() == "resumed"
    assert standin.resumes == 1
    assert "Upcoming events" in (await run(MEMBER_ID, "event", "list"))["embeds"][0]["title"]

    deleted = await run(ADMIN_ID, "event", "delete", event="1")
    assert "Deleted **Raid night (moved)**" in deleted["content"]
    assert standin.get_message(card["id"])["embeds"][0]["title"] == "Cancelled: Raid night (moved)"

    await run(ADMIN_ID, "event", "create", name="Kept", start="2030-02-01 12:00", calendar="Raids")
    ask = await run(ADMIN_ID, "calendar", "delete", calendar="Raids")
    assert ask["embeds"][0]["title"] == "Delete Raids?"
    keep = next(c for row in ask["components"] for c in row["components"] if c["label"] == "Keep it")
    kept = await standin.click(guild, general, ADMIN_ID, ask["message"], keep["custom_id"])
    assert "Nothing was deleted" in kept["content"]

    code, took = await bot.stop(signal.SIGTERM)
    output = bot.output()
    assert code == 0, output
    assert took < SHUTDOWN_LIMIT
    assert "Database" in output and "closed" in output
    assert "Traceback" not in output
    assert "test-token" not in output  # the secret is never logged
    # A clean close checkpoints the write-ahead log into the database file.
    assert bot.wal_checkpointed()
    with sqlite3.connect(bot.database) as db:
        names = [row[0] for row in db.execute("SELECT name FROM events ORDER BY id")]
    assert names == ["Kept"]


async def test_sigint_shuts_down_cleanly(running):
    _standin, bot, *_ = running
    code, took = await bot.stop(signal.SIGINT)
    assert code == 0, bot.output()
    assert took < SHUTDOWN_LIMIT
    assert "closed" in bot.output()
    assert bot.wal_checkpointed()


async def stopped(bot: BotProcess) -> tuple[int, str]:
    code = await asyncio.wait_for(bot.process.wait(), timeout=30)
    return code, bot.output()


async def test_a_refused_token_ends_in_one_line_with_status_2(standin, tmp_path):
    bot = BotProcess(standin, tmp_path, standin.add_guild("Guild"))
    await bot.start("not-the-token")
    code, output = await stopped(bot)
    assert code == 2, output
    assert "Traceback" not in output
    assert output.strip().splitlines()[-1] == ("calbot: Discord refused the token (discord.token); check DISCORD_TOKEN")
    assert "not-the-token" not in output
    # The database was made and migrated before the login, as the README says `run` does.
    with sqlite3.connect(bot.database) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (migrations("sqlite")[-1][0],)


async def test_a_database_from_a_newer_calbot_ends_in_one_line(standin, tmp_path):
    bot = BotProcess(standin, tmp_path, standin.add_guild("Guild"))
    bot.database.parent.mkdir(parents=True)
    with sqlite3.connect(bot.database) as db:
        db.execute("PRAGMA user_version = 999")
    await bot.start(standin.token)
    code, output = await stopped(bot)
    assert code == 1, output
    assert "Traceback" not in output
    last = output.strip().splitlines()[-1]
    assert "cannot use the database" in last and "(database.url)" in last and "upgrade calbot" in last


async def test_a_command_guild_the_bot_is_not_in_is_reported_not_fatal(standin, tmp_path):
    guild = standin.add_guild("Guild")
    channel = standin.add_channel(guild, "general")
    standin.add_member(guild, MEMBER_ID, "member")
    bot = BotProcess(standin, tmp_path, guild)
    bot.config.write_text(bot.config.read_text().replace(f"[{guild}]", f"[{guild}, 424242]"))
    await bot.start(standin.token)
    await standin.wait_ready(timeout=30)
    await standin.wait_for(lambda: guild in standin.commands, timeout=30, message="command sync")
    listing = await standin.slash(guild, channel, MEMBER_ID, "event", subcommand_path=("list",))
    assert listing["embeds"][0]["title"] == "Upcoming events"
    code, _took = await bot.stop(signal.SIGTERM)
    output = bot.output()
    assert code == 0
    assert "Could not sync commands to guild 424242 (discord.command_guilds)" in output
    assert "Traceback" not in output
