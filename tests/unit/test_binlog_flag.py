"""`--binlog file:pos` is parsed in one place (BinlogCoordinates.parse): bad text is a one-line usage error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import run_cli, sqlite_config


@pytest.mark.parametrize(
    ("command", "extra", "text", "message"),
    [
        ("correlate-binlog-pos", ["-d", "127.0.0.1:2"], "mysql-bin.000002", "invalid --binlog 'mysql-bin.000002'"),
        ("correlate-binlog-pos", ["-d", "127.0.0.1:2"], "mysql-bin.000002:12ab", "expecting file:pos"),
        ("correlate-relaylog-pos", ["-d", "127.0.0.1:2"], ":1234", "invalid --binlog ':1234'"),
        ("master-pos-wait", [], "mysql-bin.000001", "expecting --binlog argument as file:pos"),
        ("master-pos-wait", [], "mysql-bin.000001:-4", "position '-4' is not a number"),
    ],
)
def test_bad_binlog_coordinates_are_refused(
    tmp_path: Path, command: str, extra: list[str], text: str, message: str
) -> None:
    result = run_cli("-c", command, "-i", "127.0.0.1:1", *extra, "--binlog", text, config=sqlite_config(tmp_path))
    assert result.code != 0
    assert result.out == ""
    assert len(result.err.splitlines()) == 1 and message in result.err
