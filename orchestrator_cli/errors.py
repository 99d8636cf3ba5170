"""One exception family; the CLI turns each into one stderr line and an exit code."""

from __future__ import annotations


class OrchestratorError(Exception):
    """An operation failed in a way the operator must see. `exit_code` is what the CLI returns."""

    exit_code = 1


class UsageError(OrchestratorError):
    """Bad flags or arguments: nothing was touched."""


class FlagParseError(UsageError):
    """A flag could not be parsed at all (the original exits 2 here, like Go's flag package)."""

    exit_code = 2


class ConfigError(OrchestratorError):
    """The configuration file is missing, unreadable or has a value of the wrong type."""


class NotFoundError(OrchestratorError):
    """An instance, cluster or row the command needs is not known to the backend."""


class BackendError(OrchestratorError):
    """The backend database failed or is unreachable."""


class TopologyError(OrchestratorError):
    """A topology server is unreachable or refused a statement."""


class TopologyTimeoutError(TopologyError):
    """A topology server did not answer in time (a read, write or connection handshake timed out):
    it may be hung, and another statement to it would most likely wait out the timeout again."""


class UnsafeOperationError(OrchestratorError):
    """A safety check refused the operation (maintenance lock, ancestry, promotion rule...)."""
