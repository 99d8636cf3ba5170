"""Replication commands (registered as they are implemented)."""
