"""Refactoring commands (registered as they are implemented)."""
