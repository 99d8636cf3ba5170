"""The orchestrator configuration for a simulated fleet: production-style, with every user query.

The Detect*Query, lag and credentials queries read the simulator's ``meta`` tables
(bench/fleet_sim/answers.py), so a probe sends what it would send in production.
"""

from __future__ import annotations

from typing import Any


def fleet_config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "MySQLTopologyUser": "orchestrator",
        "MySQLTopologyPassword": "orch_pw",
        "DiscoverByShowSlaveHosts": True,
        "MySQLHostnameResolveMethod": "none",
        "HostnameResolveMethod": "none",
        "InstancePollSeconds": 5,
        "MySQLConnectTimeoutSeconds": 1,
        "MySQLDiscoveryReadTimeoutSeconds": 3,
        "MySQLTopologyReadTimeoutSeconds": 3,
        "RecoveryPeriodBlockSeconds": 60,
        "RecoverMasterClusterFilters": [".*"],
        "RecoverIntermediateMasterClusterFilters": [".*"],
        "ApplyMySQLPromotionAfterMasterFailover": True,
        "DetectClusterAliasQuery": "select ifnull(max(cluster_alias), '') as alias from meta.cluster where anchor = 1",
        "DetectClusterDomainQuery": "select ifnull(max(cluster_domain), '') from meta.cluster where anchor = 1",
        "DetectDataCenterQuery": "select data_center from meta.cluster where anchor = 1",
        "DetectInstanceAliasQuery": "select instance_alias from meta.instance where anchor = 1",
        "DetectPromotionRuleQuery": "select promotion_rule from meta.instance where anchor = 1",
        "DetectSemiSyncEnforcedQuery": "select semi_sync_priority from meta.instance where anchor = 1",
        "ReplicationLagQuery": "select ifnull(max(lag_seconds), 0) from meta.heartbeat",
        "ReplicationCredentialsQuery": "select 'repl', 'repl_pw'",
    }
    config.update(overrides)
    return config
