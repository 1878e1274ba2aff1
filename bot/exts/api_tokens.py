"""/api token: create, list and revoke this server's HTTP API tokens.

Manage Server makes tokens that act as a manager; organisers (/settings organiser-role) make tokens that act
as an organiser of their own events, and list and revoke those. The manager role alone makes none: a token
outlives the role it was made with. /api is hidden from members by default; a server that has organisers shows
it to their role in Server Settings → Integrations. A token is shown once, privately, when it is made; calbot
keeps only a hash of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.errors import NotFound
from bot.domain.permissions import Standing
from bot.storage.tokens import ApiToken

from .common import AUTOCOMPLETE_LIMIT, NEEDS_ORGANISER, NotManager, actor_of, calbot, respond, timestamp

if TYPE_CHECKING:
    from bot.app import CalBot

SCOPE_CHOICES = [
    app_commands.Choice(name="write: read and change calendars and events", value="write"),
    app_commands.Choice(name="read: only read them", value="read"),
]
LIST_LIMIT = 25


def api_address(bot: CalBot) -> str:
    """Where the API is reached: `[api] public_url`, else the address it listens on."""
    api = bot.config.api
    return api.public_url or f"http://{api.host}:{api.port}"


def label(token: ApiToken) -> str:
    return f"#{token.id} {token.name} ({token.scope})"


async def token_role(interaction: discord.Interaction) -> str:
    """The standing the member's tokens act with: "manager" with Manage Server, "organiser" for organisers."""
    if interaction.permissions.manage_guild:
        return "manager"
    actor = await actor_of(interaction)
    if actor.standing is Standing.ORGANISER:
        return "organiser"
    raise NotManager(None)


async def visible_tokens(interaction: discord.Interaction) -> list[ApiToken]:
    """The tokens the member may see and revoke: every one with Manage Server; an organiser's own."""
    tokens = await calbot(interaction).store.tokens.list(interaction.guild_id)
    if await token_role(interaction) == "manager":
        return tokens
    return [t for t in tokens if t.created_by == interaction.user.id]


def may_handle_tokens():
    async def predicate(interaction: discord.Interaction) -> bool:
        if interaction.guild is None:
            raise app_commands.NoPrivateMessage()
        await token_role(interaction)
        return True

    predicate.needs = NEEDS_ORGANISER
    return app_commands.check(predicate)


class TokenOption(app_commands.Transformer):
    """One of the tokens the member may see, by id; autocompleted by name."""

    async def transform(self, interaction: discord.Interaction, value: str) -> ApiToken:
        text = value.strip().lstrip("#").split(" ", 1)[0]
        tokens = await visible_tokens(interaction)
        for token in tokens:
            if str(token.id) == text:
                return token
        raise NotFound("API token", value)

    async def autocomplete(self, interaction: discord.Interaction, value: str) -> list[app_commands.Choice[str]]:
        tokens = await visible_tokens(interaction)
        needle = value.casefold().strip().lstrip("#")
        return [
            app_commands.Choice(name=label(t)[:100], value=str(t.id)) for t in tokens if needle in label(t).casefold()
        ][:AUTOCOMPLETE_LIMIT]


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class ApiTokens(commands.GroupCog, group_name="api", group_description="This server's HTTP API"):
    token = app_commands.Group(name="token", description="Tokens that let programs use this server's calendars")

    def __init__(self, bot: CalBot) -> None:
        self.bot = bot

    @token.command(name="create")
    @app_commands.describe(name="What the token is for (shown in /api token list)", scope="What it may do")
    @app_commands.choices(scope=SCOPE_CHOICES)
    @may_handle_tokens()
    async def create(
        self,
        interaction: discord.Interaction,
        name: app_commands.Range[str, 1, 100] | None = None,
        scope: app_commands.Choice[str] | None = None,
    ) -> None:
        """Create an API token for this server; it is shown once."""
        role = await token_role(interaction)
        token, text = await self.bot.store.tokens.create(
            interaction.guild_id,
            name or "",
            scope.value if scope else "write",
            created_by=interaction.user.id,
            role=role,
        )
        acts = " It acts as you, an organiser: it changes only the events you created." if role == "organiser" else ""
        await respond(
            interaction,
            f"Created {token.scope} token **{label(token)}**.{acts} Copy it now: it is not shown again.\n"
            f"```\n{text}\n```\n"
            f"Send it as `Authorization: Bearer <token>` to {api_address(self.bot)} "
            f"(the routes: {api_address(self.bot)}/openapi.json). Revoke it with `/api token revoke`.",
        )

    @token.command(name="list")
    @may_handle_tokens()
    async def list_(self, interaction: discord.Interaction) -> None:
        """List this server's API tokens (never their secrets)."""
        tokens = await visible_tokens(interaction)
        if not tokens:
            await respond(interaction, "This server has no API tokens. Create one with `/api token create`.")
            return
        embed = discord.Embed(title=f"API tokens ({len(tokens)})")
        for token in tokens[:LIST_LIMIT]:
            lines = [f"scope **{token.scope}** · created {timestamp(token.created_at, 'R')}"]
            if token.created_by:
                lines[0] += f" by <@{token.created_by}>"
            lines.append(f"last used {timestamp(token.last_used_at, 'R')}" if token.last_used_at else "never used")
            embed.add_field(name=f"#{token.id} {token.name}", value="\n".join(lines), inline=False)
        if len(tokens) > LIST_LIMIT:
            embed.set_footer(text=f"and {len(tokens) - LIST_LIMIT} more")
        await respond(interaction, embed=embed)

    @token.command(name="revoke")
    @app_commands.describe(token="The token to revoke; programs using it are refused at once")
    @may_handle_tokens()
    async def revoke(
        self, interaction: discord.Interaction, token: app_commands.Transform[ApiToken, TokenOption]
    ) -> None:
        """Revoke an API token."""
        revoked = await self.bot.store.tokens.revoke(token.id, interaction.guild_id)
        await respond(interaction, f"Revoked token **{label(revoked)}**. Requests with it are now refused.")


async def setup(bot: CalBot) -> None:
    await bot.add_cog(ApiTokens(bot))
