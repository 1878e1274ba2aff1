"""Who may change what. One rule for both roads (slash commands and API tokens):

- managers (Manage Server, or the guild's manager role) manage every calendar and event;
- organisers (the guild's organiser role, or every member when that role is @everyone) create events and
  edit, cancel and delete the events they created (the event's `author_id`, as PERSCOM records it);
- everyone else reads, answers and exports.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting (a member, or an API token as its creator) and what the guild's settings let them do."""

    standing: Standing
    user_id: int | None
    settings: GuildSettings

    def check_create(self) -> None:
        if not may_create_events(self.standing):
            raise NotAllowed("create events", self.standing, self.settings)

    def check_change(self, event: Event) -> None:
        if not may_change(self.standing, self.user_id, event):
            raise NotAllowed("change this event", self.standing, self.settings, own_only=self.is_organiser)

    def check_manage(self, action: str = "change calendars") -> None:
        if self.standing is not Standing.MANAGER:
            raise NotAllowed(action, self.standing, self.settings)

    @property
    def is_organiser(self) -> bool:
        return self.standing is Standing.ORGANISER

    def authored(self, event: Event) -> Event:
        """A new event as this actor creates it: an organiser's is theirs (it may name no other author)."""
        self.check_create()
        if not self.is_organiser:
            return event
        if event.author_id not in (None, self.user_id):
            raise NotAllowed("create events for another author", self.standing, self.settings, own_only=True)
        return dataclasses.replace(event, author_id=self.user_id)

    def check_edit(self, before: Event, after: Event) -> None:
        """An edit of `before`: allowed at all, and an organiser may not hand the event on to another author."""
        self.check_change(before)
        if self.is_organiser and after.author_id != before.author_id:
            raise NotAllowed("hand an event on to another author", self.standing, self.settings, own_only=True)
