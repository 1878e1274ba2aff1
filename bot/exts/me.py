"""/me: a member's own settings, the same in every server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.contacts import MAIL, SMS, new_code, parse_mail, parse_phone
from bot.domain.errors import DomainError, InvalidField
from bot.domain.models import UserSettings
from bot.domain.notifications import parse_intervals, parse_private_channels, prefs_in_words
from bot.domain.reminders import ReminderPrefs
from bot.reminders import DeliveryError

from .common import ShortText, ZoneOption, reading_notes, respond, settings_for, think, timestamp, wall_time

if TYPE_CHECKING:
    from bot.app import CalBot


class Me(commands.GroupCog, group_name="me", group_description="Your own calbot settings"):
    def __init__(self, bot: CalBot) -> None:
        self.bot = bot

    email = app_commands.Group(name="email", description="Reminders by mail")
    phone = app_commands.Group(name="phone", description="Reminders by text message (SMS)")

    @app_commands.command(name="timezone")
    @app_commands.describe(timezone="Your time zone (a city or an IANA name); leave empty to use the server's")
    async def timezone(
        self, interaction: discord.Interaction, timezone: app_commands.Transform[str, ZoneOption] | None = None
    ) -> None:
        """Set the time zone the times you type are read in."""
        users = self.bot.store.users
        if timezone is None:
            await users.clear(interaction.user.id)
            await respond(interaction, "Times you type are read in the server's time zone again.")
            return
        saved = await users.save(UserSettings(user_id=interaction.user.id, timezone=timezone))
        now = self.bot.now()
        await respond(
            interaction,
            f"Times you type are now read in **{saved.timezone}**: it is `{wall_time(now, saved.timezone)}` "
            f"there ({timestamp(now, 't')} for you)." + (f"\n{read}" if (read := reading_notes(interaction)) else ""),
        )

    @app_commands.command(name="show")
    async def show(self, interaction: discord.Interaction) -> None:
        """Show your time zone, and where calbot's reminders reach you besides Discord."""
        own = await self.bot.store.users.get(interaction.user.id)
        if own is not None:
            lines = [f"Times you type are read in **{own.timezone}** (set with `/me timezone`)."]
        else:
            server = (await settings_for(interaction)).timezone if interaction.guild_id else "UTC"
            lines = [f"Times you type are read in the server's time zone, **{server}**."]
        for kind, label, command in ((MAIL, "Mail", "/me email address"), (SMS, "Text messages", "/me phone number")):
            contact = await self.bot.store.contacts.get(interaction.user.id, kind)
            if contact is None:
                lines.append(f"{label}: none (`{command}` to add one).")
            elif contact.confirmed:
                lines.append(f"{label}: to `{contact.masked}`, confirmed.")
            else:
                lines.append(f"{label}: `{contact.masked}` waits for the code we sent; nothing goes there until then.")
        prefs = await self.bot.store.reminder_prefs.get(interaction.user.id)
        lines.append(f"Your reminders (`/me reminders`): {prefs_in_words(prefs)}.")
        await respond(interaction, "\n".join(lines))

    # ---- personal reminders: for events the member goes to, they replace the event's private ones

    @app_commands.command(name="reminders")
    @app_commands.describe(
        intervals="How long before events you go to: 1 day 1h (several); off: none by DM, mail or SMS; reset",
        channels="Where: dm, mail, sms (several); leave empty to keep each event's",
        reset="Go back to each event's own reminders",
    )
    async def reminders(
        self,
        interaction: discord.Interaction,
        intervals: ShortText | None = None,
        channels: ShortText | None = None,
        reset: bool = False,
    ) -> None:
        """Your own reminders for events you answer going or maybe: when, and where. Empty: show them."""
        user_id, word = interaction.user.id, (intervals or "").strip().lower()
        prefs_store = self.bot.store.reminder_prefs
        if not (intervals or channels or reset):
            prefs = await prefs_store.get(user_id)
            await respond(interaction, f"Your reminders: {prefs_in_words(prefs)}.\n{_ABOUT}")
            return
        if reset or word == "reset":
            prefs = None
        elif word in ("off", "none"):
            prefs = ReminderPrefs(user_id, off=True)
        else:
            # Validated whole before anything is stored; an option left empty keeps what was set.
            before = await prefs_store.get(user_id) or ReminderPrefs(user_id)
            prefs = ReminderPrefs(
                user_id,
                intervals=parse_intervals(intervals, "intervals") if intervals else before.intervals,
                channels=parse_private_channels(channels) if channels else before.channels,
            )
            if prefs.intervals == ():
                raise InvalidField("intervals", "name at least one, such as 1 day or 15m (or off for none)")
        await think(interaction)  # the reminders of every event the member goes to are planned again
        if prefs is None:
            await prefs_store.clear(user_id)
        else:
            prefs = await prefs_store.save(prefs)
        await self.bot.reminders.member_changed(user_id)
        lines = [f"Your reminders are now: {prefs_in_words(prefs)}.", _ABOUT]
        for kind, command in ((MAIL, "/me email address"), (SMS, "/me phone number")):
            if prefs is not None and prefs.channels and kind in prefs.channels:
                contact = await self.bot.store.contacts.get(user_id, kind)
                if contact is None or not contact.confirmed:
                    lines.append(f"⚠️ You have no confirmed {kind} contact yet: `{command}` first, or none go there.")
        await respond(interaction, "\n".join(lines))

    # ---- contacts: an address gets reminders only once its owner typed the code sent to it

    async def _request(self, interaction: discord.Interaction, kind: str, address: str) -> None:
        sender = self.bot.mail if kind == MAIL else self.bot.sms
        if sender is None:
            raise Unconfigured(kind)
        await think(interaction)  # sending the code is a round trip to another service
        code = new_code()
        contact = await self.bot.store.contacts.request(interaction.user.id, kind, address, code)
        try:
            await sender.send_code(address, code)
        except DeliveryError as error:
            raise CodeNotSent(error.reason) from None
        verify = "/me email verify" if kind == MAIL else "/me phone verify"
        await respond(
            interaction,
            f"We sent a code to `{contact.masked}`. Type it with `{verify}` within 15 minutes; until then nothing "
            "else goes there.",
        )

    async def _verify(self, interaction: discord.Interaction, kind: str, code: str) -> None:
        contact = await self.bot.store.contacts.confirm(interaction.user.id, kind, code)
        what = "Mail" if kind == MAIL else "Text message"
        await respond(
            interaction,
            f"Confirmed: `{contact.masked}` now gets calbot's {what.lower()} reminders for events you answer going "
            f"or maybe, when the event sends them by {'mail' if kind == MAIL else 'sms'}.",
        )

    async def _clear(self, interaction: discord.Interaction, kind: str) -> None:
        removed = await self.bot.store.contacts.clear(interaction.user.id, kind)
        what = "mail address" if kind == MAIL else "phone number"
        await respond(interaction, f"Your {what} is forgotten." if removed else f"calbot had no {what} of yours.")

    @email.command(name="address")
    @app_commands.describe(address="Where calbot may mail you reminders; a code is mailed there to confirm it")
    async def email_address(self, interaction: discord.Interaction, address: app_commands.Range[str, 1, 300]) -> None:
        """Get reminders by mail: calbot mails a code to confirm the address."""
        await self._request(interaction, MAIL, parse_mail(address))

    @email.command(name="verify")
    @app_commands.describe(code="The code in the mail calbot sent")
    async def email_verify(self, interaction: discord.Interaction, code: app_commands.Range[str, 1, 20]) -> None:
        """Confirm your mail address with the code calbot mailed you."""
        await self._verify(interaction, MAIL, code)

    @email.command(name="clear")
    async def email_clear(self, interaction: discord.Interaction) -> None:
        """Forget your mail address: no more mail from calbot."""
        await self._clear(interaction, MAIL)

    @phone.command(name="number")
    @app_commands.describe(number="Your mobile number with its country code, e.g. +49 151 23456789")
    async def phone_number(self, interaction: discord.Interaction, number: app_commands.Range[str, 1, 40]) -> None:
        """Get reminders by text message: calbot texts a code to confirm the number."""
        await self._request(interaction, SMS, parse_phone(number))

    @phone.command(name="verify")
    @app_commands.describe(code="The code in the text message calbot sent")
    async def phone_verify(self, interaction: discord.Interaction, code: app_commands.Range[str, 1, 20]) -> None:
        """Confirm your phone number with the code calbot texted you."""
        await self._verify(interaction, SMS, code)

    @phone.command(name="clear")
    async def phone_clear(self, interaction: discord.Interaction) -> None:
        """Forget your phone number: no more text messages from calbot."""
        await self._clear(interaction, SMS)


_ABOUT = (
    "They replace the intervals and private channels (DM, mail, SMS) of events that send private reminders, for "
    "events you answer going or maybe; posts in the event's channel and webhooks are unchanged."
)


class Unconfigured(DomainError):
    def __init__(self, kind: str) -> None:
        what = "Mail" if kind == MAIL else "Text messages"
        super().__init__(f"{what} are not set up on this calbot; its operator sets [{kind}] in the config.")


class CodeNotSent(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"The code could not be sent ({reason}); check the address and try again.")


async def setup(bot: CalBot) -> None:
    await bot.add_cog(Me(bot))
