"""Drive the tool the way an automated deployment does, under a production-style configuration.

The scenario tests share three things that the rest of the suite never combined:

* a configuration an operator would really run: data centers and regions from ``Detect*Query``
  (read by position), a ``ReplicationCredentialsQuery`` whose two columns share a name, a lag query,
  every recovery hook writing to one file, cluster filters and an anti-flapping block;
* the automation loop: ``discover`` every known instance, read ``replication-analysis``, then
  ``recover -i`` every entry it printed, stale entries included;
* the checks an operator makes afterwards: the tree as the servers report it, ``read_only`` on
  every server, the recovery records, the hook lines, and that data written before the event is on
  every live server.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import Result, run_cli

# The replication account the credentials query names: user and password are one literal, so the
# query's two columns carry the same name ('ci') and only positional reading sees both.
CREDENTIALS_USER = "ci"
CREDENTIALS_PASSWORD = "ci"
CREDENTIALS_QUERY = f"select '{CREDENTIALS_USER}', '{CREDENTIALS_PASSWORD}'"

# Data centers and regions by server index, as in the reproduction: two servers share the
# first data center, the third is in a second data center of the same region, the fourth is in
# another region.
DATA_CENTERS = ("dc-east-1", "dc-east-1", "dc-east-2", "dc-west")
REGIONS = ("us-east", "us-east", "us-east", "us-west")

# Hook kinds that take placeholders, each writing one line to the hooks log.
HOOK_KINDS = (
    "OnFailureDetectionProcesses",
    "PreFailoverProcesses",
    "PostFailoverProcesses",
    "PostUnsuccessfulFailoverProcesses",
    "PostMasterFailoverProcesses",
    "PostIntermediateMasterFailoverProcesses",
    "PreGracefulTakeoverProcesses",
    "PostGracefulTakeoverProcesses",
)
HOOK_FIELDS = "{failureType} {failedHost}:{failedPort} {successorHost}:{successorPort} {countReplicas}"

# A per-server lag the tests can set: every server reads its own row (keyed by @@port) from a
# replicated table, so writing one row on the master makes exactly one replica report lag.
LAG_SCHEMA = "orch_meta"
LAG_QUERY = f"select coalesce((select lag_seconds from {LAG_SCHEMA}.lag where port = @@port), 0)"


def _case_by_port(ports: Iterable[int], values: Iterable[str]) -> str:
    arms = " ".join(f"WHEN {port} THEN '{value}'" for port, value in zip(ports, values, strict=True))
    return f"select CASE @@port {arms} END"


def production_settings(sandbox: Sandbox, hooks_log: Path) -> dict[str, Any]:
    """The configuration keys an operator's production file sets, for this sandbox's ports."""
    hooks = {kind: [f"echo '{kind} {HOOK_FIELDS}' >> {hooks_log}"] for kind in HOOK_KINDS}
    return {
        "DetectDataCenterQuery": _case_by_port(sandbox.ports, DATA_CENTERS),
        "DetectRegionQuery": _case_by_port(sandbox.ports, REGIONS),
        "DetectPhysicalEnvironmentQuery": "select 'prod'",
        "ReplicationCredentialsQuery": CREDENTIALS_QUERY,
        "ReplicationLagQuery": LAG_QUERY,
        "RecoverMasterClusterFilters": ["*"],
        "RecoverIntermediateMasterClusterFilters": ["*"],
        "RecoveryPeriodBlockSeconds": 600,
        "RecoveryIgnoreHostnameFilters": [],
        "ApplyMySQLPromotionAfterMasterFailover": True,
        "DetachLostReplicasAfterMasterFailover": True,
        "PreventCrossDataCenterMasterFailover": False,
        "PreventCrossRegionMasterFailover": False,
        "InstancePollSeconds": 1,
        **hooks,
    }


def prepare_servers(sandbox: Sandbox) -> None:
    """Create what the production config expects on the servers: the `ci` account and the lag table.

    The account is created on every server without binary logging (it must exist before any of them
    replicates from another); the lag table is created on the master and replicates.
    """
    master = sandbox.current_master()
    for i in range(len(sandbox.ports)):
        if not sandbox.is_alive(i):
            continue
        sandbox.execute(
            i,
            "SET SESSION sql_log_bin = 0",
            f"CREATE USER IF NOT EXISTS '{CREDENTIALS_USER}'@'%' IDENTIFIED BY '{CREDENTIALS_PASSWORD}'",
            f"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{CREDENTIALS_USER}'@'%'",
            "SET SESSION sql_log_bin = 1",
        )
    sandbox.execute(
        master,
        f"CREATE DATABASE IF NOT EXISTS {LAG_SCHEMA}",
        f"CREATE TABLE IF NOT EXISTS {LAG_SCHEMA}.lag (port INT PRIMARY KEY, lag_seconds INT NOT NULL)",
        f"DELETE FROM {LAG_SCHEMA}.lag",
    )
    sandbox.wait_replicated()


@dataclass
class Scenario:
    """One sandbox, one production-style config with its own SQLite backend, and the hooks log."""

    sandbox: Sandbox
    config: Path
    hooks_log: Path
    recover_results: list[tuple[str, str, Result]] = field(default_factory=list)

    # ------------------------------------------------------------------ running the tool

    def reconfigure(self, **settings: Any) -> None:
        """Change config keys in place (same backend); a value of None removes the key."""
        values = json.loads(self.config.read_text())
        for name, value in settings.items():
            if value is None:
                values.pop(name, None)
            else:
                values[name] = value
        self.config.write_text(json.dumps(values, indent=2, sort_keys=True) + "\n")

    def register_candidate(self, i: int, rule: str) -> None:
        self.ok("-c", "register-candidate", "-i", self.sandbox.key(i), "--promotion-rule", rule)

    def cli(self, *args: str) -> Result:
        return run_cli(*args, config=self.config)

    def ok(self, *args: str) -> Result:
        result = self.cli(*args)
        assert result.code == 0, f"{' '.join(args)} exited {result.code}: {result.err}"
        return result

    def known_instances(self) -> list[str]:
        """What the backend knows, plus the sandbox's seed, as a discover-all cron loop reads it."""
        known = [line.split()[0] for line in self.cli("-c", "all-instances").lines if line.strip()]
        return sorted(set(known) | {self.sandbox.key(self.sandbox_seed())})

    def sandbox_seed(self) -> int:
        alive = [i for i in range(len(self.sandbox.ports)) if self.sandbox.is_alive(i)]
        return alive[0]

    def discover_all(self) -> None:
        """`discover` each known instance; a dead one fails its own call and nothing else."""
        for key in self.known_instances():
            self.cli("-c", "discover", "-i", key)

    def analysis(self) -> list[tuple[str, str]]:
        """(instance, analysis code) for every line `replication-analysis` prints."""
        entries = []
        for line in self.ok("-c", "replication-analysis").lines:
            instance, _, rest = line.partition(" ")
            code = rest.split("): ", 1)[1].split(",")[0].strip()
            entries.append((instance, code))
        return entries

    def automation_round(self) -> list[tuple[str, str]]:
        """One pass of the loop: discover everything, analyse, `recover -i` every entry printed."""
        self.discover_all()
        entries = self.analysis()
        for instance, code in entries:
            self.recover_results.append((instance, code, self.cli("-c", "recover", "-i", instance)))
        return entries

    def automate_until(self, done: Callable[[], bool], rounds: int = 15, pause: float = 1.0) -> None:
        """Run automation rounds until `done()`; fail with the recover outputs when it never is."""
        for _ in range(rounds):
            self.automation_round()
            if done():
                return
            time.sleep(pause)
        summary = "\n".join(f"{i} {c}: rc={r.code} out={r.out!r} err={r.err!r}" for i, c, r in self.recover_results)
        raise AssertionError(f"scenario did not converge after {rounds} rounds:\n{summary}")

    # ------------------------------------------------------------------ what the operator checks

    def tree(self) -> dict[int, int | None]:
        """Server index → index of its master (None for a master), from the servers themselves."""
        return self.sandbox.replication_parents()

    def read_only(self) -> dict[int, int]:
        return {
            i: int(self.sandbox.query(i, "SELECT @@GLOBAL.read_only AS ro")[0]["ro"])
            for i in range(len(self.sandbox.ports))
            if self.sandbox.is_alive(i)
        }

    def writable(self) -> list[int]:
        return sorted(i for i, ro in self.read_only().items() if ro == 0)

    def hook_lines(self, kind: str | None = None) -> list[str]:
        if not self.hooks_log.exists():
            return []
        lines = self.hooks_log.read_text().splitlines()
        return [line for line in lines if kind is None or line.startswith(kind + " ")]

    def recoveries(self) -> list[Mapping[str, Any]]:
        records: list[Mapping[str, Any]] = self.ok("-c", "audit-recovery", "--format", "json").json() or []
        return records

    def recoveries_of(self, i: int) -> list[Mapping[str, Any]]:
        """The recovery records whose analysed (failed) instance is server `i`, oldest first."""
        port = self.sandbox.ports[i]
        return [r for r in self.recoveries() if r["AnalysisEntry"]["AnalyzedInstanceKey"]["Port"] == port]

    def recovered(self, i: int) -> bool:
        """A recovery of server `i` has finished (successfully or not)."""
        return any(r["RecoveryEndTimestamp"] for r in self.recoveries_of(i))

    def index(self, key: Mapping[str, Any] | None) -> int | None:
        """Server index of a `{"Hostname", "Port"}` key from the JSON records (None for no key)."""
        if not key or not key.get("Port"):
            return None
        return self.sandbox.index_of(int(key["Port"]))

    def indices(self, keys: Iterable[Mapping[str, Any]]) -> list[int]:
        """Sorted server indices of a list of JSON keys (LostReplicas, ParticipatingInstanceKeys)."""
        found = [self.index(key) for key in keys]
        assert None not in found, keys
        return sorted(i for i in found if i is not None)

    def downtimes(self) -> dict[int, str]:
        """Server index → reason of every active downtime in the backend."""
        from orchestrator_cli.backend import downtime
        from orchestrator_cli.backend.connection import Backend
        from orchestrator_cli.config import load_config
        from orchestrator_cli.model.keys import InstanceKey

        backend = Backend(load_config(str(self.config)))
        try:
            found = {}
            for i, key in enumerate(self.sandbox.keys):
                row = downtime.read(backend, InstanceKey.parse(key))
                if row is not None and int(row["is_active"]):
                    found[i] = str(row["reason"])
        finally:
            backend.close()
        return found

    def instance_row(self, key: str) -> Mapping[str, Any]:
        """The backend's `database_instance` row of `key` (what the tool recorded from its probes)."""
        from orchestrator_cli.backend.connection import Backend
        from orchestrator_cli.config import load_config

        host, port = key.rsplit(":", 1)
        backend = Backend(load_config(str(self.config)))
        try:
            row = backend.query_one(
                "SELECT * FROM database_instance WHERE hostname = ? AND port = ?", (host, int(port))
            )
        finally:
            backend.close()
        assert row is not None, f"{key} is not in the backend"
        return dict(row)

    def set_lag(self, i: int, seconds: int) -> None:
        """Make server `i` report `seconds` of lag through the configured lag query."""
        master = self.sandbox.current_master()
        self.sandbox.execute(
            master, f"REPLACE INTO {LAG_SCHEMA}.lag (port, lag_seconds) VALUES ({self.sandbox.ports[i]}, {seconds})"
        )
        self.sandbox.wait_replicated()

    def assert_rows_everywhere(self, value: str, servers: Iterable[int]) -> None:
        for i in servers:
            assert self.sandbox.count_rows(i, value) == 1, f"row {value} missing on server {i}"

    def assert_single_writable_master(self) -> int:
        """Exactly one writable server, it replicates from nobody, every other live server is read-only."""
        tree = self.tree()
        writable = self.writable()
        assert len(writable) == 1, f"writable servers: {writable}, tree {tree}"
        [master] = writable
        assert tree[master] is None, tree
        return master

    # ------------------------------------------------------------------ takeover helpers

    def audit(self, audit_type: str) -> list[dict[str, Any]]:
        """The backend's `audit` rows of one type, newest first."""
        from orchestrator_cli.backend import audit
        from orchestrator_cli.backend.connection import Backend
        from orchestrator_cli.config import load_config

        backend = Backend(load_config(str(self.config)))
        try:
            return [dict(r) for r in audit.read_audit(backend, limit=1000) if r["audit_type"] == audit_type]
        finally:
            backend.close()

    def is_replicating(self, i: int) -> bool:
        """What `is-replicating -i` says about server `i` (it prints the instance, or nothing)."""
        lines = self.ok("-c", "is-replicating", "-i", self.sandbox.key(i)).lines
        assert lines in ([], [self.sandbox.key(i)]), lines
        return bool(lines)


def production_scenario(sandbox: Sandbox, tmp_path: Path) -> Scenario:
    """`sandbox` under the production config with a fresh SQLite backend. Replicas are made read-only
    first, as in production, so a test can tell the one writable master."""
    for i in range(1, len(sandbox.ports)):
        sandbox.execute(i, "SET GLOBAL read_only = 1")
    prepare_servers(sandbox)
    hooks_log = tmp_path / "hooks.log"
    settings = production_settings(sandbox, hooks_log)
    config = sandbox.write_config(tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3", **settings)
    return Scenario(sandbox, config, hooks_log)
