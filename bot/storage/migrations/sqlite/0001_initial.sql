-- Instants are UTC epoch seconds. Lists (reminder intervals, channels) are JSON arrays of strings.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE guild_settings (
    guild_id           INTEGER PRIMARY KEY,
    timezone           TEXT NOT NULL,
    manager_role_id    INTEGER,
    default_channel_id INTEGER,
    default_reminders  TEXT NOT NULL,
    default_channels   TEXT NOT NULL,
    updated_at         INTEGER NOT NULL
);

-- AUTOINCREMENT: an id is never reused, so a deleted event's reminder rows, card buttons and log
-- entries can never point at a new one.
CREATE TABLE calendars (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    color       TEXT NOT NULL DEFAULT 'NONE',
    channel_id  INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    -- lets events reference (guild, calendar), so no event can sit in another guild's calendar
    UNIQUE (guild_id, id)
);
CREATE UNIQUE INDEX calendars_guild_name ON calendars (guild_id, name COLLATE NOCASE);

CREATE TABLE events (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id               INTEGER NOT NULL,
    calendar_id            INTEGER NOT NULL,
    name                   TEXT NOT NULL,
    description            TEXT NOT NULL DEFAULT '',
    content                TEXT NOT NULL DEFAULT '',
    location               TEXT NOT NULL DEFAULT '',
    url                    TEXT,
    author_id              INTEGER,
    all_day                INTEGER NOT NULL DEFAULT 0,
    starts                 INTEGER NOT NULL,
    ends                   INTEGER,
    timezone               TEXT NOT NULL,
    repeats                INTEGER NOT NULL DEFAULT 0,
    registration_enabled   INTEGER NOT NULL DEFAULT 1,
    registration_deadline  INTEGER,
    notifications_enabled  INTEGER NOT NULL DEFAULT 1,
    notifications_interval TEXT NOT NULL,
    notifications_channels TEXT NOT NULL,
    color                  TEXT NOT NULL DEFAULT 'NONE',
    image                  TEXT,
    card_channel_id        INTEGER,
    card_message_id        INTEGER,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    FOREIGN KEY (guild_id, calendar_id) REFERENCES calendars (guild_id, id)
);
CREATE INDEX events_guild_starts ON events (guild_id, starts);
CREATE INDEX events_guild_calendar_starts ON events (guild_id, calendar_id, starts);
