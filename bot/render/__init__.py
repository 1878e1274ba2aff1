"""Pictures of calendars (Pillow). Pure of Discord and storage: it draws what bot/domain lays out."""
