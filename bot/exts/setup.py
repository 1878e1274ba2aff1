"""/setup: a new server's first minute, in one private message that walks through the settings.

Each step is a Discord select menu (time zone, default channel, manager role, organiser role, default
reminders) and can be skipped; each choice is saved at once through the same settings store and validation
as /settings, so leaving half-way keeps what was chosen. The last step offers to create the first calendar.
Any time zone can be typed (with suggestions) in /setup's own `timezone` option; the menu offers common ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.errors import InvalidField
from bot.domain.models import Calendar
from bot.domain.notifications import intervals_in_words
from bot.domain.timezones import ABBREVIATIONS

from .cards import settings_embed
from .common import ZoneOption, calbot, ensure_postable, manager_only, reading_notes, respond, settings_for
from .tree import ReportingView, report_error

if TYPE_CHECKING:
    from bot.app import CalBot

STEP_TIMEOUT = 900.0  # seconds a step waits for a choice
FIRST_CALENDAR = "General"
# The zones the menu offers (a select holds 25); any other is typed in /setup's `timezone` option.
COMMON_ZONES = (
    "UTC", "Europe/London", "Europe/Lisbon", "Europe/Paris", "Europe/Berlin", "Europe/Athens", "Europe/Moscow",
    "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
    "America/Anchorage", "Pacific/Honolulu", "America/Halifax", "America/Sao_Paulo", "Africa/Johannesburg",
    "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore", "Asia/Shanghai", "Asia/Tokyo", "Australia/Perth",
    "Australia/Sydney", "Pacific/Auckland",
)  # fmt: skip
REMINDER_OPTIONS = (("pt0m", "At the start"), ("pt15m", "15 minutes before"), ("pt1h", "1 hour before"),
                    ("p1d", "1 day before"), ("p1w", "1 week before"))  # fmt: skip
STEPS = ("time zone", "default channel", "manager role", "organiser role", "default reminders")


def _zone_label(zone: str) -> str:
    names = sorted({word for word, entry in ABBREVIATIONS.items() if entry.zone == zone and len(word) > 2})
    return f"{zone} ({', '.join(names[:3])})" if names else zone


@dataclass
class Flow:
    """One admin's walk through /setup: where they are, and what each step did."""

    step: int = 0
    done: list[str] = field(default_factory=list)


class StepView(ReportingView):
    """One step: its menu, Skip, and (on some steps) buttons for the choices a menu cannot offer. The message
    is ephemeral, so only the admin who ran /setup sees it and can click."""

    def __init__(self, cog: Setup, flow: Flow) -> None:
        super().__init__(timeout=STEP_TIMEOUT)
        self.cog, self.flow = cog, flow


class Setup(commands.Cog):
    def __init__(self, bot: CalBot) -> None:
        self.bot = bot

    @app_commands.command(name="setup")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(
        timezone="This server's time zone: a city, an IANA name or EST, CET... (empty: pick one from a list)"
    )
    @manager_only(role_may=False)  # it sets the manager role, which the manager role must not hand on
    async def setup(
        self, interaction: discord.Interaction, timezone: app_commands.Transform[str, ZoneOption] | None = None
    ) -> None:
        """Set calbot up for this server, step by step: time zone, channel, roles, reminders."""
        flow = Flow()
        if timezone is not None:
            await self._save(interaction, timezone=timezone)
            read = reading_notes(interaction)
            flow.done.append(f"Time zone: **{timezone}**." + (f" {read}" if read else ""))
            flow.step = 1
        content, view = await self.render(interaction, flow)
        await respond(interaction, content, **({"view": view} if view else {}))

    async def _save(self, interaction: discord.Interaction, **changes) -> None:
        await self.bot.store.settings.change(await settings_for(interaction), **changes)

    # ---- the steps

    async def render(self, interaction: discord.Interaction, flow: Flow) -> tuple[str, discord.ui.View | None]:
        settings = await settings_for(interaction)
        lines = list(flow.done)
        if flow.step >= len(STEPS):
            return await self._finish(interaction, flow, lines)
        lines.append(f"**Step {flow.step + 1} of {len(STEPS)}: {STEPS[flow.step]}**")
        view = StepView(self, flow)
        builder = (self._zone_step, self._channel_step, self._manager_step, self._organiser_step, self._reminder_step)
        lines.append(builder[flow.step](view, settings))
        skip = discord.ui.Button(label="Skip", style=discord.ButtonStyle.secondary, custom_id="calbot:setup:skip")
        skip.callback = lambda i: self.advance(i, flow, f"{STEPS[flow.step].capitalize()}: skipped.")
        view.add_item(skip)
        return "\n".join(lines), view

    async def advance(self, interaction: discord.Interaction, flow: Flow, note: str) -> None:
        flow.done.append(note)
        flow.step += 1
        content, view = await self.render(interaction, flow)
        await interaction.response.edit_message(content=content, embed=None, view=view)

    def _zone_step(self, view: StepView, settings) -> str:
        zones = [settings.timezone, *(z for z in COMMON_ZONES if z != settings.timezone)][:25]
        menu = discord.ui.Select(
            placeholder="Pick the server's time zone",
            options=[
                discord.SelectOption(label=_zone_label(z), value=z, default=z == settings.timezone) for z in zones
            ],
            custom_id="calbot:setup:zone",
        )

        async def chosen(interaction: discord.Interaction) -> None:
            zone = menu.values[0]
            await self._save(interaction, timezone=zone)
            await self.advance(interaction, view.flow, f"Time zone: **{zone}**.")

        menu.callback = chosen
        view.add_item(menu)
        return (
            f"Times people type are read in the server's time zone (now {settings.timezone}); everyone sees times "
            "in their own. Not in the list? Run `/setup timezone:` and type a city, a zone or EST, CET..."
        )

    def _channel_step(self, view: StepView, settings) -> str:
        menu = discord.ui.ChannelSelect(
            placeholder="Pick the default channel", channel_types=[discord.ChannelType.text],
            custom_id="calbot:setup:channel",
        )  # fmt: skip

        async def chosen(interaction: discord.Interaction) -> None:
            channel = interaction.guild.get_channel(menu.values[0].id)
            if channel is None:
                raise InvalidField("channel", "calbot cannot see that channel")
            ensure_postable(interaction, channel)
            await self._save(interaction, default_channel_id=channel.id)
            await self.advance(interaction, view.flow, f"Default channel: {channel.mention}.")

        menu.callback = chosen
        view.add_item(menu)
        return "Where event cards and reminders go when their calendar names no channel of its own."

    def _manager_step(self, view: StepView, settings) -> str:
        menu = discord.ui.RoleSelect(placeholder="Pick the manager role", custom_id="calbot:setup:manager")

        async def chosen(interaction: discord.Interaction) -> None:
            role = menu.values[0]
            if role.is_default():
                raise InvalidField("role", "@everyone cannot be the manager role; everyone would manage the calendars")
            await self._save(interaction, manager_role_id=role.id)
            await self.advance(interaction, view.flow, f"Manager role: {role.mention}.")

        menu.callback = chosen
        view.add_item(menu)
        return "Members with this role manage calendars, events and settings, besides those with Manage Server."

    def _organiser_step(self, view: StepView, settings) -> str:
        menu = discord.ui.RoleSelect(placeholder="Pick the organiser role", custom_id="calbot:setup:organiser")

        async def chosen(interaction: discord.Interaction) -> None:
            role = menu.values[0]
            await self._save(interaction, organiser_role_id=role.id)
            who = "every member" if role.is_default() else role.mention
            await self.advance(interaction, view.flow, f"Organisers: {who}.")

        async def everyone(interaction: discord.Interaction) -> None:
            await self._save(interaction, organiser_role_id=interaction.guild_id)  # @everyone's id is the guild's
            await self.advance(interaction, view.flow, "Organisers: every member.")

        async def nobody(interaction: discord.Interaction) -> None:
            await self._save(interaction, organiser_role_id=None)
            await self.advance(interaction, view.flow, "Organisers: none (only managers create events).")

        menu.callback = chosen
        view.add_item(menu)
        for label, callback, key in (("Every member", everyone, "everyone"), ("No organisers", nobody, "none")):
            button = discord.ui.Button(label=label, style=discord.ButtonStyle.primary, custom_id=f"calbot:setup:{key}")
            button.callback = callback
            view.add_item(button)
        return "Organisers create events and change the ones they created; managers change every event."

    def _reminder_step(self, view: StepView, settings) -> str:
        menu = discord.ui.Select(
            placeholder="When to remind, by default",
            min_values=1,
            max_values=len(REMINDER_OPTIONS),
            options=[
                discord.SelectOption(label=label, value=code, default=code in settings.default_reminders)
                for code, label in REMINDER_OPTIONS
            ],
            custom_id="calbot:setup:reminders",
        )

        async def chosen(interaction: discord.Interaction) -> None:
            saved = await self.bot.store.settings.change(await settings_for(interaction), default_reminders=menu.values)
            await self.advance(
                interaction, view.flow, f"Default reminders: {intervals_in_words(saved.default_reminders)}."
            )

        async def none(interaction: discord.Interaction) -> None:
            await self._save(interaction, default_reminders=())
            await self.advance(interaction, view.flow, "Default reminders: none.")

        menu.callback = chosen
        view.add_item(menu)
        button = discord.ui.Button(
            label="No reminders", style=discord.ButtonStyle.primary, custom_id="calbot:setup:noreminders"
        )
        button.callback = none
        view.add_item(button)
        return (
            "New events remind people this long before they start "
            f"(now {intervals_in_words(settings.default_reminders)}); each event can change its own with "
            "`/event create reminders:`."
        )

    async def _finish(
        self, interaction: discord.Interaction, flow: Flow, lines: list[str]
    ) -> tuple[str, discord.ui.View | None]:
        lines.append("**Done.** Change any of this later with `/settings`; `/help` shows every command.")
        if await self.bot.store.calendars.list(interaction.guild_id):
            lines.append("Create an event with `/event create name:… start:…`.")
            return "\n".join(lines), None
        lines.append("Next: create the first calendar, then an event with `/event create`.")
        view = StepView(self, flow)
        button = discord.ui.Button(
            label="Create the first calendar", style=discord.ButtonStyle.success, custom_id="calbot:setup:calendar"
        )

        async def create(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(FirstCalendar(self))

        button.callback = create
        view.add_item(button)
        return "\n".join(lines), view


class FirstCalendar(discord.ui.Modal, title="The first calendar"):
    name = discord.ui.TextInput(label="Name", custom_id="name", default=FIRST_CALENDAR, min_length=1, max_length=100)

    def __init__(self, cog: Setup) -> None:
        super().__init__(timeout=STEP_TIMEOUT)
        self.cog = cog

    async def on_submit(self, interaction: discord.Interaction) -> None:
        settings = await settings_for(interaction)
        calendar = await calbot(interaction).store.calendars.create(
            Calendar(guild_id=interaction.guild_id, name=self.name.value, channel_id=settings.default_channel_id)
        )
        where = f" Its cards go to <#{calendar.channel_id}>." if calendar.channel_id else ""
        await interaction.response.edit_message(
            content=(
                f"Created calendar **{calendar.name}**.{where}\nNow create the first event: "
                f"`/event create name:Game night start:friday 8pm calendar:{calendar.name}`."
            ),
            embed=settings_embed(settings),
            view=None,
        )

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_error(interaction, error)


async def setup(bot: CalBot) -> None:
    await bot.add_cog(Setup(bot))
