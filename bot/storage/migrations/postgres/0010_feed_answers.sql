-- Members' answers to an event its feed no longer has (gone, or STATUS:CANCELLED): the event is deleted (its card
-- marked cancelled, its reminders cancelled), its answers are kept here under the feed item's key, and go back to
-- the event the item becomes should it come back (bot/storage/subscriptions.py).
CREATE TABLE feed_answers (
    subscription_id BIGINT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
    key             TEXT NOT NULL,
    guild_id        BIGINT NOT NULL,
    occurrence      BIGINT NOT NULL,
    user_id         BIGINT NOT NULL,
    status          TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (subscription_id, key, occurrence, user_id)
);
