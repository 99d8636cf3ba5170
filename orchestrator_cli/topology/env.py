"""What every topology operation works with: the backend, topology access, config, and who acts."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import TopologyAccess

if TYPE_CHECKING:
    from orchestrator_cli.mysql.protocol import TopologyServer

#: ``<step>@<host:port>`` (steps: locked, stopped, changed, started): a topology operation sends its
#: process SIGSTOP right after that step, so that fault-injection tests can kill it exactly there.
#: Read once, by `make_env`, into `TopologyEnv.stop_at`.
STOP_AT_ENV = "ORCHESTRATOR_TEST_STOP_AT"


@dataclass
class TopologyEnv:
    backend: Backend
    access: TopologyAccess
    config: Mapping[str, Any]
    owner: str = "orchestrator"
    reason: str = ""
    skip_unresolve: bool = False  # --skip-unresolve: CHANGE MASTER uses real host names
    progress: Callable[[int, int, str], None] | None = None  # bulk operations report (done, total, current)
    stop_at: str = ""  # fault injection for tests: freeze after this ``<step>@<host:port>`` (see STOP_AT_ENV)

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
    stop_at: str | None = None,
) -> TopologyEnv:
    """Wire the access layer's change hook to the audit table: every changing statement leaves a row.

    `stop_at` defaults to the process environment's ``ORCHESTRATOR_TEST_STOP_AT`` (empty: none).
    """
    if stop_at is None:
        stop_at = os.environ.get(STOP_AT_ENV, "")
    env = TopologyEnv(backend, access, config, owner, reason, skip_unresolve, stop_at=stop_at)

    def on_change(key: InstanceKey, statement: str) -> None:
        env.audit("topology-statement", key, statement)

    access.on_change = on_change
    return env
