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
