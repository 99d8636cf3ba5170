"""Leader election for continuous mode (`active_node`): one lease row, renewed every second.

It only gates who runs automated detection and recovery; one-off CLI commands never take part.
Every step is one statement evaluated on the backend's clock, so node clocks never matter.
"""

from __future__ import annotations

from orchestrator_cli.backend.connection import Backend, Row

ACTIVE_NODE_EXPIRE_SECONDS = 5


def attempt_election(backend: Backend, node: tuple[str, str]) -> bool:
    """Claim an empty seat, take over an expired lease, or renew our own; True while we lead.

    The schema deploy seeds the row with an empty hostname; that seat counts as empty, so a freshly
    deployed backend does not make the first node wait for the seed lease to expire.
    """
    d = backend.dialect
    host, token = node
    with backend.transaction():
        if backend.execute(
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
        ):
            return True
        if backend.execute(
            f"""UPDATE active_node SET hostname = ?, token = ?, first_seen_active = {d.now()},
                    last_seen_active = {d.now()}
                WHERE anchor = 1 AND (hostname = '' OR last_seen_active < {d.seconds_ago("?")})""",
            (host, token, ACTIVE_NODE_EXPIRE_SECONDS),
        ):
            return True
        return bool(
            backend.execute(
                f"UPDATE active_node SET last_seen_active = {d.now()} WHERE anchor = 1 AND hostname = ? AND token = ?",
                (host, token),
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
