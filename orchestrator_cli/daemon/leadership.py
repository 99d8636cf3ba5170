"""Forcing the election from outside the loop (`/api/grab-election`, `/api/reelect`), audited.

The continuous mode's lease thread picks the change up on its next tick: after a grab it finds the
seat its own and renews it; after a re-election every node races for the empty seat.
"""

from __future__ import annotations

import logging

from orchestrator_cli.backend import audit, election
from orchestrator_cli.backend.connection import Backend

log = logging.getLogger("orchestrator.leadership")


def grab(backend: Backend, node: tuple[str, str], by: str) -> None:
    """Take the seat for `node` now, whoever holds it."""
    election.grab_election(backend, node)
    audit.audit(
        backend, "grab-election", None, f"{node[0]} (token {node[1][:12]}) took the election; by {by or 'anonymous'}"
    )


def reelect(backend: Backend, by: str) -> None:
    """Empty the seat, so that a new leader is elected within a second."""
    held = election.active_node(backend)
    election.vacate(backend)
    holder = f"{held['hostname']} (token {str(held['token'])[:12]})" if held and held["hostname"] else "nobody"
    audit.audit(backend, "reelect", None, f"election seat emptied (was held by {holder}); by {by or 'anonymous'}")
