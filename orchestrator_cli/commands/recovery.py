"""Recovery commands (registered as they are implemented)."""
