"""`submit-masters-to-kv-stores`, `which-cluster-osc-replicas`, `which-cluster-gh-ost-replicas` and
`get-cluster-heuristic-lag` on the sandbox."""

from __future__ import annotations

from pathlib import Path

from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import run_cli


def test_kv_and_osc_commands_on_a_discovered_star(sandbox: Sandbox, sandbox_config: Path) -> None:
    assert run_cli("-c", "discover", "-i", sandbox.key(1), config=sandbox_config).code == 0
    master = sandbox.key(0)
    replicas = sorted(sandbox.keys[1:])

    kv = run_cli("-c", "submit-masters-to-kv-stores", config=sandbox_config)
    assert kv.code == 0, kv.err
    assert kv.lines == [
        f"mysql/master/{master}:{master}",
        f"mysql/master/{master}/hostname:127.0.0.1",
        f"mysql/master/{master}/port:{sandbox.ports[0]}",
        f"mysql/master/{master}/ipv4:127.0.0.1",
        f"mysql/master/{master}/ipv6:",
    ]
    again = run_cli("-c", "submit-masters-to-kv-stores", "--alias", master, "--format", "json", config=sandbox_config)
    assert again.json()[f"mysql/master/{master}"] == master

    osc = run_cli("-c", "which-cluster-osc-replicas", "-i", master, config=sandbox_config)
    assert osc.code == 0 and osc.lines == replicas[:2]
    gh = run_cli("-c", "which-cluster-gh-ost-slaves", "-i", master, config=sandbox_config)
    assert gh.code == 0 and sorted(gh.lines) == replicas
    lag = run_cli("-c", "get-cluster-heuristic-lag", "-i", master, config=sandbox_config)
    assert lag.code == 0 and lag.lines == ["0"]
