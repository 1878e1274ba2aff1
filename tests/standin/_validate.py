"""Discord-like validation of message and application command payloads.

Only the limits a bot is realistically going to trip over are checked; every
check produces the same error shape Discord uses (HTTP 400, code 50035,
"Invalid Form Body", with a nested ``errors`` object), so discord.py raises the
same exception types it would raise against the real API.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from typing import Any

Path = tuple[str | int, ...]
ErrorList = list[tuple[Path, str, str]]  # (path, code, message)

CONTENT_MAX = 2000
NONCE_MAX = 25
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_LIMITS = {
    "title": 256,
    "description": 4096,
}
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_TEXT_MAX = 2048
AUTHOR_NAME_MAX = 256
ACTION_ROWS_MAX = 5
ROW_BUTTONS_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
SELECT_OPTIONS_MAX = 25
COMPONENTS_V2_FLAG = 1 << 15

COMMAND_NAME_RE = re.compile(r"^[-_'\w]{1,32}$", re.UNICODE)
COMMANDS_MAX = 100
OPTIONS_MAX = 25
CHOICES_MAX = 25


class DiscordError(Exception):
    """An error the stand-in answers with a Discord-shaped JSON body."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None):
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def form_error(errors: ErrorList) -> DiscordError:
    """Build Discord's nested ``Invalid Form Body`` error from a flat list."""
    tree: dict[str, Any] = {}
    for path, code, message in errors:
        node = tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
    return DiscordError(400, 50035, "Invalid Form Body", tree)


def _max_len(errors: ErrorList, path: Path, value: Any, limit: int) -> None:
    if value is not None and len(str(value)) > limit:
        errors.append((path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."))


def _required_text(errors: ErrorList, path: Path, value: Any, limit: int) -> None:
    if value is None or str(value).strip() == "":
        errors.append((path, "BASE_TYPE_REQUIRED", "This field is required"))
    else:
        _max_len(errors, path, value, limit)


def embed_length(embed: dict[str, Any]) -> int:
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for field in embed.get("fields") or []:
        total += len(str(field.get("name") or "")) + len(str(field.get("value") or ""))
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def validate_embeds(errors: ErrorList, embeds: Any) -> None:
    if embeds is None:
        return
    if not isinstance(embeds, list):
        errors.append((("embeds",), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"))
        return
    if len(embeds) > EMBEDS_MAX:
        errors.append((("embeds",), "BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS_MAX} or fewer in length."))
    total = 0
    for i, embed in enumerate(embeds):
        base: Path = ("embeds", i)
        if not isinstance(embed, dict):
            errors.append((base, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"))
            continue
        for key, limit in EMBED_LIMITS.items():
            _max_len(errors, (*base, key), embed.get(key), limit)
        fields = embed.get("fields") or []
        if len(fields) > FIELDS_MAX:
            errors.append(((*base, "fields"), "BASE_TYPE_MAX_LENGTH", f"Must be {FIELDS_MAX} or fewer in length."))
        for j, field in enumerate(fields):
            _required_text(errors, (*base, "fields", j, "name"), field.get("name"), FIELD_NAME_MAX)
            _required_text(errors, (*base, "fields", j, "value"), field.get("value"), FIELD_VALUE_MAX)
        footer = embed.get("footer")
        if footer is not None:
            _required_text(errors, (*base, "footer", "text"), footer.get("text"), FOOTER_TEXT_MAX)
        author = embed.get("author")
        if author is not None:
            _required_text(errors, (*base, "author", "name"), author.get("name"), AUTHOR_NAME_MAX)
        color = embed.get("color")
        if color is not None and (not isinstance(color, int) or not 0 <= color <= 0xFFFFFF):
            errors.append(((*base, "color"), "NUMBER_TYPE_MAX", "int value should be <= 16777215."))
        total += embed_length(embed)
    if total > EMBED_TOTAL_MAX:
        errors.append((("embeds",), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"))


def _validate_button(errors: ErrorList, path: Path, comp: dict[str, Any], seen: set) -> None:
    style = comp.get("style")
    if style not in (1, 2, 3, 4, 5, 6):
        errors.append(((*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6}."))
    if style == 5:
        if not comp.get("url"):
            errors.append(((*path, "url"), "BASE_TYPE_REQUIRED", "This field is required"))
        if comp.get("custom_id"):
            errors.append(
                (
                    (*path, "custom_id"),
                    "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED",
                    "A custom id is not allowed on link buttons",
                )
            )
    elif style != 6:
        _validate_custom_id(errors, path, comp, seen)
    _max_len(errors, (*path, "label"), comp.get("label"), BUTTON_LABEL_MAX)


def _validate_custom_id(errors: ErrorList, path: Path, comp: dict[str, Any], seen: set) -> None:
    cid = comp.get("custom_id")
    if not cid:
        errors.append(((*path, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required"))
        return
    _max_len(errors, (*path, "custom_id"), cid, CUSTOM_ID_MAX)
    if cid in seen:
        errors.append(
            ((*path, "custom_id"), "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
        )
    seen.add(cid)


def validate_components(errors: ErrorList, components: Any, flags: int) -> None:
    if components is None:
        return
    if not isinstance(components, list):
        errors.append((("components",), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"))
        return
    if flags & COMPONENTS_V2_FLAG:
        # Components V2 layouts are only checked for custom_id sanity.
        seen: set = set()

        def walk(items: Sequence[Any], path: Path) -> None:
            for i, comp in enumerate(items):
                if not isinstance(comp, dict):
                    continue
                if "custom_id" in comp:
                    _validate_custom_id(errors, (*path, i), comp, seen)
                for key in ("components",):
                    if isinstance(comp.get(key), list):
                        walk(comp[key], (*path, i, key))
                for key in ("accessory", "component"):
                    if isinstance(comp.get(key), dict):
                        walk([comp[key]], (*path, i, key))

        walk(components, ("components",))
        return
    if len(components) > ACTION_ROWS_MAX:
        errors.append((("components",), "BASE_TYPE_MAX_LENGTH", f"Must be {ACTION_ROWS_MAX} or fewer in length."))
    seen = set()
    for i, row in enumerate(components):
        path: Path = ("components", i)
        if not isinstance(row, dict) or row.get("type") != 1:
            errors.append(((*path, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (1,).'))
            continue
        children = row.get("components") or []
        if not children:
            errors.append(((*path, "components"), "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length."))
        buttons = [c for c in children if isinstance(c, dict) and c.get("type") == 2]
        selects = [c for c in children if isinstance(c, dict) and c.get("type") in (3, 5, 6, 7, 8)]
        if len(buttons) > ROW_BUTTONS_MAX:
            errors.append(
                ((*path, "components"), "BASE_TYPE_MAX_LENGTH", f"Must be {ROW_BUTTONS_MAX} or fewer in length.")
            )
        if selects and len(children) > 1:
            errors.append(
                (
                    (*path, "components"),
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "The specified component exceeds the maximum width",
                )
            )
        for j, comp in enumerate(children):
            cpath = (*path, "components", j)
            if not isinstance(comp, dict):
                continue
            if comp.get("type") == 2:
                _validate_button(errors, cpath, comp, seen)
            elif comp.get("type") in (3, 5, 6, 7, 8):
                _validate_custom_id(errors, cpath, comp, seen)
                if comp.get("type") == 3:
                    options = comp.get("options") or []
                    if not 1 <= len(options) <= SELECT_OPTIONS_MAX:
                        errors.append(
                            (
                                (*cpath, "options"),
                                "BASE_TYPE_BAD_LENGTH",
                                f"Must be between 1 and {SELECT_OPTIONS_MAX} in length.",
                            )
                        )
                    for k, opt in enumerate(options):
                        _required_text(errors, (*cpath, "options", k, "label"), opt.get("label"), 100)
                        _required_text(errors, (*cpath, "options", k, "value"), opt.get("value"), 100)
            else:
                errors.append(((*cpath, "type"), "UNION_TYPE_CHOICES", "Invalid component type"))


def validate_message(payload: dict[str, Any], *, edit: bool = False, has_files: bool = False) -> None:
    """Raise DiscordError for payloads Discord would reject (create or edit)."""
    errors: ErrorList = []
    content = payload.get("content")
    flags = int(payload.get("flags") or 0)
    if content is not None:
        _max_len(errors, ("content",), content, CONTENT_MAX)
    nonce = payload.get("nonce")
    if isinstance(nonce, str):
        _max_len(errors, ("nonce",), nonce, NONCE_MAX)  # e.g. a 36-char UUID is rejected by Discord
    if flags & COMPONENTS_V2_FLAG and (content or payload.get("embeds")):
        errors.append(
            (
                ("content",),
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                "The 'content' and 'embeds' fields cannot be used when using MessageFlags.IS_COMPONENTS_V2",
            )
        )
    validate_embeds(errors, payload.get("embeds"))
    validate_components(errors, payload.get("components"), flags)
    if errors:
        raise form_error(errors)
    if not edit:
        empty = (
            not (content or "").strip()
            and not payload.get("embeds")
            and not payload.get("components")
            and not payload.get("sticker_ids")
            and not payload.get("poll")
            and not has_files
            and not payload.get("attachments")
        )
        if empty:
            raise DiscordError(400, 50006, "Cannot send an empty message")


def validate_choices(choices: Any) -> None:
    errors: ErrorList = []
    if not isinstance(choices, list):
        errors.append((("data", "choices"), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"))
    else:
        if len(choices) > CHOICES_MAX:
            errors.append((("data", "choices"), "BASE_TYPE_MAX_LENGTH", f"Must be {CHOICES_MAX} or fewer in length."))
        for i, choice in enumerate(choices):
            _required_text(errors, ("data", "choices", i, "name"), choice.get("name"), 100)
            if isinstance(choice.get("value"), str):
                _max_len(errors, ("data", "choices", i, "value"), choice["value"], 100)
    if errors:
        raise form_error(errors)


def validate_modal(data: Any) -> None:
    errors: ErrorList = []
    if not isinstance(data, dict):
        raise form_error([(("data",), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")])
    _required_text(errors, ("data", "title"), data.get("title"), 45)
    _required_text(errors, ("data", "custom_id"), data.get("custom_id"), CUSTOM_ID_MAX)
    comps = data.get("components") or []
    if not 1 <= len(comps) <= 5:
        errors.append((("data", "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."))
    if errors:
        raise form_error(errors)


# --------------------------------------------------------------------------- commands


def _validate_options(errors: ErrorList, options: Any, path: Path, depth: int) -> None:
    if options is None:
        return
    if not isinstance(options, list):
        errors.append((path, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"))
        return
    if len(options) > OPTIONS_MAX:
        errors.append((path, "BASE_TYPE_MAX_LENGTH", f"Must be {OPTIONS_MAX} or fewer in length."))
    names = set()
    seen_optional = False
    kinds = set()
    for i, opt in enumerate(options):
        opath = (*path, i)
        if not isinstance(opt, dict):
            errors.append((opath, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"))
            continue
        otype = opt.get("type")
        name = opt.get("name")
        if not isinstance(name, str) or not COMMAND_NAME_RE.match(name) or name != name.lower():
            errors.append(((*opath, "name"), "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}"))
        if name in names:
            errors.append(
                ((*opath, "name"), "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Option names must be unique")
            )
        names.add(name)
        desc = opt.get("description")
        if not isinstance(desc, str) or not 1 <= len(desc) <= 100:
            errors.append(((*opath, "description"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."))
        if otype not in range(1, 12):
            errors.append(((*opath, "type"), "BASE_TYPE_CHOICES", "Value must be one of {1..11}."))
            continue
        kinds.add("sub" if otype in (1, 2) else "value")
        if otype == 2:
            if depth > 0:
                errors.append(
                    (
                        (*opath, "type"),
                        "APPLICATION_COMMAND_OPTION_INVALID_NESTING",
                        "Subcommand groups cannot be nested",
                    )
                )
            subs = opt.get("options") or []
            if any(isinstance(s, dict) and s.get("type") != 1 for s in subs):
                errors.append(
                    (
                        (*opath, "options"),
                        "APPLICATION_COMMAND_OPTION_INVALID_NESTING",
                        "Subcommand groups may only contain subcommands",
                    )
                )
            _validate_options(errors, subs, (*opath, "options"), depth + 1)
        elif otype == 1:
            subs = opt.get("options") or []
            if any(isinstance(s, dict) and s.get("type") in (1, 2) for s in subs):
                errors.append(
                    (
                        (*opath, "options"),
                        "APPLICATION_COMMAND_OPTION_INVALID_NESTING",
                        "Subcommands cannot contain subcommands",
                    )
                )
            _validate_options(errors, subs, (*opath, "options"), depth + 1)
        else:
            if opt.get("required"):
                if seen_optional:
                    errors.append(
                        (
                            (*opath, "required"),
                            "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                            "Required options must be placed before non-required options",
                        )
                    )
            else:
                seen_optional = True
            choices = opt.get("choices")
            if choices:
                if len(choices) > CHOICES_MAX:
                    errors.append(
                        ((*opath, "choices"), "BASE_TYPE_MAX_LENGTH", f"Must be {CHOICES_MAX} or fewer in length.")
                    )
                if opt.get("autocomplete"):
                    errors.append(
                        (
                            (*opath, "autocomplete"),
                            "APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_WITH_CHOICES",
                            "Autocomplete cannot be set with choices",
                        )
                    )
    if len(kinds) > 1:
        errors.append(
            (
                path,
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Sub-command and sub-command group option types are mutually exclusive to all other types",
            )
        )


def validate_commands(commands: Any) -> None:
    errors: ErrorList = []
    if not isinstance(commands, list):
        raise form_error([((), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")])
    if len(commands) > COMMANDS_MAX:
        errors.append(((), "BASE_TYPE_MAX_LENGTH", f"Must be {COMMANDS_MAX} or fewer in length."))
    seen = set()
    for i, cmd in enumerate(commands):
        validate_command(errors, cmd, (i,))
        if isinstance(cmd, dict):
            key = (cmd.get("type", 1), cmd.get("name"))
            if key in seen:
                errors.append(
                    (
                        (i, "name"),
                        "APPLICATION_COMMANDS_DUPLICATE_NAME",
                        f"Application command names must be unique: {cmd.get('name')}",
                    )
                )
            seen.add(key)
    if errors:
        raise form_error(errors)


def validate_command(errors: ErrorList, cmd: Any, path: Path = ()) -> None:
    if not isinstance(cmd, dict):
        errors.append((path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"))
        return
    ctype = cmd.get("type", 1) or 1
    name = cmd.get("name")
    if ctype == 1:
        if not isinstance(name, str) or not COMMAND_NAME_RE.match(name) or name != name.lower():
            errors.append(((*path, "name"), "APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name!r}"))
        desc = cmd.get("description")
        if not isinstance(desc, str) or not 1 <= len(desc) <= 100:
            errors.append(((*path, "description"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."))
        _validate_options(errors, cmd.get("options"), (*path, "options"), 0)
    else:
        if not isinstance(name, str) or not 1 <= len(name) <= 32:
            errors.append(((*path, "name"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length."))


SCHEDULED_NAME_MAX = 100
SCHEDULED_DESCRIPTION_MAX = 1000
SCHEDULED_LOCATION_MAX = 100
STAGE_INSTANCE, VOICE, EXTERNAL = 1, 2, 3
GUILD_VOICE, GUILD_STAGE_VOICE = 2, 13
# Discord's recurrence subset ("System limitations"): weekdays 0 = Monday; DAILY takes these sets (or none).
DAILY_WEEKDAY_SETS = ({0, 1, 2, 3, 4}, {1, 2, 3, 4, 5}, {6, 0, 1, 2, 3}, {4, 5}, {5, 6}, {6, 0})


def _iso_instant(errors: ErrorList, path: Path, value: Any) -> Any:
    try:
        moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        errors.append((path, "DATE_TIME_TYPE_PARSE", "Could not parse the date-time. Should be ISO8601."))
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def validate_recurrence_rule(errors: ErrorList, rule: dict[str, Any], start: Any) -> None:
    """Discord's recurrence_rule, within the subset it supports."""
    path: Path = ("recurrence_rule",)
    frequency, interval = rule.get("frequency"), rule.get("interval", 1)
    for key in ("end", "count", "by_year_day"):
        if rule.get(key) is not None:
            errors.append(((*path, key), "GUILD_SCHEDULED_EVENT_RECURRENCE_RULE_READ_ONLY", f"{key} cannot be set."))
    if frequency not in (0, 1, 2, 3):
        errors.append(((*path, "frequency"), "BASE_TYPE_CHOICES", "Value must be one of (0, 1, 2, 3)."))
        return
    weekdays = rule.get("by_weekday") or []
    nth = rule.get("by_n_weekday") or []
    months, month_days = rule.get("by_month") or [], rule.get("by_month_day") or []
    ok = {
        3: interval == 1
        and not nth
        and not months
        and not month_days
        and (not weekdays or set(weekdays) in DAILY_WEEKDAY_SETS),
        2: interval in (1, 2) and len(weekdays) == 1 and not nth and not months and not month_days,
        1: interval == 1
        and len(nth) == 1
        and 1 <= nth[0].get("n", 0) <= 5
        and not weekdays
        and not months
        and not month_days,
        0: interval == 1 and len(months) == 1 and len(month_days) == 1 and not weekdays and not nth,
    }[frequency]
    if not ok:
        errors.append((path, "GUILD_SCHEDULED_EVENT_RECURRENCE_RULE_INVALID", "This recurrence rule is not supported."))
    if rule.get("start") is None or start is None or _iso_instant(errors, (*path, "start"), rule["start"]) != start:
        errors.append(((*path, "start"), "GUILD_SCHEDULED_EVENT_RECURRENCE_RULE_START",
                       "The recurrence start must be the event's scheduled start time."))  # fmt: skip


def validate_scheduled_event(
    body: dict[str, Any], existing: dict[str, Any] | None, channel_types: dict[int, int]
) -> None:
    """Raise DiscordError for a guild scheduled event Discord would refuse (create when `existing` is None,
    else an edit of it): name 1-100, description up to 1000, EXTERNAL needs entity_metadata.location (1-100)
    and an end and no channel, STAGE/VOICE need a channel of that type, the end after the start, a start in
    the future when set, privacy_level 2, a recurrence_rule within Discord's subset."""
    errors: ErrorList = []
    merged = {**(existing or {}), **body}
    if existing is None or "name" in body:
        _required_text(errors, ("name",), body.get("name"), SCHEDULED_NAME_MAX)
    _max_len(errors, ("description",), body.get("description"), SCHEDULED_DESCRIPTION_MAX)
    if body.get("privacy_level", 2) != 2:
        errors.append((("privacy_level",), "BASE_TYPE_CHOICES", "Value must be one of (2,)."))
    entity_type = merged.get("entity_type")
    if entity_type not in (STAGE_INSTANCE, VOICE, EXTERNAL):
        errors.append((("entity_type",), "BASE_TYPE_CHOICES", "Value must be one of (1, 2, 3)."))
    start = end = None
    if existing is None and body.get("scheduled_start_time") is None:
        errors.append((("scheduled_start_time",), "BASE_TYPE_REQUIRED", "This field is required"))
    if merged.get("scheduled_start_time") is not None:
        start = _iso_instant(errors, ("scheduled_start_time",), merged["scheduled_start_time"])
    if merged.get("scheduled_end_time") is not None:
        end = _iso_instant(errors, ("scheduled_end_time",), merged["scheduled_end_time"])
    now = datetime.datetime.now(datetime.UTC)
    if "scheduled_start_time" in body and start is not None and start <= now:
        errors.append((("scheduled_start_time",), "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST",
                       "Cannot schedule event in the past."))  # fmt: skip
    if start is not None and end is not None and end <= start:
        errors.append((("scheduled_end_time",), "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
                       "Cannot schedule event to end before starting."))  # fmt: skip
    if entity_type == EXTERNAL:
        location = (merged.get("entity_metadata") or {}).get("location")
        _required_text(errors, ("entity_metadata", "location"), location, SCHEDULED_LOCATION_MAX)
        if end is None:
            errors.append((("scheduled_end_time",), "BASE_TYPE_REQUIRED", "This field is required"))
        if body.get("channel_id"):
            errors.append((("channel_id",), "GUILD_SCHEDULED_EVENT_CHANNEL", "Must be null for external events."))
    elif entity_type in (STAGE_INSTANCE, VOICE):
        wanted = GUILD_STAGE_VOICE if entity_type == STAGE_INSTANCE else GUILD_VOICE
        channel = merged.get("channel_id")
        if channel is None or channel_types.get(int(channel)) != wanted:
            errors.append((("channel_id",), "GUILD_SCHEDULED_EVENT_CHANNEL",
                           "Must be a voice or stage channel of this guild matching entity_type."))  # fmt: skip
    image = body.get("image")
    if image is not None and not str(image).startswith("data:image/"):
        errors.append((("image",), "IMAGE_INVALID", "Invalid image data"))
    rule = body.get("recurrence_rule")
    if rule is not None:
        validate_recurrence_rule(errors, rule, start)
    unknown = set(body) - {"name", "description", "privacy_level", "entity_type", "scheduled_start_time",
                           "scheduled_end_time", "entity_metadata", "channel_id", "image", "status",
                           "recurrence_rule"}  # fmt: skip
    for key in sorted(unknown):
        errors.append(((key,), "UNKNOWN_FIELD", "This field is not allowed."))
    if errors:
        raise form_error(errors)
