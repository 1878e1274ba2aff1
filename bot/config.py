"""Settings from a TOML file plus the environment, validated once at start-up.

Every problem is reported as a ConfigError naming the key (`discord.token`), so the CLI can print one
line and exit 2. Secrets come from the environment: `DISCORD_TOKEN` overrides `[discord] token`, and
`CALBOT_DATABASE_URL` overrides `[database] url` (a PostgreSQL URL carries a password). The shard
settings can come from the environment too (`CALBOT_SHARD_COUNT`, `CALBOT_SHARD_IDS`), so several shard
processes can share one config file.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.domain.contacts import parse_mail
from bot.domain.errors import InvalidField
from bot.domain.models import GuildSettings
from bot.domain.notifications import parse_channels, parse_intervals
from bot.domain.shards import Shards
from bot.domain.timezones import resolve_zone
from bot.storage.database import redact_url

DEFAULT_CONFIG_PATH = "config.toml"
DEFAULT_API_BASE_URL = "https://discord.com/api/v10"
DEFAULT_DATABASE_URL = "sqlite:///data/calbot.sqlite3"
DEFAULT_SMS_API_BASE_URL = "https://api.twilio.com/2010-04-01"
MAIL_TLS_MODES = ("starttls", "tls", "none")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_SHARDS = 100_000


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
    shard_count: int | None = None  # None: no sharding, one process serves every guild
    shard_ids: tuple[int, ...] | None = None  # None: every shard of shard_count
    # What this process's reminders may spend of Discord's global limit (50 requests/s per bot, shared by
    # every process of the bot): 48 leaves room for cards and commands. Several processes share it out.
    requests_per_second: int = 48

    @property
    def shards(self) -> Shards | None:
        """The shards this process runs, or None when the bot is not sharded."""
        if self.shard_count is None:
            return None
        if self.shard_ids is None:
            return Shards.every(self.shard_count)
        return Shards(self.shard_count, self.shard_ids)


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: str
    pool_min_size: int = 1  # PostgreSQL connection pool; SQLite ignores both
    pool_max_size: int = 10

    @property
    def redacted_url(self) -> str:
        """The URL with its password masked: what may be printed or logged."""
        return redact_url(self.url)

    def __repr__(self) -> str:  # a PostgreSQL URL's password never reaches a log line or a traceback
        return (
            f"DatabaseConfig(url={self.redacted_url!r}, pool_min_size={self.pool_min_size}, "
            f"pool_max_size={self.pool_max_size})"
        )


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
class MailConfig:
    """SMTP for the `mail` channel and for the codes that confirm members' addresses. No host: mail is off."""

    host: str | None
    port: int
    tls: str  # "starttls" (upgrade after connecting), "tls" (TLS from the start) or "none" (a local relay)
    username: str | None
    password: str | None = field(repr=False)  # from CALBOT_MAIL_PASSWORD; never logged
    from_address: str | None
    pool_size: int  # SMTP connections kept open and reused
    timeout_seconds: float

    @property
    def enabled(self) -> bool:
        return self.host is not None and self.from_address is not None


@dataclass(frozen=True, slots=True)
class SmsConfig:
    """A Twilio-compatible Messages API for the `sms` channel. No account: sms is off."""

    api_base_url: str
    account_id: str | None
    token: str | None = field(repr=False)  # from CALBOT_SMS_TOKEN; never logged
    sender: str | None  # the number (E.164) or sender id messages come from
    timeout_seconds: float

    @property
    def enabled(self) -> bool:
        return bool(self.account_id and self.token and self.sender)


@dataclass(frozen=True, slots=True)
class BroadcastConfig:
    """Outgoing webhooks (the `broadcast` channel)."""

    allow_private_targets: bool  # true only for tests and trusted local receivers: SSRF protection off
    timeout_seconds: float
    max_response_bytes: int
    failure_threshold: int  # failed deliveries in a row that disable a webhook


@dataclass(frozen=True, slots=True)
class SubscriptionsConfig:
    """Calendars that follow an outside ICS feed (bot/reminders/feeds.py)."""

    allow_private_targets: bool  # true only for tests and trusted local feeds: SSRF protection off
    trusted_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]  # fetched although not public
    timeout_seconds: float  # for a whole fetch, every redirect included
    max_body_bytes: int
    max_redirects: int
    max_events: int  # VEVENTs in one feed
    failure_threshold: int  # failed polls in a row that pause a feed
    poll_seconds: float  # how often each process looks for feeds due


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    level: str
    format: str = "text"  # "json": one JSON object per line, for log collectors


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    enabled: bool  # serve /metrics, /healthz and /readyz on host:port (bot/metrics.py)
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class Config:
    discord: DiscordConfig
    database: DatabaseConfig
    defaults: DefaultsConfig
    logging: LoggingConfig
    api: ApiConfig
    metrics: MetricsConfig
    mail: MailConfig
    sms: SmsConfig
    broadcast: BroadcastConfig
    subscriptions: SubscriptionsConfig
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
            *_describe_shards(self.discord),
            f"requests_per_second = {self.discord.requests_per_second}",
            "",
            "[database]",
            f"url = {_toml(self.database.redacted_url)}",
            f"pool_min_size = {self.database.pool_min_size}  # PostgreSQL only",
            f"pool_max_size = {self.database.pool_max_size}  # PostgreSQL only",
            "",
            "[defaults]",
            f"timezone = {_toml(self.defaults.timezone)}",
            f"reminders = {_toml(list(self.defaults.reminders))}",
            f"channels = {_toml(list(self.defaults.channels))}",
            "",
            "[logging]",
            f"level = {_toml(self.logging.level)}",
            f"format = {_toml(self.logging.format)}",
            "",
            "[api]",
            f"enabled = {str(self.api.enabled).lower()}",
            f"host = {_toml(self.api.host)}",
            f"port = {self.api.port}",
            f"public_url = {_toml(self.api.public_url or '')}",
            f"rate_limit_per_minute = {self.api.rate_limit_per_minute}",
            f"sync_seconds = {self.api.sync_seconds}",
            "",
            "[metrics]",
            f"enabled = {str(self.metrics.enabled).lower()}",
            f"host = {_toml(self.metrics.host)}",
            f"port = {self.metrics.port}",
            "",
            "[mail]",
            f"host = {_toml(self.mail.host or '')}  # empty: mail is off",
            f"port = {self.mail.port}",
            f"tls = {_toml(self.mail.tls)}",
            f"username = {_toml(self.mail.username or '')}",
            f'password = "<{"set, hidden" if self.mail.password else "not set"}>"  # CALBOT_MAIL_PASSWORD',
            f"from_address = {_toml(self.mail.from_address or '')}",
            f"pool_size = {self.mail.pool_size}",
            f"timeout_seconds = {self.mail.timeout_seconds}",
            "",
            "[sms]",
            f"api_base_url = {_toml(self.sms.api_base_url)}",
            f"account_id = {_toml(self.sms.account_id or '')}  # empty: sms is off",
            f'token = "<{"set, hidden" if self.sms.token else "not set"}>"  # CALBOT_SMS_TOKEN',
            f"sender = {_toml(self.sms.sender or '')}",
            f"timeout_seconds = {self.sms.timeout_seconds}",
            "",
            "[broadcast]",
            f"allow_private_targets = {str(self.broadcast.allow_private_targets).lower()}",
            f"timeout_seconds = {self.broadcast.timeout_seconds}",
            f"max_response_bytes = {self.broadcast.max_response_bytes}",
            f"failure_threshold = {self.broadcast.failure_threshold}",
            "",
            "[subscriptions]",
            f"allow_private_targets = {str(self.subscriptions.allow_private_targets).lower()}",
            f"trusted_networks = {_toml([str(n) for n in self.subscriptions.trusted_networks])}",
            f"timeout_seconds = {self.subscriptions.timeout_seconds}",
            f"max_body_bytes = {self.subscriptions.max_body_bytes}",
            f"max_redirects = {self.subscriptions.max_redirects}",
            f"max_events = {self.subscriptions.max_events}",
            f"failure_threshold = {self.subscriptions.failure_threshold}",
            f"poll_seconds = {self.subscriptions.poll_seconds}",
        ]
        return "\n".join(lines)


def _toml(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def _describe_shards(discord: DiscordConfig) -> list[str]:
    if discord.shard_count is None:
        return ["# shard_count: not set (not sharded: this process serves every guild)"]
    lines = [f"shard_count = {discord.shard_count}"]
    if discord.shard_ids is None:
        lines.append(f"# shard_ids: not set (this process runs all {discord.shard_count} shards)")
    else:
        lines.append(f"shard_ids = {_toml(list(discord.shard_ids))}")
    return lines


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
        if parts.scheme not in schemes or not parts.hostname:
            raise ConfigError(key, f"{text!r} is not a {' or '.join(schemes)} URL")
        try:
            parts.port  # noqa: B018 - reading it checks it: a port that is no number, or past 65535, raises
        except ValueError:
            raise ConfigError(key, f"{text!r} has no valid port (a number from 1 to 65535)") from None
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


def _networks(key: str, value: Any) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(key, f'expected a list of networks such as "192.168.1.0/24", got {_kind(value)}')
    try:
        return tuple(ipaddress.ip_network(v.strip()) for v in value)
    except ValueError as error:
        raise ConfigError(key, f'{error}; write networks as "192.168.1.0/24" or "fd00::/8"') from None


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


DATABASE_URL_FORMS = (
    "sqlite:///relative/path, sqlite:////absolute/path or postgresql://user:password@host:5432/database"
)


def _database_url(key: str, value: Any) -> str:
    text = _string(key, value)
    scheme = text.partition("://")[0].lower() if "://" in text else ""
    if scheme == "sqlite" and text.startswith("sqlite:///") and text != "sqlite:///":
        return text
    if scheme in ("postgresql", "postgres") and text.partition("://")[2]:
        # libpq's URI form, several hosts included; asyncpg names most problems itself, but a port that is
        # not a number would reach the user as a traceback.
        for port in _postgres_ports(text):
            if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
                raise ConfigError(key, f"{redact_url(text)!r} has port {port!r}; a port is a number up to 65535")
        return text
    raise ConfigError(key, f"{redact_url(text)!r} is not supported; use {DATABASE_URL_FORMS}")


def _postgres_ports(url: str) -> list[str]:
    """The ports a PostgreSQL URL names, one per host: `postgresql://u:p@h1:5432,[::1]:5433/db`."""
    rest = url.partition("://")[2]
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    hosts = rest[:end].rpartition("@")[2]
    ports = []
    for host in hosts.split(","):
        after = host.rpartition("]")[2] if host.startswith("[") else host
        if ":" in after:
            ports.append(after.rpartition(":")[2])
    return ports


def _optional(check: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    """For a key with no default value: None (left out) stays None; anything given must pass `check`."""

    def optional(key: str, value: Any) -> Any:
        return None if value is None else check(key, value)

    return optional


def _shard_ids(key: str, value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise ConfigError(key, f"expected a list of shard numbers, got {_kind(value)}")
    if not value:
        raise ConfigError(key, "is empty; name at least one shard, or leave the key out to run them all")
    for item in value:
        if not isinstance(item, int) or isinstance(item, bool) or item < 0:
            raise ConfigError(key, f"{item!r} is not a shard number (0, 1, 2, ...)")
    if len(set(value)) != len(value):
        raise ConfigError(key, "names a shard twice")
    return tuple(value)


def _check_shards(values: dict[str, Any]) -> None:
    count, ids = values["shard_count"], values["shard_ids"]
    if ids is None:
        return
    if count is None:
        raise ConfigError("discord.shard_ids", "needs discord.shard_count (how many shards the bot runs in all)")
    if too_big := [i for i in ids if i >= count]:
        raise ConfigError("discord.shard_ids", f"{too_big[0]} is not a shard of {count} (0 to {count - 1})")


def _check_pool(values: dict[str, Any]) -> None:
    if values["pool_min_size"] > values["pool_max_size"]:
        raise ConfigError(
            "database.pool_min_size",
            f"{values['pool_min_size']} is more than database.pool_max_size ({values['pool_max_size']})",
        )


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


def _one_of(*choices: str) -> Callable[[str, Any], str]:
    def check(key: str, value: Any) -> str:
        text = _string(key, value).lower()
        if text not in choices:
            raise ConfigError(key, f"{value!r} is not one of {', '.join(choices)}")
        return text

    return check


def _log_level(key: str, value: Any) -> str:
    level = _string(key, value).upper()
    if level not in LOG_LEVELS:
        raise ConfigError(key, f"{value!r} is not a level; use one of {', '.join(LOG_LEVELS)}")
    return level


def _tls_mode(key: str, value: Any) -> str:
    mode = _string(key, value).lower()
    if mode not in MAIL_TLS_MODES:
        raise ConfigError(key, f"{value!r} is not a TLS mode; use one of {', '.join(MAIL_TLS_MODES)}")
    return mode


def _mail_address(key: str, value: Any) -> str | None:
    text = _string(key, value)
    if not text:
        return None
    try:
        return parse_mail(text, key)
    except InvalidField as exc:
        raise ConfigError(key, exc.reason) from None


def _check_mail(values: dict[str, Any]) -> None:
    if values["host"] is not None and values["from_address"] is None:
        raise ConfigError("mail.from_address", "is not set; mail needs an address to send from")


# section -> key -> (checker, default). The default goes through the checker too; None means left out.
_SCHEMA: dict[str, dict[str, tuple[Callable[[str, Any], Any], Any]]] = {
    "discord": {
        "token": (_optional_string, ""),
        "api_base_url": (_url(("http", "https")), DEFAULT_API_BASE_URL),
        "gateway_url": (_url(("ws", "wss")), ""),
        "command_guilds": (_guild_ids, []),
        "shard_count": (_optional(_number(1, MAX_SHARDS)), None),
        "shard_ids": (_optional(_shard_ids), None),
        "requests_per_second": (_number(1, 100_000), 48),
    },
    "database": {
        "url": (_database_url, DEFAULT_DATABASE_URL),
        "pool_min_size": (_number(1, 1000), 1),
        "pool_max_size": (_number(1, 1000), 10),
    },
    "defaults": {
        "timezone": (_domain(lambda v, key: str(resolve_zone(v, key))), "UTC"),
        "reminders": (_domain(parse_intervals, lists=True), ["pt15m"]),
        "channels": (_domain(parse_channels, lists=True), ["discord_public"]),
    },
    "logging": {"level": (_log_level, "INFO"), "format": (_one_of("text", "json"), "text")},
    "api": {
        "enabled": (_boolean, False),
        "host": (_string, "127.0.0.1"),
        "port": (_number(1, 65535), 8080),
        "public_url": (_url(("http", "https")), ""),
        "rate_limit_per_minute": (_number(1, 1_000_000), 120),
        "sync_seconds": (_number(0.1, 86400, whole=False), 2.0),
    },
    "metrics": {
        "enabled": (_boolean, False),
        "host": (_string, "127.0.0.1"),
        "port": (_number(1, 65535), 9464),
    },
    "mail": {
        "host": (_optional_string, ""),
        "port": (_number(1, 65535), 587),
        "tls": (_tls_mode, "starttls"),
        "username": (_optional_string, ""),
        "password": (_optional_string, ""),
        "from_address": (_mail_address, ""),
        "pool_size": (_number(1, 100), 4),
        "timeout_seconds": (_number(1, 600, whole=False), 30.0),
    },
    "sms": {
        "api_base_url": (_url(("http", "https")), DEFAULT_SMS_API_BASE_URL),
        "account_id": (_optional_string, ""),
        "token": (_optional_string, ""),
        "sender": (_optional_string, ""),
        "timeout_seconds": (_number(1, 600, whole=False), 10.0),
    },
    "broadcast": {
        "allow_private_targets": (_boolean, False),
        "timeout_seconds": (_number(1, 120, whole=False), 10.0),
        "max_response_bytes": (_number(1024, 10_485_760), 65536),
        "failure_threshold": (_number(1, 1000), 10),
    },
    "subscriptions": {
        "allow_private_targets": (_boolean, False),
        "trusted_networks": (_networks, []),
        "timeout_seconds": (_number(1, 300, whole=False), 30.0),
        "max_body_bytes": (_number(1024, 104_857_600), 10_485_760),
        "max_redirects": (_number(0, 20), 5),
        "max_events": (_number(1, 100_000), 20_000),
        "failure_threshold": (_number(1, 1000), 10),
        "poll_seconds": (_number(1, 3600, whole=False), 30.0),
    },
}
# Checks across the keys of one section, run once each key is valid on its own.
_CROSS_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "discord": _check_shards,
    "database": _check_pool,
    "mail": _check_mail,
}


def _env_whole_number(text: str) -> Any:
    return int(text) if text.strip().isdigit() else text


def _env_boolean(text: str) -> Any:
    return {"true": True, "1": True, "false": False, "0": False}.get(text.strip().lower(), text)


def _env_numbers(text: str) -> Any:
    items = text.replace(",", " ").split()
    return [int(i) if i.isdigit() else i for i in items]


# Environment variable -> (section, key, how its text becomes a TOML-like value). The variable wins over
# the file; an empty variable is ignored.
_ENVIRONMENT: dict[str, tuple[str, str, Callable[[str], Any]]] = {
    "DISCORD_TOKEN": ("discord", "token", str),
    "CALBOT_DATABASE_URL": ("database", "url", str),
    "CALBOT_SHARD_COUNT": ("discord", "shard_count", _env_whole_number),
    "CALBOT_SHARD_IDS": ("discord", "shard_ids", _env_numbers),
    # The Docker image turns the metrics server on (loopback inside the container) for its HEALTHCHECK.
    "CALBOT_METRICS_ENABLED": ("metrics", "enabled", _env_boolean),
    "CALBOT_MAIL_PASSWORD": ("mail", "password", str),
    "CALBOT_SMS_TOKEN": ("sms", "token", str),
}

_SECTIONS = {
    "discord": DiscordConfig,
    "database": DatabaseConfig,
    "defaults": DefaultsConfig,
    "logging": LoggingConfig,
    "api": ApiConfig,
    "metrics": MetricsConfig,
    "mail": MailConfig,
    "sms": SmsConfig,
    "broadcast": BroadcastConfig,
    "subscriptions": SubscriptionsConfig,
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
    from_env: dict[str, str] = {}  # "section.key" -> the variable that set it
    for variable, (section, key, convert) in _ENVIRONMENT.items():
        if not env.get(variable):
            continue
        given = raw.setdefault(section, {})
        if key in given:  # a broken file is reported even while the environment overrides it
            _SCHEMA[section][key][0](f"{section}.{key}", given[key])
        given[key] = convert(env[variable])
        from_env[f"{section}.{key}"] = variable

    sections = {}
    for section, keys in _SCHEMA.items():
        given = raw.get(section, {})
        for key in given:
            if key not in keys:
                raise ConfigError(f"{section}.{key}", f"unknown key; expected one of {', '.join(keys)}")
        try:
            values = {key: check(f"{section}.{key}", given.get(key, default)) for key, (check, default) in keys.items()}
            if section in _CROSS_CHECKS:
                _CROSS_CHECKS[section](values)
        except ConfigError as error:
            if error.key in from_env:
                raise ConfigError(error.key, f"{error.problem} (set by {from_env[error.key]})") from None
            raise
        sections[section] = _SECTIONS[section](**values)
    return Config(**sections, source=source)
