"""Organisers: /settings organiser-role lets a role (or every member) create events and change their own;
managers change every event. The same rule holds on the API for the tokens organisers create."""

from __future__ import annotations

import pytest

from bot.domain.errors import NotFound
from bot.domain.permissions import NotAllowed
from bot.exts.common import NotManager


@pytest.fixture
async def organisers(world):
    role = world.guild.create_role("Organisers")
    res = await world.admin.slash(world.general, "settings organiser-role", role=role)
    assert f"Members with <@&{role.id}> may now create events" in res.response.content
    world.olga = world.guild.add_member(world.env.create_user("olga"), roles=[role])
    world.oscar = world.guild.add_member(world.env.create_user("oscar"), roles=[role])
    return role


def _id(res) -> str:
    text = (res.followups[-1] if res.followups else res.response).content
    return text.split("(`#", 1)[1].split("`", 1)[0]


async def test_an_organiser_creates_and_changes_their_own_events(world, organisers):
    made = await world.olga.slash(world.general, "event create", name="Olga's raid", start="tomorrow 18:00")
    event = _id(made)
    assert "Created **Olga's raid**" in made.response.content
    edited = await world.olga.slash(world.general, "event edit", event=event, name="Olga's big raid")
    assert "Updated **Olga's big raid**" in edited.response.content
    shown = await world.alice.slash(world.general, "event show", event=event)
    assert {f.name: f.value for f in shown.response.embeds[0].fields}["Created by"] == f"<@{world.olga.id}>"
    deleted = await world.olga.slash(world.general, "event delete", event=event)
    assert "Deleted **Olga's big raid**" in deleted.response.content


async def test_an_organiser_cannot_change_events_of_others(world, organisers):
    by_admin = _id(await world.admin.slash(world.general, "event create", name="Admin's", start="tomorrow 18:00"))
    by_oscar = _id(await world.oscar.slash(world.general, "event create", name="Oscar's", start="tomorrow 19:00"))
    series = _id(
        await world.oscar.slash(world.general, "event create", name="Weekly", start="tomorrow 20:00", repeat="weekly")
    )
    for command, options in (
        ("event edit", {"event": by_admin, "name": "Hijacked"}),
        ("event edit", {"event": by_oscar, "name": "Hijacked"}),
        ("event delete", {"event": by_oscar}),
        ("event cancel", {"event": series}),
    ):
        res = await world.olga.slash(world.general, command, **options)
        world.refused(res, NotAllowed, "Organisers change only the events they created")
    listed = (await world.alice.slash(world.general, "event list")).response.embeds[0].description
    assert "Hijacked" not in listed and "Admin's" in listed and "Oscar's" in listed

    cancelled = await world.oscar.slash(world.general, "event cancel", event=series)
    assert "Cancelled the" in cancelled.response.content


async def test_managers_change_every_event(world, organisers):
    event = _id(await world.olga.slash(world.general, "event create", name="Olga's", start="tomorrow 18:00"))
    edited = await world.admin.slash(world.general, "event edit", event=event, name="Renamed by a manager")
    assert "Updated **Renamed by a manager**" in edited.response.content
    assert "Deleted" in (await world.admin.slash(world.general, "event delete", event=event)).response.content


async def test_members_without_the_role_are_told_which_role_creates(world, organisers):
    res = await world.alice.slash(world.general, "event create", name="Mine", start="tomorrow 10:00")
    world.refused(res, NotAllowed, f"To create events you need the <@&{organisers.id}> role, or the **Manage Server")


async def test_organisers_do_not_manage_calendars_or_settings(world, organisers):
    world.refused(await world.olga.slash(world.general, "calendar create", name="Mine"), NotManager, "Manage Server")
    world.refused(
        await world.olga.slash(world.general, "settings organiser-role", role=organisers), NotManager, "Manage Server"
    )


async def test_everyone_and_none(world):
    everyone = await world.admin.slash(world.general, "settings organiser-role", role=world.guild.default_role)
    assert "Every member may now create events" in everyone.response.content
    shown = await world.alice.slash(world.general, "settings show")
    assert {f.name: f.value for f in shown.response.embeds[0].fields}["Organisers"] == "every member"
    mine = _id(await world.alice.slash(world.general, "event create", name="Alice's", start="tomorrow 18:00"))
    world.refused(
        await world.bob.slash(world.general, "event delete", event=mine), NotAllowed, "only the events they created"
    )

    none = await world.admin.slash(world.general, "settings organiser-role")
    assert "No organisers now" in none.response.content
    refused = await world.alice.slash(world.general, "event edit", event=mine, name="Still mine?")
    world.refused(refused, NotAllowed, "`/settings organiser-role`")


async def test_an_organiser_makes_tokens_that_act_as_them_and_sees_only_those(world, organisers):
    [api] = [c for c in await world.bot.tree.fetch_commands() if c.name == "api"]
    world.guild.set_command_permissions(api, {organisers: True})  # /api is hidden until a server shows it
    await world.admin.slash(world.general, "api token create", name="Admin's")
    made = await world.olga.slash(world.general, "api token create", name="Olga's bot")
    assert "It acts as you, an organiser" in made.response.content
    tokens = {t.name: t for t in await world.bot.store.tokens.list(world.guild.id)}
    hers, admins = tokens["Olga's bot"], tokens["Admin's"]
    assert (hers.role, hers.created_by, admins.role) == ("organiser", world.olga.id, "manager")

    listed = (await world.olga.slash(world.general, "api token list")).response.embeds[0]
    assert [f.name for f in listed.fields] == [f"#{hers.id} Olga's bot"]
    other = await world.olga.slash(world.general, "api token revoke", token=str(admins.id))
    world.refused(other, NotFound, "There is no API token")
    revoked = await world.olga.slash(world.general, "api token revoke", token=str(hers.id))
    assert "Revoked token" in revoked.response.content
