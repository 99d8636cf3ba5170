"""Fencing of automated recoveries by the leader's lease term.

An automated recovery is decided by the leader under one lease term (`election.Lease`). Before
every statement that changes a topology server (the access layer's `guard`), before and after the
hook lists that run before any change (`engine.FENCED_HOOKS`), and before a failed outcome is
recorded, the executor confirms
on the backend (one indexed row read) that the term is still current and was renewed within
`election.FENCE_SECONDS`; otherwise it raises `LeaseLost` and the recovery is aborted with an audit
line and a recovery step. Once lost, a fence stays lost: nothing more is sent.

What this cannot cover: a process frozen between a successful check and the statement it guards
(microseconds) sends that one statement late. A check passes only while the lease was renewed
within FENCE_SECONDS, and another node can take the seat only after ACTIVE_NODE_EXPIRE_SECONDS, so a
statement sent right after its check always lands before the next leader can act.

`LeaseLost` is deliberately not an `OrchestratorError`: per-step error handling in the handlers
(which records a failed replica as lost and carries on, or turns a failed demotion into a refusal)
must not absorb it. `engine.execute` catches it. A backend that cannot be asked counts as a lost
lease: a change the leader cannot confirm is not made.

One-off CLI recoveries carry no lease and are not fenced.
"""

from __future__ import annotations

import logging
import threading
import time

from orchestrator_cli.backend import election
from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.errors import OrchestratorError
from orchestrator_cli.model.keys import InstanceKey

log = logging.getLogger("orchestrator.recovery")


# A term found stale (ours, not renewed within FENCE_SECONDS) is asked again this often, for at most
# ACTIVE_NODE_EXPIRE_SECONDS, before the change is refused: after a backend stall the recovery's
# check may be answered before the lease thread's renewal, which arrives within a tick.
STALE_RECHECK_SECONDS = 0.2


class LeaseLost(Exception):
    """This node no longer holds the lease term its recovery was decided under."""


class Fence:
    def __init__(self, backend: Backend, lease: election.Lease) -> None:
        self.backend = backend
        self.lease = lease
        self.lost: str | None = None
        self._lock = threading.Lock()

    def check(self, before: str) -> None:
        """Raise LeaseLost unless the lease term still holds; `before` names what was about to happen."""
        with self._lock:
            if self.lost is None:
                try:
                    held = self._held()
                except OrchestratorError as e:
                    self.lost = f"the lease could not be confirmed ({e})"
                else:
                    if not held:
                        self.lost = f"this node ({self.lease.describe()}) no longer holds the lease"
            if self.lost is not None:
                raise LeaseLost(f"{self.lost}; refused: {before}")

    def _held(self) -> bool:
        """The term is current and fresh; a stale term of ours is waited on (renewed: held; taken or
        still stale after ACTIVE_NODE_EXPIRE_SECONDS: not held). Nothing is sent while waiting, and a
        change is made only after a fresh confirmation, as without the wait."""
        deadline = time.monotonic() + election.ACTIVE_NODE_EXPIRE_SECONDS
        while True:
            state = election.standing(self.backend, self.lease)
            if state != "stale" or time.monotonic() >= deadline:
                return state == "fresh"
            time.sleep(STALE_RECHECK_SECONDS)

    def guard(self, key: InstanceKey, statement: str) -> None:
        """The access layer's pre-change hook."""
        self.check(f"{key}: {statement}")
