"""The facts replication analysis decides over, one value per analysed instance.

A plain value so that both producers can build it without reaching into `analysis/`: the backend maps
its aggregated rows into it where it reads them (`backend/analysis_rows.py`), and `analysis.build_facts`
groups `Instance` snapshots into it. The decision rules (`analysis/rules.py`) read nothing else.
"""

from __future__ import annotations

from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.model.records import frozen_record


@frozen_record
class AnalysisFacts:
    """Everything the decision chain and structure warnings need about one analysed instance.

    The instance ("M") is a potential master; counts are over its direct replicas
    ("R", rows whose master is M, dead ones included as long as their rows exist).
    Defaults describe a healthy, replica-less master so that tests and property checks
    can build facts directly.
    """

    hostname: str
    port: int
    master_hostname: str = ""
    master_port: int = 0
    cluster_name: str = ""
    cluster_alias: str = ""
    cluster_domain: str = ""
    data_center: str = ""
    region: str = ""
    physical_environment: str = ""
    binary_log_file: str = ""
    binary_log_pos: int = 0
    # Role of M
    is_master: bool = True
    is_co_master: bool = False
    is_cluster_master: bool = False
    is_replication_group_member: bool = False
    is_binlog_server: bool = False
    is_read_only: bool = False
    replication_depth: int = 0
    # Health of M
    last_check_valid: bool = True
    last_check_partial_success: bool = False
    is_failing_to_connect_to_master: bool = False
    is_stale_binlog_coordinates: bool = False
    is_downtimed: bool = False
    downtime_end_timestamp: str = ""
    downtime_remaining_seconds: int = 0
    # Replica counts
    count_replicas: int = 0
    count_valid_replicas: int = 0
    count_valid_replicating_replicas: int = 0
    count_replicas_failing_to_connect_to_master: int = 0
    count_downtimed_replicas: int = 0
    count_lagging_replicas: int = 0
    count_delayed_replicas: int = 0
    count_co_master_replicas: int = 0
    # Logging replicas (log_bin and log_slave_updates)
    count_logging_replicas: int = 0
    count_statement_based_logging_replicas: int = 0
    count_mixed_based_logging_replicas: int = 0
    count_row_based_logging_replicas: int = 0
    count_distinct_major_versions_logging_replicas: int = 0
    # Failover support of the immediate topology
    oracle_gtid_immediate_topology: bool = False
    mariadb_gtid_immediate_topology: bool = False
    binlog_server_immediate_topology: bool = False
    pseudo_gtid_immediate_topology: bool = False
    # Semi-sync
    semi_sync_master_enabled: bool = False
    semi_sync_master_status: bool = False
    semi_sync_master_wait_for_replica_count: int = 0
    semi_sync_master_clients: int = 0
    count_semi_sync_replicas_enabled: int = 0
    count_valid_semi_sync_replicas: int = 0
    # GTID
    gtid_mode: str = ""
    min_replica_gtid_mode: str = ""
    max_replica_gtid_mode: str = ""
    max_replica_gtid_errant: str = ""
    # Recovery configuration applied to this cluster
    has_automated_master_recovery: bool = False
    has_automated_intermediate_master_recovery: bool = False
    replica_keys: tuple[InstanceKey, ...] = ()

    @property
    def key(self) -> InstanceKey:
        """The analysed instance's key."""
        return InstanceKey(self.hostname, self.port)

    @property
    def master_key(self) -> InstanceKey:
        """M's own async master key (empty host / port 0 for a master)."""
        return InstanceKey(self.master_hostname, self.master_port)

    @property
    def coordinates(self) -> BinlogCoordinates:
        """M's own binary log position (what a stale-coordinates record is compared with)."""
        return BinlogCoordinates(self.binary_log_file, self.binary_log_pos)
