"""A destination that dies in the middle of a relocation: the moved replica must not be left stranded.

The relocate runs as its own process, frozen right after a chosen step on the moving replica while
the destination is killed. Whatever the step, the replica ends replicating (threads running) from
its old master, the command fails with exit 1, an audit row tells what happened, and no maintenance
lock is left behind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator_cli.sandbox.topology import Sandbox
from tests.integration.test_refactoring_helpers import Cluster, Frozen
from tests.support import Result


def relocate_killing(cluster: Cluster, step: str, key: str, victim: int, *args: str) -> Result:
    """Run `relocate args` as its own process; SIGKILL server `victim` right after `step` on `key`."""
    frozen = Frozen(cluster.config, step, key, "-c", "relocate", *args)
    cluster.sandbox.kill(victim)
    return frozen.resume()


def _assert_left_at_old_master(cluster: Cluster, moved: int, old_master: int, survivors: list[int]) -> None:
    sandbox = cluster.sandbox
    status = sandbox.replica_status(moved)
    assert status is not None
    assert int(status["Master_Port"]) == sandbox.ports[old_master]
    assert (status["Slave_IO_Running"], status["Slave_SQL_Running"]) == ("Yes", "Yes")
    value = sandbox.write_row(i=old_master)
    sandbox.wait_replicated()
    assert [sandbox.count_rows(i, value) for i in survivors] == [1] * len(survivors)
    assert cluster.maintenance_rows() == []


@pytest.mark.parametrize("step", ["stopped", "changed"])
def test_gtid_relocate_survives_a_dying_destination(fresh_sandbox: Sandbox, tmp_path: Path, step: str) -> None:
    cluster = Cluster(fresh_sandbox, tmp_path)
    cluster.discover()
    k = cluster.key
    result = relocate_killing(cluster, step, k(1), 2, "-i", k(1), "-d", k(2))
    assert result.code == 1 and result.out == ""
    _assert_left_at_old_master(cluster, 1, 0, [0, 1, 3])
    audit = cluster.audit("relocate")[0]
    assert audit["message"].startswith("failed (gtid)")
    assert f"left below {k(0)} (replication running)" in audit["message"]
    if step == "changed":
        assert f"{k(1)} put back below {k(0)}" in audit["message"]


@pytest.mark.parametrize("step", ["stopped", "changed"])
def test_file_pos_move_below_survives_a_dying_sibling(
    reusable_sandbox: Callable[..., Sandbox], tmp_path: Path, step: str
) -> None:
    cluster = Cluster(reusable_sandbox(servers=3, gtid=False), tmp_path)
    cluster.discover()
    k = cluster.key
    result = relocate_killing(cluster, step, k(1), 2, "-i", k(1), "-d", k(2))
    assert result.code == 1 and result.out == ""
    _assert_left_at_old_master(cluster, 1, 0, [0, 1])
    audit = cluster.audit("relocate")[0]
    assert audit["message"].startswith("failed (file:pos (move-below")
    assert f"left below {k(0)} (replication running)" in audit["message"]


def test_relocate_replicas_of_a_dead_intermediate_master(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    cluster = Cluster(fresh_sandbox, tmp_path)
    cluster.discover()
    k = cluster.key
    cluster.ok("-c", "relocate", "-i", k(3), "-d", k(1))
    cluster.ok("-c", "relocate", "-i", k(2), "-d", k(1))
    fresh_sandbox.kill(1)
    assert sorted(cluster.ok("-c", "relocate-replicas", "-i", k(1), "-d", k(0)).lines) == sorted([k(2), k(3)])
    assert fresh_sandbox.replication_parents() == {0: None, 2: 0, 3: 0}
    value = fresh_sandbox.write_row(i=0)
    fresh_sandbox.wait_replicated()
    assert [fresh_sandbox.count_rows(i, value) for i in (0, 2, 3)] == [1, 1, 1]
