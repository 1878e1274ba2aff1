"""The pure core: models, validation and time rules. Imports nothing of ours but `domain`, and no I/O."""
