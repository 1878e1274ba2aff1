"""Who may change what: the one rule behind slash commands and API tokens."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain.models import Event, GuildSettings
from bot.domain.permissions import Actor, NotAllowed, Standing, standing, token_standing

GUILD, MANAGERS, ORGANISERS, OTHER = 1, 10, 20, 30
ANNA, BEN = 100, 200
SETTINGS = GuildSettings(guild_id=GUILD, manager_role_id=MANAGERS, organiser_role_id=ORGANISERS)
EVERYONE = GuildSettings(guild_id=GUILD, organiser_role_id=GUILD)  # @everyone's id is the guild's
NOBODY = GuildSettings(guild_id=GUILD)


def event(author: int | None) -> Event:
    return Event(guild_id=GUILD, calendar_id=1, name="x", starts=datetime(2026, 1, 1, tzinfo=UTC), author_id=author)


@pytest.mark.parametrize(
    ("manages_server", "roles", "settings", "expected"),
    [
        (True, [], NOBODY, Standing.MANAGER),
        (False, [MANAGERS], SETTINGS, Standing.MANAGER),
        (False, [MANAGERS, ORGANISERS], SETTINGS, Standing.MANAGER),
        (False, [ORGANISERS], SETTINGS, Standing.ORGANISER),
        (False, [OTHER], SETTINGS, Standing.MEMBER),
        (False, [], EVERYONE, Standing.ORGANISER),
        (False, [ORGANISERS], NOBODY, Standing.MEMBER),
    ],
)
def test_standing(manages_server: bool, roles: list[int], settings: GuildSettings, expected: Standing) -> None:
    assert standing(manages_server=manages_server, role_ids=roles, settings=settings) is expected


@pytest.mark.parametrize(
    ("who", "actor", "author", "creates", "changes"),
    [
        (Standing.MANAGER, ANNA, BEN, True, True),
        (Standing.MANAGER, None, None, True, True),  # a command-line token
        (Standing.ORGANISER, ANNA, ANNA, True, True),
        (Standing.ORGANISER, ANNA, BEN, True, False),
        (Standing.ORGANISER, ANNA, None, True, False),  # an event nobody is recorded as creating
        (Standing.MEMBER, ANNA, ANNA, False, False),
    ],
)
def test_who_creates_and_changes(who, actor, author, creates, changes) -> None:
    acting = Actor(who, actor, SETTINGS)
    for allowed, attempt in ((creates, acting.check_create), (changes, lambda: acting.check_change(event(author)))):
        if allowed:
            attempt()
        else:
            with pytest.raises(NotAllowed):
                attempt()


def test_an_organiser_creates_as_themselves_and_keeps_the_author() -> None:
    organiser = Actor(Standing.ORGANISER, ANNA, SETTINGS)
    assert organiser.authored(event(None)).author_id == ANNA
    with pytest.raises(NotAllowed) as refused:
        organiser.authored(event(BEN))
    assert refused.value.own_only
    with pytest.raises(NotAllowed):
        organiser.check_edit(event(ANNA), event(BEN))
    assert Actor(Standing.MANAGER, None, SETTINGS).authored(event(BEN)).author_id == BEN


@pytest.mark.parametrize(
    ("role", "settings", "expected"),
    [
        ("manager", NOBODY, Standing.MANAGER),
        ("organiser", SETTINGS, Standing.ORGANISER),
        ("organiser", EVERYONE, Standing.ORGANISER),
        ("organiser", NOBODY, Standing.MEMBER),  # the server cleared its organisers: the token stops writing
    ],
)
def test_a_token_acts_as_its_maker(role: str, settings: GuildSettings, expected: Standing) -> None:
    assert token_standing(role, settings) is expected
