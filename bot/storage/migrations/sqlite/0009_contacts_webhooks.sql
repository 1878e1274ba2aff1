-- Members' own mail address and phone number (bot/storage/contacts.py), the same in every server like
-- their time zone. One row per (member, kind); only a confirmed one (confirmed_at set) receives reminders.
-- A code waiting for confirmation is kept as its SHA-256 only.
CREATE TABLE contacts (
    user_id      INTEGER NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('mail', 'sms')),
    address      TEXT NOT NULL,
    confirmed_at INTEGER,
    code_hash    TEXT,
    code_expires INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0, -- wrong codes tried against code_hash
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- A guild's outgoing webhooks (bot/storage/webhooks.py): every notification of the guild (or of one of its
-- calendars) is POSTed to `url`, signed with `secret` (Standard Webhooks). One that keeps failing is disabled.
CREATE TABLE webhooks (
    id              INTEGER PRIMARY KEY,
    guild_id        INTEGER NOT NULL,
    calendar_id     INTEGER REFERENCES calendars (id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    secret          TEXT NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0, -- in a row; a success resets it
    disabled_reason TEXT,                       -- set: disabled, and why
    created_by      INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX webhooks_by_guild ON webhooks (guild_id);

-- Each member's DM channel once opened (it never changes for a bot and a user), so a DM reminder to a known
-- member is one request (send) instead of two (open the channel, then send).
CREATE TABLE dm_channels (
    user_id    INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
