"""The one global error handler: domain errors become friendly ephemeral replies; the rest is logged."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.domain.errors import Conflict, DomainError, InvalidField, NotFound
from bot.domain.permissions import NotAllowed
from bot.storage.database import Unavailable

from .common import NotManager, Refused, respond

log = logging.getLogger(__name__)


# Domain field names → the option names people type them into.
OPTION_NAMES = {
    "starts": "start",
    "ends": "end",
    "registration_deadline": "deadline",
    "notifications_interval": "reminders",
    "notifications_channels": "channels",
}


def explain(error: Exception) -> str | None:
    """The message for an error the user can fix, or None for a fault of ours."""
    if isinstance(error, InvalidField):
        return f"`{OPTION_NAMES.get(error.field, error.field)}`: {error.reason}"
    if isinstance(error, NotFound):
        return f"There is no {error.kind} `{error.ref}` on this server. Pick one from the list as you type."
    if isinstance(error, Conflict):
        return f"`{OPTION_NAMES.get(error.field, error.field)}`: {error.reason}"
    if isinstance(error, NotAllowed | Refused):
        return not_allowed(error.refusal if isinstance(error, Refused) else error)
    if isinstance(error, NotManager):
        role = f" or the <@&{error.manager_role_id}> role" if error.manager_role_id else ""
        return f"Changing the calendar needs the **Manage Server** permission{role}."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "Use this command in a server."
    if isinstance(error, DomainError):
        return str(error)
    if isinstance(error, Unavailable):
        # "Nothing was changed" only when it is certain: the failing write was rolled back, and the command
        # had stored nothing before it.
        changed = " Nothing was changed." if error.nothing_changed else ""
        return f"The database is unavailable right now; try again in a minute.{changed}"
    return None


def not_allowed(error: NotAllowed) -> str:
    managers = "the **Manage Server** permission"
    if error.manager_role_id:
        managers += f" or the <@&{error.manager_role_id}> role"
    if error.own_only:
        return f"Organisers change only the events they created; this one is someone else's (ask for {managers})."
    if error.organiser_role_id is not None and not error.everyone_organises:
        return f"To {error.action} you need the <@&{error.organiser_role_id}> role, or {managers}."
    return f"To {error.action} you need {managers}; they may open it to organisers with `/settings organiser-role`."


async def report_error(interaction: discord.Interaction, error: Exception) -> None:
    """Tell the member what went wrong: what to fix for their errors, an apology (and a log entry) for ours."""
    cause = error
    # Commands and transformers wrap what they raise; the domain error is underneath.
    if isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        cause = error.__cause__ or error
    message = explain(cause)
    command = interaction.command.qualified_name if interaction.command else "a button"
    if isinstance(cause, Unavailable):  # not a fault of ours, and its traceback says nothing: one line
        log.warning("/%s in guild %s: the database is unavailable: %s", command, interaction.guild_id, cause.reason)
    elif message is None:
        log.error("/%s failed in guild %s", command, interaction.guild_id, exc_info=error)
        message = "Something went wrong on our side; it has been logged. Nothing was changed by the failed step."
    try:  # a long echo of typed text is shortened by respond, never inside a mention or an escape
        await respond(interaction, f"⚠️ {message}")
    except discord.HTTPException:
        log.warning("Could not deliver an error reply for interaction %s", interaction.id)


class CalbotTree(app_commands.CommandTree):
    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await report_error(interaction, error)


class ReportingView(discord.ui.View):
    """A view whose button errors reach the member like command errors do."""

    async def on_error(self, interaction: discord.Interaction, error: Exception, _item: discord.ui.Item) -> None:
        await report_error(interaction, error)
