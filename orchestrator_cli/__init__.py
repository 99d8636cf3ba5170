"""Python reimplementation of the orchestrator MySQL replication topology manager."""

__version__ = "0.1.0"
GIT_COMMIT = "unknown"
