-- Organisers (bot/domain/permissions.py): members of this role create events and change the events they
-- created; the guild's own id (Discord's @everyone role) lets every member organise; NULL: no organisers.
ALTER TABLE guild_settings ADD COLUMN organiser_role_id INTEGER;
-- The standing a token acts with: its creator's when it was made.
ALTER TABLE api_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'manager' CHECK (role IN ('manager', 'organiser'));
