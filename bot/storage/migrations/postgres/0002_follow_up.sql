-- Every write of an event queues its Discord-side follow-up (card, reminders, DMs) in the same
-- transaction; members the write moved off a waitlist are kept with it, so they are told even if the
-- bot stops before it gets to them: a JSON object {"<occurrence key>": [user ids]}.
ALTER TABLE event_sync ADD COLUMN promoted TEXT;
CREATE INDEX event_sync_by_event ON event_sync (guild_id, event_id);
