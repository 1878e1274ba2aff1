"""End-to-end checks of the Discord stand-in with a real (tiny) discord.py bot.

The bot below is NOT calbot: it is a minimal client that exercises the same
library paths calbot uses (guild command sync, slash commands with embeds and
views, deferred responses, autocomplete, button clicks, channel sends with a
nonce, RESUME after a dropped gateway connection, REST failures).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import logging
from collections.abc import AsyncIterator

import aiohttp
import discord
import pytest
import pytest_asyncio
import yarl
from discord import app_commands

from tests.standin import DiscordStandIn, Permissions, StandInError

ADMIN_ID = 3100000000000000001
MEMBER_ID = 3100000000000000002


class RSVPView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.button(label="Going", custom_id="rsvp:yes", style=discord.ButtonStyle.success)
    async def going(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content=f"{interaction.user.name} is going", view=self)

    @discord.ui.button(label="Info", custom_id="rsvp:info")
    async def info(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.send_message("Only you can see this", ephemeral=True)

    @discord.ui.select(
        custom_id="rsvp:slot",
        options=[discord.SelectOption(label="Morning", value="am"), discord.SelectOption(label="Evening", value="pm")],
        row=1,
    )
    async def slot(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.defer()  # DEFERRED_UPDATE_MESSAGE (6), then edit the clicked message
        await interaction.edit_original_response(content=f"slot {select.values[0]}")


class EventModal(discord.ui.Modal, title="New event"):
    name = discord.ui.TextInput(label="Title", custom_id="title", max_length=50)
    notes = discord.ui.TextInput(label="Notes", custom_id="notes", required=False, style=discord.TextStyle.long)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"created {self.name.value} ({self.notes.value or '-'})", ephemeral=True
        )


class TinyBot(discord.Client):
    """A minimal slash-command bot; the structure mirrors what calbot does."""

    def __init__(self, guild_id: int) -> None:
        intents = discord.Intents.default()
        intents.members = True  # exercises member chunking (op 8) at startup
        super().__init__(intents=intents, guild_ready_timeout=0.05)
        self.guild_id = guild_id
        self.tree = app_commands.CommandTree(self)
        self.ready_event = asyncio.Event()
        self.resumed = 0
        self.gateway_urls: list[str] = []
        self.seen_messages: list[discord.Message] = []
        self.seen_reactions: list[discord.RawReactionActionEvent] = []
        self.tree.add_command(self._event_group(), guild=discord.Object(guild_id))

        @self.tree.command(name="ping", description="Global command, usable in DMs")
        async def ping(interaction: discord.Interaction) -> None:
            where = "dm" if interaction.guild_id is None else "guild"
            await interaction.response.send_message(f"pong {interaction.user.name} in {where}")

    def _event_group(self) -> app_commands.Group:
        group = app_commands.Group(name="event", description="Manage events")

        @group.command(name="add", description="Add an event")
        async def add(
            interaction: discord.Interaction,
            title: str,
            hours: app_commands.Range[int, 0, 100] = 1,
            channel: discord.TextChannel | None = None,
            role: discord.Role | None = None,
        ) -> None:
            if not interaction.permissions.manage_guild:
                await interaction.response.send_message("You need Manage Server.", ephemeral=True)
                return
            where = channel.mention if channel else "here"
            embed = discord.Embed(title=title, description=f"in {hours}h {where}", colour=0x3498DB)
            embed.add_field(name="Role", value=role.name if role else "everyone")
            embed.set_footer(text=f"by {interaction.user.name}")
            await interaction.response.send_message(embed=embed, view=RSVPView())

        @group.command(name="slow", description="A deferred answer edited later")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await asyncio.sleep(0.05)
            await interaction.edit_original_response(content="done slowly")

        @group.command(name="report", description="A deferred answer sent as follow-ups")
        async def report(interaction: discord.Interaction) -> None:
            await interaction.response.defer()
            await interaction.followup.send("part 1")
            await interaction.followup.send("part 2", ephemeral=True)

        @group.command(name="form", description="Opens a modal")
        async def form(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(EventModal())

        @group.command(name="city", description="Autocomplete demo")
        async def city(interaction: discord.Interaction, name: str) -> None:
            await interaction.response.send_message(f"city={name}")

        @city.autocomplete("name")
        async def city_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
            cities = ["Berlin", "Bern", "Paris"]
            return [
                app_commands.Choice(name=c, value=c.lower()) for c in cities if c.lower().startswith(current.lower())
            ]

        return group

    async def setup_hook(self) -> None:
        await self.tree.sync(guild=discord.Object(self.guild_id))
        await self.tree.sync()

    async def on_message(self, message: discord.Message) -> None:
        self.seen_messages.append(message)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        self.seen_reactions.append(payload)

    async def on_ready(self) -> None:
        self.ready_event.set()

    async def on_resumed(self) -> None:
        self.resumed += 1


@contextlib.asynccontextmanager
async def running(standin: DiscordStandIn, bot: TinyBot) -> AsyncIterator[TinyBot]:
    """Point the bot at the stand-in exactly like calbot will (Route.BASE + ws URL rewrite)."""
    old_base = discord.http.Route.BASE
    discord.http.Route.BASE = standin.api_base_url
    original_ws_connect = bot.http.ws_connect

    async def ws_connect(url: str, *, compress: int = 0):
        bot.gateway_urls.append(url)
        query = yarl.URL(url).query_string
        return await original_ws_connect(f"{standin.gateway_url}?{query}", compress=compress)

    bot.http.ws_connect = ws_connect  # type: ignore[method-assign]
    task = asyncio.create_task(bot.start(standin.token))
    try:
        ready = asyncio.ensure_future(bot.ready_event.wait())
        done, _ = await asyncio.wait({task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            ready.cancel()
            task.result()  # re-raise why the bot died
            raise AssertionError("bot stopped before becoming ready")
        assert ready in done, "bot did not become ready"
        yield bot
    finally:
        await bot.close()
        try:
            await asyncio.wait_for(task, 5)
        finally:
            discord.http.Route.BASE = old_base


@pytest_asyncio.fixture
async def world(standin: DiscordStandIn) -> dict[str, int]:
    guild = standin.add_guild("Test Guild")
    general = standin.add_channel(guild, "general")
    events = standin.add_channel(guild, "events")
    admin_role = standin.add_role(guild, "Admin", permissions=Permissions.ADMINISTRATOR)
    helpers = standin.add_role(guild, "Helpers")
    standin.add_member(guild, ADMIN_ID, "admin", roles=[admin_role])
    standin.add_member(guild, MEMBER_ID, "member")
    return {"guild": guild, "general": general, "events": events, "helpers": helpers}


@pytest.mark.asyncio
async def test_bot_end_to_end(standin: DiscordStandIn, world: dict[str, int], caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING, logger="discord")
    guild, general = world["guild"], world["general"]
    bot = TinyBot(guild)
    async with running(standin, bot):
        await standin.wait_ready()
        # login, READY, GUILD_CREATE and member chunking reached discord.py's cache
        g = bot.get_guild(guild)
        assert g is not None and g.name == "Test Guild"
        assert {c.name for c in g.text_channels} == {"general", "events"}
        assert g.get_member(MEMBER_ID) is not None and g.chunked
        assert bot.user is not None and bot.user.id == standin.bot_user_id
        assert bot.application_id == standin.application_id

        # guild command group synced by bulk overwrite
        assert standin.command_puts[guild] == 1
        [event] = standin.commands[guild]
        assert event["name"] == "event" and event["id"]
        assert [o["name"] for o in event["options"]] == ["add", "slow", "report", "form", "city"]
        assert [c["name"] for c in standin.commands[None]] == ["ping"]

        # slash command with an embed, resolved channel/role options and a view
        result = await standin.slash(
            guild,
            general,
            ADMIN_ID,
            "event",
            subcommand_path=["add"],
            options={"title": "Standup", "hours": 2, "channel": world["events"], "role": world["helpers"]},
        )
        assert result["type"] == 4 and not result["ephemeral"]
        [embed] = result["embeds"]
        assert embed["title"] == "Standup"
        assert embed["description"] == f"in 2h <#{world['events']}>"
        assert embed["fields"][0]["value"] == "Helpers"
        assert embed["footer"]["text"] == "by admin"
        assert [c["custom_id"] for c in result["components"][0]["components"]] == ["rsvp:yes", "rsvp:info"]
        assert standin.interaction_messages[general] == [result["message"]]

        # interaction.permissions comes from member.permissions
        denied = await standin.slash(
            guild, general, MEMBER_ID, "event", subcommand_path=["add"], options={"title": "x"}
        )
        assert denied["ephemeral"] and denied["content"] == "You need Manage Server."

        # button click -> UPDATE_MESSAGE (7) edits the message in place
        clicked = await standin.click(guild, general, MEMBER_ID, result["message"], "rsvp:yes")
        assert clicked["type"] == 7 and clicked["content"] == "member is going"
        assert standin.get_message(result["message"]["id"])["content"] == "member is going"
        info = await standin.click(guild, general, MEMBER_ID, result["message"], "rsvp:info")
        assert info["type"] == 4 and info["ephemeral"] and info["content"] == "Only you can see this"

        # deferred (thinking, ephemeral) then PATCH @original
        slow = await standin.slash(guild, general, MEMBER_ID, "event", subcommand_path=["slow"])
        assert slow["type"] == 5 and slow["ephemeral"]
        assert slow["content"] == "done slowly" and not slow["flags"] & 128  # no longer "thinking"

        # deferred then follow-ups: the first one replaces the thinking message
        report = await standin.slash(guild, general, MEMBER_ID, "event", subcommand_path=["report"])
        await standin.wait_for(lambda: len(report["followups"]) == 1)
        assert report["content"] == "part 1" and not report["ephemeral"]
        assert report["followups"][0]["content"] == "part 2"
        assert report["followups"][0]["flags"] & 64

        # autocomplete (type 4 -> callback 8)
        choices = await standin.autocomplete(
            guild, general, MEMBER_ID, "event", "name", "ber", subcommand_path=["city"]
        )
        assert choices == [{"name": "Berlin", "value": "berlin"}, {"name": "Bern", "value": "bern"}]

        # channel send with a nonce twice -> one message (enforce_nonce)
        channel = bot.get_channel(general)
        first = await channel.send("Reminder: Standup", nonce="reminder-42")
        second = await channel.send("Reminder: Standup", nonce="reminder-42")
        assert first.id == second.id
        assert [m["content"] for m in standin.messages[general]] == ["Reminder: Standup"]
        assert standin.messages[general][0]["nonce"] == "reminder-42" and standin.nonce_hits == 1
        other = await channel.send("Reminder: Retro")  # discord.py adds a random nonce itself
        assert len(standin.messages[general]) == 2 and other.id != first.id

        # gateway drop -> discord.py RESUMEs on the stand-in; missed events are replayed
        assert await standin.drop_connection(4000, wait=False) is None
        late_channel = standin.add_channel(guild, "created-while-away")
        await standin.wait_for(lambda: standin.resumes == 1)
        await standin.wait_for(lambda: bot.resumed == 1)
        assert standin.identifies == 1
        assert bot.get_channel(late_channel) is not None
        assert all(yarl.URL(u).query.get("v") == "10" for u in bot.gateway_urls) and len(bot.gateway_urls) == 2
        assert await standin.drop_connection() == "resumed"
        await standin.wait_for(lambda: bot.resumed == 2)
        again = await standin.slash(guild, general, MEMBER_ID, "event", subcommand_path=["city"], options={"name": "x"})
        assert again["content"] == "city=x"

    # closed cleanly: the session ended and nothing went wrong on the bot's side
    assert bot.is_closed()
    await standin.wait_for(lambda: not standin.connected, timeout=2)
    assert standin.unknown_routes == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


@pytest.mark.asyncio
async def test_rest_faults_and_validation(standin: DiscordStandIn, world: dict[str, int]):
    guild, general = world["guild"], world["general"]
    bot = TinyBot(guild)
    async with running(standin, bot):
        channel = bot.get_channel(general)

        # an injected 429 is retried by discord.py after retry_after
        standin.inject("POST", r"^/channels/\d+/messages$", 429, retry_after=0.05)
        msg = await channel.send("after a rate limit")
        posts = standin.requests_to("POST", rf"^/channels/{general}/messages$")
        assert [r.status for r in posts] == [429, 200]
        assert posts[-1].json["content"] == "after a rate limit" and msg.content == "after a rate limit"

        # 500 then success is retried as well; 403 raises Forbidden
        standin.inject("PATCH", r"/messages/\d+$", 500)
        await msg.edit(content="edited")
        assert standin.get_message(msg.id)["content"] == "edited"
        standin.inject("*", r"^/channels/\d+/messages$", 403)
        with pytest.raises(discord.Forbidden):
            await channel.send("nope")

        # DMs to a user with closed DMs fail like Discord (50007)
        standin.close_dms(MEMBER_ID)
        member = bot.get_guild(guild).get_member(MEMBER_ID)
        with pytest.raises(discord.Forbidden) as exc:
            await member.send("hello")
        assert exc.value.code == 50007
        standin.close_dms(MEMBER_ID, closed=False)
        dm = await member.send("hello again")
        assert standin.messages[standin.dm_channel_id(MEMBER_ID)][0]["id"] == str(dm.id)

        # Discord's payload limits are enforced (400 / 50035)
        with pytest.raises(discord.HTTPException) as exc:
            await channel.send(embed=discord.Embed(title="x" * 300))
        assert exc.value.status == 400 and exc.value.code == 50035

        with pytest.raises(discord.HTTPException) as exc:
            await channel.send("uuid nonce", nonce="0f8fad5b-d9cb-469f-a165-70867728950e")
        assert exc.value.code == 50035  # Discord nonces are at most 25 characters

        # unknown routes are answered with 404 and recorded
        with pytest.raises(discord.NotFound):
            await bot.http.request(discord.http.Route("GET", "/guilds/{guild_id}/emojis", guild_id=guild))
        assert standin.unknown_routes == [("GET", f"/guilds/{guild}/emojis")]

        # slash helper refuses what a Discord client would not send
        with pytest.raises(StandInError):
            await standin.slash(guild, general, MEMBER_ID, "event", subcommand_path=["add"], options={"hours": 1})
        with pytest.raises(StandInError):
            await standin.slash(guild, general, MEMBER_ID, "nope")


async def test_scheduled_events_are_validated_capped_rate_limited_and_sent_on_the_gateway(
    standin: DiscordStandIn, world: dict[str, int]
):
    guild = world["guild"]
    bot = TinyBot(guild)
    soon = discord.utils.utcnow() + datetime.timedelta(days=1)
    body = {
        "name": "Raid", "entity_type": 3, "privacy_level": 2, "entity_metadata": {"location": "The nether"},
        "scheduled_start_time": soon.isoformat(),
        "scheduled_end_time": (soon + datetime.timedelta(hours=1)).isoformat(),
    }  # fmt: skip
    async with running(standin, bot):  # routes are made once it points at the stand-in
        route = discord.http.Route("POST", "/guilds/{guild_id}/scheduled-events", guild_id=guild)
        with pytest.raises(discord.Forbidden):  # Manage Events is not among the bot's defaults
            await bot.http.request(route, json=body)
        bot_role = standin.guilds[guild].bot_role_id
        standin.guilds[guild].roles[bot_role]["permissions"] = str(Permissions.DEFAULT_BOT | Permissions.MANAGE_EVENTS)

        refused = {
            "no end": {**body, "scheduled_end_time": None},
            "no location": {**body, "entity_metadata": {}},
            "long name": {**body, "name": "x" * 101},
            "empty name": {**body, "name": ""},
            "long description": {**body, "description": "x" * 1001},
            "in the past": {**body, "scheduled_start_time": "2020-01-01T00:00:00+00:00"},
            "rule outside the subset": {**body, "recurrence_rule": {"frequency": 2, "interval": 3, "by_weekday": [1],
                                                                    "start": body["scheduled_start_time"]}},
            "voice without a channel": {**body, "entity_type": 2},
        }  # fmt: skip
        for why, wrong in refused.items():
            with pytest.raises(discord.HTTPException) as exc:
                await bot.http.request(route, json=wrong)
            assert (exc.value.status, exc.value.code) == (400, 50035), why

        weekly = {"frequency": 2, "interval": 1, "by_weekday": [soon.weekday()], "start": body["scheduled_start_time"]}
        made = await bot.http.request(route, json={**body, "recurrence_rule": weekly})
        assert made["recurrence_rule"] == weekly and made["creator_id"] == str(standin.bot_user_id)
        for n in range(99):
            await bot.http.request(route, json={**body, "name": f"Raid {n}"})
        with pytest.raises(discord.HTTPException) as exc:  # the 101st uncompleted one
            await bot.http.request(route, json=body)
        assert (exc.value.status, exc.value.code) == (400, 30038)

        one = discord.http.Route("PATCH", "/guilds/{guild_id}/scheduled-events/{id}", guild_id=guild, id=made["id"])
        assert (await bot.http.request(one, json={"name": "Renamed"}))["name"] == "Renamed"
        standin.set_interested(guild, int(made["id"]), MEMBER_ID)
        users = discord.http.Route(
            "GET", "/guilds/{guild_id}/scheduled-events/{id}/users", guild_id=guild, id=made["id"]
        )
        assert [u["user"]["id"] for u in await bot.http.request(users)] == [str(MEMBER_ID)]

        standin.scheduled_event_rate = (2, 0.5)  # a bucket of its own: discord.py waits the 429s out
        listing = discord.http.Route("GET", "/guilds/{guild_id}/scheduled-events", guild_id=guild)
        for _ in range(4):
            assert len(await bot.http.request(listing)) == 100
        assert standin.scheduled_event_429s > 0

        sent = [json.loads(text)["t"] for session in standin.sessions for _seq, text in session.buffer]
        assert sent.count("GUILD_SCHEDULED_EVENT_CREATE") == 100
        assert {"GUILD_SCHEDULED_EVENT_UPDATE", "GUILD_SCHEDULED_EVENT_USER_ADD"} <= set(sent)


@pytest.mark.asyncio
async def test_global_rate_limit_and_plain_text_gateway():
    # a second stand-in without zlib-stream, with a tight global limit
    standin = DiscordStandIn(gateway_compression=False, rate_limit_per_second=3, rate_limit_window=0.2)
    await standin.start()
    try:
        guild = standin.add_guild("Other")
        general = standin.add_channel(guild, "general")
        bot = TinyBot(guild)
        async with running(standin, bot):
            channel = bot.get_channel(general)
            for i in range(4):
                await channel.send(f"burst {i}")
            assert len(standin.messages[general]) == 4
            limited = [r for r in standin.requests if r.status == 429]
            assert limited and standin.rate_limited == len(limited)
            # every rate-limited request was retried by discord.py and then succeeded
            for r in limited:
                assert any(o.path == r.path and o.at > r.at and o.status == 200 for o in standin.requests)
    finally:
        await standin.close()


@pytest.mark.asyncio
async def test_modal_select_dm_user_events_and_control_api(standin: DiscordStandIn, world: dict[str, int]):
    guild, general = world["guild"], world["general"]
    bot = TinyBot(guild)
    async with running(standin, bot):
        # modal: slash -> callback 9 -> MODAL_SUBMIT (type 5) -> answer
        opened = await standin.slash(guild, general, MEMBER_ID, "event", subcommand_path=["form"])
        assert opened["type"] == 9 and opened["modal"]["title"] == "New event"
        with pytest.raises(StandInError):  # the title input is required
            await standin.submit_modal(opened, {"notes": "x"})
        submitted = await standin.submit_modal(opened, {"title": "Retro"})
        assert submitted["content"] == "created Retro (-)" and submitted["ephemeral"]

        # select menu: DEFERRED_UPDATE_MESSAGE (6), then @original edits the clicked message
        added = await standin.slash(guild, general, ADMIN_ID, "event", subcommand_path=["add"], options={"title": "T"})
        picked = await standin.click(guild, general, MEMBER_ID, added["message"], "rsvp:slot", values=["pm"])
        assert picked["type"] == 6
        await standin.wait_for(lambda: standin.get_message(added["message"]["id"])["content"] == "slot pm")
        with pytest.raises(StandInError):
            await standin.click(guild, general, MEMBER_ID, added["message"], "rsvp:slot", values=["noon"])

        # global command used in the user's DM with the bot
        dm = await standin.slash(None, None, MEMBER_ID, "ping")
        assert dm["content"] == "pong member in dm"
        assert dm["channel_id"] == standin.dm_channel_id(MEMBER_ID)

        # users posting and reacting reach the bot (content needs the intent or a mention)
        plain = standin.user_message(general, MEMBER_ID, "hello")
        mention = standin.user_message(general, MEMBER_ID, f"<@{standin.bot_user_id}> hi")
        standin.react(general, int(mention["id"]), MEMBER_ID, "👍")
        await standin.wait_for(lambda: len(bot.seen_reactions) == 1)
        by_id = {m.id: m for m in bot.seen_messages}
        assert by_id[int(plain["id"])].content == ""
        assert by_id[int(mention["id"])].content.endswith("hi")
        assert str(bot.seen_reactions[0].emoji) == "👍" and bot.seen_reactions[0].user_id == MEMBER_ID

        # the control API used for manual runs drives the same machinery
        async with aiohttp.ClientSession() as http:
            body = {"guild_id": guild, "channel_id": general, "user_id": MEMBER_ID, "name": "ping"}
            async with http.post(f"{standin.base_url}/_standin/slash", json=body) as resp:
                assert resp.status == 200
                assert (await resp.json())["content"] == "pong member in guild"
            async with http.get(f"{standin.base_url}/_standin/state") as resp:
                state = await resp.json()
                assert state["guilds"][0]["name"] == "Test Guild" and state["identifies"] == 1


class FlakyBot(TinyBot):
    """Commands that misbehave the way real bugs do."""

    def __init__(self, guild_id: int) -> None:
        super().__init__(guild_id)
        guild = discord.Object(guild_id)

        @self.tree.command(name="broken", description="Answers with an invalid embed", guild=guild)
        async def broken(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(embed=discord.Embed(title="x" * 300))

        @self.tree.command(name="late", description="Answers too late", guild=guild)
        async def late(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.3)
            await interaction.response.send_message("finally")

        @self.tree.command(name="recovers", description="Invalid answer, then a valid one", guild=guild)
        async def recovers(interaction: discord.Interaction) -> None:
            try:
                await interaction.response.send_message("x" * 2001)
            except discord.HTTPException:
                await interaction.response.send_message("sorry, too long", ephemeral=True)


@pytest.mark.asyncio
async def test_interaction_failures_are_explained():
    standin = DiscordStandIn(interaction_deadline=0.2, rejection_grace=0.1)
    await standin.start()
    try:
        guild = standin.add_guild("Flaky")
        general = standin.add_channel(guild, "general")
        standin.add_member(guild, MEMBER_ID, "member")
        async with running(standin, FlakyBot(guild)):
            with pytest.raises(StandInError, match="rejected") as exc:
                await standin.slash(guild, general, MEMBER_ID, "broken")
            assert "50035" in str(exc.value) and "BASE_TYPE_MAX_LENGTH" in str(exc.value)

            with pytest.raises(StandInError, match="deadline"):
                await standin.slash(guild, general, MEMBER_ID, "late")

            recovered = await standin.slash(guild, general, MEMBER_ID, "recovers")
            assert recovered["content"] == "sorry, too long"
            assert recovered["errors"][0][2] == 400  # the first, invalid answer is on record
    finally:
        await standin.close()
