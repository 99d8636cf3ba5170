"""Replication thread states as the original stores them (`replication_{io,sql}_thread_state`)."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from orchestrator_cli.model.coerce import to_opt_int, to_str

__all__ = ["ThreadState"]


class ThreadState(IntEnum):
    """Tri-state (plus "other") thread state; an ``IntEnum`` so the stored integers compare equal.

    >>> ThreadState.from_running_text("Yes"), ThreadState.from_running_text("Connecting")
    (<ThreadState.RUNNING: 1>, <ThreadState.OTHER: 2>)
    >>> ThreadState.from_cell("0", default=ThreadState.NONE), ThreadState.from_cell(None, default=ThreadState.NONE)
    (<ThreadState.STOPPED: 0>, <ThreadState.NONE: -1>)
    >>> ThreadState.RUNNING == 1
    True
    """

    NONE = -1  # not a replica
    STOPPED = 0
    RUNNING = 1
    OTHER = 2  # e.g. IO thread "Connecting"

    @classmethod
    def from_running_text(cls, value: Any) -> ThreadState:
        """``Slave_IO_Running``-style text: ``Yes`` running, ``No`` stopped, anything else other."""
        text = to_str(value).strip()
        if text == "Yes":
            return cls.RUNNING
        if text == "No":
            return cls.STOPPED
        return cls.OTHER

    @classmethod
    def from_cell(cls, value: Any, default: ThreadState) -> ThreadState:
        """A stored state column; NULL, unparsable or out-of-range values give ``default``."""
        if type(value) is int:  # the common case, without the enum's call machinery
            return _BY_VALUE.get(value, default)
        number = to_opt_int(value)
        if number is None:
            return default
        try:
            return cls(number)
        except ValueError:
            return default


_BY_VALUE: dict[int, ThreadState] = {state.value: state for state in ThreadState}
