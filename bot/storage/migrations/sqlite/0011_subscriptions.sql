-- A calendar that follows an outside ICS feed (bot/storage/subscriptions.py): polled by one process at a time
-- (claimed_by until lease_until), with conditional GET (etag, last_modified) and the hash of the last body.
CREATE TABLE subscriptions (
    id            INTEGER PRIMARY KEY,
    guild_id      INTEGER NOT NULL,
    calendar_id   INTEGER NOT NULL UNIQUE REFERENCES calendars (id) ON DELETE CASCADE,
    url           TEXT NOT NULL,
    every         INTEGER NOT NULL,           -- seconds between polls, as asked
    etag          TEXT,
    last_modified TEXT,
    body_hash     TEXT,
    next_poll     INTEGER NOT NULL,
    claimed_by    TEXT,
    lease_until   INTEGER,
    failures      INTEGER NOT NULL DEFAULT 0, -- in a row; a good poll resets it
    last_poll     INTEGER,
    last_result   TEXT,
    paused_reason TEXT,                       -- set: not polled until subscribed again, and why
    created_by    INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX subscriptions_by_guild ON subscriptions (guild_id);
CREATE INDEX subscriptions_due ON subscriptions (next_poll);

-- Each VEVENT imported (keyed by UID, or UID and an extra date) and the event it became; `digest` says what was
-- imported, so an unchanged VEVENT costs no write. An event listed here is read-only in calbot.
CREATE TABLE feed_items (
    subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    key             TEXT NOT NULL,
    event_id        INTEGER NOT NULL UNIQUE REFERENCES events (id) ON DELETE CASCADE,
    digest          TEXT NOT NULL,
    PRIMARY KEY (subscription_id, key)
);
