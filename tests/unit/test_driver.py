"""`orchestrator_cli.driver`: the driver comes with the authentication plugins it would otherwise
import inside the first handshake, where two threads connecting at once raced on that import
(a packaged `discover` failed 7 times in 60 with "NameError: name 'sys' is not defined")."""

from __future__ import annotations

import subprocess
import sys

PLUGINS = ("mysql.connector.plugins.mysql_native_password", "mysql.connector.plugins.caching_sha2_password")


def test_the_connector_comes_with_its_authentication_plugins_imported() -> None:
    script = (
        "import sys\n"
        "from orchestrator_cli.driver import connector\n"
        f"before = [m for m in {PLUGINS!r} if m in sys.modules]\n"
        "module = connector()\n"
        "assert module is sys.modules['mysql.connector'] and connector() is module\n"
        f"print(before, [m for m in {PLUGINS!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"[] {list(PLUGINS)!r}"


def test_both_layers_connect_through_it() -> None:
    """The topology and backend connections take the driver from `connector()`, not by importing it
    themselves, so no first connection of the process imports a plugin while another thread does."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "orchestrator_cli"
    for path in (root / "mysql" / "server.py", root / "backend" / "connection.py"):
        text = path.read_text()
        assert "mysql.connector.connect(" not in text, path
        assert "mysql_connector.connect(" in text, path
