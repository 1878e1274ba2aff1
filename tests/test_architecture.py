"""The layering of DESIGN.md, held by reading the source: arrows point down only, and the domain is pure."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[1] / "bot"

IO_LIBRARIES = {"discord", "aiosqlite", "asyncpg", "apscheduler", "aiohttp"}
UPPER_LAYERS = {"bot.storage", "bot.exts", "bot.app", "bot.api", "bot.reminders", "bot.config", "bot.__main__"}
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("datetime", "today"), ("time", "time")}


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, source: str | None = None) -> set[str]:
    """Every module `path` imports (its text, or `source` as if it sat there), relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source, filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def clock_calls(path: Path, source: str | None = None) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source, filename=str(path))
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if (name, node.func.attr) in CLOCK_CALLS:
                calls.append(f"{path.name}:{node.lineno} {name}.{node.func.attr}()")
    return calls


def violations(modules: set[str], forbidden: set[str]) -> list[str]:
    return sorted(m for m in modules for f in forbidden if m == f or m.startswith(f + "."))


DOMAIN_FILES = sorted((BOT / "domain").glob("*.py"))
STORAGE_FILES = sorted((BOT / "storage").rglob("*.py"))


def test_the_layers_exist_and_their_imports_are_read() -> None:
    assert len(DOMAIN_FILES) >= 6 and len(STORAGE_FILES) >= 3
    assert {"bot.domain.errors", "bot.domain.timeparse"} <= imports(BOT / "domain" / "models.py")
    assert "aiosqlite" in imports(BOT / "storage" / "sqlite.py")


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: p.name)
def test_the_domain_imports_no_io_and_nothing_above_it(path: Path) -> None:
    found = imports(path)
    assert violations(found, IO_LIBRARIES | UPPER_LAYERS) == []
    ours = {m for m in found if m == "bot" or m.startswith("bot.")}
    assert all(m.startswith("bot.domain") for m in ours), ours


@pytest.mark.parametrize("path", DOMAIN_FILES, ids=lambda p: p.name)
def test_the_domain_never_reads_the_clock(path: Path) -> None:
    assert clock_calls(path) == []


@pytest.mark.parametrize("path", STORAGE_FILES, ids=lambda p: str(p.relative_to(BOT)))
def test_storage_imports_no_discord_and_nothing_above_it(path: Path) -> None:
    forbidden = {"discord", "aiohttp", "apscheduler", "bot.exts", "bot.app", "bot.api", "bot.reminders"}
    assert violations(imports(path), forbidden) == []


# ---- the checkers themselves catch what they are for (a guard that cannot fail guards nothing)


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("import discord", "discord"),
        ("from discord import app_commands", "discord"),
        ("import aiosqlite as db", "aiosqlite"),
        ("from apscheduler.schedulers.asyncio import AsyncIOScheduler", "apscheduler.schedulers.asyncio"),
        ("from bot.storage import open_store", "bot.storage"),
        ("from ..storage import sqlite", "bot.storage"),
        ("from .. import exts", "bot.exts"),
        ("def f():\n    import aiohttp\n", "aiohttp"),
    ],
)
def test_the_import_check_catches_forbidden_imports(source: str, caught: str) -> None:
    found = imports(BOT / "domain" / "probe.py", source)  # read as a domain module (never written)
    assert caught in violations(found, IO_LIBRARIES | UPPER_LAYERS)


def test_the_import_check_allows_the_domain_its_own_modules() -> None:
    found = imports(BOT / "domain" / "probe.py", "from .errors import InvalidField\nfrom bot.domain import colors")
    assert found >= {"bot.domain.errors", "bot.domain"}
    assert violations(found, IO_LIBRARIES | UPPER_LAYERS) == []


@pytest.mark.parametrize(
    "source",
    [
        "from datetime import datetime\nx = datetime.now()",
        "import datetime\nx = datetime.datetime.now(datetime.UTC)",
        "from datetime import datetime\nx = datetime.utcnow()",
        "from datetime import date\nx = date.today()",
        "import time\nx = time.time()",
    ],
)
def test_the_clock_check_catches_clock_reads(source: str) -> None:
    assert clock_calls(BOT / "domain" / "probe.py", source)


def test_the_clock_check_allows_instants_passed_in() -> None:
    assert clock_calls(BOT / "domain" / "probe.py", "def f(now):\n    return now.astimezone()\n") == []
