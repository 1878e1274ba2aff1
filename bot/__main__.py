"""Command line: `python -m bot [run|api|migrate|migrate-data|check-config|token ...] [--config PATH]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
import sys

from bot.config import Config, ConfigError, load_config
from bot.storage.database import DatabaseInUse, redact_url

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
    commands.add_parser("api", parents=[common], help="serve the HTTP API alone, without logging in to Discord")
    move = commands.add_parser(
        "migrate-data", parents=[common], help="copy a whole installation to another database (stop the bot first)"
    )
    move.add_argument("--from", dest="source", required=True, metavar="URL", help="e.g. sqlite:///data/calbot.sqlite3")
    move.add_argument("--to", dest="target", required=True, metavar="URL", help="e.g. postgresql://calbot@db/calbot")
    move.add_argument("--replace", action="store_true", help="delete what the target holds first")
    token = commands.add_parser("token", parents=[common], help="create, list and revoke HTTP API tokens")
    actions = token.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", parents=[common], help="create a token; it is printed once, last")
    create.add_argument("--guild", type=_snowflake, required=True, metavar="ID", help="the guild it may reach")
    create.add_argument("--name", default="", help="what it is for")
    create.add_argument("--scope", choices=("read", "write"), default="write", help="read, or read and write")
    listing = actions.add_parser("list", parents=[common], help="list a guild's tokens (never their secrets)")
    listing.add_argument("--guild", type=_snowflake, required=True, metavar="ID")
    listing.add_argument("--all", action="store_true", help="include revoked tokens")
    revoke = actions.add_parser("revoke", parents=[common], help="revoke a token by its id")
    revoke.add_argument("token_id", type=_snowflake, metavar="TOKEN_ID")
    return parser


def _snowflake(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 2**63:
        raise argparse.ArgumentTypeError(f"{text!r} is not an id (a positive whole number)")
    return int(text)


# Libraries whose DEBUG lines carry the parameters of every query, members' mail addresses and phone
# numbers among them: they log at INFO at most, whatever [logging] level says.
QUIET_LOGGERS = ("aiosqlite",)


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-8s %(name)s: %(message)s", stream=sys.stderr)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(level)))


async def _migrate(config: Config) -> None:
    from bot.storage import open_store

    store = await open_store(
        config.database.url, pool_min_size=config.database.pool_min_size, pool_max_size=config.database.pool_max_size
    )
    await store.close()


async def _api(config: Config) -> None:
    """`api`: serve the HTTP API until SIGINT/SIGTERM, then close the database."""
    from bot.api import serve

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await serve(config, stop)
    log.info("Stopped by signal; database closed")


async def _token(config: Config, args: argparse.Namespace) -> int:
    from bot.domain.errors import NotFound
    from bot.storage import open_store

    store = await open_store(
        config.database.url, pool_min_size=config.database.pool_min_size, pool_max_size=config.database.pool_max_size
    )
    try:
        if args.action == "create":
            token, text = await store.tokens.create(args.guild, args.name, args.scope)
            print(f"Created {token.scope} token {token.id} ({token.name}) for guild {token.guild_id}.")
            print("Send it as `Authorization: Bearer <token>`. It is shown only now:")
            print(text)
        elif args.action == "list":
            tokens = await store.tokens.list(args.guild, include_revoked=args.all)
            if not tokens:
                print(f"Guild {args.guild} has no API tokens.")
            for token in tokens:
                used = f"{token.last_used_at:%Y-%m-%d %H:%M} UTC" if token.last_used_at else "never"
                state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M} UTC" if token.revoked_at else "active"
                created = f"{token.created_at:%Y-%m-%d %H:%M} UTC"
                print(f"{token.id}\t{token.scope}\t{token.name}\tcreated {created}\tlast used {used}\t{state}")
        else:
            try:
                token = await store.tokens.revoke(args.token_id)
            except NotFound:
                print(f"calbot: there is no API token {args.token_id}", file=sys.stderr)
                return 1
            print(f"Revoked token {token.id} ({token.name}) of guild {token.guild_id}.")
    finally:
        await store.close()
    return 0


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


async def _migrate_data(args: argparse.Namespace) -> int:
    """`migrate-data`: copy every row from --from to --to, in one transaction checked by counts."""
    from bot.storage.sqlite import sqlite_path

    if args.source == args.target:
        print("calbot: --from and --to name the same database", file=sys.stderr)
        return 1
    if args.source.startswith("sqlite:///") and not sqlite_path(args.source).is_file():
        print(f"calbot: there is no database file at {sqlite_path(args.source)} (--from)", file=sys.stderr)
        return 1
    with contextlib.ExitStack() as held:
        # No bot may write either database meanwhile: the copy would miss its writes, or --replace delete them.
        for url, option in ((args.source, "--from"), (args.target, "--to")):
            try:
                held.enter_context(_one_bot_per_file(url))
            except DatabaseInUse as error:
                if error.pid == os.getpid():
                    print("calbot: --from and --to name the same database", file=sys.stderr)
                else:
                    print(f"calbot: {option}: {redact_url(url)} {_in_use(error)}; stop it first", file=sys.stderr)
                return 1
            except OSError as error:
                print(f"calbot: cannot use the database {redact_url(url)} ({option}): {error}", file=sys.stderr)
                return 1
        return await _copy(args)


async def _copy(args: argparse.Namespace) -> int:
    from bot.storage import open_store
    from bot.storage.transfer import CountMismatch, TargetNotEmpty, copy_store

    source_name, target_name = redact_url(args.source), redact_url(args.target)
    stores = []
    try:
        for url, option in ((args.source, "--from"), (args.target, "--to")):
            try:
                stores.append(await open_store(url))
            except ValueError as error:
                print(f"calbot: {option}: {error}", file=sys.stderr)
                return 1
            except (*_database_errors(), OSError) as error:
                print(f"calbot: cannot use the database {redact_url(url)} ({option}): {error}", file=sys.stderr)
                return 1
        source, target = stores

        def progress(table: str, rows: int) -> None:
            print(f"  {table}: {rows} row(s)", flush=True)

        print(f"Copying {source_name} to {target_name}")
        try:
            report = await copy_store(source, target, replace=args.replace, progress=progress)
        except TargetNotEmpty as error:
            print(f"calbot: {error}; nothing was copied (--replace deletes it first)", file=sys.stderr)
            return 1
        except CountMismatch as error:
            print(f"calbot: the copy did not match, so nothing was kept: {error}", file=sys.stderr)
            return 1
        total = sum(c.target for c in report)
        print(f"Copied {total} row(s) in {len(report)} tables; every table's count matches the source.")
        return 0
    finally:
        for store in stores:
            await store.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    if command == "migrate-data":  # both databases are named on the command line, not in the config
        logging.basicConfig(level="WARNING", stream=sys.stderr)
        return asyncio.run(_migrate_data(args))
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
    # `token create` prints the token as its last line: nothing may be logged after it.
    _setup_logging("WARNING" if command == "token" else config.logging.level)
    from bot.api.app import CannotListen

    try:
        if command == "migrate":
            asyncio.run(_migrate(config))
            print(f"Database {config.database.redacted_url} is up to date.")
        elif command == "api":
            asyncio.run(_api(config))
        elif command == "token":
            return asyncio.run(_token(config, args))
        else:
            with _one_bot_per_file(config.database.url):
                _start(config, token)
    except DatabaseInUse as error:
        print(f"calbot: database.url: {config.database.redacted_url} {_in_use(error)}; stop that process first, "
              "or give this one a database of its own (several bot processes need PostgreSQL)",
              file=sys.stderr)  # fmt: skip
        return EXIT_CONFIG
    except _database_errors() as error:
        _database_error(config, error)
        return 1
    except DiscordUnreachable as error:
        print(f"calbot: cannot reach Discord at {error.url} ({error.key}): {error.reason}", file=sys.stderr)
        return 1
    except CannotListen as error:
        print(f"calbot: cannot serve the HTTP API on {error.address} (api.host, api.port): {error.reason}",
              file=sys.stderr)  # fmt: skip
        return 1
    except OSError as error:
        _database_error(config, error)
        return 1
    except TokenRefused:
        print("calbot: Discord refused the token (discord.token); check DISCORD_TOKEN", file=sys.stderr)
        return EXIT_CONFIG
    return 0


def _database_errors() -> tuple[type[Exception], ...]:
    """What a database can answer with: too new a schema, SQLite's errors, PostgreSQL's (no such database,
    a refused password), asyncpg's own (a URL it cannot use), and ours for "not now" (SQLite locked by
    another process past its busy timeout, a full disk)."""
    import asyncpg

    from bot.storage import SchemaTooNew
    from bot.storage.database import Unavailable

    return SchemaTooNew, Unavailable, sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError


def _one_bot_per_file(url: str) -> contextlib.AbstractContextManager[object]:
    """`run` holds a SQLite file's process lock for its whole life (see bot/storage/sqlite.py, ProcessLock):
    a second bot on the file would dispatch and drain beside the first, and release the first's reminder
    claims at start-up. PostgreSQL is made to be shared: nothing to hold."""
    if not url.startswith("sqlite:///"):
        return contextlib.nullcontext()
    from bot.storage.sqlite import process_lock

    return process_lock(url)


def _in_use(error: DatabaseInUse) -> str:
    return "is in use by another calbot process" + (f" (pid {error.pid})" if error.pid else "")


def _database_error(config: Config, error: object) -> None:
    print(f"calbot: cannot use the database {config.database.redacted_url} (database.url): {error}", file=sys.stderr)


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
