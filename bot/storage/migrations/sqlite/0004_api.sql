-- The HTTP API: per-guild tokens, and each calendar's secret ICS feed address.

-- A token is shown once, as cbt_<id>_<secret>; only the SHA-256 of its secret part is kept, so the
-- database alone never lets anyone call the API. Revoked tokens stay, for the record.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    hash         TEXT NOT NULL,
    created_by   INTEGER,          -- the member who made it with /api token create; NULL from the CLI
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_by_guild ON api_tokens (guild_id, id);

-- The feed secret is stored as is (not hashed): /calendar feed shows the address again without
-- resetting it. It is 32 random bytes, so it cannot be guessed; reset replaces it.
ALTER TABLE calendars ADD COLUMN feed_secret TEXT;
CREATE UNIQUE INDEX calendars_feed_secret ON calendars (feed_secret) WHERE feed_secret IS NOT NULL;
