-- Issue 11: time exactly right.

-- The wall time a start was typed as, where the start's instant shows another: 02:30 typed for a
-- spring-forward night starts at 03:30 that day, but a daily series repeats at 02:30. ISO 8601 without an
-- offset ("2027-03-28T02:30:00"), read in the event's zone; NULL (every existing row) is the start's own wall
-- time, so stored series keep their meaning.
ALTER TABLE events ADD COLUMN anchor TEXT;

-- Lists of one-off events (bot/storage/events.py `occurrence_page`) read their start and end from the index
-- alone, in the order they are shown (the rowid, `id`, is part of every SQLite index), so a guild's page of ten
-- never reads its other rows.
CREATE INDEX events_one_offs ON events (guild_id, starts, ends) WHERE recurrence IS NULL;
CREATE INDEX events_calendar_one_offs ON events (guild_id, calendar_id, starts, ends) WHERE recurrence IS NULL;

-- Events longer than a day, apart: a list looks for those still running as it starts only among them (LONGEST_EVENT
-- back), and only a day back among the rest.
CREATE INDEX events_long_one_offs ON events (guild_id, starts) WHERE recurrence IS NULL AND ends - starts > 86400;
