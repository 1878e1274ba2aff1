"""Logging for every command: plain lines or JSON lines (`[logging] format`), secrets never written.

APScheduler logs each run of each job at INFO ("Running job ...", "... executed successfully"): the
reminder engine's dispatch and housekeeping jobs made 12 of 21 lines in a quiet minute and a half. They are
routine, so they show only at DEBUG; APScheduler's warnings and errors (a job that raised, a missed run)
still show at every level.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from bot.config import Config

TEXT_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"
ROUTINE_LOGGERS = ("apscheduler",)
# Libraries whose DEBUG lines carry the parameters of every query, members' mail addresses and phone numbers
# among them: they log at INFO at most, whatever [logging] level says.
QUIET_LOGGERS = ("aiosqlite",)
MASK = "***"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        exception = self.formatException(record.exc_info) if record.exc_info else record.exc_text
        if exception:
            entry["exception"] = exception
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class Redact(logging.Filter):
    """Masks the configured secrets wherever they would appear in a line, its traceback included: a last
    guard, since calbot itself never logs them (a library might, in an error's text)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        text = self._mask(message)
        if text != message:
            record.msg, record.args = text, None
        if record.exc_info:
            # Formatted once here, masked, and cached where the formatters look for it.
            record.exc_text = self._mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True

    def _mask(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


def secrets_of(config: Config) -> list[str]:
    """The token, the mail password, the sms token, and the database password (as written and URL-decoded)."""
    found = [config.discord.token or "", config.mail.password or "", config.sms.token or ""]
    password = urlsplit(config.database.url).password
    if password:
        found += [password, unquote(password)]
    return found


def setup_logging(config: Config, *, level: str | None = None) -> None:
    """Log to stderr at `level` (default: the configured one) in the configured format."""
    level = level or config.logging.level
    handler = logging.StreamHandler(sys.stderr)
    if config.logging.format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(Redact(secrets_of(config)))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in ROUTINE_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(level)))
