"""Leader election for continuous mode (`active_node`): one lease row, renewed every second.

It only gates who runs automated detection and recovery; one-off CLI commands never take part.
Every comparison uses the backend's clock (`NOW()`), so node clocks never matter.

The lease is judged by reading the row back, never by a statement's changed-row count: MySQL
reports 0 changed rows when `last_seen_active` is set to the value it already holds (two renewals
within one second), which must not read as "lost". Each statement runs on its own (autocommit), so
nodes racing for the seat never hold a lock while waiting for another; a race that still surfaces
as a deadlock, lock wait timeout or duplicate key is an ordinary "not leader" outcome.

A lease *term* is (hostname, token, first_seen_active): `first_seen_active` is set when a node takes
the seat from someone else (or an empty seat) and kept while the same node renews, even after a
pause that let its lease expire unclaimed (nobody else led in between). Automated recoveries carry
the term they were decided under (`Lease`) and confirm it with `holds` before every change.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from orchestrator_cli.backend.connection import Backend, Row
from orchestrator_cli.errors import BackendError

log = logging.getLogger("orchestrator.election")

ACTIVE_NODE_EXPIRE_SECONDS = 5
# A change is allowed only while the lease was renewed within this many seconds: the seat can be
# taken over only after ACTIVE_NODE_EXPIRE_SECONDS, so at least one second (with the backend's
# one-second timestamp resolution) separates the last change checked under a term from the first
# moment another node can lead.
FENCE_SECONDS = ACTIVE_NODE_EXPIRE_SECONDS - 2

# How long after its first read found another node's lease expired a follower waits before a second
# read may confirm it (`ExpiryWatch`): the incumbent's renewal, queued behind a stalled backend like
# everyone's statements, needs a few round trips once the backend answers again.
TAKEOVER_PATIENCE_SECONDS = 1.0

# MySQL error numbers that mean "another node got there first", not "the backend is broken".
_RACE_ERRNOS = frozenset({1205, 1213, 1062})  # lock wait timeout, deadlock, duplicate key


@dataclass(frozen=True)
class Lease:
    """One term of leadership: who holds the seat, and since when (the backend's `first_seen_active`)."""

    hostname: str
    token: str
    term: str

    @property
    def node(self) -> tuple[str, str]:
        return self.hostname, self.token

    def describe(self) -> str:
        return f"{self.hostname} (token {self.token[:12]}, leading since {self.term})"


def is_race(error: BaseException) -> bool:
    """A lock wait timeout, deadlock or duplicate key between nodes contending for one row.

    >>> is_race(BackendError("backend statement failed (...): 1213 (40001): Deadlock found"))
    True
    >>> is_race(BackendError("cannot connect to MySQL backend 127.0.0.1:3306: refused"))
    False
    """
    seen: BaseException | None = error
    while seen is not None:
        if getattr(seen, "errno", None) in _RACE_ERRNOS:
            return True
        seen = seen.__cause__
    text = str(error)
    return any(f"{n} (" in text for n in ("1205", "1213", "1062")) or "Deadlock found" in text


class ExpiryWatch:
    """A follower's memory between attempts: the expired lease row its previous read found.

    A follower takes another node's expired lease over only when a second read, sent at least
    TAKEOVER_PATIENCE_SECONDS after the first one was answered, found the same expired row. After the
    backend itself stalled (hung, every node's statement waiting) the lease looks expired to everyone
    at once, and a follower's next tick is due at once; the incumbent, whose renewal was waiting too,
    gets that second to renew instead of losing the seat, and its running recoveries, to whichever
    statement the backend happened to answer first. A dead leader is replaced about a second later.
    """

    def __init__(self) -> None:
        self.seen: tuple[str, str, str] | None = None
        self.answered = 0.0  # monotonic: when the read that first found `seen` was answered

    def confirmed(self, row: Row, sent: float, answered: float) -> bool:
        """Whether `row`, found expired by a read sent at `sent`, may be taken over now."""
        current = (str(row["hostname"]), str(row["token"]), str(row["last_seen_active"]))
        if self.seen != current:
            self.seen, self.answered = current, answered
            return False
        return sent - self.answered >= TAKEOVER_PATIENCE_SECONDS


def _read(backend: Backend) -> Row | None:
    d = backend.dialect
    return backend.query_one(
        f"""SELECT hostname, token, first_seen_active, last_seen_active,
                   CASE WHEN hostname = '' OR last_seen_active < {d.seconds_ago("?")} THEN 1 ELSE 0 END AS expired
            FROM active_node WHERE anchor = 1""",
        (ACTIVE_NODE_EXPIRE_SECONDS,),
    )


def _ours(row: Row | None, node: tuple[str, str]) -> bool:
    return row is not None and (str(row["hostname"]), str(row["token"])) == node


def attempt_election(backend: Backend, node: tuple[str, str], watch: ExpiryWatch | None = None) -> Lease | None:
    """Claim an empty seat, take over an expired lease, or renew our own; the lease while we lead.

    The schema deploy seeds the row with an empty hostname; that seat counts as empty, so a freshly
    deployed backend does not make the first node wait for the seed lease to expire. Losing a race
    for the seat (deadlock, lock wait timeout, duplicate key) returns None and is logged at debug.
    With `watch` (the continuous mode's), another node's expired lease is taken over only once it was
    found expired for TAKEOVER_PATIENCE_SECONDS (`ExpiryWatch`); an empty seat is claimed at once.
    """
    d = backend.dialect
    host, token = node
    try:
        sent = time.monotonic()
        row = _read(backend)
        answered = time.monotonic()
        if watch is not None and (row is None or _ours(row, node) or not int(row["expired"])):
            watch.seen = None
        if row is None:
            backend.execute(
                d.insert_ignore(
                    "active_node",
                    {
                        "anchor": "1",
                        "hostname": "?",
                        "token": "?",
                        "last_seen_active": d.now(),
                        "first_seen_active": d.now(),
                    },
                ),
                (host, token),
            )
        elif _ours(row, node):
            backend.execute(
                f"UPDATE active_node SET last_seen_active = {d.now()} WHERE anchor = 1 AND hostname = ? AND token = ?",
                (host, token),
            )
        elif int(row["expired"]):
            if watch is not None and str(row["hostname"]) and not watch.confirmed(row, sent, answered):
                return None
            # the condition is evaluated again by the statement itself: of several contenders only one
            # finds the lease still expired
            backend.execute(
                f"""UPDATE active_node SET hostname = ?, token = ?, first_seen_active = {d.now()},
                        last_seen_active = {d.now()}
                    WHERE anchor = 1 AND (hostname = '' OR last_seen_active < {d.seconds_ago("?")})""",
                (host, token, ACTIVE_NODE_EXPIRE_SECONDS),
            )
        else:
            return None
        row = _read(backend)
    except BackendError as e:
        if not is_race(e):
            raise
        log.debug("election: another node won the race for the lease: %s", e)
        return None
    if row is None or not _ours(row, node):
        return None
    return Lease(host, token, str(row["first_seen_active"]))


def lease_condition(backend: Backend) -> str:
    """SQL that is true while `Lease` (params: hostname, token, term) is current and fresh."""
    d = backend.dialect
    return (
        "EXISTS (SELECT 1 FROM active_node WHERE anchor = 1 AND hostname = ? AND token = ?"
        f" AND first_seen_active = ? AND last_seen_active >= {d.seconds_ago(str(FENCE_SECONDS))})"
    )


def lease_params(lease: Lease) -> tuple[str, str, str]:
    return lease.hostname, lease.token, lease.term


def standing(backend: Backend, lease: Lease) -> str:
    """`fresh` (as `holds`), `stale` (still our term, not renewed within FENCE_SECONDS: nobody else can
    lead before it expires) or `gone` (another term, or an empty seat)."""
    d = backend.dialect
    fresh = backend.scalar(
        f"SELECT CASE WHEN last_seen_active >= {d.seconds_ago(str(FENCE_SECONDS))} THEN 1 ELSE 0 END"
        " FROM active_node WHERE anchor = 1 AND hostname = ? AND token = ? AND first_seen_active = ?",
        lease_params(lease),
    )
    if fresh is None:
        return "gone"
    return "fresh" if int(fresh) else "stale"


def holds(backend: Backend, lease: Lease) -> bool:
    """Whether `lease` is still the current term and was renewed recently (one indexed row read)."""
    d = backend.dialect
    return bool(
        backend.scalar(
            "SELECT COUNT(*) FROM active_node WHERE anchor = 1 AND hostname = ? AND token = ?"
            f" AND first_seen_active = ? AND last_seen_active >= {d.seconds_ago(str(FENCE_SECONDS))}",
            lease_params(lease),
        )
    )


def grab_election(backend: Backend, node: tuple[str, str]) -> None:
    d = backend.dialect
    with backend.transaction():
        backend.execute("DELETE FROM active_node WHERE anchor = 1")
        backend.execute(
            "INSERT INTO active_node (anchor, hostname, token, last_seen_active, first_seen_active)"
            f" VALUES (1, ?, ?, {d.now()}, {d.now()})",
            node,
        )


def step_down(backend: Backend, node: tuple[str, str]) -> None:
    """Give up the lease at shutdown so another node takes over without waiting for it to expire."""
    backend.execute("DELETE FROM active_node WHERE anchor = 1 AND hostname = ? AND token = ?", node)


def active_node(backend: Backend) -> Row | None:
    return backend.query_one(
        "SELECT hostname, token, last_seen_active, first_seen_active FROM active_node WHERE anchor = 1"
    )


def vacate(backend: Backend) -> int:
    """Empty the seat (`/api/reelect`): the next election tick of any node claims it."""
    return backend.execute("DELETE FROM active_node WHERE anchor = 1")
