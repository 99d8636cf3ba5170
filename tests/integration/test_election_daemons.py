"""Three `-c continuous` daemons on one MariaDB backend, managing a sandbox: one steady leader while
probes fail, a new leader after the leader is killed, and a frozen leader's recovery that is taken
over by the new leader, never run twice, while the resumed ex-leader aborts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator_cli.backend.connection import Backend, Row
from orchestrator_cli.config import load_config
from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import ROOT, run_cli

pytestmark = pytest.mark.mysql_backend

DAEMONS = 3


class Daemon:
    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        self._stderr = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orchestrator_cli", f"--config={config}", "--verbose", "-c", "continuous",
             "--duration", "10m"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self._stderr, text=True,
        )  # fmt: skip

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.log.read_text()

    def elections(self) -> int:
        return self.text().count("elected: this node runs discovery and recovery")

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGCONT)  # a frozen daemon must be able to handle SIGTERM
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()
        return self.proc.returncode


class Cluster:
    """The sandbox, a backend handle for assertions, and the daemons."""

    def __init__(self, sb: Sandbox, config: Path, tmp_path: Path) -> None:
        self.sb = sb
        self.config = config
        self.tmp_path = tmp_path
        self.backend = Backend(load_config(str(config)))
        self.daemons: list[Daemon] = []

    def start(self, count: int = DAEMONS) -> None:
        for i in range(count):
            self.daemons.append(Daemon(self.config, self.tmp_path / f"daemon-{i}.log"))

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        return self.backend.query(sql, params)

    def term(self) -> tuple[str, str, str] | None:
        rows = self.query("SELECT hostname, token, first_seen_active FROM active_node WHERE anchor = 1")
        if not rows or not rows[0]["hostname"]:
            return None
        return str(rows[0]["hostname"]), str(rows[0]["token"]), str(rows[0]["first_seen_active"])

    def leader(self) -> Daemon | None:
        """The daemon that announced its election most recently (only the leader has, after a change)."""
        elected = [d for d in self.daemons if d.proc.poll() is None and d.elections()]
        return elected[0] if len(elected) == 1 else None

    def close(self) -> list[int | None]:
        codes = [d.stop() for d in self.daemons]
        self.backend.close()
        return codes


@pytest.fixture
def cluster(fresh_sandbox: Sandbox, deployed_mysql_backend_db: dict[str, Any], tmp_path: Path) -> Iterator[Cluster]:
    sb = fresh_sandbox
    config = sb.write_config(
        tmp_path / "orchestrator.conf.json",
        tmp_path / "unused.sqlite3",
        **deployed_mysql_backend_db,
        InstancePollSeconds=1,
        RecoverMasterClusterFilters=[".*"],
        ProcessesTimeoutSeconds=600,
        PreFailoverProcesses=[
            f"if [ ! -e {tmp_path}/frozen ]; then echo $PPID > {tmp_path}/frozen; kill -STOP $PPID; fi"
        ],
    )
    assert run_cli("-c", "discover", "-i", sb.key(0), config=config).code == 0
    c = Cluster(sb, config, tmp_path)
    try:
        yield c
    finally:
        c.close()
        sb.reset_replication()


def writable_masters(sb: Sandbox) -> list[int]:
    """Live servers that replicate from nobody and accept writes (the sandbox's replicas are not read-only)."""
    parents = sb.replication_parents()
    return [
        i
        for i in range(sb.size)
        if sb.is_alive(i) and parents.get(i) is None and not int(sb.query(i, "SELECT @@read_only AS ro")[0]["ro"])
    ]


def promoted_with_all_replicas(sb: Sandbox) -> int | None:
    parents = sb.replication_parents()
    roots = [i for i, p in parents.items() if p is None]
    if len(roots) != 1 or roots[0] == 0:
        return None
    root = roots[0]
    return root if all(p == root for i, p in parents.items() if i != root) else None


def test_the_leader_stays_while_probes_fail(cluster: Cluster, wait_until: Callable[..., Any]) -> None:
    cluster.start()
    first = wait_until(cluster.term, timeout=60, message="a leader")
    leader = wait_until(cluster.leader, timeout=30, message="the leader announces itself")
    cluster.sb.kill(3)  # a replica's probes fail from now on and wake the leader's loop early
    terms = {first}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        terms.add(cluster.term())
        time.sleep(0.2)
    assert terms == {first}
    assert [d.elections() for d in cluster.daemons if d is not leader] == [0] * (DAEMONS - 1)
    assert leader.elections() == 1
    assert "not the active node" not in leader.text()
    assert cluster.close() == [0] * DAEMONS
    assert not any("backend unavailable" in d.text() for d in cluster.daemons)


def test_another_daemon_leads_after_the_leader_is_killed(cluster: Cluster, wait_until: Callable[..., Any]) -> None:
    cluster.start()
    first = wait_until(cluster.term, timeout=60, message="a leader")
    leader = wait_until(cluster.leader, timeout=30, message="the leader announces itself")
    os.kill(leader.pid, signal.SIGKILL)
    leader.proc.wait()
    second = wait_until(lambda: (t := cluster.term()) != first and t, timeout=60, message="a new leader")
    assert second[1] != first[1]  # another process, in a new term
    survivors = [d for d in cluster.daemons if d is not leader]
    wait_until(lambda: sum(d.elections() for d in survivors) == 1, timeout=30, message="it announces itself")
    assert sorted(d.elections() for d in survivors) == [0, 1]
    assert not any("Deadlock" in d.text() or "backend unavailable" in d.text() for d in survivors)


def test_a_frozen_leaders_recovery_is_taken_over_and_never_runs_twice(
    cluster: Cluster, wait_until: Callable[..., Any]
) -> None:
    sb = cluster.sb
    cluster.start()
    wait_until(cluster.term, timeout=60, message="a leader")
    value = sb.write_row(i=0)
    sb.wait_replicated()
    sb.kill(0)
    # the leader registers the recovery, then freezes itself in PreFailoverProcesses
    frozen_pid = int(
        wait_until(
            lambda: (cluster.tmp_path / "frozen").exists() and (cluster.tmp_path / "frozen").read_text().strip(),
            timeout=90,
            message="the leader froze after registering its recovery",
        )
    )
    [frozen] = [d for d in cluster.daemons if d.pid == frozen_pid]
    [orphan] = cluster.query("SELECT recovery_id, uid, processcing_node_token FROM topology_recovery")
    wait_until(
        lambda: cluster.query("SELECT 1 FROM topology_recovery WHERE uid = ? AND processcing_node_token <> ?",
                              (orphan["uid"], orphan["processcing_node_token"])),
        timeout=90, message="another daemon took the frozen leader's recovery over",
    )  # fmt: skip
    os.kill(frozen_pid, signal.SIGCONT)  # resumed while the new leader recovers
    promoted = wait_until(lambda: promoted_with_all_replicas(sb), timeout=90, message="failover")
    wait_until(
        lambda: cluster.query("SELECT 1 FROM audit WHERE audit_type = 'recovery-lease-lost'"),
        timeout=60,
        message="the resumed ex-leader aborts",
    )
    wait_until(
        lambda: cluster.query("SELECT 1 FROM topology_recovery WHERE is_successful = 1 AND end_recovery IS NOT NULL"),
        timeout=60,
        message="the recovery is resolved",
    )
    codes = cluster.close()
    assert codes == [0] * DAEMONS, [d.text()[-2000:] for d in cluster.daemons]

    recoveries = cluster.query(
        "SELECT uid, is_successful, all_errors, processcing_node_token AS token FROM topology_recovery"
        " ORDER BY recovery_id"
    )
    # one failure, one recovery: the frozen leader's, taken over and completed by the new leader
    assert [(r["uid"], int(r["is_successful"])) for r in recoveries] == [(orphan["uid"], 1)]
    assert recoveries[0]["token"] != orphan["processcing_node_token"]
    assert writable_masters(sb) == [promoted]
    assert sb.count_rows(promoted, value) == 1
    steps = [r["message"] for r in cluster.query(
        "SELECT message FROM topology_recovery_steps WHERE recovery_uid = ? ORDER BY recovery_step_id",
        (orphan["uid"],),
    )]  # fmt: skip
    assert any(s.startswith(f"recovery {orphan['uid']} registered") for s in steps)
    assert any("taken over from" in s for s in steps)
    assert any("recovery aborted" in s and "no longer holds the lease" in s for s in steps)  # the ex-leader
    assert "recovery aborted" in frozen.text()


def test_a_leader_frozen_before_the_failure_does_not_recover_it_again(
    cluster: Cluster, wait_until: Callable[..., Any]
) -> None:
    """Frozen before the master dies: another daemon recovers; the resumed ex-leader, whose view is
    stale for a moment, registers nothing and changes nothing."""
    sb = cluster.sb
    (cluster.tmp_path / "frozen").write_text("not used: the test freezes the leader itself\n")
    cluster.start()
    wait_until(cluster.term, timeout=60, message="a leader")
    leader = wait_until(cluster.leader, timeout=30, message="the leader announces itself")
    wait_until(
        lambda: (
            len(cluster.query("SELECT 1 FROM database_instance WHERE last_checked >= NOW() - INTERVAL 2 SECOND"))
            == sb.size
        ),
        timeout=60,
        message="the leader probes every server",
    )
    os.kill(leader.pid, signal.SIGSTOP)
    sb.kill(0)
    promoted = wait_until(lambda: promoted_with_all_replicas(sb), timeout=90, message="failover by another daemon")
    wait_until(
        lambda: cluster.query("SELECT 1 FROM topology_recovery WHERE is_successful = 1 AND end_recovery IS NOT NULL"),
        timeout=60,
        message="the recovery is resolved",
    )
    os.kill(leader.pid, signal.SIGCONT)
    wait_until(lambda: "not the active node" in leader.text(), timeout=30, message="the ex-leader steps down")
    time.sleep(3)  # let the resumed ex-leader run a few ticks with whatever it still believed
    assert cluster.close() == [0] * DAEMONS
    recoveries = cluster.query("SELECT is_successful, processcing_node_token AS token FROM topology_recovery")
    assert [int(r["is_successful"]) for r in recoveries] == [1]
    assert writable_masters(sb) == [promoted]
    assert "recovered DeadMaster" not in leader.text()


def test_pseudo_gtid_is_injected_only_under_a_current_lease(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    """A resumed ex-leader still believes it leads for a moment: its injection is fenced too."""
    from orchestrator_cli.backend import election
    from orchestrator_cli.daemon.continuous import ContinuousMode

    sb = fresh_sandbox
    config = sb.write_config(
        tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3", AutoPseudoGTID=True
    )
    assert run_cli("-c", "discover", "-i", sb.key(0), config=config).code == 0
    mode = ContinuousMode(load_config(str(config)))
    env = mode._env()
    try:
        position = sb.query(0, "SELECT @@gtid_binlog_pos AS p")[0]["p"]
        assert election.attempt_election(env.backend, ("elsewhere", "e" * 64)) is not None
        mode._lease = election.Lease(*mode.node, term="2001-01-01 00:00:00")  # a term that is over
        mode._renewed_at = time.monotonic()  # the node believes it renewed just now: only the fence refuses
        mode._inject_pseudo_gtid(env)
        assert sb.query(0, "SELECT @@gtid_binlog_pos AS p")[0]["p"] == position
        election.step_down(env.backend, ("elsewhere", "e" * 64))
        mode._lease = election.attempt_election(env.backend, mode.node)
        mode._renewed_at = time.monotonic()
        mode._inject_pseudo_gtid(env)
        assert sb.query(0, "SELECT @@gtid_binlog_pos AS p")[0]["p"] != position
    finally:
        env.access.close()
        mode._injection_access.close()
        env.backend.close()
