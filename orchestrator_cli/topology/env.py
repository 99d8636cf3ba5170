"""What every topology operation works with: the backend, topology access, config, and who acts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import TopologyAccess

if TYPE_CHECKING:
    from orchestrator_cli.mysql.protocol import TopologyServer


@dataclass
class TopologyEnv:
    backend: Backend
    access: TopologyAccess
    config: Mapping[str, Any]
    owner: str = "orchestrator"
    reason: str = ""
    skip_unresolve: bool = False  # --skip-unresolve: CHANGE MASTER uses real host names
    progress: Callable[[int, int, str], None] | None = None  # bulk operations report (done, total, current)

    @property
    def noop(self) -> bool:
        return self.access.noop

    def audit(self, audit_type: str, key: InstanceKey | None, message: str) -> None:
        from orchestrator_cli.backend import audit, instances

        if self.noop:
            return
        cluster = instances.cluster_of(self.backend, key) if key else ""
        audit.audit(self.backend, audit_type, key, message, cluster)

    def server(self, key: InstanceKey) -> TopologyServer:
        return self.access.server(key)


def make_env(
    backend: Backend,
    access: TopologyAccess,
    config: Mapping[str, Any],
    owner: str,
    reason: str = "",
    *,
    skip_unresolve: bool = False,
) -> TopologyEnv:
    """Wire the access layer's change hook to the audit table: every changing statement leaves a row."""
    env = TopologyEnv(backend, access, config, owner, reason, skip_unresolve)

    def on_change(key: InstanceKey, statement: str) -> None:
        env.audit("topology-statement", key, statement)

    access.on_change = on_change
    return env
