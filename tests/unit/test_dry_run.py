"""`--noop` output: statements recorded by the access layer, keyed, with passwords masked."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from orchestrator_cli.commands import dry_run
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.server import redact_statement


def test_redact_masks_every_password_form() -> None:
    assert redact_statement("CHANGE MASTER TO MASTER_USER='r', MASTER_PASSWORD='it''s \\' secret'") == (
        "CHANGE MASTER TO MASTER_USER='r', MASTER_PASSWORD='********'"
    )
    assert redact_statement("CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD = 'x'") == (
        "CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD = '********'"
    )
    assert redact_statement("STOP SLAVE") == "STOP SLAVE"


def test_recorded_takes_only_what_the_body_added_and_masks_it() -> None:
    key = InstanceKey("db1", 3306)
    access: Any = SimpleNamespace(noop_statements=[(key, "SELECT 1")])
    ctx: Any = SimpleNamespace(topology=access)
    with dry_run.recorded(ctx) as taken:
        access.noop_statements += [(key, "STOP SLAVE"), (key, "CHANGE MASTER TO MASTER_PASSWORD='p'")]
    assert taken == [("db1:3306", "STOP SLAVE"), ("db1:3306", "CHANGE MASTER TO MASTER_PASSWORD='********'")]
    assert dry_run.lines_of(taken)[0] == "db1:3306: STOP SLAVE"
    assert access.noop_statements == [(key, "SELECT 1")]  # the next -i token starts clean
