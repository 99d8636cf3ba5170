"""What operators run from cron, Puppet and ops shells (maintenance, downtime, aliases), on both backends.

The backend holds the original's fixture rows (tests/compat/fixtures.py), written by a raw connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator_cli.backend.connection import Backend
from orchestrator_cli.config import load_config
from tests.compat.fixtures import OriginalFixture, deployed_for
from tests.support import run_cli, write_config

REPLICA = "testhost:22294"


@pytest.fixture(scope="module", params=["sqlite", "mysql"])
def deployed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OriginalFixture]:
    with deployed_for(request, tmp_path_factory, "hints") as fixture:
        yield fixture


@pytest.fixture
def fx(deployed: OriginalFixture) -> OriginalFixture:
    deployed.create_per_test()
    for table in ("audit", "database_instance_maintenance", "cluster_alias_override", "hostname_resolve"):
        deployed.execute(f"DELETE FROM {table}")
    return deployed


@pytest.fixture
def backend(fx: OriginalFixture) -> Iterator[Backend]:
    b = Backend(load_config(str(fx.config)))
    try:
        yield b
    finally:
        b.close()


def dump(fx: OriginalFixture) -> dict[str, list[str]]:
    """Every row of the tables a refused change must leave alone."""
    tables = ("audit", "database_instance_maintenance", "database_instance_downtime", "candidate_database_instance")
    return {t: sorted(map(repr, fx.query(f"SELECT * FROM {t}"))) for t in tables}


def test_maintenance_refused_by_the_backend_takes_no_lock(fx: OriginalFixture) -> None:
    """A reason the backend cannot store (4-byte UTF-8 in MySQL's utf8mb3 columns) used to be mangled to
    `?` by the lock's INSERT IGNORE, and the audit insert then failed: exit 1, yet the lock was held and
    the operator's retry was refused as "already in maintenance"."""
    before = dump(fx)
    result = fx.cli("-c", "begin-maintenance", "-i", REPLICA, "--reason", "disk \U0001f525", "--duration", "1h")
    if fx.sqlite:  # SQLite stores any text
        assert result.code == 0, result.err
        assert fx.cli("-c", "in-maintenance", "-i", REPLICA).lines == [REPLICA]
        return
    assert result.code == 1
    assert result.out == ""
    assert len(result.err.splitlines()) == 1
    assert "Incorrect string value" in result.err
    assert dump(fx) == before
    assert fx.cli("-c", "in-maintenance", "-i", REPLICA).lines == []
    retried = fx.cli("-c", "begin-maintenance", "-i", REPLICA, "--reason", "disk", "--duration", "1h")
    assert retried.code == 0, retried.err
    assert retried.lines == [REPLICA]


def test_maintenance_lock_is_exclusive(fx: OriginalFixture) -> None:
    first = fx.cli("-c", "begin-maintenance", "-i", REPLICA, "--reason", "one", "--owner", "a")
    assert first.code == 0, first.err
    before = dump(fx)
    second = fx.cli("-c", "begin-maintenance", "-i", REPLICA, "--reason", "two", "--owner", "b")
    assert second.code == 1
    assert "already in maintenance (held by a: one" in second.err
    assert dump(fx) == before
    assert fx.cli("-c", "end-maintenance", "-i", REPLICA).lines == [REPLICA]
    third = fx.cli("-c", "begin-maintenance", "-i", REPLICA, "--reason", "three", "--owner", "c")
    assert third.code == 0, third.err


def test_expired_downtime_is_deleted_and_audited(fx: OriginalFixture, backend: Backend) -> None:
    from orchestrator_cli.backend import downtime

    assert fx.cli("-c", "begin-downtime", "-i", REPLICA, "--reason", "backup", "--owner", "cron").code == 0
    assert fx.cli("-c", "begin-downtime", "-i", "testhost:22295", "--reason", "later", "--duration", "1h").code == 0
    fx.execute(
        "UPDATE database_instance_downtime SET end_timestamp = '2026-01-01 00:00:00' WHERE hostname = ? AND port = ?",
        ("testhost", 22294),
    )
    assert downtime.expire(backend) == 1
    assert fx.cli("-c", "which-downtimed-instances").lines == ["testhost:22295"]
    rows = fx.query(
        "SELECT audit_type, hostname, port, cluster_name, message FROM audit WHERE audit_type = 'expire-downtime'"
    )
    assert len(rows) == 1
    audit_type, host, port, cluster, message = rows[0]
    assert (audit_type, host, int(port), cluster) == ("expire-downtime", "testhost", 22294, "testhost:22293")
    assert message.startswith("owner: cron, reason: backup, ended: ")
    assert downtime.expire(backend) == 0


def test_redeploy_internal_db_creates_the_sqlite_directory(tmp_path: Path) -> None:
    """The first command a package's postinst runs on a fresh host: the data file's directory (the
    default `~/.local/share/orchestrator`) does not exist yet. It used to fail with an internal error
    opening the deploy lock file next to it."""
    data_file = tmp_path / "new" / "dir" / "orchestrator.sqlite3"
    config = write_config(tmp_path / "orchestrator.conf.json", BackendDB="sqlite", SQLite3DataFile=str(data_file))
    result = run_cli("-c", "redeploy-internal-db", config=config)
    assert (result.code, result.lines, result.err) == (0, ["Redeployed internal db"], "")
    assert run_cli("-c", "clusters", config=config).code == 0


def test_a_name_discovery_resolved_targets_the_known_instance(fx: OriginalFixture) -> None:
    """Discovery keys a server by the name it calls itself (MySQLHostnameResolveMethod) and records the
    name it was probed by in `hostname_resolve`. A crontab line using the probed name (`$(hostname -f)`,
    an address) used to downtime an instance nobody knows, silently: exit 0, and the real one unprotected."""
    now = "datetime('now')" if fx.sqlite else "NOW()"
    for probed in ("db-testhost.example.com", "10.1.2.3"):
        fx.execute(
            "INSERT INTO hostname_resolve (hostname, resolved_hostname, resolved_timestamp)"
            f" VALUES (?, 'testhost', {now})",
            (probed,),
        )
    result = fx.cli("-c", "begin-downtime", "-i", "db-testhost.example.com:22294", "--reason", "r", "--duration", "1h")
    assert (result.code, result.lines) == (0, [REPLICA]), result.err
    assert fx.cli("-c", "register-candidate", "-i", "10.1.2.3:22295").lines == ["testhost:22295"]
    assert fx.query("SELECT hostname, port FROM database_instance_downtime") == [("testhost", 22294)]
    assert fx.query("SELECT hostname, port FROM candidate_database_instance") == [("testhost", 22295)]
    assert fx.cli("-c", "which-cluster", "-i", "db-testhost.example.com:22297").lines == ["testhost:22293"]
    # a port the resolved host is not known on stays as given
    assert fx.cli("-c", "register-candidate", "-i", "10.1.2.3:3306").lines == ["10.1.2.3:3306"]


def test_an_unwritable_audit_log_file_does_not_fail_the_change(fx: OriginalFixture, tmp_path: Path) -> None:
    """`AuditLogFile` this account cannot write (root's file, cron running as another user; a missing
    directory): the change was made, then the command died with an internal error, exit 1, before the
    audit row, so a retried `begin-maintenance` was refused by its own lock. The original writes the
    file in the background and only logs a failure."""
    values = json.loads(Path(fx.config).read_text())
    values["AuditLogFile"] = str(tmp_path / "no-such-dir" / "audit.log")
    config = write_config(tmp_path / "orchestrator.conf.json", **values)
    result = run_cli("-c", "begin-maintenance", "-i", REPLICA, "--reason", "upgrade", config=config)
    assert (result.code, result.lines) == (0, [REPLICA])
    assert "cannot write AuditLogFile" in result.err and len(result.err.splitlines()) == 1
    assert [r[0] for r in fx.query("SELECT audit_type FROM audit")] == ["begin-maintenance"]
    assert run_cli("-c", "end-maintenance", "-i", REPLICA, config=config).code == 0
