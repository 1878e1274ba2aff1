-- Work a background task could not do for one event (bot/storage/problems.py): the series-card roller,
-- the reminder horizon, the event_sync drain or dispatch met a row that raises, skipped it and recorded it
-- here, where /notifications shows it to the guild's managers. One row per (guild, event, what); removed
-- when that work succeeds for the event again, or with the event.
CREATE TABLE problems (
    guild_id   BIGINT NOT NULL,
    event_id   BIGINT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    what       TEXT NOT NULL CHECK (what IN ('series card', 'reminders', 'follow-up', 'delivery')),
    error      TEXT NOT NULL, -- one line, bounded, no traceback
    first_seen BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    count      INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (guild_id, event_id, what)
);
CREATE INDEX problems_by_event ON problems (event_id);
