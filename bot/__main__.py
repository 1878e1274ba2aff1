"""Command line: `python -m bot [run|migrate|check-config] [--config PATH]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sqlite3
import sys

from bot.config import Config, ConfigError, load_config

log = logging.getLogger("bot")

EXIT_CONFIG = 2
SHUTDOWN_GRACE = 3.0  # seconds for the client task to finish after close()


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="TOML config file (default: $CALBOT_CONFIG, else ./config.toml if present)",
    )
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="calbot, a Discord calendar bot", parents=[common]
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", parents=[common], help="start the bot (the default)")
    commands.add_parser("migrate", parents=[common], help="apply database migrations and exit")
    commands.add_parser("check-config", parents=[common], help="validate the config and print it, secrets masked")
    return parser


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-8s %(name)s: %(message)s", stream=sys.stderr)


async def _migrate(config: Config) -> None:
    from bot.storage import open_store

    store = await open_store(config.database.url)
    await store.close()


async def _run(config: Config, token: str) -> None:
    """Run until Discord ends the session or SIGINT/SIGTERM arrives; always close cleanly."""
    from bot.app import CalBot

    bot = CalBot(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = asyncio.create_task(bot.start(token), name="discord-client")
    waiter = asyncio.create_task(stop.wait(), name="signal-wait")
    try:
        await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        await bot.close()  # the gateway, the HTTP session and the database
        await asyncio.wait({runner}, timeout=SHUTDOWN_GRACE)
        runner.cancel()
    if stop.is_set():
        log.info("Stopped by signal; database closed")
    elif not runner.cancelled():
        runner.result()  # re-raise what ended the client, e.g. a refused token


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    try:
        config = load_config(getattr(args, "config", None))
        if command in ("run", "check-config"):
            token = config.require_token()
    except ConfigError as error:
        print(f"calbot: config error: {error}", file=sys.stderr)
        return EXIT_CONFIG

    if command == "check-config":
        print(config.describe())
        return 0
    _setup_logging(config.logging.level)
    from bot.storage import SchemaTooNew

    try:
        if command == "migrate":
            asyncio.run(_migrate(config))
            print(f"Database {config.database.url} is up to date.")
        else:
            _start(config, token)
    except (SchemaTooNew, sqlite3.Error) as error:
        print(f"calbot: cannot use the database {config.database.url} (database.url): {error}", file=sys.stderr)
        return 1
    except DiscordUnreachable as error:
        print(f"calbot: cannot reach Discord at {error.url} ({error.key}): {error.reason}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"calbot: cannot use the database {config.database.url} (database.url): {error}", file=sys.stderr)
        return 1
    except TokenRefused:
        print("calbot: Discord refused the token (discord.token); check DISCORD_TOKEN", file=sys.stderr)
        return EXIT_CONFIG
    return 0


class DiscordUnreachable(Exception):
    def __init__(self, key: str, url: str, reason: object) -> None:
        super().__init__(f"{url}: {reason}")
        self.key, self.url, self.reason = key, url, reason


class TokenRefused(Exception):
    pass


def _start(config: Config, token: str) -> None:
    """`run`: translate what discord.py raises at start-up into our own errors."""
    import aiohttp  # only `run` needs discord.py; check-config and migrate start faster without
    import discord

    try:
        asyncio.run(_run(config, token))
    except discord.LoginFailure:
        raise TokenRefused() from None
    except (aiohttp.WSServerHandshakeError, discord.GatewayNotFound, discord.ConnectionClosed) as error:
        gateway = config.discord.gateway_url or "Discord's gateway"
        raise DiscordUnreachable("discord.gateway_url", gateway, error) from None
    except aiohttp.ClientError as error:
        raise DiscordUnreachable("discord.api_base_url", config.discord.api_base_url, error) from None


if __name__ == "__main__":
    sys.exit(main())
