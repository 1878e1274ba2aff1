-- RSVPs, capacity, calendar ping roles, and the reminder outbox.

ALTER TABLE calendars ADD COLUMN ping_role_id INTEGER;
ALTER TABLE events ADD COLUMN capacity INTEGER;

-- occurrence is 0 for an event that does not repeat (RSVPs survive moving it).
CREATE TABLE attendees (
    guild_id   INTEGER NOT NULL,
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    occurrence INTEGER NOT NULL DEFAULT 0,
    user_id    INTEGER NOT NULL,
    status     TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    dm_error   TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (event_id, occurrence, user_id)
);
CREATE INDEX attendees_by_status ON attendees (event_id, occurrence, status, seq);

-- The outbox: one row per reminder to deliver. The delivery key (event, occurrence start, interval,
-- channel, target) is unique, so planning the same reminder twice writes it once. target is 0 for a
-- channel post (the channel is resolved when it is sent) and for the DM fan-out row, which becomes
-- one row per attendee (target = user id) when it falls due.
-- state: pending -> claimed -> sent | failed | missed; pending -> cancelled when its event changes.
CREATE TABLE reminders (
    id               INTEGER PRIMARY KEY,
    guild_id         INTEGER NOT NULL,
    event_id         INTEGER NOT NULL,
    occurrence_start INTEGER NOT NULL,
    interval         TEXT NOT NULL,
    channel          TEXT NOT NULL,
    target           INTEGER NOT NULL DEFAULT 0,
    occurrence       INTEGER NOT NULL DEFAULT 0, -- whose answers a DM goes to: 0 for a one-off event
    scheduled_for    INTEGER NOT NULL, -- when it is meant to go out: lateness is measured from here
    due              INTEGER NOT NULL, -- when to try next: scheduled_for, or later after a failed try
    state            TEXT NOT NULL DEFAULT 'pending',
    lease_until      INTEGER,
    claimed_by       TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    late             INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    message_id       INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (event_id, occurrence_start, interval, channel, target)
);
CREATE INDEX reminders_pending_by_due ON reminders (due) WHERE state = 'pending';
CREATE INDEX reminders_claimed_by_lease ON reminders (lease_until) WHERE state = 'claimed';
-- The guild's notification log: finished rows only. Pending ones are reached by due time (above) or by
-- event (the unique key); indexing them by guild too made every per-event query in a big guild scan all
-- of its rows, as SQLite chose without statistics: 167 ms per reminders.schedule (every event create
-- or edit) and 240 ms per /notifications at 1,000,000 pending in one guild (bench/reminder_scale.py).
CREATE INDEX reminders_finished_by_guild ON reminders (guild_id, updated_at)
    WHERE state IN ('sent', 'failed', 'missed');
