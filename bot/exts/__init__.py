"""discord.py cogs: thin glue from slash commands and buttons to the domain and storage."""

EXTENSIONS = (
    "bot.exts.calendars",
    "bot.exts.events",
    "bot.exts.settings",
    "bot.exts.cards",
    "bot.exts.view",
    "bot.exts.notifications",
    "bot.exts.me",
    "bot.exts.sync",
    "bot.exts.native",
    "bot.exts.api_tokens",
    "bot.exts.help",
    "bot.exts.setup",
)
