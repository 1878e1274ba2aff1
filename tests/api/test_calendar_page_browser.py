"""The web calendar in a real browser: Debian's Chromium, driven by Playwright (which never downloads a browser
here: it is pointed at /usr/bin/chromium). The page is served by the real API on a real port, from a real
SQLite store, in a thread of its own, so the browser and the server are as separate as in production.

What a viewer sees: the right events on the right days in two time zones, navigation without a reload, a
hostile name shown as text with nothing run, no Content-Security-Policy violation, no request anywhere but
calbot, and a page that fits a phone. Screenshots go to test-artifacts/ (or $CALBOT_TEST_ARTIFACTS)."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.api import create_app
from bot.domain.colors import Color
from bot.domain.models import Calendar, Event, GuildSettings
from bot.domain.recurrence import Recurrence
from bot.storage import open_store
from tests.api.conftest import GUILD, api_config

CHROMIUM = Path("/usr/bin/chromium")
NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
HOSTILE = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
ARTIFACTS = Path(os.environ.get("CALBOT_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
# Recorded before any script of the page runs (an init script is not subject to the page's policy).
WATCH_POLICY = (
    "window.violations = [];"
    "document.addEventListener('securitypolicyviolation', e => window.violations.push(e.violatedDirective));"
)

if not CHROMIUM.exists():
    if os.environ.get("CI"):  # CI must run them: .ci/run installs Chromium
        raise RuntimeError("Chromium is missing at /usr/bin/chromium; .ci/run installs it (apt-get install chromium)")
    pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver)", allow_module_level=True)


@dataclass
class Served:
    """The API in a thread with its own event loop, on 127.0.0.1 and a port of the system's choosing."""

    folder: Path
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    origin: str = ""
    path: str = ""

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    async def start(self) -> None:
        config = api_config(self.folder, "[api]\nrate_limit_per_minute = 100000\n")
        self.store = await open_store(config.database.url)
        await self.store.settings.save(GuildSettings(guild_id=GUILD, timezone="Europe/Berlin"))
        self.path = await fill(self.store)
        self.runner = web.AppRunner(create_app(self.store, config, clock=lambda: NOW))
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        host, port = self.runner.addresses[0][:2]
        self.origin = f"http://{host}:{port}"

    async def stop(self) -> None:
        await self.runner.cleanup()
        await self.store.close()


async def fill(store) -> str:
    """A calendar in Berlin's server with a late call (a different day east and west), a weekly series, an
    all-day camp, a hostile name, and an event in April; its page's path."""
    calendar = await store.calendars.create(Calendar(guild_id=GUILD, name="Raids", color=Color.BLUE))
    berlin = ZoneInfo("Europe/Berlin")

    async def add(name: str, starts: datetime, **more) -> None:
        await store.events.create(Event(guild_id=GUILD, calendar_id=calendar.id, name=name, starts=starts, **more))

    await add("Late call", datetime(2026, 3, 10, 23, 30, tzinfo=UTC), ends=datetime(2026, 3, 11, 0, 30, tzinfo=UTC))
    await add("Training", datetime(2026, 3, 3, 19, tzinfo=berlin), timezone="Europe/Berlin",
              ends=datetime(2026, 3, 3, 21, tzinfo=berlin), recurrence=Recurrence("WEEKLY", count=4))  # fmt: skip
    await add("Camp", datetime(2026, 3, 20, tzinfo=berlin), ends=datetime(2026, 3, 23, tzinfo=berlin),
              all_day=True, timezone="Europe/Berlin", description="Tents & food", location="The lake")  # fmt: skip
    await add(HOSTILE, datetime(2026, 3, 5, 12, tzinfo=UTC), description=HOSTILE)
    await add("April fool", datetime(2026, 4, 1, 10, tzinfo=UTC))
    secret = await store.calendars.feed_secret(GUILD, calendar.id)
    return f"/calendars/{secret}"


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    server = Served(tmp_path_factory.mktemp("web"))
    thread = threading.Thread(target=server.loop.run_forever, daemon=True)
    thread.start()
    server.run(server.start())
    yield server
    server.run(server.stop())
    server.loop.call_soon_threadsafe(server.loop.stop)
    thread.join(timeout=10)
    server.loop.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


@dataclass
class Visit:
    page: Page
    requests: list[str]
    console_errors: list[str]


def visit(browser: Browser, served: Served, *, zone: str, width: int = 1280, height: int = 900) -> Visit:
    context = browser.new_context(timezone_id=zone, locale="en-GB", viewport={"width": width, "height": height})
    page = context.new_page()
    page.add_init_script(WATCH_POLICY)
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(served.origin + served.path)
    page.locator(".chip").first.wait_for()  # the script has placed the events
    return Visit(page, requests, errors)


def chips(page: Page, day: str) -> list[str]:
    return page.locator(f'td[data-date="{day}"] .chip').all_text_contents()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.mark.parametrize(
    ("zone", "day", "time"),
    [("Asia/Tokyo", "2026-03-11", "08:30"), ("America/Los_Angeles", "2026-03-10", "16:30")],
)
def test_times_and_days_are_the_viewer_s(browser, served, zone, day, time):
    seen = visit(browser, served, zone=zone)
    page = seen.page
    assert page.locator("#viewer-zone").text_content() == zone
    assert f"{time} Late call" in chips(page, day)
    other = "2026-03-10" if day == "2026-03-11" else "2026-03-11"
    assert "Late call" not in " ".join(chips(page, other))
    late = page.locator("#agenda > li", has_text="Late call")
    assert late.locator("time").text_content().endswith(time)
    # The weekly series at 19:00 Berlin: 03:00 the next day in Tokyo, 11:00 in Los Angeles (on DST since 8 March).
    if zone == "Asia/Tokyo":
        assert chips(page, "2026-03-17") == [] and chips(page, "2026-03-18") == ["↻ 03:00 Training"]
    else:
        assert chips(page, "2026-03-17") == ["↻ 11:00 Training"] and chips(page, "2026-03-18") == []
    # The all-day camp keeps its own dates, wherever the viewer is: three days of bars.
    assert [chips(page, d) for d in ("2026-03-20", "2026-03-21", "2026-03-22", "2026-03-23")] == [
        ["Camp"],
        ["Camp"],
        ["Camp"],
        [],
    ]
    shot(page, f"calendar-{zone.replace('/', '-')}.png")
    page.context.close()


def test_navigation_swaps_months_without_a_reload(browser, served):
    page = visit(browser, served, zone="Europe/Berlin").page
    page.evaluate("window.stayed = true")
    page.click("#next")
    expect(page.locator("#title")).to_have_text("April 2026")
    assert page.evaluate("window.stayed") is True  # the same document: no reload
    assert page.url.endswith("?month=2026-04") and page.title().startswith("Raids · April 2026")
    assert chips(page, "2026-04-01") == ["12:00 April fool"]
    assert page.locator("#agenda > li:not([hidden])").all_text_contents()[0].strip().startswith("Wed 1 Apr")
    page.go_back()
    expect(page.locator("#title")).to_have_text("March 2026")
    assert page.evaluate("window.stayed") is True
    assert chips(page, "2026-03-10") == ["23:30 Late call"] or chips(page, "2026-03-11") == ["00:30 Late call"]
    page.context.close()


def test_a_hostile_name_is_text_and_runs_nothing(browser, served):
    seen = visit(browser, served, zone="UTC")
    page = seen.page
    assert page.evaluate("window.pwned") is None
    assert chips(page, "2026-03-05") == [f"12:00 {HOSTILE}"]
    item = page.locator("#agenda > li", has_text="window.pwned=1").first
    assert item.locator(".name").text_content() == HOSTILE
    item.locator("summary").click()
    assert item.locator(".description").text_content() == HOSTILE
    assert page.locator("img").count() == 0 and page.locator("body script").count() == 0
    assert page.evaluate("window.pwned") is None
    assert page.evaluate("window.violations") == []  # nothing was even tried against the policy
    assert seen.console_errors == []
    page.context.close()


def test_nothing_is_requested_off_calbot_and_the_policy_holds(browser, served):
    seen = visit(browser, served, zone="Europe/Berlin")
    page = seen.page
    page.click("#next")
    expect(page.locator("#title")).to_have_text("April 2026")
    camp = page.locator("#agenda > li", has_text="Camp")
    assert camp.count() == 0  # a March event: not in April's agenda
    origins = {f"{urlsplit(url).scheme}://{urlsplit(url).netloc}" for url in seen.requests}
    assert origins == {served.origin}
    paths = {urlsplit(url).path for url in seen.requests}
    assert {served.path, "/assets/calendar.css", "/assets/calendar.js"} <= paths
    assert paths <= {served.path, "/assets/calendar.css", "/assets/calendar.js", "/assets/favicon.svg"}
    assert page.evaluate("window.violations") == [] and seen.console_errors == []
    page.context.close()


def test_event_details_and_links(browser, served):
    page = visit(browser, served, zone="Europe/Berlin").page
    page.click('td[data-date="2026-03-20"] .chip')
    camp = page.locator("#agenda > li", has_text="Camp")
    assert camp.locator("details").evaluate("d => d.open") is True
    assert camp.locator(".description").text_content() == "Tents & food"
    assert camp.locator(".location").text_content() == "📍 The lake"
    google = camp.get_by_role("link", name="Add to Google Calendar").get_attribute("href")
    assert google.startswith("https://calendar.google.com/calendar/render?action=TEMPLATE")
    assert camp.get_by_role("link", name="Subscribe (.ics)").get_attribute("href").endswith(".ics")
    page.context.close()


def test_a_phone_reads_it_without_scrolling_sideways(browser, served):
    page = visit(browser, served, zone="Europe/Berlin", width=390, height=844).page
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.locator("#agenda > li:not([hidden])").count() == 7  # the call, 4 trainings, camp, hostile
    shot(page, "calendar-phone.png")
    page.context.close()
