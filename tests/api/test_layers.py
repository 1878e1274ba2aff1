"""bot/api is glue like bot/exts: it may use the domain (iCalendar included: bot.domain.ical) and the store,
never discord (`python -m bot api` runs without it) and never the cogs (bot/exts is its peer)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.test_architecture import BOT, imports, violations

API_FILES = sorted((BOT / "api").glob("*.py"))


def test_the_api_modules_import_no_discord_directly():
    assert len(API_FILES) >= 7
    for path in API_FILES:
        found = imports(path)
        assert violations(found, {"discord", "bot.app", "bot.reminders"}) == [], path.name
        assert {m for m in found if m.startswith("bot.exts")} == set(), path.name  # peers: no cog imports


def test_importing_the_api_loads_no_discord_at_all():
    root = Path(__file__).resolve().parents[2]
    code = "import sys, bot.api, bot.api.openapi; print(sorted(m for m in sys.modules if m.split('.')[0] == 'discord'))"
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
