"""How graceful takeover attaches the demoted master: by GTID where the server allows it, else by
file:pos at the successor's position taken right before its promotion (Oracle with gtid_mode=OFF
refuses auto-position, and it would refuse it after the promotion had happened)."""

from __future__ import annotations

import pytest

from orchestrator_cli.errors import TopologyError
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.mysql import flavor as fl
from orchestrator_cli.mysql.facts import GtidFacts, ReplicaStatus
from orchestrator_cli.recovery.takeover import old_master_attachment

MYSQL = fl.detect_flavor("8.0.36", "MySQL Community Server - GPL")
MARIADB = fl.detect_flavor("10.11.19-MariaDB-0+deb12u1", "Debian 12")
NOT_A_REPLICA = ReplicaStatus.none()
AT = BinlogCoordinates("binlog.000007", 4711)


def test_oracle_with_gtid_on_uses_auto_position() -> None:
    assert old_master_attachment(MYSQL, GtidFacts(gtid_mode="ON"), NOT_A_REPLICA, AT) == ("auto", None)


def test_oracle_with_gtid_off_uses_the_successors_position() -> None:
    assert old_master_attachment(MYSQL, GtidFacts(gtid_mode="OFF"), NOT_A_REPLICA, AT) == (None, AT)


def test_oracle_with_gtid_off_and_no_known_position_is_refused() -> None:
    with pytest.raises(TopologyError, match="gtid_mode=OFF"):
        old_master_attachment(MYSQL, GtidFacts(gtid_mode="OFF"), NOT_A_REPLICA, None)
    with pytest.raises(TopologyError, match="gtid_mode=OFF"):
        old_master_attachment(MYSQL, GtidFacts(gtid_mode=""), NOT_A_REPLICA, BinlogCoordinates("", 0))


def test_mariadb_former_master_joins_by_current_pos() -> None:
    assert old_master_attachment(MARIADB, GtidFacts(), NOT_A_REPLICA, AT) == ("current_pos", None)


def test_mariadb_old_master_of_a_file_pos_cluster_joins_by_file_pos() -> None:
    assert old_master_attachment(MARIADB, GtidFacts(), NOT_A_REPLICA, AT, file_pos=True) == ("off", AT)
    # the successor's position unknown: GTID rather than nothing
    assert old_master_attachment(MARIADB, GtidFacts(), NOT_A_REPLICA, None, file_pos=True) == ("current_pos", None)
