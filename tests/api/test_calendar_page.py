"""The web calendar as the server sends it: at the secret feed address and for a token, every user text
escaped, a strict Content-Security-Policy, nothing from elsewhere, and clear errors. (What a browser makes
of it: test_calendar_page_browser.py.)"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from bot.domain.colors import Color
from bot.domain.models import Calendar, Event, OccurrenceChange
from bot.domain.recurrence import Recurrence
from tests.api.conftest import GUILD, OTHER_GUILD

BERLIN = ZoneInfo("Europe/Berlin")
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


class Links(HTMLParser):
    """Every address the page would load by itself (scripts, styles, images), and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.inline_scripts = 0
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            if values.get("src"):
                self.loads.append(values["src"])
            else:
                self.inline_scripts += 1
        if tag == "link" and values.get("rel") == "stylesheet":
            self.loads.append(values["href"])
        if tag in ("img", "iframe") and values.get("src"):
            self.loads.append(values["src"])
        self.handlers += [name for name, _ in attrs if name.startswith("on")]


@pytest.fixture
async def page(store):
    calendar = await store.calendars.create(
        Calendar(guild_id=GUILD, name=f"Raids {HOSTILE}", description="Weekly & fun", color=Color.RED)
    )
    series = await store.events.create(
        Event(
            guild_id=GUILD, calendar_id=calendar.id, name="Raid night", timezone="Europe/Berlin",
            starts=datetime(2026, 3, 14, 18, tzinfo=BERLIN), ends=datetime(2026, 3, 14, 21, tzinfo=BERLIN),
            recurrence=Recurrence("WEEKLY", count=4), location="Discord", description="Bring potions",
        )
    )  # fmt: skip
    await store.changes.save(
        OccurrenceChange(guild_id=GUILD, event_id=series.id, occurrence=datetime(2026, 3, 21, 17, tzinfo=UTC),
                         cancelled=True)
    )  # fmt: skip
    await store.events.create(
        Event(guild_id=GUILD, calendar_id=calendar.id, name=HOSTILE, starts=datetime(2026, 3, 2, 9, tzinfo=UTC),
              description=HOSTILE, location=HOSTILE, url="https://example.org/x")
    )  # fmt: skip
    await store.events.create(
        Event(guild_id=GUILD, calendar_id=calendar.id, name="In April", starts=datetime(2026, 4, 2, 9, tzinfo=UTC))
    )
    secret = await store.calendars.feed_secret(GUILD, calendar.id)
    return secret, calendar


async def test_the_page_lists_the_month_with_escaped_text_and_a_strict_policy(client, page):
    secret, _calendar = page
    response = await client.get(f"/calendars/{secret}?month=2026-03")
    assert response.status == 200 and response.content_type == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["Referrer-Policy"] == "no-referrer"
    html = await response.text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert html.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") >= 4  # calendar, name, description, place
    parsed = Links()
    parsed.feed(html)
    assert parsed.loads == ["/assets/calendar.css", "/assets/calendar.js"]  # calbot's own, nothing else
    assert parsed.inline_scripts == 0 and parsed.handlers == []
    names = re.findall(r'<span class="name">([^<]*)</span>', html)
    # 2 March; the series on 14, 21 (cancelled) and 28 March; and the grid's April days (the browser hides
    # them from the agenda, and shows them in the grid's last row): 2 and 4 April.
    hostile = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
    assert names == [hostile, "Raid night", "Raid night", "Raid night", "In April", "Raid night"]
    assert html.count('class="event colour-red cancelled"') == 1
    assert f'href="/ics/{secret}.ics"' in html and "Add to Google Calendar" in html
    assert "Bring potions" in html and 'data-start="2026-03-14T17:00:00Z"' in html
    assert 'data-start="2026-03-28T17:00:00Z"' in html  # still CET: Berlin changes on 29 March
    assert f'href="/calendars/{secret}?month=2026-04"' in html and f'href="/calendars/{secret}?month=2026-02"' in html


async def test_assets_are_served_by_calbot(client):
    script = await client.get("/assets/calendar.js")
    assert script.status == 200 and script.content_type == "text/javascript"
    assert "innerHTML" not in await script.text()  # the script only sets textContent
    style = await client.get("/assets/calendar.css")
    assert style.status == 200 and style.content_type == "text/css"
    missing = await client.get("/assets/other.js")
    assert missing.status == 404 and (await missing.json())["message"] == "No such asset."


async def test_a_wrong_secret_or_month_is_a_clear_error(client, page):
    secret, _calendar = page
    wrong = await client.get("/calendars/" + "x" * 43)
    assert wrong.status == 404 and (await wrong.json()) == {"message": "No such calendar."}
    month = await client.get(f"/calendars/{secret}?month=March")
    assert month.status == 422
    assert (await month.json())["errors"] == {"month": ["'March' is not a month; write it as YYYY-MM, e.g. 2026-12"]}


async def test_a_token_sees_its_own_server_s_calendars_only(client, page, reader, stranger):
    _secret, calendar = page
    mine = await reader.get(f"/v2/calendars/{calendar.id}/view?month=2026-04")
    assert mine.status == 200
    html = await mine.text()
    assert "In April" in html and "Subscribe (.ics)" not in html  # a read token is shown no feed address
    assert f'href="/v2/calendars/{calendar.id}/view?month=2026-05"' in html
    theirs = await stranger.get(f"/v2/calendars/{calendar.id}/view")
    assert theirs.status == 404
    nobody = await client.get(f"/v2/calendars/{calendar.id}/view")
    assert nobody.status == 401


async def test_an_empty_month_says_so(client, store):
    calendar = await store.calendars.create(Calendar(guild_id=OTHER_GUILD, name="Quiet"))
    secret = await store.calendars.feed_secret(OTHER_GUILD, calendar.id)
    html = await (await client.get(f"/calendars/{secret}?month=2026-01")).text()
    assert '<h2 id="title">January 2026</h2>' in html and 'id="empty"' in html and "<li id=" not in html


async def test_a_change_shows_at_once_though_pages_are_cached(client, page, store):
    secret, calendar = page
    before = await (await client.get(f"/calendars/{secret}?month=2026-03")).text()
    again = await (await client.get(f"/calendars/{secret}?month=2026-03")).text()
    assert again == before and "Fresh event" not in before
    await store.events.create(
        Event(guild_id=GUILD, calendar_id=calendar.id, name="Fresh event", starts=datetime(2026, 3, 9, 9, tzinfo=UTC))
    )
    after = await (await client.get(f"/calendars/{secret}?month=2026-03")).text()
    assert "Fresh event" in after
