"""`master_position_equivalence`: which binlog coordinates on two servers hold the same data.

Every file:pos CHANGE MASTER that moves a replica to another server proves that the old master's
position the replica had executed and the new master's position it starts from are equivalent.
`move-equivalent` (and `relocate`) read these rows to move a replica back without synchronising
anything. Rows are kept in one direction, as the original writes them, and looked up both ways.
"""

from __future__ import annotations

from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.keys import InstanceKey


def record(
    backend: Backend, master1: InstanceKey, coords1: BinlogCoordinates, master2: InstanceKey, coords2: BinlogCoordinates
) -> None:
    """Remember that `coords1` on `master1` equals `coords2` on `master2` (refreshing a known pair)."""
    if master1 == master2 or coords1.is_empty or coords2.is_empty:
        return
    d = backend.dialect
    backend.execute(
        d.upsert(
            "master_position_equivalence",
            {
                "master1_hostname": "?", "master1_port": "?", "master1_binary_log_file": "?",
                "master1_binary_log_pos": "?", "master2_hostname": "?", "master2_port": "?",
                "master2_binary_log_file": "?", "master2_binary_log_pos": "?", "last_suggested": d.now(),
            },
            [
                "master1_hostname", "master1_port", "master1_binary_log_file", "master1_binary_log_pos",
                "master2_hostname", "master2_port",
            ],
        ),
        (
            master1.hostname, master1.port, coords1.file, coords1.pos,
            master2.hostname, master2.port, coords2.file, coords2.pos,
        ),
    )  # fmt: skip


def find(
    backend: Backend, master: InstanceKey, coords: BinlogCoordinates, other: InstanceKey
) -> BinlogCoordinates | None:
    """Coordinates on `other` equivalent to `coords` on `master`, newest first; None when unknown."""
    d = backend.dialect
    hours = int(backend.config.get("UnseenInstanceForgetHours", 240))
    fresh = f"last_suggested >= {d.seconds_ago('?')}"
    rows = backend.query(
        f"""SELECT master2_binary_log_file AS file, master2_binary_log_pos AS pos, last_suggested
              FROM master_position_equivalence
             WHERE master1_hostname = ? AND master1_port = ? AND master1_binary_log_file = ?
               AND master1_binary_log_pos = ? AND master2_hostname = ? AND master2_port = ? AND {fresh}
            UNION ALL
            SELECT master1_binary_log_file AS file, master1_binary_log_pos AS pos, last_suggested
              FROM master_position_equivalence
             WHERE master2_hostname = ? AND master2_port = ? AND master2_binary_log_file = ?
               AND master2_binary_log_pos = ? AND master1_hostname = ? AND master1_port = ? AND {fresh}
            ORDER BY last_suggested DESC""",
        (
            master.hostname, master.port, coords.file, coords.pos, other.hostname, other.port, hours * 3600,
            master.hostname, master.port, coords.file, coords.pos, other.hostname, other.port, hours * 3600,
        ),
    )  # fmt: skip
    if not rows:
        return None
    return BinlogCoordinates(str(rows[0]["file"]), int(rows[0]["pos"]))


def expire(backend: Backend) -> int:
    """Forget equivalences older than `UnseenInstanceForgetHours` (they describe purged binlogs)."""
    d = backend.dialect
    hours = int(backend.config.get("UnseenInstanceForgetHours", 240))
    return backend.execute(
        f"DELETE FROM master_position_equivalence WHERE last_suggested < {d.seconds_ago('?')}", (hours * 3600,)
    )
