"""Pure parts of continuous mode's discovery and fencing: back-off, observers, who gets fenced."""

from __future__ import annotations

import doctest

from orchestrator_cli.backend.instance_rows import instance_from_row
from orchestrator_cli.discovery import scheduler
from orchestrator_cli.discovery.scheduler import backoff_seconds, io_broken
from orchestrator_cli.model.keys import InstanceKey
from orchestrator_cli.mysql.access import Unresponsive
from orchestrator_cli.recovery import returning_master
from orchestrator_cli.recovery.returning_master import needs_fencing


def test_doctests() -> None:
    assert doctest.testmod(scheduler).failed == 0
    assert doctest.testmod(returning_master).failed == 0


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff_seconds(n, 1) for n in (1, 2, 3, 4, 10)] == [1, 2, 4, 8, 8]
    assert [backoff_seconds(n, 5) for n in (1, 2, 3)] == [5, 10, 10]
    assert backoff_seconds(1, 30) == 30  # never sooner than the poll interval


def test_a_replica_with_a_broken_io_thread_is_an_observer() -> None:
    healthy = {"master_host": "db1", "master_port": 3306, "slave_io_running": 1, "last_io_error": ""}
    assert not io_broken(instance_from_row(healthy))
    assert io_broken(instance_from_row({**healthy, "slave_io_running": 0}))
    assert io_broken(instance_from_row({**healthy, "last_io_error": "error reconnecting to master"}))
    assert not io_broken(instance_from_row({**healthy, "master_host": "", "slave_io_running": 0}))


def test_only_a_writable_lost_master_is_fenced() -> None:
    returning = {"master_host": "", "read_only": 0}
    assert needs_fencing(instance_from_row(returning), lost_in_recovery=True)
    assert not needs_fencing(instance_from_row(returning), lost_in_recovery=False)  # a master nobody failed over
    assert not needs_fencing(instance_from_row({**returning, "read_only": 1}), lost_in_recovery=True)  # fenced
    assert not needs_fencing(instance_from_row({**returning, "master_host": "db2"}), lost_in_recovery=True)


def test_unresponsive_marks_keep_the_first_time() -> None:
    marks = Unresponsive()
    key = InstanceKey("db1", 3306)
    marks.mark(key, 10.0)
    marks.mark(key, 20.0)
    assert marks.since(key) == 10.0
    assert marks.marked() == {key}
    marks.clear(key)
    assert marks.since(key) is None and marks.marked() == set()


def test_observers_are_re_probed_until_they_report_the_master_lost() -> None:
    """A replica of a failing master is probed again and again only while its IO thread still
    says the master is fine: once it reports the master lost it has nothing more to tell, and a
    master that stays dead must not keep its replicas probed every 0.4 s."""
    from orchestrator_cli.discovery.scheduler import DiscoveryScheduler
    from orchestrator_cli.discovery.sharing import DiscoveryShare

    master, noticed, unaware = InstanceKey("db1", 3306), InstanceKey("db2", 3306), InstanceKey("db3", 3306)
    row = {"hostname": "", "port": 3306, "is_last_check_valid": 1, "is_recently_checked": 1, "master_host": "db1",
           "master_port": 3306, "slave_io_running": 1, "last_io_error": ""}  # fmt: skip
    rows = [
        {**row, "hostname": "db1", "master_host": "", "is_last_check_valid": 0},
        {**row, "hostname": "db2", "slave_io_running": 0, "last_io_error": "error reconnecting to master"},
        {**row, "hostname": "db3"},
    ]
    scheduler = DiscoveryScheduler({"InstancePollSeconds": 1}, Unresponsive(), share=DiscoveryShare("me"))
    requested: list[InstanceKey] = []
    setattr(scheduler, "request", requested.extend)  # noqa: B010  (a method replaced on one object)
    try:
        scheduler._learn_from_others(rows, now=1.0)
        scheduler._watch_observers()
        assert requested == [unaware]
        assert master not in requested and noticed not in requested
    finally:
        scheduler.close()
        scheduler.join()
