"""Every message calbot builds fits Discord's documented limits, after escaping and encoding.

The oracle is Discord's documentation, not our code: embed title 256, description 4,096, field name 256,
field value 1,024, footer 2,048, author 256, at most 25 fields, 6,000 in all (counted as discord.py's
`len(Embed)` counts); message content 2,000 (`len(str)`). The stand-in's own validator checks each embed
again. Hypothesis builds events with every text at or near its maximum in many scripts; the tables hold
the four cases that once kept a card from being posted or a reminder from being delivered.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import discord
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import event as note
from hypothesis import strategies as st

from bot.domain.colors import Color
from bot.domain.errors import InvalidField
from bot.domain.ical import google_calendar_url
from bot.domain.models import Calendar, Event, GuildSettings
from bot.domain.occurrences import Occurrence
from bot.domain.recurrence import Recurrence
from bot.domain.reminders import Reminder, Verdict
from bot.domain.rsvp import GOING, MAYBE, NOT_GOING, WAITLISTED, Attendee
from bot.exts.calendars import calendars_embed
from bot.exts.cards import attendees_embed, event_card, event_details, rule_in_words, settings_embed
from bot.exts.delivery import reminder_text
from bot.exts.events import ECHO_RULE, ON_RULE, Events
from bot.exts.messages import (
    ELLIPSIS,
    EMBED_TOTAL,
    FIELD_VALUE,
    Text,
    compose,
    escape,
    first_fitting,
    fit_embed,
    masked_link,
    shorten,
)
from bot.exts.rsvp import DMS_CLOSED_ERROR, Answer, confirmation, promotion_text
from tests.standin._validate import validate_embeds

INTERVALS = ("pt0m", "pt15m", "pt1h", "p1d", "p1w")
CHANNELS = ("broadcast", "database", "discord_private", "discord_public", "mail", "sms")
STARTS = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
SNOWFLAKE = 2**63 - 1  # the longest ids Discord hands out print as 19 digits
GUILD = 1234567890123456789

# ---- the oracle: Discord's documented limits


def assert_embed_fits(embed: discord.Embed) -> None:
    data = embed.to_dict()
    assert len(data.get("title") or "") <= 256
    assert len(data.get("description") or "") <= 4096
    fields = data.get("fields") or []
    assert len(fields) <= 25
    for field in fields:
        assert len(field["name"].strip()) > 0 and len(field["name"]) <= 256, field
        assert len(field["value"].strip()) > 0 and len(field["value"]) <= 1024, field
    assert len((data.get("footer") or {}).get("text") or "") <= 2048
    assert len((data.get("author") or {}).get("name") or "") <= 256
    assert len(embed) <= 6000  # discord.py's count: title, description, fields, footer, author
    errors: list = []
    validate_embeds(errors, [data])
    assert errors == []
    for text in [data.get("title"), data.get("description"), *(f["value"] for f in fields)]:
        assert_cut_cleanly(text or "")


def assert_content_fits(text: str) -> None:
    assert 0 < len(text) <= 2000
    assert_cut_cleanly(text)


PARTIAL_TOKEN = re.compile(r"<t:(?!-?\d+(?::[A-Za-z])?>)|<@(?![!&]?\d+>)|<#(?!\d+>)")
URL = re.compile(r"(?:https?|steam)://[^\s<]+[^<.,:;\"'\]\s]")
MASKED_LINK = re.compile(r"(?<!\\)\[[^\[\]\n]*\]\(https?://[^\s)]*\)")  # Discord reads these before bare URLs


def assert_cut_cleanly(text: str) -> None:
    """Nothing was cut inside a mention, a timestamp, a URL, a markdown escape or an emoji sequence (the
    generated texts are built of whole tokens, so any broken one was broken by a cut)."""
    assert not PARTIAL_TOKEN.search(text), text
    assert not any(ELLIPSIS in url for url in URL.findall(MASKED_LINK.sub(" ", text))), text
    assert not re.search(r"(?<!\\)(?:\\\\)*\\" + ELLIPSIS, text), text  # an escape's backslash without its character
    assert "\u200d" + ELLIPSIS not in text


# ---- the helpers


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short", 10, "short"),
        ("exactly10!", 10, "exactly10!"),
        ("abcdefghijk", 10, "abcdefghi…"),
        ("aaaaaaaaaa<@123456789>", 15, "aaaaaaaaaa…"),  # not inside a mention
        ("ab <t:1767225600:F> cd", 12, "ab…"),  # nor a timestamp
        ("xx https://example.com/a/long/path yy", 30, "xx…"),  # a URL is dropped whole
        ("[Add](https://example.com/a) · more", 20, "…"),  # so is a masked link
        (escape("_" * 20), 9, "\\_\\_\\_\\_…"),  # never half an escape
        ("👨\u200d👩\u200d👧\u200d👦" * 3, 10, "👨\u200d👩\u200d👧\u200d👦…"),  # nor a ZWJ sequence
        ("👍🏽👍🏽👍🏽", 4, "👍🏽…"),  # a skin tone stays with its hand
        ("e\u0301e\u0301e\u0301", 4, "e\u0301…"),  # a combining mark with its letter
        ("🇯🇵🇯🇵🇯🇵", 4, "🇯🇵…"),  # a flag's two letters together
        ("one two three four", 16, "one two three…"),  # at a space when one is near
        ("東京都" * 10, 8, "東京都東京都東…"),  # CJK has no spaces: cut anywhere safe
    ],
)
def test_shorten_cuts_visibly_and_never_inside_a_token(text, limit, expected):
    assert shorten(text, limit) == expected
    assert len(shorten(text, limit)) <= limit


ATOMS = [
    "a", "字", " ", "\n", "\\_", "\\*", "\\\\", "<@123>", "<@!45>", "<@&67>", "<#89>", "<t:1700000000:F>",
    "<t:-5:R>", "<:emoji:42>", "https://example.com/a_b?c=d", "[x](https://e.com/y)", "👨\u200d👩\u200d👧",
    "e\u0301", "🇯🇵", "👍🏽",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ATOMS), max_size=60), st.integers(1, 200))
def test_a_shortened_text_is_whole_atoms_then_an_ellipsis(atoms, limit):
    text = "".join(atoms)
    short = shorten(text, limit)
    assert len(short) <= limit
    if short == text:
        return
    assert short.endswith(ELLIPSIS)
    head = short.removesuffix(ELLIPSIS).rstrip()  # a space keeps the ellipsis out of a URL before it
    prefixes = {"".join(atoms[:n]).rstrip() for n in range(len(atoms) + 1)}
    assert head in prefixes


def test_compose_escapes_peoples_text_and_shortens_the_longest():
    text = compose("⏰ **", Text("a_b"), "** at ", Text("_" * 1500), "\nfixed tail", limit=200)
    assert len(text) <= 200
    assert text.startswith("⏰ **a\\_b** at \\_\\_")
    assert text.endswith("…\nfixed tail")  # our own text is kept; the location gave way
    assert compose("plain ", Text("*x*", escaped=False)) == "plain *x*"


def test_fit_embed_clamps_each_part_then_shortens_the_longest_to_the_total():
    embed = discord.Embed(title="t" * 300, description="d" * 5000)
    for n in range(30):
        embed.add_field(name=f"f{n}", value="v" * 1100 if n < 3 else "", inline=False)
    embed.set_footer(text="f" * 3000)
    fitted = fit_embed(embed)
    assert_embed_fits(fitted)
    assert fitted.title.endswith(ELLIPSIS) and len(fitted.fields) == 25
    assert fitted.fields[3].value == "—"  # Discord refuses an empty field value
    assert len(embed) > EMBED_TOTAL and len(embed.fields) == 30  # the original is left alone


def test_first_fitting_takes_the_fullest_variant_that_fits():
    small = discord.Embed(title="small")
    big = discord.Embed(title="big", description="d" * 4000)
    big.add_field(name="extra", value="x" * 1024).add_field(name="more", value="y" * 1024)
    assert first_fitting([big, small]).title == "small"
    assert first_fitting([small, big]).title == "small"
    assert first_fitting([big]).description.endswith(ELLIPSIS)
    too_long_field = discord.Embed(title="t").add_field(name="Repeats", value="r" * 2000)
    # A part over its own limit is shortened in every variant: that alone is no reason to drop another part.
    assert first_fitting([too_long_field, small]).title == "t"


def test_a_masked_link_too_long_is_left_out_not_cut():
    assert masked_link("Go", "https://e.com/" + "a" * 10, limit=40) == "[Go](https://e.com/aaaaaaaaaa)"
    assert masked_link("Go", "https://e.com/" + "a" * 40, limit=40) is None


# ---- the four cases that once broke a card or a reminder


def make_event(**fields) -> Event:
    base = dict(guild_id=GUILD, calendar_id=7, name="Raid", starts=STARTS, id=42, timezone="UTC")
    return Event(**{**base, **fields}).validated()


CALENDAR = Calendar(guild_id=GUILD, name="General", id=7)


@pytest.mark.parametrize(
    "event",
    [
        make_event(location="東京都" * 30, timezone="America/Argentina/Buenos_Aires", recurrence=Recurrence("WEEKLY")),
        make_event(name="定例会議" * 25, location="東京都" * 30),
    ],
    ids=["series", "japanese-name"],
)
def test_a_japanese_location_leaves_out_the_google_link_it_cannot_fit(event):
    link = google_calendar_url(event)
    assert len(f"[Add to Google Calendar]({link}) · `/event export` for other apps") > FIELD_VALUE  # the case
    card = event_card(event, CALENDAR)
    assert_embed_fits(card)
    field = {f.name: f.value for f in card.fields}["Add to your calendar"]
    assert "calendar.google.com" not in field and "/event export" in field
    assert {f.name: f.value for f in card.fields}["Location"] == "東京都" * 30


def test_a_short_location_keeps_the_google_link():
    event = make_event(location="東京都")
    field = {f.name: f.value for f in event_card(event, CALENDAR).fields}["Add to your calendar"]
    assert field == f"[Add to Google Calendar]({google_calendar_url(event)}) · `/event export` for other apps"


def longest_series(**fields) -> Event:
    """A series with every field at its allowed length."""
    return make_event(
        name="N" * 100,
        description="D" * 4000,
        location="L" * 1024,
        url="https://example.com/" + "u" * 2000,
        image="https://example.com/" + "i" * 2000,
        timezone="America/Argentina/Buenos_Aires",
        recurrence=Recurrence(
            "MONTHLY", by_day=tuple(f"{n}{d}" for n in (1, 2, 3, 4, 5, -1, -2, -3, -4, -5) for d in DAYS)
        ),
        registration_deadline=STARTS - timedelta(days=1),
        author_id=SNOWFLAKE,
        capacity=100_000,
        **fields,
    )


def many_attendees(n: int, *, dms_closed: bool = True) -> list[Attendee]:
    statuses = (GOING, MAYBE, WAITLISTED, NOT_GOING)
    return [
        Attendee(GUILD, 42, 0, 10**18 + i, statuses[i % 4], seq=i, dm_error=DMS_CLOSED_ERROR if dms_closed else None)
        for i in range(n)
    ]


def test_a_series_card_with_every_field_at_its_length_fits():
    event = longest_series()
    calendar = Calendar(guild_id=GUILD, name="C" * 100, id=7)
    texts = len(event.description + event.location + rule_in_words(event) + event.name + calendar.name)
    assert texts > EMBED_TOTAL  # the case, before the link, the names and the other fields
    card = event_card(event, calendar, attendees=many_attendees(200))
    assert_embed_fits(card)
    by_name = {f.name: f.value for f in card.fields}
    assert "Add to your calendar" not in by_name  # the optional link goes first
    assert by_name["Going (50/100000)"] == "50 members"  # then the names
    assert card.description.endswith(ELLIPSIS) and "D" * 3000 in card.description  # then the longest text
    assert by_name["Location"] == "L" * 1024
    assert_embed_fits(event_card(event, calendar, cancelled=True))
    details = event_details(event, calendar, many_attendees(200), upcoming=[Occurrence.of(event)] * 5)
    assert_embed_fits(details)


def test_a_by_day_repeated_thirty_times_is_shortened_in_the_card():
    # As the API stored it before by_day was deduplicated (a row already stored keeps its rule).
    rule = Recurrence(
        "MONTHLY",
        interval=2,
        by_day=("-5WE",) * 30,
        by_month=tuple(range(1, 13)),
        by_month_day=(*range(-31, 0), *range(1, 32)),
    )
    event = dataclasses.replace(make_event(recurrence=Recurrence("MONTHLY")), recurrence=rule)
    assert len(rule_in_words(event)) > FIELD_VALUE  # the case
    for card in (event_card(event, CALENDAR), event_details(event, CALENDAR)):
        assert_embed_fits(card)
        repeats = {f.name: f.value for f in card.fields}["Repeats"]
        assert repeats.startswith("every 2 months on the 5th-last Wednesday") and repeats.endswith(ELLIPSIS)
    [repeats] = [line for line in Events._echo(event, "UTC").splitlines() if line.startswith("Repeats")]
    assert len(repeats) <= ECHO_RULE + len("Repeats .") and repeats.endswith(ELLIPSIS + ".")


@pytest.mark.parametrize("interval", INTERVALS)
@pytest.mark.parametrize("verdict", [Verdict.ON_TIME, Verdict.LATE])
def test_a_location_of_1024_underscores_still_reminds(interval, verdict):
    event = make_event(location="_" * 1024, card_channel_id=SNOWFLAKE, card_message_id=SNOWFLAKE)
    occurrence = Occurrence.of(event)
    assert len(escape(event.location)) == 2048  # the case: escaping doubles it
    for channel, extra in (
        ("discord_public", {"ping_role_id": SNOWFLAKE}),
        ("discord_private", {"guild_name": "_" * 100}),
    ):
        text = reminder_text(reminder(event, interval, channel), occurrence, verdict, **extra)
        assert_content_fits(text)
        location = re.search(r"\n📍 (.*)\n", text)[1]
        assert re.fullmatch(r"(?:\\_)+…", location)  # shortened visibly, between escapes
        assert text.count("https://discord.com/channels/") == 1  # the card link survives whole
        assert ("late" in text) == (verdict is Verdict.LATE)


def reminder(event: Event, interval: str, channel: str) -> Reminder:
    return Reminder(
        id=1,
        guild_id=event.guild_id,
        event_id=event.id,
        occurrence_start=event.starts,
        interval=interval,
        channel=channel,
        target=SNOWFLAKE if channel == "discord_private" else 0,
        scheduled_for=event.starts,
        due=event.starts,
    )


# ---- every message, for events at their limits in many scripts

VISIBLE = [
    "日本語", "東京駅前", "회의실", "漢字", "🎉", "👨\u200d👩\u200d👧\u200d👦", "🏳\ufe0f\u200d🌈", "👍🏽", "🇯🇵🇫🇷",
    "❤\ufe0f", "🧑🏿\u200d🚀", "e\u0301", "a\u0308\u0323", "Z\u0336\u0317\u0353", "مرحبا بكم", "שלום", "_", "*",
    "~", "|", ">", "`", "```", "\\", "#", "-", "**", "__", "~~", "||", "[x](https://e.com/a_b)", "@everyone",
    "@here", "<@123456789012345678>", "<@&1>", "<t:0:F>", "<#1>", "https://example.com/a_b*c~d", "Raid", "ÆØÅ",
]  # fmt: skip
ATOMS_OF_TEXT = [*VISIBLE, " ", "\n", "> ", "# ", "- "]
URL_ATOMS = ["a", "_", "*", "~", "(", ")", "%20", "日本", "🎉", "?q=1&r=2", "/", "#frag"]


@st.composite
def near(draw, limit: int, atoms: list[str] = ATOMS_OF_TEXT, first: list[str] = VISIBLE) -> str:
    """A text of whole atoms at or near `limit` characters (topped up with "x"), starting with a visible
    one: a cut inside a token in a built message can only be the builder's."""
    pieces = [draw(st.sampled_from(first)), *draw(st.lists(st.sampled_from(atoms), min_size=1, max_size=8))]
    target = limit - draw(st.sampled_from([0, 0, 0, 1, 3, 17, limit // 2]))
    unit = "".join(pieces)
    text = unit * (target // len(unit))
    for piece in pieces:
        if len(text) + len(piece) > target:
            break
        text += piece
    return text + "x" * (target - len(text))


NAMES, DESCRIPTIONS, LOCATIONS, CONTENTS = near(100), near(4000), near(1024), near(10000)
URLS = near(2048 - len("https://例え.jp/"), URL_ATOMS, URL_ATOMS).map(lambda path: "https://例え.jp/" + path)
NONZERO = [n for n in range(-31, 32) if n]
rules = st.one_of(
    st.none(),
    st.builds(
        Recurrence,
        frequency=st.just("WEEKLY"),
        interval=st.integers(1, 999),
        by_day=st.lists(st.sampled_from(DAYS), min_size=1, max_size=40).map(tuple),  # repeats included
        count=st.none() | st.integers(1, 10_000),
    ),
    st.builds(
        Recurrence,
        frequency=st.just("MONTHLY"),
        by_day=st.lists(
            st.sampled_from([f"{n}{d}" for n in (1, 2, 3, 4, 5, -1, -2, -3, -4, -5) for d in DAYS]),
            min_size=1,
            max_size=80,
        ).map(lambda days: ("1MO", *days)),
        by_set_position=st.lists(st.sampled_from(NONZERO), max_size=40).map(lambda p: (1, *p) if p else ()),
        until=st.none() | st.just(STARTS + timedelta(days=3000)),
    ),
    st.builds(
        Recurrence,
        frequency=st.sampled_from(["MONTHLY", "YEARLY"]),
        interval=st.integers(1, 999),
        by_month_day=st.lists(st.sampled_from(NONZERO[3:-3]), min_size=1, max_size=56).map(lambda d: (1, *d)),
        by_month=st.lists(st.integers(1, 12), max_size=12).map(lambda m: (3, *m) if m else ()),
    ),
)
ZONES = ["UTC", "Asia/Tokyo", "America/Argentina/Buenos_Aires", "Pacific/Chatham", "Europe/Berlin"]
snowflakes = st.integers(10**17, SNOWFLAKE)


@st.composite
def events(draw) -> Event:
    registration = draw(st.booleans())
    starts = STARTS + timedelta(minutes=draw(st.integers(0, 60 * 24 * 365 * 4)))
    card = draw(st.none() | snowflakes)
    try:
        return Event(
            guild_id=GUILD,
            calendar_id=7,
            id=draw(st.integers(1, 2**53)),
            name=draw(NAMES),
            starts=starts,
            ends=draw(st.none() | st.integers(1, 60 * 24 * 30).map(lambda m: starts + timedelta(minutes=m))),
            timezone=draw(st.sampled_from(ZONES)),
            all_day=draw(st.booleans()),
            description=draw(DESCRIPTIONS),
            content=draw(CONTENTS),
            location=draw(LOCATIONS),
            url=draw(st.none() | URLS),
            image=draw(st.none() | URLS),
            author_id=draw(st.none() | snowflakes),
            recurrence=draw(rules),
            registration_enabled=registration,
            registration_deadline=starts - timedelta(hours=1) if registration and draw(st.booleans()) else None,
            notifications_interval=INTERVALS,
            notifications_channels=draw(st.sampled_from([CHANNELS, ("discord_public", "mail"), ()])),
            color=draw(st.sampled_from(Color)),
            capacity=draw(st.none() | st.integers(1, 100_000)),
            card_channel_id=card,
            card_message_id=card,
        ).validated()
    except InvalidField:
        reject()


calendars = st.builds(
    Calendar,
    guild_id=st.just(GUILD),
    name=NAMES,
    description=near(1000),
    color=st.sampled_from(Color),
    channel_id=st.none() | snowflakes,
    ping_role_id=st.none() | snowflakes,
).map(lambda calendar: dataclasses.replace(calendar.validated(), id=7))


@st.composite
def attendee_lists(draw) -> list[Attendee]:
    n = draw(st.sampled_from([0, 1, 7, 30, 120, 400]))
    statuses = draw(st.lists(st.sampled_from([GOING, MAYBE, WAITLISTED, NOT_GOING]), min_size=1, max_size=4))
    closed = draw(st.sampled_from([0.0, 0.5, 1.0]))
    return [
        Attendee(GUILD, 42, 0, SNOWFLAKE - i, statuses[i % len(statuses)], seq=i,
                 dm_error=DMS_CLOSED_ERROR if i < n * closed else None)
        for i in range(n)
    ]  # fmt: skip


def occurrence(event: Event, days: int, name: str, description: str = "", location: str = "") -> Occurrence:
    """One occurrence of a series, `days` after its first, with its own name, description and location
    (a one-off event's only occurrence is its own)."""
    if event.recurrence is None:
        return Occurrence.of(event)
    starts = event.starts + timedelta(days=days)
    ends = event.ends and starts + (event.ends - event.starts)
    name = " ".join(name.split()) or "x"
    return Occurrence(event, int(starts.timestamp()), starts, ends, name, description.strip(), location.strip())


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    event=events(),
    calendar=calendars,
    attendees=attendee_lists(),
    override=st.tuples(st.integers(0, 400), NAMES, DESCRIPTIONS, LOCATIONS),
    others=st.lists(st.tuples(st.integers(0, 400), NAMES), min_size=9, max_size=9),
    guild_name=NAMES,
)
def test_every_message_fits_discords_limits(event, calendar, attendees, override, others, guild_name):
    shown = occurrence(event, *override)
    later = [occurrence(event, *other) for other in others]

    # The card, as posted, cancelled, and in detail; who is coming.
    card = event_card(event, calendar, occurrence=shown, attendees=attendees)
    assert_embed_fits(card)
    linked = "calendar.google.com" in str(card.to_dict())
    shortened = ELLIPSIS in (card.description or "")
    note(
        f"card of a {'series' if event.recurrence else 'one-off event'}, Google link {'kept' if linked else 'left out'}"
    )
    note(f"card description {'shortened' if shortened else 'whole'}")
    assert_embed_fits(event_card(event, calendar, occurrence=shown, cancelled=True))
    assert_embed_fits(event_details(event, calendar, attendees, upcoming=[shown, *later[:4]]))
    assert_embed_fits(attendees_embed(event, calendar, attendees))

    # Every reminder, in the channel (with the calendar's ping role) and by DM.
    for interval in INTERVALS:
        for verdict in (Verdict.ON_TIME, Verdict.LATE):
            public = reminder(event, interval, "discord_public")
            assert_content_fits(reminder_text(public, shown, verdict, ping_role_id=calendar.ping_role_id))
            private = reminder(event, interval, "discord_private")
            assert_content_fits(reminder_text(private, shown, verdict, guild_name=guild_name))

    # The DM to a member who got a place, and what a member is told on answering.
    assert_content_fits(promotion_text(event, shown.starts, guild_name))
    assert_content_fits(promotion_text(event, shown.starts))
    for status in (GOING, MAYBE, WAITLISTED, NOT_GOING):
        answered = Answer(event, calendar, shown.key, SNOWFLAKE, status, list(attendees), [])
        assert_content_fits(confirmation(answered))

    # A page of /event list, and the reply to /event create around its echo of what it understood.
    title = f"Events on Wed 04 Mar 2026 · {calendar.name}"
    page = [shown, *later]
    assert_embed_fits(Events.render_list(title, page, 10_000, 999, {calendar.id: calendar.name}))
    reply = "\n".join(
        [
            f"Created **{event.name}** (`#{event.id}`) in **{calendar.name}**.",
            Events._echo(event, "America/Argentina/ComodRivadavia"),
            ON_RULE,
            f"I could not post its card in <#{SNOWFLAKE}>: I lack the View Channel, Send Messages or Embed Links "
            "permission there.",
        ]
    )
    assert_content_fits(reply)

    # The calendars list, with more calendars than fit.
    many = [dataclasses.replace(calendar, id=n, name=f"{n} {calendar.name}"[:100]) for n in range(30)]
    assert_embed_fits(calendars_embed(many, {c.id: 10**6 for c in many}))


def test_the_settings_embed_fits():
    settings_ = GuildSettings(
        guild_id=GUILD,
        timezone="America/Argentina/ComodRivadavia",
        manager_role_id=SNOWFLAKE,
        default_channel_id=SNOWFLAKE,
        default_reminders=INTERVALS,
        default_channels=CHANNELS,
    )
    assert_embed_fits(settings_embed(settings_.validated()))
