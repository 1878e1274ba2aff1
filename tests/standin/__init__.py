"""Local Discord stand-in (REST + gateway) for end-to-end tests of a real discord.py bot."""

from ._validate import DiscordError
from .server import (
    DiscordStandIn,
    Injection,
    Intents,
    Permissions,
    RequestRecord,
    StandInError,
    StandInTimeout,
)

__all__ = [
    "DiscordError",
    "DiscordStandIn",
    "Injection",
    "Intents",
    "Permissions",
    "RequestRecord",
    "StandInError",
    "StandInTimeout",
]
