"""What the backend already knows around one probed server, read in one round trip.

A continuous-mode probe writes its row on its own (`crawl.probe_one`), so it needs the master's
row (cluster facts are inherited from it), the cluster's alias override and registered alias, and
whether its own registrations (domain, promotion rule) are already current. Read one by one that was
five statements per probe besides the write, and they cost the daemon more than the write did.
"""

from __future__ import annotations

from orchestrator_cli.backend.connection import Backend, Row
from orchestrator_cli.model.keys import InstanceKey

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from typing import Any

# A registration (cluster alias, domain, promotion rule) already current is written again once it is
# this old: its expiry (the original's leader deletes cluster_alias and cluster_domain_name rows not
# refreshed for an hour or more, `candidates.expire` after CandidateInstanceExpireMinutes) stays far off,
# while a probe every InstancePollSeconds writes only its instance row.
REFRESH_SECONDS = 60

# The master's columns a probe's cluster facts are derived from (crawl._finish), instead of `di.*`.
MASTER_COLUMNS = (
    "hostname", "port", "master_host", "master_port", "cluster_name", "replication_depth", "ancestry_uuid",
    "executed_gtid_set", "server_uuid",
)  # fmt: skip


class Registered:
    """A registration row as the backend holds it: its value, and whether it was written recently."""

    __slots__ = ("fresh", "value")

    def __init__(self, value: str | None, fresh: bool) -> None:
        self.value = value  # None: no row
        self.fresh = fresh

    def current(self, value: str) -> bool:
        """True when writing `value` again would change nothing but a recent timestamp."""
        return self.value == value and self.fresh


class ProbeContext:
    """The backend's view around one probe (see `read`). Plain class: built once per probe."""

    __slots__ = ("alias_override", "candidate", "cluster_name", "domain", "key", "master_key", "master_row",
                 "registered_alias")  # fmt: skip

    def __init__(
        self,
        key: InstanceKey,
        master_key: InstanceKey | None,
        master_row: Row | None,
        cluster_name: str,
        alias_override: str,
        registered_alias: Registered,
        domain: Registered,
        candidate: Registered,
    ) -> None:
        self.key = key
        self.master_key = master_key
        self.master_row = master_row  # None: no master, or the backend does not know it
        self.cluster_name = cluster_name  # the cluster the alias facts are of: the master's, else `key`'s own
        self.alias_override = alias_override
        self.registered_alias = registered_alias
        self.domain = domain  # of the cluster named after `key` (a master registers its domain so)
        self.candidate = candidate  # `key`'s promotion rule


def read(backend: Backend, key: InstanceKey, master_key: InstanceKey | None) -> ProbeContext:
    """One statement: the master's row (its cluster facts), the alias facts of the cluster the probed
    server most likely belongs to (its master's, else the one its master's key or its own key names),
    and `key`'s own domain and promotion rule registrations."""
    d = backend.dialect
    fresh = d.seconds_ago(str(REFRESH_SECONDS))
    fallback_cluster = str(master_key) if master_key is not None else str(key)
    master = master_key or InstanceKey("", 0)
    cluster = "COALESCE(NULLIF(m.cluster_name, ''), ?)"
    columns = ", ".join(f"m.{c} AS m_{c}" for c in MASTER_COLUMNS)
    row = backend.query_one(
        f"""SELECT {columns}, {cluster} AS cluster_name,
              cao.alias AS override_alias,
              ca.alias AS registered_alias,
              CASE WHEN ca.last_registered >= {fresh} THEN 1 ELSE 0 END AS registered_alias_fresh,
              cdn.domain_name AS domain_name,
              CASE WHEN cdn.last_registered >= {fresh} THEN 1 ELSE 0 END AS domain_fresh,
              cdi.promotion_rule AS promotion_rule,
              CASE WHEN cdi.last_suggested >= {fresh} THEN 1 ELSE 0 END AS promotion_rule_fresh
            FROM (SELECT 1 AS one) base
              LEFT JOIN database_instance m ON (m.hostname = ? AND m.port = ?)
              LEFT JOIN cluster_alias_override cao ON (cao.cluster_name = {cluster})
              LEFT JOIN cluster_alias ca ON (ca.cluster_name = {cluster})
              LEFT JOIN cluster_domain_name cdn ON (cdn.cluster_name = ?)
              LEFT JOIN candidate_database_instance cdi ON (cdi.hostname = ? AND cdi.port = ?)""",
        (fallback_cluster, master.hostname, master.port, fallback_cluster, fallback_cluster, str(key),
         key.hostname, key.port),
    )  # fmt: skip
    assert row is not None  # the base row is always there
    master_row: Row | None = None
    if master_key is not None and row["m_hostname"] is not None:
        master_row = {c: row[f"m_{c}"] for c in MASTER_COLUMNS}
    return ProbeContext(
        key=key,
        master_key=master_key,
        master_row=master_row,
        cluster_name=str(row["cluster_name"]),
        alias_override=_text(row["override_alias"]) or "",
        registered_alias=Registered(_text(row["registered_alias"]), bool(row["registered_alias_fresh"])),
        domain=Registered(_text(row["domain_name"]), bool(row["domain_fresh"])),
        candidate=Registered(_text(row["promotion_rule"]), bool(row["promotion_rule_fresh"])),
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
