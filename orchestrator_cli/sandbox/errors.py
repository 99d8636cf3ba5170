"""The sandbox's own exceptions, in a module of their own so every part can raise them without
importing another part."""

from __future__ import annotations


class SandboxError(RuntimeError):
    """The sandbox could not be started, reached or rewired."""


class PortTakenError(SandboxError):
    """A server could not bind its port: another process took it between picking and binding.

    Distinct from :class:`SandboxError` so that start-up can pick a fresh port and retry instead
    of failing.
    """
