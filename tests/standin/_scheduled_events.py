"""Guild scheduled events (Discord's Events tab) for the stand-in: the REST routes (list, create, get, edit,
delete, users) with Discord's validation (bot/_validate.py's `validate_scheduled_event`), its cap of
SCHEDULED_EVENTS_MAX uncompleted events per guild, the Manage Events permission, a rate limit of its own on
these routes (429 with retry_after, like Discord's per-route buckets), and the gateway events
GUILD_SCHEDULED_EVENT_CREATE/UPDATE/DELETE/USER_ADD/USER_REMOVE (intent GUILD_SCHEDULED_EVENTS).

Tests act as members through `member_creates_scheduled_event`, `member_edits_scheduled_event` and
`set_interested`, and read `scheduled_events(guild_id)`.
"""

from __future__ import annotations

import collections
import time
from typing import TYPE_CHECKING, Any

from ._validate import DiscordError, validate_scheduled_event

if TYPE_CHECKING:
    from .server import _Guild

SCHEDULED_EVENTS_MAX = 100  # uncompleted scheduled events per guild
SCHEDULED, ACTIVE, COMPLETED, CANCELED = 1, 2, 3, 4
GUILD_SCHEDULED_EVENTS_INTENT = 1 << 16
MANAGE_EVENTS = 1 << 33


class RateLimited(DiscordError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(429, 0, "You are being rate limited.")
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "retry_after": round(self.retry_after, 3), "global": False, "code": 0}


class ScheduledEventsMixin:
    """Mixed into DiscordStandIn (which supplies guilds, users, snowflakes, permissions and dispatch)."""

    # (requests, seconds) allowed on the scheduled-event routes per guild; None: unlimited
    scheduled_event_rate: tuple[int, float] | None = None

    def _init_scheduled_events(self) -> None:
        self.scheduled_event_windows: dict[int, collections.deque[float]] = collections.defaultdict(collections.deque)
        self.scheduled_event_429s = 0

    # ---- what tests read and do

    def scheduled_events(self, guild_id: int) -> list[dict[str, Any]]:
        """The guild's scheduled events as Discord would list them, by start."""
        g = self._guild(guild_id)
        return sorted((self._event_payload(g, e) for e in g.scheduled_events.values()),
                      key=lambda e: (e["scheduled_start_time"], int(e["id"])))  # fmt: skip

    def member_creates_scheduled_event(self, guild_id: int, user_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """A member makes a scheduled event in the Events tab."""
        g = self._guild(guild_id)
        return self._create_scheduled(g, dict(body), creator_id=int(user_id))

    def member_edits_scheduled_event(self, guild_id: int, event_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        g = self._guild(guild_id)
        return self._edit_scheduled(g, self._scheduled(g, event_id), dict(changes))

    def member_deletes_scheduled_event(self, guild_id: int, event_id: int) -> None:
        g = self._guild(guild_id)
        self._delete_scheduled(g, self._scheduled(g, event_id))

    def set_interested(self, guild_id: int, event_id: int, user_id: int, interested: bool = True) -> None:
        """A member presses (or takes back) "Interested" on a scheduled event."""
        g = self._guild(guild_id)
        event = self._scheduled(g, event_id)
        users = g.scheduled_users.setdefault(int(event["id"]), set())
        if interested:
            users.add(int(user_id))
        else:
            users.discard(int(user_id))
        name = "GUILD_SCHEDULED_EVENT_USER_ADD" if interested else "GUILD_SCHEDULED_EVENT_USER_REMOVE"
        data = {"guild_scheduled_event_id": event["id"], "user_id": str(user_id), "guild_id": str(g.id)}
        self._dispatch_guild_event(g, name, data, GUILD_SCHEDULED_EVENTS_INTENT)

    # ---- REST

    async def _r_list_scheduled(self, req: Any, gid: str):
        self._limit_scheduled(int(gid))
        g = self._guild(gid)
        counted = req.query.get("with_user_count") in ("true", "True", "1")
        return 200, [self._event_payload(g, e, with_count=counted) for e in g.scheduled_events.values()]

    async def _r_create_scheduled(self, req: Any, gid: str):
        self._limit_scheduled(int(gid))
        g = self._guild(gid)
        self._require_manage_events(g)
        return 200, self._create_scheduled(g, dict(req.json or {}), creator_id=self.bot_user_id)

    async def _r_get_scheduled(self, req: Any, gid: str, eid: str):
        self._limit_scheduled(int(gid))
        g = self._guild(gid)
        return 200, self._event_payload(g, self._scheduled(g, eid))

    async def _r_edit_scheduled(self, req: Any, gid: str, eid: str):
        self._limit_scheduled(int(gid))
        g = self._guild(gid)
        self._require_manage_events(g)
        return 200, self._edit_scheduled(g, self._scheduled(g, eid), dict(req.json or {}))

    async def _r_delete_scheduled(self, req: Any, gid: str, eid: str):
        self._limit_scheduled(int(gid))
        g = self._guild(gid)
        self._require_manage_events(g)
        self._delete_scheduled(g, self._scheduled(g, eid))
        return 204, None

    async def _r_scheduled_users(self, req: Any, gid: str, eid: str):
        self._limit_scheduled(int(gid))
        g = self._guild(gid)
        event = self._scheduled(g, eid)
        limit = min(100, max(1, int(req.query.get("limit", 100))))
        after = int(req.query.get("after", 0))
        ids = sorted(u for u in g.scheduled_users.get(int(event["id"]), set()) if u > after)[:limit]
        return 200, [{"guild_scheduled_event_id": event["id"], "user": self.users.get(u, {"id": str(u)})}
                     for u in ids]  # fmt: skip

    # ---- the model

    def _scheduled(self, g: _Guild, eid: Any) -> dict[str, Any]:
        event = g.scheduled_events.get(int(eid))
        if event is None:
            raise DiscordError(404, 10070, "Unknown Guild Scheduled Event")
        return event

    def _require_manage_events(self, g: _Guild) -> None:
        if not self.base_permissions(g.id, self.bot_user_id) & MANAGE_EVENTS:
            raise DiscordError(403, 50013, "Missing Permissions")

    def _limit_scheduled(self, guild_id: int) -> None:
        if self.scheduled_event_rate is None:
            return
        limit, span = self.scheduled_event_rate
        window, now = self.scheduled_event_windows[guild_id], time.monotonic()
        while window and now - window[0] >= span:
            window.popleft()
        if len(window) >= limit:
            self.scheduled_event_429s += 1
            raise RateLimited(max(0.001, span - (now - window[0])))
        window.append(now)

    def _create_scheduled(self, g: _Guild, body: dict[str, Any], *, creator_id: int) -> dict[str, Any]:
        validate_scheduled_event(body, None, self._channel_types(g))
        live = sum(1 for e in g.scheduled_events.values() if e["status"] in (SCHEDULED, ACTIVE))
        if live >= SCHEDULED_EVENTS_MAX:
            raise DiscordError(400, 30038, "Maximum number of uncompleted guild scheduled events reached (100)")
        event = {
            "id": str(self.snowflake()),
            "guild_id": str(g.id),
            "channel_id": body.get("channel_id"),
            "creator_id": str(creator_id),
            "name": body["name"],
            "description": body.get("description"),
            "scheduled_start_time": body["scheduled_start_time"],
            "scheduled_end_time": body.get("scheduled_end_time"),
            "privacy_level": 2,
            "status": SCHEDULED,
            "entity_type": int(body["entity_type"]),
            "entity_id": None,
            "entity_metadata": body.get("entity_metadata"),
            "image": "cover" if body.get("image") else None,
            "recurrence_rule": body.get("recurrence_rule"),
        }
        g.scheduled_events[int(event["id"])] = event
        self._dispatch_scheduled(g, "GUILD_SCHEDULED_EVENT_CREATE", event)
        return self._event_payload(g, event)

    def _edit_scheduled(self, g: _Guild, event: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        validate_scheduled_event(changes, event, self._channel_types(g))
        if "status" in changes:
            status = int(changes["status"])
            allowed = {SCHEDULED: (ACTIVE, CANCELED), ACTIVE: (COMPLETED,)}.get(event["status"], ())
            if status != event["status"] and status not in allowed:
                raise DiscordError(400, 180000, "Cannot update event status")
        for key in ("name", "description", "scheduled_start_time", "scheduled_end_time", "entity_type",
                    "channel_id", "entity_metadata", "status", "recurrence_rule"):  # fmt: skip
            if key in changes:
                event[key] = changes[key]
        if "image" in changes:
            event["image"] = "cover" if changes["image"] else None
        if event["entity_type"] == 3:
            event["channel_id"] = None
        self._dispatch_scheduled(g, "GUILD_SCHEDULED_EVENT_UPDATE", event)
        return self._event_payload(g, event)

    def _delete_scheduled(self, g: _Guild, event: dict[str, Any]) -> None:
        del g.scheduled_events[int(event["id"])]
        g.scheduled_users.pop(int(event["id"]), None)
        self._dispatch_scheduled(g, "GUILD_SCHEDULED_EVENT_DELETE", event)

    def _channel_types(self, g: _Guild) -> dict[int, int]:
        return {c: self.channels[c]["type"] for c in g.channel_ids if c in self.channels}

    def _event_payload(self, g: _Guild, event: dict[str, Any], *, with_count: bool = False) -> dict[str, Any]:
        payload = dict(event)
        payload["creator"] = self.users.get(int(event["creator_id"]))
        if with_count:
            payload["user_count"] = len(g.scheduled_users.get(int(event["id"]), set()))
        return payload

    def _dispatch_scheduled(self, g: _Guild, name: str, event: dict[str, Any]) -> None:
        self._dispatch_guild_event(g, name, self._event_payload(g, event), GUILD_SCHEDULED_EVENTS_INTENT)
