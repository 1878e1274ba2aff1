-- Members' own private reminders (bot/storage/prefs.py), the same in every server like their time zone: for
-- events they answer going or maybe, `intervals` (space-separated codes) and `channels` (discord_private,
-- mail, sms) replace the event's private ones; NULL keeps the event's; `off` = 1: no private reminders.
CREATE TABLE reminder_prefs (
    user_id    INTEGER PRIMARY KEY,
    intervals  TEXT,
    channels   TEXT,
    off        INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
-- The events whose reminders a member's new preferences change.
CREATE INDEX attendees_by_user ON attendees (user_id, status);

-- Every notification a guild broadcasts, as its webhooks receive it, numbered per guild (`seq`) for the API's
-- Server-Sent Events stream (GET /v2/notifications/stream), which replays what a client missed from here.
-- Pruned after a retention period (bot/storage/stream.py).
CREATE TABLE notification_stream (
    guild_id   INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    key        TEXT NOT NULL, -- the delivery key, as webhooks get it in webhook-id
    payload    TEXT NOT NULL, -- JSON
    created_at INTEGER NOT NULL,
    PRIMARY KEY (guild_id, seq),
    UNIQUE (guild_id, key)
);
CREATE INDEX notification_stream_by_time ON notification_stream (created_at);
