"""`set-heuristic-domain-instance` / `which-heuristic-domain-instance`: the cluster domain's writer."""

from __future__ import annotations

import json
from pathlib import Path

from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import run_cli


def test_domain_writer_round_trip(sandbox: Sandbox, tmp_path: Path) -> None:
    config = sandbox.write_config(tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3")
    values = json.loads(config.read_text())
    values["DetectClusterDomainQuery"] = "select 'shop-writer.example.com'"
    config.write_text(json.dumps(values))
    assert run_cli("-c", "discover", "-i", sandbox.key(0), config=config).code == 0

    missing = run_cli("-c", "which-heuristic-domain-instance", "-i", sandbox.key(1), config=config)
    assert missing.code == 1 and "no instance stored for domain shop-writer.example.com" in missing.err
    stored = run_cli("-c", "set-heuristic-domain-instance", "-i", sandbox.key(2), config=config)
    assert (stored.code, stored.lines) == (0, [sandbox.key(0)])
    read = run_cli("-c", "which-heuristic-domain-instance", "--alias", sandbox.key(0), config=config)
    assert (read.code, read.lines) == (0, [sandbox.key(0)])


def test_a_cluster_without_domain_is_an_error(sandbox: Sandbox, sandbox_config: Path) -> None:
    assert run_cli("-c", "discover", "-i", sandbox.key(0), config=sandbox_config).code == 0
    result = run_cli("-c", "set-heuristic-domain-instance", "-i", sandbox.key(0), config=sandbox_config)
    assert result.code == 1
    assert (
        result.err
        == f"orchestrator: set-heuristic-domain-instance: cannot find domain name for cluster {sandbox.key(0)}\n"
    )
