"""How fresh the backend's picture of the topology is: instances counted by their last check.

Read by the service's `/metrics` at scrape time (one aggregate statement), so the count is the
backend's, shared by every node, whichever node discovers.
"""

from __future__ import annotations

from orchestrator_cli.backend.connection import Backend

FRESHNESS = ("up_to_date", "recently_checked", "stale", "last_check_failed", "never_seen")


def instances_by_freshness(backend: Backend) -> dict[str, int]:
    """Instances by freshness, every label present (0 when none):

    * ``never_seen``: never answered a probe;
    * ``last_check_failed``: the last probe did not answer (the analysis's invalid last check);
    * ``up_to_date``: checked within InstancePollSeconds; ``recently_checked``: within 5x that;
    * ``stale``: checked longer ago (discovery is behind, or no node discovers).
    """
    d = backend.dialect
    poll = max(1, int(backend.config.get("InstancePollSeconds", 5)))
    rows = backend.query(
        f"""SELECT
              CASE
                WHEN last_seen IS NULL THEN 'never_seen'
                WHEN last_checked > last_seen THEN 'last_check_failed'
                WHEN last_checked >= {d.seconds_ago(str(poll))} THEN 'up_to_date'
                WHEN last_checked >= {d.seconds_ago(str(5 * poll))} THEN 'recently_checked'
                ELSE 'stale'
              END AS freshness,
              COUNT(*) AS instances
            FROM database_instance
            GROUP BY 1"""
    )
    counts = dict.fromkeys(FRESHNESS, 0)
    for row in rows:
        counts[str(row["freshness"])] = int(row["instances"])
    return counts
