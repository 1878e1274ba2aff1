"""calbot: a Discord calendar bot."""
