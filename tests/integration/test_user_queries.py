"""User-configured queries are read by position at the mysql layer: their column names are the
user's and may repeat (`select 'ci', 'ci'`)."""

from __future__ import annotations

from pathlib import Path

from orchestrator_cli.config import load_config
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import TopologyAccess
from orchestrator_cli.sandbox.topology import Sandbox


def test_first_row_keeps_columns_that_share_a_name(sandbox: Sandbox, sandbox_config: Path) -> None:
    access = TopologyAccess(load_config(str(sandbox_config)))
    server = access.server(InstanceKey("127.0.0.1", sandbox.ports[0]))
    try:
        assert server.first_row("select 'ci', 'ci'") == ("ci", "ci")
        assert server.first_row("select 'a' as x, 'b' as x, 3 as x") == ("a", "b", 3)
        assert server.first_row("select 1 from dual where 1 = 0") is None
        assert server.single_value("select 'dc-east-1', 'ignored'") == "dc-east-1"
        assert server.single_value("select 1 from dual where 1 = 0") is None
    finally:
        server.close()
