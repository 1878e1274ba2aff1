"""Discord's message limits, and the one place every message calbot builds is made to fit them.

Discord refuses a whole message when one part of it is too long, so an event card over a limit is never
posted and a reminder over one is never delivered. Every builder (cards, reminders, DMs, list pages,
replies) therefore hands its text to the helpers here, which measure what is actually sent: after markdown
escaping (which can double a text) and after percent-encoding (a link can be nine times its text).

What does not fit is shortened visibly, with an ellipsis, and never cut inside something that would break:
a markdown escape (`\\_`), a mention (`<@123>`), a Discord timestamp (`<t:...>`), a custom emoji, a URL or a
masked link (those are dropped whole instead), or a character sequence that draws as one (an emoji with
skin tone or ZWJ, a letter with its combining marks, a flag). A builder with optional parts offers its
variants, fullest first, to `first_fitting`, so optional parts (the Google Calendar link, then attendee
names) are dropped before anything is shortened.

The limits, as Discord documents them (https://discord.com/developers/docs/resources/message#embed-object-embed-limits
and #create-message), count characters: Unicode code points, as Python's `len` does. The embed total counts
the title, description, field names and values, footer text and author name, as `len(discord.Embed)` does.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import discord

TITLE = 256
DESCRIPTION = 4096
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR = 256
FIELDS = 25
EMBED_TOTAL = 6000
CONTENT = 2000
URL = 2048  # an embed's link: Discord refuses a longer one

ELLIPSIS = "…"
BLANK = "—"  # a field name or value that would be empty: Discord refuses one

# What a cut must never fall inside; a cut that would is moved to just before it. Masked links first: they
# hold a URL. The bare URL pattern is Discord's own (as discord.utils.escape_markdown uses it).
_ANGLED = r"<(?:@[!&]?\d+|#\d+|t:-?\d+(?::[A-Za-z])?|a?:\w+:\d+|/[^<>\n]+:\d+|id:\w+)>"  # mention, timestamp...
_URL = r"(?:https?|steam)://[^\s<]+[^<.,:;\"'\]\s]"  # a bare URL
_WHOLE = re.compile(
    r"\[[^\[\]\n]*\]\(\s*<?[a-z][a-z0-9+.-]*:[^\s)]*>?\s*\)"  # a masked link: [label](url)
    rf"|{_ANGLED}|{_URL}"
    r"|<[^: >]+:/[^ >]+>"  # <https://...>: a link without a preview
    rf"|\\(?:{_ANGLED}|{_URL}|.)",  # a markdown escape: the backslash and what it escapes (all of a mention)
    re.DOTALL,
)
_BARE_URL = re.compile(rf"\\?{_URL}")  # a URL not in a masked link (escaped or not)
_ZWJ = "\u200d"
_NICE_BREAK = 40  # a cut moves back up to this far to end at a line break or space instead of mid-word


def _joins_previous(char: str) -> bool:
    """Whether `char` draws together with the character before it (so no cut may fall between them)."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")  # combining marks
        or char == _ZWJ
        or 0xFE00 <= code <= 0xFE0F  # variation selectors (❤️)
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
        or 0xE0100 <= code <= 0xE01EF  # variation selectors supplement
    )


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def safe_end(text: str, end: int) -> int:
    """The largest position at or before `end` where `text` may be cut: not inside any of `_WHOLE`'s
    tokens, nor inside a character sequence that draws as one."""
    end = max(0, min(end, len(text)))
    while True:
        before = end
        for token in _WHOLE.finditer(text):
            if token.start() >= end:
                break
            if token.end() > end:
                end = token.start()
                break
        while 0 < end < len(text) and (_joins_previous(text[end]) or text[end - 1] == _ZWJ):
            end -= 1
        if 0 < end < len(text) and _regional(text[end]) and _regional(text[end - 1]):
            run = 0
            while end - run > 0 and _regional(text[end - run - 1]):
                run += 1
            if run % 2:  # the cut would split a flag's pair of letters
                end -= 1
        if end == before:
            return end


def shorten(text: str, limit: int) -> str:
    """`text` if it fits in `limit` characters; else its start, cut at a safe place (at a line break or
    space when one is near), with an ellipsis."""
    if len(text) <= limit:
        return text
    if limit < len(ELLIPSIS):
        return ""
    end = safe_end(text, limit - len(ELLIPSIS))
    floor = end - _NICE_BREAK
    nice = max(text.rfind("\n", 0, end), text.rfind(" ", 0, end))
    if nice > 0 and nice >= floor and safe_end(text, nice) == nice:
        end = nice
    head = text[:end]
    for tidy in (head.rstrip(), head.rstrip().removesuffix(",").removesuffix(";")):  # "Monday, Tuesday…"
        if safe_end(text, len(tidy)) == len(tidy):  # not half of an escaped space or comma
            head = tidy
    last = next(iter(reversed([*_WHOLE.finditer(head)])), None)
    if last is not None and last.end() == len(head) and _BARE_URL.fullmatch(last.group()):
        # An ellipsis right after a URL would become part of the link: keep them apart, or drop the URL.
        head = head + " " if len(head) + 1 + len(ELLIPSIS) <= limit else head[: last.start()].rstrip()
    return head + ELLIPSIS


def escape(text: str) -> str:
    """User text as shown literally: markdown characters escaped (links left alone, as Discord shows them)."""
    return discord.utils.escape_markdown(text)


@dataclass(frozen=True, slots=True)
class Text:
    """A part of a message that came from someone (a name, a location): escaped for markdown unless
    `escaped` is False, and shortened when the message would not fit otherwise."""

    value: str
    escaped: bool = True

    def shown(self) -> str:
        return escape(self.value) if self.escaped else self.value


def share(lengths: list[int], budget: int) -> int | None:
    """The largest cap such that the lengths, each cut to it, add up to at most `budget` (None: no cap is
    needed). The longest parts give way first, and evenly."""
    if sum(lengths) <= budget:
        return None
    low, high = 0, max(lengths)
    while low < high:
        middle = (low + high + 1) // 2
        if sum(min(n, middle) for n in lengths) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


def compose(*parts: str | Text, limit: int = CONTENT) -> str:
    """Join a message from our own text (`str`) and people's (`Text`) within `limit` characters: people's
    text is escaped, then the longest of it shortened until the whole fits. Should our own text alone be
    too long, the end of the whole is shortened."""
    shown = [part.shown() if isinstance(part, Text) else part for part in parts]
    flexible = [i for i, part in enumerate(parts) if isinstance(part, Text)]
    fixed = sum(len(s) for i, s in enumerate(shown) if i not in flexible)
    cap = share([len(shown[i]) for i in flexible], max(0, limit - fixed)) if flexible else None
    if cap is not None:
        for i in flexible:
            shown[i] = shorten(shown[i], cap)
    return shorten("".join(shown), limit)


# ---- embeds


def fits(embed: discord.Embed) -> bool:
    """Whether Discord accepts `embed` as it is."""
    data = embed.to_dict()
    parts = [
        (data.get("title"), TITLE),
        (data.get("description"), DESCRIPTION),
        ((data.get("footer") or {}).get("text"), FOOTER),
        ((data.get("author") or {}).get("name"), AUTHOR),
    ]
    fields = data.get("fields") or []
    for field in fields:
        parts += [(field["name"], FIELD_NAME), (field["value"], FIELD_VALUE)]
        if not str(field["name"]).strip() or not str(field["value"]).strip():
            return False
    return (
        len(fields) <= FIELDS
        and all(text is None or len(text) <= limit for text, limit in parts)
        and len(embed) <= EMBED_TOTAL
    )


def _clamped(embed: discord.Embed) -> dict:
    """The embed as a dict with every part within its own limit and at most 25 fields."""
    data = copy.deepcopy(embed.to_dict())
    if len(data.get("url") or "") > URL:
        del data["url"]  # a link is never cut: the title stays, unlinked
    for key, limit in (("title", TITLE), ("description", DESCRIPTION)):
        if data.get(key) is not None:
            data[key] = shorten(str(data[key]), limit)
    for key, name, limit in (("footer", "text", FOOTER), ("author", "name", AUTHOR)):
        part = data.get(key)
        if part and part.get(name) is not None:
            part[name] = shorten(str(part[name]), limit) or BLANK
    fields = data.get("fields") or []
    for field in fields:
        field["name"] = shorten(str(field["name"]), FIELD_NAME) if str(field["name"]).strip() else BLANK
        field["value"] = shorten(str(field["value"]), FIELD_VALUE) if str(field["value"]).strip() else BLANK
    if fields:
        data["fields"] = fields[:FIELDS]
    return data


def _texts(data: dict) -> list[tuple[dict, str]]:
    """Where an embed dict's counted texts are: (the dict holding one, its key)."""
    places = [(data, key) for key in ("title", "description") if data.get(key)]
    places += [(field, key) for field in data.get("fields") or [] for key in ("name", "value")]
    places += [(data[key], name) for key, name in (("footer", "text"), ("author", "name")) if data.get(key)]
    return places


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """A copy of `embed` that Discord accepts: each part within its own limit, at most 25 fields, and when
    the total is over 6,000 characters the longest texts shortened, evenly, until it is not."""
    data = _clamped(embed)
    places = _texts(data)
    cap = share([len(holder[key]) for holder, key in places], EMBED_TOTAL)
    if cap is not None:
        for holder, key in places:
            holder[key] = shorten(holder[key], cap) or BLANK
    return discord.Embed.from_dict(data)


def first_fitting(variants: Iterable[discord.Embed]) -> discord.Embed:
    """The first of `variants` (fullest first: each drops more optional parts than the one before) that
    fits once each of its parts is within its own limit; else the last one, fitted by shortening."""
    last = None
    for variant in variants:
        last = discord.Embed.from_dict(_clamped(variant))
        if fits(last):
            return last
    if last is None:
        raise ValueError("no variant to fit")
    return fit_embed(last)


def masked_link(label: str, url: str, *, limit: int = FIELD_VALUE) -> str | None:
    """`[label](url)`, or None when it would not fit in `limit` characters: a URL is never cut."""
    text = f"[{label}]({url})"
    return text if len(text) <= limit else None
