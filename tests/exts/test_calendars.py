"""/calendar create, list, edit and delete, as a member sees them."""

from __future__ import annotations

import discord

from bot.domain.errors import Conflict, InvalidField, NotFound
from bot.exts.common import NotManager


async def test_create_then_list_shows_the_calendar(world):
    res = await world.admin.slash(
        world.general, "calendar create", name="Raids", description="Weekly raids", color="RED", channel=world.events
    )
    assert res.ephemeral
    assert "Created calendar **Raids**" in res.response.content
    assert f"<#{world.events.id}>" in res.response.content

    listing = await world.alice.slash(world.general, "calendar list")
    embed = listing.response.embeds[0]
    assert embed.title == "Calendars (1)"
    assert embed.fields[0].name == "Raids"
    assert "Weekly raids" in embed.fields[0].value and "0 events" in embed.fields[0].value
    assert "colour Red" in embed.fields[0].value


async def test_list_without_calendars_says_how_to_start(world):
    res = await world.alice.slash(world.general, "calendar list")
    assert "no calendars yet" in res.response.content


async def test_duplicate_name_is_refused_whatever_the_case(world):
    await world.admin.slash(world.general, "calendar create", name="Raids")
    res = await world.admin.slash(world.general, "calendar create", name="raids")
    world.refused(res, Conflict, "already has a calendar named 'raids'")
    listing = await world.alice.slash(world.general, "calendar list")
    assert listing.response.embeds[0].title == "Calendars (1)"


async def test_blank_name_is_refused_naming_the_field(world):
    res = await world.admin.slash(world.general, "calendar create", name="   ")
    world.refused(res, InvalidField, "`name`: must not be empty")


async def test_members_without_manage_server_cannot_create(world):
    res = await world.alice.slash(world.general, "calendar create", name="Mine")
    world.refused(res, NotManager, "Manage Server")
    listing = await world.alice.slash(world.general, "calendar list")
    assert "no calendars yet" in listing.response.content


async def test_edit_changes_only_what_is_given(world):
    await world.admin.slash(world.general, "calendar create", name="Raids", description="Weekly", color="RED")
    res = await world.admin.slash(
        world.general, "calendar edit", calendar="Raids", name="Dungeons", channel=world.events
    )
    assert "Updated calendar **Dungeons**" in res.response.content
    field = (await world.alice.slash(world.general, "calendar list")).response.embeds[0].fields[0]
    assert field.name == "Dungeons"
    assert "Weekly" in field.value and "colour Red" in field.value and f"<#{world.events.id}>" in field.value

    cleared = await world.admin.slash(world.general, "calendar edit", calendar="Dungeons", description="-")
    assert cleared.ephemeral
    field = (await world.alice.slash(world.general, "calendar list")).response.embeds[0].fields[0]
    assert "Weekly" not in field.value


async def test_edit_with_nothing_to_change_says_so(world):
    await world.admin.slash(world.general, "calendar create", name="Raids")
    res = await world.admin.slash(world.general, "calendar edit", calendar="Raids")
    assert "Nothing to change" in res.response.content


async def test_unknown_calendar_is_named_in_the_error(world):
    res = await world.admin.slash(world.general, "calendar edit", calendar="Nope", name="X")
    world.refused(res, NotFound, "no calendar `Nope`")


async def test_calendar_autocomplete_offers_matching_names(world):
    for name in ("Raids", "Meetings", "Raid practice"):
        await world.admin.slash(world.general, "calendar create", name=name)
    choices = await world.alice.autocomplete(world.general, "calendar edit", "calendar", "raid")
    assert [c["name"] for c in choices] == ["Raid practice", "Raids"]
    assert [c["value"] for c in choices] == ["Raid practice", "Raids"]


async def test_delete_an_empty_calendar_needs_no_confirmation(world):
    await world.admin.slash(world.general, "calendar create", name="Raids")
    res = await world.admin.slash(world.general, "calendar delete", calendar="Raids")
    assert "Deleted calendar **Raids**" in res.response.content
    assert "no calendars yet" in (await world.alice.slash(world.general, "calendar list")).response.content


async def _calendar_with_event(world):
    await world.admin.slash(world.general, "calendar create", name="Raids", channel=world.events)
    await world.admin.slash(world.general, "event create", name="Raid", start="tomorrow 18:00", calendar="Raids")
    return world.events.last_message


async def test_delete_with_events_asks_then_deletes_and_cancels_cards(world):
    card = await _calendar_with_event(world)
    res = await world.admin.slash(world.general, "calendar delete", calendar="Raids")
    assert res.response.embeds[0].title == "Delete Raids?"
    assert "holds **1** event" in res.response.embeds[0].description

    await world.admin.click(res.response, label="Delete calendar and events")
    assert "Deleted calendar **Raids** and its 1 event(s)" in res.response.content
    assert world.events.history()[-1].embeds[0].title == "Cancelled: Raid"
    assert card.id == world.events.history()[-1].id  # edited in place, not reposted
    upcoming = await world.alice.slash(world.general, "event list")
    assert upcoming.response.embeds[0].description == "No events."


async def test_keep_button_deletes_nothing(world):
    await _calendar_with_event(world)
    res = await world.admin.slash(world.general, "calendar delete", calendar="Raids")
    await world.admin.click(res.response, label="Keep it")
    assert "Nothing was deleted" in res.response.content
    listing = await world.alice.slash(world.general, "calendar list")
    assert "1 event" in listing.response.embeds[0].fields[0].value


async def test_unanswered_confirmation_expires_without_deleting(world):
    await _calendar_with_event(world)
    res = await world.admin.slash(world.general, "calendar delete", calendar="Raids")
    await world.env.advance_time(61)
    assert "No answer, so nothing was deleted" in res.response.content
    assert not res.response.components
    listing = await world.alice.slash(world.general, "calendar list")
    assert "1 event" in listing.response.embeds[0].fields[0].value


async def test_manager_role_members_may_write(world):
    role = world.guild.create_role("Planners")
    planner = world.guild.add_member(world.env.create_user("planner"), roles=[role])
    await world.admin.slash(world.general, "settings manager-role", role=role)
    res = await planner.slash(world.general, "calendar create", name="Planned")
    assert "Created calendar **Planned**" in res.response.content


async def test_replies_never_ping(world):
    res = await world.admin.slash(world.general, "calendar create", name="@everyone party")
    assert "@everyone party" in res.response.content
    callbacks = [r for r in world.env.http_requests if r.path.endswith("/callback")]
    assert callbacks[-1].json["data"]["allowed_mentions"] == {"parse": []}


# ---- found in review: each of these once failed


async def test_a_long_list_stays_within_discords_embed_limits(world):
    for n in range(25):
        await world.admin.slash(world.general, "calendar create", name=f"Calendar {n:02d}", description="d" * 1000)
    embed = (await world.alice.slash(world.general, "calendar list")).response.embeds[0]
    assert len(embed) <= 6000
    assert all(len(f.value) <= 1024 for f in embed.fields)
    assert embed.footer.text == f"and {25 - len(embed.fields)} more"


async def test_confirming_a_delete_that_already_happened_says_so(world):
    await _calendar_with_event(world)
    first = await world.admin.slash(world.general, "calendar delete", calendar="Raids")
    second = await world.admin.slash(world.general, "calendar delete", calendar="Raids")
    await world.admin.click(first.response, label="Delete calendar and events")
    answer = await world.admin.click(second.response, label="Delete calendar and events")
    world.refused(answer, NotFound, "There is no calendar")


async def test_cards_go_only_where_the_member_could_post(world):
    role = world.guild.create_role("Planners")
    planner = world.guild.add_member(world.env.create_user("planner"), roles=[role])
    await world.admin.slash(world.general, "settings manager-role", role=role)
    locked = world.guild.create_text_channel(
        "announcements", overwrites={world.guild.default_role: discord.PermissionOverwrite(send_messages=False)}
    )
    res = await planner.slash(world.general, "calendar create", name="Sneaky", channel=locked)
    world.refused(res, InvalidField, f"you cannot post in <#{locked.id}> yourself")
    assert "no calendars yet" in (await world.alice.slash(world.general, "calendar list")).response.content


async def test_channel_and_ping_role_can_be_set_and_cleared(world):
    raiders = world.guild.create_role("Raiders")
    await world.admin.slash(world.general, "calendar create", name="Raids", channel=world.events, ping_role=raiders)
    field = (await world.alice.slash(world.general, "calendar list")).response.embeds[0].fields[0]
    assert f"<#{world.events.id}>" in field.value and f"<@&{raiders.id}>" in field.value

    await world.admin.slash(world.general, "calendar edit", calendar="Raids", clear_channel=True, clear_ping_role=True)
    field = (await world.alice.slash(world.general, "calendar list")).response.embeds[0].fields[0]
    assert "cards in the default channel" in field.value and "mention" not in field.value

    everyone = await world.admin.slash(
        world.general, "calendar edit", calendar="Raids", ping_role=world.guild.default_role
    )
    world.refused(everyone, InvalidField, "cannot be a ping role")
