-- Discord's own Events tab (bot/storage/native.py, bot/exts/native.py). A calendar with discord_events set
-- is mirrored there: each of its events (a series: by Discord's recurrence rule, or occurrence by occurrence
-- within the look-ahead window) is one guild scheduled event.
ALTER TABLE calendars ADD COLUMN discord_events INTEGER NOT NULL DEFAULT 0;

-- One row per guild that mirrors (or imports): its settings, and its mirror work as a durable queue with a
-- lease, like the reminder outbox. due_at set: a pass over the guild is wanted from then on, a worker
-- claims it by setting lease_until, and a crashed worker's lease runs out.
CREATE TABLE native_guilds (
    guild_id           BIGINT PRIMARY KEY,
    import_calendar_id BIGINT REFERENCES calendars (id) ON DELETE SET NULL, -- events made in the tab land here
    window_days        BIGINT NOT NULL DEFAULT 7, -- look-ahead of series mirrored occurrence by occurrence
    due_at             BIGINT,                    -- a pass is wanted from then on, NULL: none
    lease_until        BIGINT,                    -- claimed by a worker until then
    marked             BIGINT NOT NULL DEFAULT 0, -- bumped by every request for a pass
    attempts           BIGINT NOT NULL DEFAULT 0, -- failed passes in a row
    last_error         TEXT,
    refused            TEXT,                      -- Discord refused (403): why, no pass until the next change
    left_out           TEXT NOT NULL DEFAULT '{}'  -- JSON {calendar id: events not mirrored for the 100 cap}
);
CREATE INDEX native_guilds_due ON native_guilds (due_at);

-- Which guild scheduled event stands for which calbot event (occurrence: the original start of the one
-- occurrence it mirrors, epoch seconds, 0 for a whole event or series). imported: made in the tab by a
-- member and brought in, so calbot never writes it back. cover: the image address calbot last sent as its cover.
CREATE TABLE native_events (
    native_id  BIGINT PRIMARY KEY,
    guild_id   BIGINT NOT NULL,
    event_id   BIGINT NOT NULL, -- kept when the event is deleted: the next pass deletes its scheduled event
    occurrence BIGINT NOT NULL DEFAULT 0,
    imported   INTEGER NOT NULL DEFAULT 0,
    cover      TEXT,
    seen       TEXT, -- an imported one: its fingerprint when calbot last matched it, to tell who changed
    UNIQUE (guild_id, event_id, occurrence)
);

-- Members whose "Interested" in the tab calbot recorded as their answer, so taking it back (or its absence
-- from the users route when reconciling) removes only those answers, never one given on a card.
CREATE TABLE native_interested (
    native_id  BIGINT NOT NULL REFERENCES native_events (native_id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL,
    PRIMARY KEY (native_id, user_id)
);

-- A refused mirror (Discord's 403) is recorded against the event it failed on, like other background work.
ALTER TABLE problems DROP CONSTRAINT problems_what_check;
ALTER TABLE problems ADD CONSTRAINT problems_what_check
    CHECK (what IN ('series card', 'reminders', 'follow-up', 'delivery', 'events tab'));
