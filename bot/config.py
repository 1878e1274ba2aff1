"""Settings from a TOML file plus the environment, validated once at start-up.

Every problem is reported as a ConfigError naming the key (`discord.token`), so the CLI can print one
line and exit 2. Secrets come from the environment: `DISCORD_TOKEN` overrides `[discord] token`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.domain.errors import InvalidField
from bot.domain.models import GuildSettings
from bot.domain.notifications import parse_channels, parse_intervals
from bot.domain.timezones import resolve_zone

DEFAULT_CONFIG_PATH = "config.toml"
DEFAULT_API_BASE_URL = "https://discord.com/api/v10"
DEFAULT_DATABASE_URL = "sqlite:///data/calbot.sqlite3"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    token: str | None = field(repr=False)  # never in a log line or a traceback
    api_base_url: str
    gateway_url: str | None  # None: Discord's own gateway, and its resume URLs
    command_guilds: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: str


@dataclass(frozen=True, slots=True)
class DefaultsConfig:
    timezone: str
    reminders: tuple[str, ...]
    channels: tuple[str, ...]

    def for_guild(self, guild_id: int) -> GuildSettings:
        """A guild's settings until it changes one."""
        return GuildSettings(
            guild_id=guild_id, timezone=self.timezone, default_reminders=self.reminders, default_channels=self.channels
        )


@dataclass(frozen=True, slots=True)
class ApiConfig:
    enabled: bool  # serve the HTTP API from `run` too (`python -m bot api` serves it alone)
    host: str
    port: int
    public_url: str | None  # how the outside world reaches the API: feed links are built on it
    rate_limit_per_minute: int  # per API token
    sync_seconds: float  # how often the bot looks for events the API changed in another process


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    level: str


@dataclass(frozen=True, slots=True)
class Config:
    discord: DiscordConfig
    database: DatabaseConfig
    defaults: DefaultsConfig
    logging: LoggingConfig
    api: ApiConfig
    source: str  # the file read, or a note that none was

    def require_token(self) -> str:
        if not self.discord.token:
            raise ConfigError("discord.token", "is not set; set the DISCORD_TOKEN environment variable")
        return self.discord.token

    def describe(self) -> str:
        """The effective settings as TOML, with secrets masked."""
        token = "set, hidden" if self.discord.token else "NOT SET"
        lines = [
            f"# effective configuration ({self.source})",
            "[discord]",
            f'token = "<{token}>"',
            f"api_base_url = {_toml(self.discord.api_base_url)}",
            f"gateway_url = {_toml(self.discord.gateway_url or '')}  # empty: Discord's",
            f"command_guilds = {_toml(list(self.discord.command_guilds))}",
            "",
            "[database]",
            f"url = {_toml(_mask_password(self.database.url))}",
            "",
            "[defaults]",
            f"timezone = {_toml(self.defaults.timezone)}",
            f"reminders = {_toml(list(self.defaults.reminders))}",
            f"channels = {_toml(list(self.defaults.channels))}",
            "",
            "[logging]",
            f"level = {_toml(self.logging.level)}",
            "",
            "[api]",
            f"enabled = {str(self.api.enabled).lower()}",
            f"host = {_toml(self.api.host)}",
            f"port = {self.api.port}",
            f"public_url = {_toml(self.api.public_url or '')}",
            f"rate_limit_per_minute = {self.api.rate_limit_per_minute}",
            f"sync_seconds = {self.api.sync_seconds}",
        ]
        return "\n".join(lines)


def _toml(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def _mask_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


# ---- value checkers: each takes (key, raw value) and returns the clean value or raises ConfigError


def _string(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(key, f"expected a string, got {_kind(value)}")
    return value.strip()


def _optional_string(key: str, value: Any) -> str | None:
    return _string(key, value) or None


def _url(schemes: tuple[str, ...]) -> Callable[[str, Any], str | None]:
    def check(key: str, value: Any) -> str | None:
        text = _string(key, value)
        if not text:
            return None
        parts = urlsplit(text)
        if parts.scheme not in schemes or not parts.netloc:
            raise ConfigError(key, f"{text!r} is not a {' or '.join(schemes)} URL")
        return text.rstrip("/")

    return check


def _guild_ids(key: str, value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise ConfigError(key, f"expected a list of guild IDs, got {_kind(value)}")
    ids = []
    for item in value:
        if isinstance(item, str) and item.strip().isdigit():
            item = int(item)
        if not isinstance(item, int) or isinstance(item, bool) or item <= 0:
            raise ConfigError(key, f"{item!r} is not a guild ID (a positive integer)")
        ids.append(item)
    return tuple(ids)


def _boolean(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(key, f"expected true or false, got {_kind(value)}")
    return value


def _number(low: float, high: float, *, whole: bool = True) -> Callable[[str, Any], float | int]:
    def check(key: str, value: Any) -> float | int:
        kinds = (int,) if whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ConfigError(key, f"expected {'a whole number' if whole else 'a number'}, got {_kind(value)}")
        if not low <= value <= high:
            raise ConfigError(key, f"must be between {low:g} and {high:g}")
        return value

    return check


def _database_url(key: str, value: Any) -> str:
    text = _string(key, value)
    if not text.startswith("sqlite:///") or text == "sqlite:///":
        raise ConfigError(key, f"{text!r} is not supported; use sqlite:///relative/path or sqlite:////absolute/path")
    return text


def _domain(parse: Callable[..., Any], *, lists: bool = False) -> Callable[[str, Any], Any]:
    """Wrap a domain parser so its InvalidField becomes a ConfigError naming the key."""

    def check(key: str, value: Any) -> Any:
        if lists and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ConfigError(key, f"expected a list of strings, got {_kind(value)}")
        if not lists:
            value = _string(key, value)
        try:
            return parse(value, key)
        except InvalidField as exc:
            raise ConfigError(key, exc.reason) from None

    return check


def _log_level(key: str, value: Any) -> str:
    level = _string(key, value).upper()
    if level not in LOG_LEVELS:
        raise ConfigError(key, f"{value!r} is not a level; use one of {', '.join(LOG_LEVELS)}")
    return level


# section -> key -> (checker, default). The default goes through the checker too.
_SCHEMA: dict[str, dict[str, tuple[Callable[[str, Any], Any], Any]]] = {
    "discord": {
        "token": (_optional_string, ""),
        "api_base_url": (_url(("http", "https")), DEFAULT_API_BASE_URL),
        "gateway_url": (_url(("ws", "wss")), ""),
        "command_guilds": (_guild_ids, []),
    },
    "database": {"url": (_database_url, DEFAULT_DATABASE_URL)},
    "defaults": {
        "timezone": (_domain(lambda v, key: str(resolve_zone(v, key))), "UTC"),
        "reminders": (_domain(parse_intervals, lists=True), ["pt15m"]),
        "channels": (_domain(parse_channels, lists=True), ["discord_public"]),
    },
    "logging": {"level": (_log_level, "INFO")},
    "api": {
        "enabled": (_boolean, False),
        "host": (_string, "127.0.0.1"),
        "port": (_number(1, 65535), 8080),
        "public_url": (_url(("http", "https")), ""),
        "rate_limit_per_minute": (_number(1, 1_000_000), 120),
        "sync_seconds": (_number(0.1, 86400, whole=False), 2.0),
    },
}
_SECTIONS = {
    "discord": DiscordConfig,
    "database": DatabaseConfig,
    "defaults": DefaultsConfig,
    "logging": LoggingConfig,
    "api": ApiConfig,
}


def _kind(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def load_config(path: str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read `path` (else $CALBOT_CONFIG, else ./config.toml if it exists) and apply the environment."""
    env = os.environ if environ is None else environ
    explicit = path or env.get("CALBOT_CONFIG")
    file = Path(explicit or DEFAULT_CONFIG_PATH)
    raw: dict[str, Any] = {}
    if file.is_file():
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(file), f"is not valid TOML ({exc})") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(str(file), f"cannot be read ({exc})") from None
        source = str(file)
    elif explicit:
        raise ConfigError(str(file), "no such file")
    else:
        source = "no config file; defaults and environment"

    for section in raw:
        if section not in _SCHEMA:
            raise ConfigError(section, f"unknown section; expected one of {', '.join(_SCHEMA)}")
        if not isinstance(raw[section], dict):
            raise ConfigError(section, f"expected a table, got {_kind(raw[section])}")
    if env.get("DISCORD_TOKEN"):
        discord = raw.setdefault("discord", {})
        if "token" in discord:  # a broken file is reported even while the environment overrides it
            _optional_string("discord.token", discord["token"])
        discord["token"] = env["DISCORD_TOKEN"]

    sections = {}
    for section, keys in _SCHEMA.items():
        given = raw.get(section, {})
        for key in given:
            if key not in keys:
                raise ConfigError(f"{section}.{key}", f"unknown key; expected one of {', '.join(keys)}")
        values = {key: check(f"{section}.{key}", given.get(key, default)) for key, (check, default) in keys.items()}
        sections[section] = _SECTIONS[section](**values)
    return Config(**sections, source=source)
