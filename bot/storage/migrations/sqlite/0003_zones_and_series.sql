-- How a guild writes dates, when all-day reminders go out, members' own time zones,
-- and recurring series with their per-occurrence exceptions.

ALTER TABLE guild_settings ADD COLUMN date_order TEXT NOT NULL DEFAULT 'DMY';
ALTER TABLE guild_settings ADD COLUMN all_day_time TEXT NOT NULL DEFAULT '09:00';

-- A member's own zone: what they type is read in it, in every guild.
CREATE TABLE user_settings (
    user_id    INTEGER PRIMARY KEY,
    timezone   TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- A recurring event keeps its rule as RFC 5545 RRULE text; NULL for a one-off event.
ALTER TABLE events ADD COLUMN recurrence TEXT;
CREATE INDEX events_guild_series ON events (guild_id, starts) WHERE recurrence IS NOT NULL;

-- One occurrence of a series moved, edited or cancelled; `occurrence` is the start the series gave it.
CREATE TABLE occurrence_changes (
    guild_id    INTEGER NOT NULL,
    event_id    INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    occurrence  INTEGER NOT NULL,
    cancelled   INTEGER NOT NULL DEFAULT 0,
    starts      INTEGER,
    ends        INTEGER,
    name        TEXT,
    description TEXT,
    location    TEXT,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (event_id, occurrence)
);

-- Events written outside the bot (the HTTP API, possibly another process) wait here until the bot
-- posts or updates their card and schedules their reminders. A deleted event leaves its last state.
CREATE TABLE event_sync (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    event_id   INTEGER NOT NULL,
    deleted    TEXT,             -- the deleted event as JSON, for cancelling its card
    created_at INTEGER NOT NULL
);
