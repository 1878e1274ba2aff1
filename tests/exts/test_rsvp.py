"""RSVPs as members see them: the card's buttons, /event rsvp, /event attendees, capacity and the waitlist.

SimCord's clock stands at 2026-01-01T00:00Z, a Thursday, so "tomorrow 18:00" is 2026-01-02T18:00Z.
"""

from __future__ import annotations

from datetime import UTC, datetime

import discord
import pytest
import simcord

from bot.domain.errors import InvalidField, NotFound
from bot.domain.permissions import NotAllowed
from bot.domain.rsvp import GOING, MAYBE, NOT_GOING, ONE_OFF, WAITLISTED
from bot.exts.cards import card_view
from bot.exts.messages import EMBED_TOTAL, FIELD_VALUE
from bot.exts.rsvp import answer

DMS_CLOSED = "the member's DMs are closed (50007)"
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
BUTTONS = [("Going", "going", discord.ButtonStyle.success), ("Maybe", "maybe", discord.ButtonStyle.secondary)]
BUTTONS.append(("Not going", "not_going", discord.ButtonStyle.danger))


async def create(world, **options) -> discord.Message:
    """Create an event as the admin; return its card."""
    options.setdefault("name", "Raid")
    options.setdefault("start", "tomorrow 18:00")
    res = await world.admin.slash(world.general, "event create", **options)
    assert "Created" in res.response.content, res.response.content
    return world.general.last_message


def card_of(world, card: discord.Message) -> discord.Message:
    """The card as it stands now (it is edited in place)."""
    return next(m for m in world.general.history() if m.id == card.id)


def fields(message: discord.Message) -> dict[str, str]:
    return {f.name: f.value for f in message.embeds[0].fields}


def buttons(message: discord.Message) -> list[tuple[str, str, discord.ButtonStyle]]:
    return [(b.label, b.custom_id, b.style) for row in message.components for b in row.children]


def member(world, name: str) -> simcord.MemberActor:
    return world.guild.add_member(world.env.create_user(name))


def mention(actor: simcord.MemberActor) -> str:
    return f"<@{actor.id}>"


def dms(actor: simcord.MemberActor) -> list[str]:
    return [m.content for m in actor.user.dm_channel.history()]


async def test_the_card_carries_three_buttons_and_an_empty_list(world):
    card = await create(world)
    assert buttons(card) == [(label, f"calbot:rsvp:1:0:{answer}", style) for label, answer, style in BUTTONS]
    assert fields(card)["Going (0)"] == "No one yet"
    assert "Maybe (0)" not in fields(card)


async def test_buttons_answer_update_the_card_in_place_and_confirm_privately(world):
    card = await create(world)

    going = await world.alice.click(card, label="Going")
    assert going.response.id == card.id and not going.response.ephemeral  # the card itself, edited
    [told] = going.followups
    assert told.ephemeral and told.content == "✅ You're going to **Raid**."
    assert fields(card_of(world, card))["Going (1)"] == mention(world.alice)

    maybe = await world.bob.click(card, label="Maybe")
    assert maybe.followups[0].content == "🤔 You're a maybe for **Raid**."
    now = fields(card_of(world, card))
    assert now["Going (1)"] == mention(world.alice) and now["Maybe (1)"] == mention(world.bob)

    declined = await world.alice.click(card, label="Not going")
    assert declined.followups[0].ephemeral
    assert declined.followups[0].content == "You're not going to **Raid**."
    now = fields(card_of(world, card))
    assert now["Going (0)"] == "No one yet" and now["Maybe (1)"] == mention(world.bob)
    assert [m.id for m in world.general.history()] == [card.id]  # no new message: the card was edited
    assert buttons(card_of(world, card)) == buttons(card)  # and keeps its buttons

    stored = {a.user_id: a.status for a in await world.bot.store.attendees.list(world.guild.id, 1, ONE_OFF)}
    assert stored == {world.alice.id: NOT_GOING, world.bob.id: MAYBE}  # PERSCOM's names


async def test_buttons_keep_working_after_a_restart(world):
    card = await create(world)
    await world.alice.click(card, label="Going")

    first = world.bot
    await world.restart()  # the old bot is closed; a new one starts on the same database
    assert world.bot is not first

    res = await world.bob.click(card_of(world, card), label="Maybe")
    assert res.followups[0].content == "🤔 You're a maybe for **Raid**."
    now = fields(card_of(world, card))
    assert now["Going (1)"] == mention(world.alice)  # the answer given before the restart is kept
    assert now["Maybe (1)"] == mention(world.bob)


async def test_rsvp_command_answers_and_updates_the_card(world):
    card = await create(world)
    res = await world.alice.slash(world.general, "event rsvp", event="Raid", status="going")
    assert res.ephemeral and res.response.content == "✅ You're going to **Raid**."
    assert fields(card_of(world, card))["Going (1)"] == mention(world.alice)

    res = await world.alice.slash(world.general, "event rsvp", event="1", status="maybe")
    assert res.response.content == "🤔 You're a maybe for **Raid**."
    now = fields(card_of(world, card))
    assert now["Going (0)"] == "No one yet" and now["Maybe (1)"] == mention(world.alice)

    res = await world.alice.slash(world.general, "event rsvp", event="1", status="not_going")
    assert res.response.content == "You're not going to **Raid**."
    assert "Maybe (1)" not in fields(card_of(world, card))


async def test_attendees_lists_every_status_the_waitlist_in_order(world):
    carol, dave, erin = member(world, "carol"), member(world, "dave"), member(world, "erin")
    await create(world, capacity=1, deadline="tomorrow 12:00")
    for actor, status in ((world.alice, "going"), (world.bob, "going"), (carol, "going")):
        await actor.slash(world.general, "event rsvp", event="Raid", status=status)
    await dave.slash(world.general, "event rsvp", event="Raid", status="maybe")
    await erin.slash(world.general, "event rsvp", event="Raid", status="not_going")

    res = await erin.slash(world.general, "event attendees", event="Raid")  # reading is open to everyone
    assert res.ephemeral
    embed = res.response.embeds[0]
    assert embed.title == "Attendees: Raid"
    deadline = int(datetime(2026, 1, 2, 12, 0, tzinfo=UTC).timestamp())
    assert embed.description.splitlines() == [
        f"Registration deadline: <t:{deadline}:F> (<t:{deadline}:R>)",
        "**Going (1/1)**",
        mention(world.alice),
        "**Maybe (1)**",
        mention(dave),
        "**Waitlisted (2)**",
        f"1. {mention(world.bob)}",
        f"2. {mention(carol)}",
        "**Not going (1)**",
        mention(erin),
    ]


async def test_attendees_of_an_event_nobody_answered(world):
    await create(world)
    res = await world.alice.slash(world.general, "event attendees", event="Raid")
    assert res.response.embeds[0].description.splitlines() == [
        "**Going (0)**",
        "No one",
        "**Maybe (0)**",
        "No one",
        "**Waitlisted (0)**",
        "No one",
        "**Not going (0)**",
        "No one",
    ]


async def test_registration_off_means_no_buttons_and_answers_are_refused(world):
    card = await create(world, registration=False)
    assert card.components == []
    assert "Going (0)" not in fields(card)  # no list either: nobody can be on it

    res = await world.alice.slash(world.general, "event rsvp", event="Raid", status="going")
    assert res.ephemeral and res.response.content == "⚠️ Registration is off for this event."
    assert await world.bot.store.attendees.list(world.guild.id, 1, ONE_OFF) == []
    listing = await world.alice.slash(world.general, "event attendees", event="Raid")
    assert listing.response.embeds[0].description.startswith("Registration is off.")


async def test_turning_registration_off_takes_the_buttons_off_the_card_and_on_again(world):
    card = await create(world)
    await world.alice.click(card, label="Going")
    await world.admin.slash(world.general, "event edit", event="Raid", registration=False)
    now = card_of(world, card)
    assert now.components == []
    assert fields(now)["Going (1)"] == mention(world.alice)  # who answered before still shows

    await world.admin.slash(world.general, "event edit", event="Raid", registration=True)
    assert buttons(card_of(world, card)) == buttons(card)
    res = await world.bob.click(card_of(world, card), label="Going")
    assert res.followups[0].content == "✅ You're going to **Raid**."


async def test_after_the_deadline_answers_are_refused_saying_when_it_closed(world):
    card = await create(world, deadline="tomorrow 12:00")
    await world.alice.click(card, label="Going")
    deadline = int(datetime(2026, 1, 2, 12, 0, tzinfo=UTC).timestamp())
    await world.env.advance_time(36 * 3600 + 60)  # 2026-01-02 12:01

    clicked = await world.bob.click(card_of(world, card), label="Going")
    assert clicked.ephemeral
    says = f"⚠️ Registration for this event closed <t:{deadline}:F> (<t:{deadline}:R>)."
    assert clicked.response.content == says
    by_command = await world.alice.slash(world.general, "event rsvp", event="Raid", status="not_going")
    assert by_command.ephemeral and by_command.response.content == says
    assert fields(card_of(world, card))["Going (1)"] == mention(world.alice)  # nothing changed


async def test_without_a_deadline_registration_closes_when_the_event_is_over(world):
    card = await create(world, start="in 1 hour", duration="1h")
    await world.env.advance_time(2 * 3600 + 60)
    clicked = await world.alice.click(card_of(world, card), label="Going")
    assert clicked.response.content.startswith("⚠️ Registration for this event closed <t:")


async def test_capacity_waitlists_and_a_freed_place_goes_to_the_first_waiting_by_dm(world):
    carol, dave = member(world, "carol"), member(world, "dave")
    card = await create(world, capacity=2)
    assert "Going (0/2)" in fields(card)
    await world.alice.click(card, label="Going")
    await world.bob.click(card, label="Going")
    third = await carol.click(card, label="Going")
    assert third.followups[0].content == (
        "⏳ **Raid** is full, so you're on the waitlist: number 1. I'll send you a DM if a place opens up."
    )
    fourth = await dave.click(card, label="Going")
    assert "number 2" in fourth.followups[0].content
    now = fields(card_of(world, card))
    assert now["Going (2/2)"] == f"{mention(world.alice)}, {mention(world.bob)}"
    assert now["Waitlist (2)"] == f"{mention(carol)}, {mention(dave)}"

    left = await world.alice.click(card, label="Not going")
    assert left.followups[0].content == "You're not going to **Raid**."  # nothing about others for the clicker
    now = fields(card_of(world, card))
    assert now["Going (2/2)"] == f"{mention(world.bob)}, {mention(carol)}"
    assert now["Waitlist (1)"] == mention(dave)
    [dm] = dms(carol)
    assert dm.startswith("🎉 A place opened up: you're going to **Raid** on **Guild**")
    assert f"https://discord.com/channels/{world.guild.id}/{world.general.id}/{card.id}" in dm
    assert dave.user.dm_channel.last_message is None
    dm_request = [r for r in world.env.http_requests if r.path == f"/channels/{carol.user.dm_channel.id}/messages"]
    assert dm_request[-1].json["allowed_mentions"] == {"parse": []}


async def test_a_waitlisted_member_answering_going_again_keeps_their_place(world):
    carol = member(world, "carol")
    card = await create(world, capacity=1)
    for actor in (world.alice, world.bob, carol):
        await actor.click(card, label="Going")
    again = await world.bob.click(card, label="Going")
    assert "number 1" in again.followups[0].content
    assert fields(card_of(world, card))["Waitlist (2)"] == f"{mention(world.bob)}, {mention(carol)}"


async def test_raising_the_capacity_promotes_the_waitlist_and_zero_removes_the_limit(world):
    carol = member(world, "carol")
    card = await create(world, capacity=1)
    for actor in (world.alice, world.bob, carol):
        await actor.click(card, label="Going")

    res = await world.admin.slash(world.general, "event edit", event="Raid", capacity=2)
    assert "1 member got a place off the waitlist." in res.response.content
    now = fields(card_of(world, card))
    assert now["Going (2/2)"] == f"{mention(world.alice)}, {mention(world.bob)}"
    assert now["Waitlist (1)"] == mention(carol)
    assert dms(world.bob)[-1].startswith("🎉 A place opened up")
    assert carol.user.dm_channel.last_message is None

    res = await world.admin.slash(world.general, "event edit", event="Raid", capacity=0)
    assert "1 member got a place off the waitlist." in res.response.content
    now = fields(card_of(world, card))
    assert now["Going (3)"] == f"{mention(world.alice)}, {mention(world.bob)}, {mention(carol)}"
    assert "Waitlist (1)" not in now
    assert dms(carol)[-1].startswith("🎉 A place opened up")
    shown = await world.alice.slash(world.general, "event show", event="Raid")
    assert "Going (3)" in {f.name for f in shown.response.embeds[0].fields}


async def test_lowering_the_capacity_keeps_everyone_going(world):
    card = await create(world)
    await world.alice.click(card, label="Going")
    await world.bob.click(card, label="Going")
    await world.admin.slash(world.general, "event edit", event="Raid", capacity=1)
    assert fields(card_of(world, card))["Going (2/1)"] == f"{mention(world.alice)}, {mention(world.bob)}"
    carol = member(world, "carol")
    res = await carol.click(card, label="Going")
    assert "waitlist: number 1" in res.followups[0].content


async def test_capacity_below_one_is_refused_by_discord(world):
    with pytest.raises(simcord.OptionError):
        await world.admin.slash(world.general, "event create", name="Raid", start="tomorrow 18:00", capacity=0)
    await create(world)
    with pytest.raises(simcord.OptionError):
        await world.admin.slash(world.general, "event edit", event="Raid", capacity=-1)


async def test_only_managers_change_the_capacity(world):
    await create(world, capacity=1)
    res = await world.alice.slash(world.general, "event edit", event="Raid", capacity=10)
    world.refused(res, NotAllowed, "Manage Server")


async def test_members_whose_dms_are_closed_are_flagged(world):
    card = await create(world)
    await world.alice.click(card, label="Going")
    await world.bot.store.attendees.set_dm_error(world.guild.id, 1, ONE_OFF, world.alice.id, DMS_CLOSED)
    await world.bob.click(card, label="Maybe")

    now = fields(card_of(world, card))
    assert now["Going (1)"] == f"{mention(world.alice)} (⚠️ DMs closed)"
    assert now["Maybe (1)"] == mention(world.bob)
    listing = (await world.bob.slash(world.general, "event attendees", event="Raid")).response.embeds[0]
    assert f"{mention(world.alice)} (⚠️ DMs closed)" in listing.description.splitlines()
    assert "⚠️ DMs closed: reminders by DM cannot reach that member" in listing.footer.text


async def test_a_promotion_dm_to_closed_dms_is_flagged_not_an_error_for_the_clicker(world):
    card = await create(world, capacity=1)
    await world.alice.click(card, label="Going")
    await world.bob.click(card, label="Going")
    world.env.inject_error(
        "POST", f"/channels/{world.bob.user.dm_channel.id}/messages", status=403, code=50007, times=None
    )

    left = await world.alice.click(card, label="Not going")
    assert left.followups[0].content == "You're not going to **Raid**."
    assert fields(card_of(world, card))["Going (1/1)"] == f"{mention(world.bob)} (⚠️ DMs closed)"
    [bob] = [a for a in await world.bot.store.attendees.list(world.guild.id, 1, ONE_OFF) if a.status == GOING]
    assert bob.user_id == world.bob.id and bob.dm_error == DMS_CLOSED


async def test_an_unknown_status_is_refused(world):
    await create(world)
    with pytest.raises(simcord.OptionError):  # the synced choices: Discord itself refuses it
        await world.alice.slash(world.general, "event rsvp", event="Raid", status="yes")
    assert await world.bot.store.attendees.list(world.guild.id, 1, ONE_OFF) == []


async def test_an_unknown_event_is_refused(world):
    res = await world.alice.slash(world.general, "event rsvp", event="404", status="going")
    world.refused(res, NotFound, "no event `404`")


async def test_events_of_another_guild_are_not_reachable(world):
    card = await create(world)
    other = world.env.create_guild(name="Other")
    other_channel = other.create_text_channel("general")
    stranger = other.add_member(world.env.create_user("stranger"))

    res = await stranger.slash(other_channel, "event rsvp", event="1", status="going")
    world.refused(res, NotFound, "no event `1`")
    res = await stranger.slash(other_channel, "event attendees", event="1")
    world.refused(res, NotFound, "no event `1`")

    # Even a button naming event 1, on a message in the other guild, reaches nothing there.
    [event] = (await world.bot.store.events.upcoming(world.guild.id, world.env.now()))[0]
    forged = await world.bot.get_channel(other_channel.id).send("copy", view=card_view(event))
    clicked = await stranger.click(other_channel.last_message, label="Going")
    assert forged.id == other_channel.last_message.id
    assert (
        clicked.ephemeral
        and clicked.response.content == "⚠️ There is no such event on this server; it may have been deleted."
    )
    assert await world.bot.store.attendees.list(world.guild.id, 1, ONE_OFF) == []
    assert fields(card_of(world, card))["Going (0)"] == "No one yet"


async def test_a_deleted_events_card_has_no_buttons(world):
    card = await create(world)
    await world.alice.click(card, label="Going")
    await world.admin.slash(world.general, "event delete", event="Raid")
    now = card_of(world, card)
    assert now.embeds[0].title == "Cancelled: Raid"
    assert now.components == []
    assert not any(name.startswith("Going") for name in fields(now))


async def test_long_lists_stay_within_discords_embed_limits(world):
    card = await create(world, description="d" * 4000, location="l" * 1024, capacity=100)
    store, guild_id = world.bot.store, world.guild.id
    for n in range(40):
        user_id = 10**17 + n
        await store.attendees.respond(guild_id, 1, ONE_OFF, user_id, GOING, 100)
        await store.attendees.set_dm_error(guild_id, 1, ONE_OFF, user_id, DMS_CLOSED)
    await world.alice.click(card, label="Maybe")

    embed = card_of(world, card).embeds[0]
    assert len(embed) <= EMBED_TOTAL
    going = fields(card_of(world, card))["Going (40/100)"]
    assert len(going) <= FIELD_VALUE and going.endswith(" more")
    assert going.startswith(f"<@{10**17}> (⚠️ DMs closed)")


async def test_twenty_names_then_and_n_more(world):
    card = await create(world)
    for n in range(25):
        await world.bot.store.attendees.respond(world.guild.id, 1, ONE_OFF, 10**17 + n, MAYBE, None)
    await world.alice.click(card, label="Maybe")
    maybe = fields(card_of(world, card))["Maybe (26)"]
    assert maybe.split(", ")[:2] == [f"<@{10**17}>", f"<@{10**17 + 1}>"]
    assert len(maybe.split(", ")) == 21 and maybe.endswith("and 6 more")


async def test_event_names_in_rsvp_replies_never_ping(world):
    card = await create(world, name="@everyone raid", capacity=1)
    going = await world.alice.click(card, label="Going")
    assert going.followups[0].content == "✅ You're going to **@everyone raid**."
    await world.bob.click(card, label="Going")
    await world.alice.click(card, label="Not going")
    followups = [r for r in world.env.http_requests if r.method == "POST" and r.path.startswith("/webhooks/")]
    assert followups and all(r.json["allowed_mentions"] == {"parse": []} for r in followups)
    dm_path = f"/channels/{world.bob.user.dm_channel.id}/messages"
    assert [r.json["allowed_mentions"] for r in world.env.http_requests if r.path == dm_path] == [{"parse": []}]


async def test_a_bad_answer_never_reaches_the_store(world):
    """parse_response guards the one path every answer takes (buttons and /event rsvp)."""
    await create(world)
    with pytest.raises(InvalidField, match="unknown answer 'yes'"):
        await answer(world.bot, world.guild.id, 1, ONE_OFF, world.alice.id, "yes")
    with pytest.raises(InvalidField):
        await answer(world.bot, world.guild.id, 1, ONE_OFF, world.alice.id, WAITLISTED)
    assert await world.bot.store.attendees.list(world.guild.id, 1, ONE_OFF) == []


async def test_a_long_japanese_location_leaves_out_the_google_link_not_the_card(world):
    # Percent-encoded, the link passed a field's 1,024 characters, and the card was never posted.
    card = await create(world, location="東京都" * 30, repeat="weekly", timezone="America/Argentina/Buenos_Aires")
    assert card.embeds, "the card was posted"
    assert fields(card)["Add to your calendar"] == "`/event export` adds it to any calendar app"
    assert fields(card)["Location"] == "東京都" * 30


async def test_a_series_card_with_every_field_at_its_length_is_posted(world):
    card = await create(
        world,
        name="N" * 100,
        description="D" * 4000,
        location="L" * 1024,
        url="https://example.com/" + "u" * 2000,
        repeat="FREQ=MONTHLY;BYDAY=" + ",".join(f"{n}{day}" for n in (1, 2, 3, 4, -1) for day in DAYS),
        deadline="tomorrow 17:00",
        capacity=100,
    )
    for n in range(40):
        await world.bot.store.attendees.respond(world.guild.id, 1, card_key(card), 10**17 + n, GOING, 100)
    await world.alice.click(card, label="Going")
    embed = card_of(world, card).embeds[0]
    assert len(embed) <= EMBED_TOTAL
    shown = fields(card_of(world, card))
    assert "Add to your calendar" not in shown  # the optional link goes first
    assert shown["Going (41/100)"].endswith(" more") or shown["Going (41/100)"] == "41 members"  # then names
    assert embed.description == "D" * 4000 and shown["Location"] == "L" * 1024
    assert len(embed.title) == 100


def card_key(card: discord.Message) -> int:
    """The occurrence a series' card is about, from its buttons."""
    return int(card.components[0].children[0].custom_id.split(":")[3])
