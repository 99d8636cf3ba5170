"""A discover starts no child process. mysql.connector's default connection attributes include the OS
release, which it reads by running `lsb_release -a` where /etc/lsb-release is missing (Debian): our
connections (topology servers and a MySQL backend) clear CLIENT_CONNECT_ATTRS, as the original's
driver sent none. Watched through the interpreter's audit events (PEP 578), in a fresh process, since
the driver caches what it found for the life of the process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from orchestrator_cli.sandbox.topology import Sandbox
from tests.support import ROOT

WATCH = """
import json, sys
spawned = []
sys.addaudithook(lambda event, args: spawned.append(str(args[1])) if event == "subprocess.Popen" else None)
from orchestrator_cli.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "spawned": spawned}), file=sys.stderr)
"""


def _discover(config: Path, key: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", WATCH, "--config", str(config), "-c", "discover", "-i", key],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    return dict(json.loads(proc.stderr.strip().splitlines()[-1]))


def test_discover_on_sqlite_spawns_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    config = sandbox.write_config(tmp_path / "orchestrator.conf.json", tmp_path / "orchestrator.sqlite3")
    assert _discover(config, sandbox.key(1)) == {"code": 0, "spawned": []}


def test_discover_on_a_mysql_backend_spawns_nothing(
    sandbox: Sandbox, tmp_path: Path, deployed_mysql_backend_db: dict[str, Any]
) -> None:
    config = tmp_path / "orchestrator.conf.json"
    sandbox.write_config(config, tmp_path / "unused.sqlite3")
    settings = json.loads(config.read_text())
    settings.pop("SQLite3DataFile", None)
    config.write_text(json.dumps({**settings, "BackendDB": "mysql", **deployed_mysql_backend_db}))
    assert _discover(config, sandbox.key(0)) == {"code": 0, "spawned": []}
