"""Who may change what. One rule for both roads (slash commands and API tokens):

- managers (Manage Server, or the guild's manager role) manage every calendar and event;
- organisers (the guild's organiser role, or every member when that role is @everyone) create events and
  edit, cancel and delete the events they created (the event's `author_id`, as PERSCOM records it);
- everyone else reads, answers and exports.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from .errors import DomainError
from .models import Event, GuildSettings


class Standing(enum.Enum):
    MANAGER = "manager"
    ORGANISER = "organiser"
    MEMBER = "member"


class NotAllowed(DomainError):
    """`standing` may not do `action`; `own_only` when an organiser tried an event somebody else created."""

    def __init__(self, action: str, standing: Standing, settings: GuildSettings, *, own_only: bool = False) -> None:
        super().__init__(f"a {standing.value} may not {action}")
        self.action = action
        self.standing = standing
        self.manager_role_id = settings.manager_role_id
        self.organiser_role_id = settings.organiser_role_id
        self.everyone_organises = everyone_organises(settings)
        self.own_only = own_only


def everyone_organises(settings: GuildSettings) -> bool:
    # Discord's @everyone role has the guild's id.
    return settings.organiser_role_id is not None and settings.organiser_role_id == settings.guild_id


def standing(*, manages_server: bool, role_ids: Iterable[int], settings: GuildSettings) -> Standing:
    """A member's standing from their Manage Server permission and their roles."""
    roles = set(role_ids)
    if manages_server or (settings.manager_role_id is not None and settings.manager_role_id in roles):
        return Standing.MANAGER
    if everyone_organises(settings) or (settings.organiser_role_id is not None and settings.organiser_role_id in roles):
        return Standing.ORGANISER
    return Standing.MEMBER


def token_standing(role: str, settings: GuildSettings) -> Standing:
    """An API token acts with the standing its creator had: a manager's token as a manager; an organiser's as
    an organiser while the guild has organisers at all (clearing the organiser role stops such tokens)."""
    if role == Standing.MANAGER.value:
        return Standing.MANAGER
    if role == Standing.ORGANISER.value and settings.organiser_role_id is not None:
        return Standing.ORGANISER
    return Standing.MEMBER


def may_create_events(who: Standing) -> bool:
    return who in (Standing.MANAGER, Standing.ORGANISER)


def may_change(who: Standing, actor_id: int | None, event: Event) -> bool:
    if who is Standing.MANAGER:
        return True
    return who is Standing.ORGANISER and actor_id is not None and event.author_id == actor_id


def check_create(who: Standing, settings: GuildSettings) -> None:
    if not may_create_events(who):
        raise NotAllowed("create events", who, settings)


def check_change(who: Standing, actor_id: int | None, event: Event, settings: GuildSettings) -> None:
    if not may_change(who, actor_id, event):
        raise NotAllowed("change this event", who, settings, own_only=who is Standing.ORGANISER)


def check_manage(who: Standing, settings: GuildSettings, action: str = "change calendars or settings") -> None:
    if who is not Standing.MANAGER:
        raise NotAllowed(action, who, settings)
