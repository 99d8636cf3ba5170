"""Chaos rounds for automated failover on a shared backend (not a test).

A 4-server MariaDB sandbox (GTID star, free ports) is managed by 3 `orchestrator -c continuous`
daemons on a throw-away database of the MariaDB backend at 127.0.0.1:3306, `InstancePollSeconds=1`.
While a writer thread inserts rows into the current master (and records every insert whose COMMIT
was acknowledged; it writes as an application user without SUPER, so read_only applies to it, with
a 2 s read timeout, and picks the one live root that has a replica and read_only=0), each round
injects one fault drawn at random (seeded, printed):

* ``master-kill``: the master's mariadbd gets SIGKILL;
* ``master-hang``: SIGSTOP of the master; it is resumed once the failover is complete, and must
  come back fenced (read_only=1);
* ``leader-kill``: the leading daemon gets SIGKILL; a replacement daemon is started once another
  daemon leads;
* ``leader-pause``: SIGSTOP of the leading daemon, SIGCONT after 6-9 s;
* ``leader-kill+master-kill``, ``leader-pause+master-kill``, ``leader-pause+master-hang``,
  ``leader-kill+master-hang``: both, the leader fault 0-3 s before or after the master fault (so it
  may hit the leader during its recovery); a paused leader is resumed after the failover.

It then waits (bounded) for convergence -- for a master fault: one writable root other than the
failed master with every other live server replicating from it; for a leader-only fault: another
daemon holds the lease (or the paused one is back) -- lets the daemons run a few more seconds and
checks:

* recoveries registered (``topology_recovery`` rows, each round has its own backend database):
  exactly 1 when a master failed, 0 for leader-only faults;
* exactly one writable server among the live ones (a root with read_only=0; the sandbox leaves its
  replicas writable, so "writable" means "takes writes as a master");
* every other live server replicates, with both threads running, from the new master or its tree
  (the failed master excepted: it is lost, and must be read_only=1 if it is alive);
* every acknowledged write is on the new master. Exempt, and counted apart: a write the failed
  master acknowledged before its fault that no surviving server has -- it never left the master,
  and asynchronous replication loses it whatever the failover does.

Between rounds the daemons are stopped, the sandbox is reset to the star (restarting and
resuming the failed server) and the round's backend database is dropped; the next round starts
from a fresh one (cheaper and more certain than acknowledging recoveries and lifting downtimes).

    .venv/bin/python bench/chaos.py --rounds 20 --seed 12
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.recovery import watch  # noqa: E402  (needs the sys.path entry above)
from orchestrator_cli.sandbox.settings import SANDBOX_DATABASE, SANDBOX_TABLE  # noqa: E402
from orchestrator_cli.sandbox.topology import Sandbox  # noqa: E402
from tests.integration.test_election_daemons import Cluster, Daemon, writable_masters  # noqa: E402
from tests.support import run_cli, throwaway_mysql_database  # noqa: E402

FAULTS = (
    "master-kill",
    "master-hang",
    "leader-kill",
    "leader-pause",
    "leader-kill+master-kill",
    "leader-pause+master-kill",
    "leader-pause+master-hang",
    "leader-kill+master-hang",
)
DAEMONS = 3
POLL = 0.02
SETTLE_SECONDS = 5.0  # after convergence: time for a second (wrong) recovery to show up
FENCE_SECONDS = 20.0  # a resumed hung master must be read_only=1 by then
WRITE_INTERVAL = 0.02
WRITE_TIMEOUT = 2  # seconds; the writer gives up on a hung master after this
WRITER_USER, WRITER_PASSWORD = "chaos_writer", "chaos_writer"


def create_writer_user(sb: Sandbox) -> None:
    """An application account without SUPER on every server (unlogged), so read_only applies to it:
    root ignores read_only, and a fenced old master would go on acknowledging root's writes."""
    for i in range(sb.size):
        sb.execute(
            i,
            "SET SESSION sql_log_bin = 0",
            f"CREATE USER IF NOT EXISTS '{WRITER_USER}'@'127.0.0.1' IDENTIFIED BY '{WRITER_PASSWORD}'",
            f"GRANT SELECT, INSERT ON {SANDBOX_DATABASE}.* TO '{WRITER_USER}'@'127.0.0.1'",
        )


class Writer(threading.Thread):
    """Inserts rows into the current master, the way an application behind a router would: to the
    one live root that has a replica attached and read_only=0, as a user without SUPER, with a
    read timeout; a failed insert is not acknowledged and the writer looks for the master again."""

    def __init__(self, sb: Sandbox) -> None:
        super().__init__(daemon=True)
        self.sb = sb
        self.acked: list[tuple[str, int, float]] = []  # value, server, monotonic time of the ack
        self.failed = 0
        self.halt = threading.Event()

    def master(self) -> int | None:
        try:
            parents = self.sb.replication_parents()
            roots = {p for p in parents.values() if p is not None and parents.get(p, -1) is None}
            writable = [r for r in roots if not int(self.sb.query(r, "SELECT @@GLOBAL.read_only AS ro")[0]["ro"])]
        except Exception:  # a server mid-change or just killed: look again
            return None
        return writable[0] if len(writable) == 1 else None

    def run(self) -> None:
        import mysql.connector

        conn: Any = None
        target: int | None = None
        while not self.halt.is_set():
            if conn is None:
                target = self.master()
                if target is None:
                    time.sleep(POLL)
                    continue
                try:
                    conn = mysql.connector.connect(
                        host="127.0.0.1",
                        port=self.sb.ports[target],
                        user=WRITER_USER,
                        password=WRITER_PASSWORD,
                        autocommit=True,
                        connection_timeout=WRITE_TIMEOUT,
                        read_timeout=WRITE_TIMEOUT,
                        write_timeout=WRITE_TIMEOUT,
                    )
                except Exception:
                    conn = None
                    time.sleep(POLL)
                    continue
            value = uuid.uuid4().hex
            try:
                cursor = conn.cursor()
                cursor.execute(f"INSERT INTO {SANDBOX_DATABASE}.{SANDBOX_TABLE} (val) VALUES (%s)", (value,))
                cursor.close()
            except Exception:  # not acknowledged: maybe committed, maybe not; never counted
                self.failed += 1
                with contextlib.suppress(Exception):
                    conn.close()
                conn = None
                continue
            assert target is not None
            self.acked.append((value, target, time.monotonic()))
            time.sleep(WRITE_INTERVAL)
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()


@dataclass
class Outcome:
    fault: str
    converged: float | None = None  # seconds from the master fault (or leader fault) to convergence
    fenced: float | None = None  # seconds from SIGCONT of a hung master to read_only=1
    new_master: int | None = None
    recoveries: int = 0
    acked: int = 0
    async_lost: int = 0  # acknowledged by the failed master before its fault, never shipped to a replica
    violations: list[str] = field(default_factory=list)


def wait_for(predicate: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(POLL)
    return None


def read_only(sb: Sandbox, i: int) -> int | None:
    try:
        return int(sb.query(i, "SELECT @@GLOBAL.read_only AS ro")[0]["ro"])
    except Exception:
        return None


def check_tree(sb: Sandbox, master: int, lost: int | None) -> list[str]:
    """Every live server other than master and the lost one replicates, running, from master's tree."""
    problems = []
    parents = sb.replication_parents()
    for i in parents:
        if i in (master, lost):
            continue
        seen, node = set(), i
        while parents.get(node) is not None and node not in seen:
            seen.add(node)
            node = parents[node]  # type: ignore[assignment]
        if node != master:
            problems.append(f"server {i} is not under the new master {master}")
            continue
        status = sb.replica_status(i) or {}
        if status.get("Slave_IO_Running") != "Yes" or status.get("Slave_SQL_Running") != "Yes":
            problems.append(
                f"server {i} replication not running (io={status.get('Slave_IO_Running')},"
                f" sql={status.get('Slave_SQL_Running')},"
                f" err={status.get('Last_IO_Error') or status.get('Last_SQL_Error')})"
            )
    return problems


def rows_on(sb: Sandbox, i: int) -> set[str]:
    return {str(r["val"]) for r in sb.query(i, f"SELECT val FROM {SANDBOX_DATABASE}.{SANDBOX_TABLE}")}


class Chaos:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.sb = Sandbox(servers=4, layout="star", gtid=True, base_dir=work / "sandbox")
        self.cluster: Cluster | None = None
        self.writer: Writer | None = None

    def cleanup(self) -> None:
        """Idempotent: stop the writer and the daemons, resume every server (the caller stops the sandbox)."""
        if self.writer is not None:
            self.writer.halt.set()
            self.writer.join(timeout=10)
            self.writer = None
        if self.cluster is not None:
            cluster, self.cluster = self.cluster, None
            for d in cluster.daemons:
                if d.proc.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(d.pid, signal.SIGCONT)
            with contextlib.suppress(Exception):
                cluster.close()
        for i in range(self.sb.size if self.sb.servers else 0):
            with contextlib.suppress(Exception):
                self.sb.resume(i)

    def one_round(self, index: int, fault: str, rng: random.Random) -> Outcome:
        sb, out = self.sb, Outcome(fault)
        sb.reset_replication()
        create_writer_user(sb)
        run_dir = self.work / f"round{index}"
        run_dir.mkdir()
        with throwaway_mysql_database(self.args.mysql_host, self.args.mysql_port, prefix="orch_chaos") as keys:
            config = sb.write_config(
                run_dir / "orchestrator.conf.json",
                run_dir / "unused.sqlite3",
                InstancePollSeconds=1,
                RecoverMasterClusterFilters=[".*"],
                ShareDiscoveryAmongNodes=self.args.share_discovery,
                **keys,
            )
            discovered = run_cli("-c", "discover", "-i", sb.key(0), config=config)
            if discovered.code != 0:
                raise SystemExit(f"discover failed: {discovered.err}")
            self.cluster = cluster = Cluster(sb, config, run_dir)
            try:
                cluster.start(DAEMONS)
                self.run_fault(cluster, fault, rng, out)
            finally:
                self.cleanup()
                if self.args.keep_logs:
                    target = Path(self.args.keep_logs)
                    target.mkdir(parents=True, exist_ok=True)
                    for log in sorted(run_dir.glob("daemon-*.log")):
                        (target / f"round{index}-{log.name}").write_text(log.read_text())
        return out

    def run_fault(self, cluster: Cluster, fault: str, rng: random.Random, out: Outcome) -> None:
        sb, timeout = self.sb, self.args.timeout
        if not wait_for(cluster.term, 60):
            out.violations.append("no leader within 60s")
            return
        leader: Daemon | None = wait_for(cluster.leader, 30)
        if leader is None:
            out.violations.append("no announced leader")
            return
        probed = wait_for(
            lambda: (
                len(cluster.query("SELECT 1 FROM database_instance WHERE last_checked >= NOW() - INTERVAL 2 SECOND"))
                == sb.size
            ),
            60,
        )
        if not probed:
            out.violations.append("the leader did not probe every server")
            return
        self.writer = writer = Writer(sb)
        writer.start()
        if not wait_for(lambda: len(writer.acked) >= 10, 30):
            out.violations.append("the writer could not write")
            return
        time.sleep(rng.uniform(0, 1))  # any phase of the poll cycle
        term = cluster.term()
        leader_fault = fault.split("+")[0] if fault.startswith("leader") else None
        master_fault = fault.split("+")[-1] if "master" in fault else None
        master = 0
        paused_leader = False

        def hit_leader() -> None:
            nonlocal paused_leader
            assert leader is not None
            if leader_fault == "leader-kill":
                leader.proc.send_signal(signal.SIGKILL)
                leader.proc.wait()
            else:
                os.kill(leader.pid, signal.SIGSTOP)
                paused_leader = True

        done, stamp = threading.Event(), list[float]()
        poller = threading.Thread(target=watch, args=(sb, master, done, stamp), daemon=True)
        began = time.monotonic()

        def hit_master() -> None:
            nonlocal began
            if master_fault == "master-kill":
                sb.kill(master)
            else:
                sb.pause(master)
            began = time.monotonic()
            poller.start()  # converged: stamped the moment the topology is complete, even mid-sleep below

        if leader_fault and master_fault:
            lag = rng.uniform(-3, 3)  # <0: the leader first; >0: the master first (leader hit mid-recovery)
            first, second = (hit_leader, hit_master) if lag < 0 else (hit_master, hit_leader)
            first()
            time.sleep(abs(lag))
            second()
            out.fault = f"{fault}({'leader' if lag < 0 else 'master'} first by {abs(lag):.1f}s)"
        elif leader_fault:
            hit_leader()
        else:
            hit_master()

        if master_fault:
            poller.join(timeout=max(0.0, began + timeout - time.monotonic()))
            done.set()
            if stamp:
                out.converged = stamp[0] - began
            else:
                out.violations.append(f"no failover within {timeout:.0f}s")
        else:
            if leader_fault == "leader-pause":
                resume_at = began + rng.uniform(6, 9)
                new_term = wait_for(
                    lambda: (t := cluster.term()) is not None and t != term or time.monotonic() >= resume_at,
                    timeout,
                )
                now_term = cluster.term()
                if new_term and now_term != term:
                    out.converged = time.monotonic() - began
                time.sleep(max(0.0, resume_at - time.monotonic()))
            else:
                if wait_for(lambda: (t := cluster.term()) is not None and t != term, timeout):
                    out.converged = time.monotonic() - began
                else:
                    out.violations.append(f"no new leader within {timeout:.0f}s")
        if paused_leader:
            assert leader is not None
            os.kill(leader.pid, signal.SIGCONT)
        if leader_fault == "leader-kill":
            wait_for(lambda: (t := cluster.term()) is not None and t != term, timeout)
            cluster.daemons.append(Daemon(cluster.config, cluster.tmp_path / f"daemon-{len(cluster.daemons)}.log"))
        if master_fault == "master-hang":
            resumed = time.monotonic()
            sb.resume(master)
            if wait_for(lambda: read_only(sb, master) == 1, FENCE_SECONDS):
                out.fenced = time.monotonic() - resumed
            else:
                out.violations.append(f"resumed old master not read_only=1 within {FENCE_SECONDS:.0f}s")
        time.sleep(SETTLE_SECONDS)
        writer.halt.set()
        writer.join(timeout=WRITE_TIMEOUT + 10)
        self.writer = None
        out.acked = len(writer.acked)
        self.check(cluster, out, master if master_fault else None, writer, began)

    def check(self, cluster: Cluster, out: Outcome, failed: int | None, writer: Writer, fault_at: float) -> None:
        sb = self.sb
        recs = cluster.query("SELECT recovery_id, is_successful FROM topology_recovery")
        out.recoveries = len(recs)
        expected = 1 if failed is not None else 0
        if out.recoveries != expected:
            out.violations.append(f"{out.recoveries} recoveries registered (expected {expected})")
        elif expected and not int(recs[0]["is_successful"] or 0):
            out.violations.append("the recovery is not marked successful")
        writable = writable_masters(sb)
        if len(writable) != 1:
            out.violations.append(f"writable masters: {writable}")
        master = root_of_live(sb, failed)
        out.new_master = master
        if master is None:
            out.violations.append("no single master among the live servers")
            return
        if failed is not None and master == failed:
            out.violations.append("the failed master is still the master")
        if failed is None and master != 0:
            out.violations.append(f"master moved to {master} without a master failure")
        if failed is not None and sb.is_alive(failed) and read_only(sb, failed) != 1:
            out.violations.append("the failed master is alive and not read_only")
        out.violations.extend(check_tree(sb, master, failed))
        present = rows_on(sb, master)
        missing = [(v, t, at) for v, t, at in writer.acked if v not in present]
        if not missing:
            return
        survivors = [i for i in sb.replication_parents() if i != failed]
        elsewhere = set().union(*(rows_on(sb, i) for i in survivors)) if survivors else set()
        on_failed = rows_on(sb, failed) if failed is not None and sb.is_alive(failed) else set()
        # asynchronous replication: a commit the failed master acknowledged just before its fault and
        # never shipped is lost whatever the failover does (it is on no survivor); anything else is a
        # violation
        unshipped = [m for m in missing if m[1] == failed and m[2] <= fault_at and m[0] not in elsewhere]
        out.async_lost = len(unshipped)
        details = ", ".join(
            f"acked by server {t} {1000 * (at - fault_at):+.0f}ms from the fault"
            + (", on the failed master" if v in on_failed else "")
            for v, t, at in missing[:3]
        )
        if unshipped:
            print(f"  note: {len(unshipped)} acknowledged write(s) never left the failed master: {details}", flush=True)
        others = [m for m in missing if m not in unshipped]
        if others:
            reached = sum(1 for v, _, _ in others if v in elsewhere)
            out.violations.append(
                f"{len(others)} acknowledged write(s) missing on the new master"
                f" ({reached} of them on another surviving server; {details})"
            )


def root_of_live(sb: Sandbox, failed: int | None) -> int | None:
    """The single live root other than the (fenced) failed master."""
    parents = sb.replication_parents()
    roots = [i for i, p in parents.items() if p is None and i != failed]
    return roots[0] if len(roots) == 1 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--max-minutes", type=float, default=30.0, help="no new round starts after this")
    parser.add_argument("--seed", type=int, default=None, help="random seed (printed; default: from the clock)")
    parser.add_argument("--faults", default=",".join(FAULTS), help="comma-separated subset of " + ", ".join(FAULTS))
    parser.add_argument("--timeout", type=float, default=60.0, help="convergence bound per round (seconds)")
    parser.add_argument("--mysql-host", default="127.0.0.1")
    parser.add_argument("--mysql-port", type=int, default=3306)
    parser.add_argument("--keep-logs", default="", help="copy the daemons' logs to this directory")
    parser.add_argument(
        "--share-discovery", action="store_true", help="ShareDiscoveryAmongNodes: the daemons split the probing"
    )
    args = parser.parse_args()
    if args.mysql_host not in ("127.0.0.1", "localhost"):
        parser.error("the backend must be local (127.0.0.1)")
    faults = [f for f in args.faults.split(",") if f]
    if not faults or any(f not in FAULTS for f in faults):
        parser.error(f"--faults: choose from {', '.join(FAULTS)}")
    seed = args.seed if args.seed is not None else int(time.time()) % 100000
    rng = random.Random(seed)
    shared = ", shared discovery" if args.share_discovery else ""
    print(f"seed {seed}; {args.rounds} round(s) at most, {args.max_minutes:.0f} min at most{shared}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="orch-bench-chaos-") as tmp:
        chaos = Chaos(args, Path(tmp))

        def stop_all() -> None:
            chaos.cleanup()
            if chaos.sb.started:
                chaos.sb.stop()

        atexit.register(stop_all)
        try:
            chaos.sb.start()
            for index in range(args.rounds):
                if time.monotonic() - started > args.max_minutes * 60:
                    print(f"time limit reached after {index} round(s)", flush=True)
                    break
                fault = rng.choice(faults)
                out = chaos.one_round(index, fault, rng)
                outcomes.append(out)
                print(
                    f"round {index:2d} {out.fault:45s} "
                    f"{'converged' if out.converged is not None else 'NOT converged':13s} "
                    f"{'failover' if 'master' in out.fault else 'new leader'} "
                    f"{'-' if out.converged is None else f'{out.converged:5.2f}s'} "
                    f"fenced {'-' if out.fenced is None else f'{out.fenced:4.2f}s'} "
                    f"master {out.new_master} recoveries {out.recoveries} acked {out.acked} "
                    f"{f'(never shipped {out.async_lost}) ' if out.async_lost else ''}"
                    f"violations {len(out.violations)}" + (f": {'; '.join(out.violations)}" if out.violations else ""),
                    flush=True,
                )
        finally:
            stop_all()
    violations = sum(len(o.violations) for o in outcomes)
    print(f"summary: {len(outcomes)} round(s), seed {seed}, {violations} violation(s), "
          f"{sum(o.acked for o in outcomes)} acknowledged writes, {sum(o.async_lost for o in outcomes)} of them"
          f" never left a failed master (asynchronous replication), {time.monotonic() - started:.0f}s")  # fmt: skip
    for kind in FAULTS:
        times = [o.converged for o in outcomes if o.fault.split("(")[0] == kind and o.converged is not None]
        count = sum(1 for o in outcomes if o.fault.split("(")[0] == kind)
        if count:
            what = "new leader" if "master" not in kind else "failover"
            line = f"  {kind:26s} {count:2d} round(s)"
            if times:
                line += f"  {what} median {statistics.median(times):.2f}s max {max(times):.2f}s"
            print(line)
    fenced = [o.fenced for o in outcomes if o.fenced is not None]
    if fenced:
        print(f"  resumed hung master -> read_only=1: median {statistics.median(fenced):.2f}s max {max(fenced):.2f}s")
    sys.exit(1 if violations else 0)


if __name__ == "__main__":
    main()
