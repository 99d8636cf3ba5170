"""Bad input: a non-zero exit, exactly one `orchestrator:` line on stderr, nothing on stdout, and no backend write.

The backend holds the original's fixture rows (tests/compat/fixtures.py); every table is dumped before
and after each refused command and the dumps must be identical.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator_cli.commands import registry
from tests.compat.fixtures import OriginalFixture, original_fixture
from tests.support import Result, run_cli, run_cli_process

REPLICA = "testhost:22294"


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OriginalFixture]:
    with original_fixture("sqlite", tmp_path_factory.mktemp("bad-input")) as fixture:
        fixture.execute(
            "INSERT INTO database_instance_tags (hostname, port, tag_name, tag_value) VALUES"
            " ('testhost', 22294, 'role', 'backup')"
        )
        yield fixture


def dump(fx: OriginalFixture) -> dict[str, list[str]]:
    """Every row of every table (as text), in a stable order."""
    return {table: sorted(map(repr, fx.query(f"SELECT * FROM {table}"))) for table in fx.table_counts()}


def assert_refused(result: Result, *, code: int = 1, mentions: str = "") -> str:
    assert result.code == code, (result.code, result.out, result.err)
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("orchestrator:")
    assert mentions in lines[0]
    return lines[0]


BAD_COMMANDS: list[tuple[list[str], str]] = [
    # malformed -i / -d
    (["-c", "which-instance", "-i", "db:33o6"], "cannot parse instance key 'db:33o6'"),
    (["-c", "begin-downtime", "-i", "host:abc", "--reason", "r", "--duration", "1h"], "cannot parse instance key"),
    (["-c", "register-candidate", "-i", "db7:33o6"], "cannot parse instance key"),
    (["-c", "begin-maintenance", "-i", "db:70000", "--reason", "r"], "port out of range"),
    (["-c", "tag", "-i", "db:0", "--tag", "a=b"], "port out of range"),
    (["-c", "can-replicate-from", "-i", REPLICA, "-d", "host:abc"], "invalid destination"),
    (["-c", "forget", "-i", "db:33o6"], "cannot parse instance key"),
    # a bad key later in a multi-instance -i stops the earlier ones from running too
    (["-c", "begin-downtime", "-i", f"{REPLICA},db:33o6", "--reason", "r", "--duration", "1h"], "'db:33o6'"),
    (["-c", "register-candidate", "-i", f"{REPLICA} testhost:22295 :3306"], "cannot parse instance key"),
    (["-c", "submit-pool-instances", "--pool", "p", "-i", f"{REPLICA},db:33o6"], "cannot parse instance key"),
    # an -i that names nothing (an empty variable, only separators) is not the local host, nor a no-op
    (["-c", "begin-downtime", "-i", " ", "--reason", "r", "--duration", "1h"], "-i ' ' names no instance"),
    (["-c", "begin-downtime", "-i", ",,,", "--reason", "r", "--duration", "1h"], "-i ',,,' names no instance"),
    (["-c", "register-candidate", "-i", ""], "-i '' names no instance"),
    (["-c", "tag", "-i", " , ", "--tag", "a=b"], "names no instance"),
    (["-c", "which-instance", "-i", ",,,"], "names no instance"),
    (["-c", "topology", "-i", " "], "names no instance"),
    (["-c", "submit-pool-instances", "--pool", "p", "-i", ",,,"], "names no instance"),
    # bad --duration
    (["-c", "begin-downtime", "-i", REPLICA, "--reason", "r", "--duration", "10x"], "cannot parse duration '10x'"),
    (["-c", "begin-downtime", "-i", REPLICA, "--reason", "r", "--duration", "1.5h"], "cannot parse duration"),
    (["-c", "begin-downtime", "-i", REPLICA, "--reason", "r", "--duration", "0s"], "must be positive"),
    (["-c", "begin-downtime", "-i", REPLICA, "--reason", "r", "--duration", "99999w"], "too long"),
    (["-c", "begin-maintenance", "-i", REPLICA, "--reason", "r", "--duration", "abc"], "cannot parse duration"),
    # unknown --promotion-rule: checked for every command, as in the original
    (["-c", "register-candidate", "-i", REPLICA, "--promotion-rule", "must"], "unknown promotion rule 'must'"),
    (["-c", "register-candidate", "-i", REPLICA, "--promotion-rule", "PREFER"], "unknown promotion rule"),
    (["-c", "clusters", "--promotion-rule", "bogus"], "unknown promotion rule 'bogus'"),
    # unknown command, format, help topic
    (["-c", "no-such-command"], "unknown command 'no-such-command'"),
    (["-c", "Topology", "-i", REPLICA], "unknown command"),
    (["-c", "clusters", "--format", "yaml"], "unknown --format 'yaml'"),
    (["help", "no-such-command"], "no such command: no-such-command"),
    (["-c", "help", "no-such-command"], "no such command: no-such-command"),
    # the nearest names are suggested (canonical names, also for a legacy one)
    (["-c", "relocat", "-i", REPLICA], "unknown command 'relocat'; did you mean relocate or "),
    (["-c", "regroup-slave"], "did you mean regroup-replicas or"),
    (["help", "reloc"], "no such command: reloc; did you mean relocate?"),
    # missing required flags
    (["-c", "begin-maintenance", "-i", REPLICA], "--reason is required"),
    (["-c", "begin-downtime", "-i", REPLICA, "--duration", "1h"], "--reason is required"),
    (["-c", "tag", "-i", REPLICA], "--tag is required"),
    (["-c", "untag", "-i", REPLICA], "--tag is required"),
    (["-c", "tag-value", "-i", REPLICA], "--tag is required"),
    (["-c", "tagged"], "--tag is required"),
    (["-c", "untag-all"], "--tag is required"),
    (["-c", "submit-pool-instances", "-i", REPLICA], "--pool is required"),
    (["-c", "find"], "--pattern is required"),
    (["-c", "search"], "--pattern is required"),
    (["-c", "can-replicate-from", "-i", REPLICA], "-d is required"),
    (["-c", "forget"], "-i is required"),
    (["-c", "register-hostname-unresolve", "-i", REPLICA], "--hostname is required"),
    # malformed values of other flags
    (["-c", "tag", "-i", REPLICA, "--tag", "=x"], "cannot parse tag"),
    (["-c", "untag", "-i", REPLICA, "--tag", "~role"], "negation is not supported"),
    (["-c", "untag-all", "--tag", "role"], "will not delete a value-less tag"),
    (["-c", "tagged", "--tag", ","], "empty tag expression"),
    (["-c", "find", "--pattern", "("], "invalid --pattern"),
    (["-c", "topology", "-i", REPLICA, "--pattern", "2017"], "--pattern"),
    # unknown targets
    (["-c", "forget", "-i", "nosuchhost:3306"], "not found"),
    (["-c", "topology", "-i", "nosuchhost:3306"], "nosuchhost:3306"),
    (["-c", "which-cluster", "--alias", "nosuchcluster"], "unknown cluster: nosuchcluster"),
    (["-c", "instance-status", "-i", "nosuchhost:3306"], "not found"),
    (["-c", "can-replicate-from", "-i", REPLICA, "-d", "nosuchhost:3306"], "not found"),
    # both -s and -d
    (["-c", "can-replicate-from", "-i", REPLICA, "-d", "testhost:22293", "-s", "testhost:22293"], "-s and -d"),
]


@pytest.mark.parametrize(("args", "mentions"), BAD_COMMANDS, ids=[" ".join(a) for a, _ in BAD_COMMANDS])
def test_refused_and_nothing_written(backend: OriginalFixture, args: list[str], mentions: str) -> None:
    before = dump(backend)
    assert_refused(backend.cli(*args), mentions=mentions)
    assert dump(backend) == before


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["-nosuch"], "flag provided but not defined: -nosuch"),
        (["-c"], "flag needs an argument: -c"),
        (["-debug=maybe", "-c", "clusters"], "invalid boolean value"),
    ],
)
def test_flag_errors_exit_2(backend: OriginalFixture, args: list[str], mentions: str) -> None:
    before = dump(backend)
    assert_refused(backend.cli(*args), code=2, mentions=mentions)
    assert dump(backend) == before


def test_discover_of_a_closed_port(backend: OriginalFixture) -> None:
    port = closed_port()
    before = dump(backend)
    line = assert_refused(backend.cli("-c", "discover", "-i", f"127.0.0.1:{port}"), mentions=f"127.0.0.1:{port}")
    assert line.startswith("orchestrator: discover: ")
    assert dump(backend) == before  # not even a node_health registration


def test_live_command_refused_before_registering(backend: OriginalFixture) -> None:
    live = [c.name for c in registry.all_commands() if c.access == "L" and c.target == registry.INSTANCE]
    if not live:
        pytest.skip("no live single-instance command registered yet")
    before = dump(backend)
    assert_refused(backend.cli("-c", live[0], "-i", "db:33o6"), mentions="cannot parse instance key")
    assert dump(backend) == before


@pytest.mark.parametrize(
    ("content", "mentions"),
    [
        ('{"BackendDB": "sqlite",\n "SQLite3DataFile": ', "cannot parse config file"),
        ('{"BackendDB": "sqlite", "InstancePollSeconds": "5"}', "InstancePollSeconds must be an integer"),
        ('{"BackendDB": "sqlite", "Debug": "yes"}', "Debug must be true or false"),
        ("[]", "expected a JSON object"),
        ('{"BackendDB": "oracle"}', "BackendDB must be"),
        ('{"BackendDB": "sqlite", "DiscoveryMaxConcurrency": 0}', "DiscoveryMaxConcurrency must be a positive integer"),
        ('{"BackendDB": "sqlite", "DiscoveryMaxConcurrency": 2.5}', "DiscoveryMaxConcurrency must be an integer"),
    ],
    ids=["corrupt", "wrong-int", "wrong-bool", "not-object", "bad-backend", "zero-concurrency", "float-concurrency"],
)
def test_bad_config_file(backend: OriginalFixture, tmp_path: Path, content: str, mentions: str) -> None:
    config = tmp_path / "orchestrator.conf.json"
    config.write_text(content)
    before = dump(backend)
    assert_refused(run_cli("-c", "clusters", config=config), mentions=mentions)
    assert dump(backend) == before


def test_corrupt_config_reports_line_and_column(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text('{\n  "BackendDB": "sqlite",\n  "SQLite3DataFile": \n}')
    assert_refused(run_cli("-c", "clusters", config=config), mentions="line 4 column 1")


def test_missing_config_file(tmp_path: Path) -> None:
    missing = tmp_path / "absent.json"
    line = assert_refused(run_cli("-c", "clusters", config=missing), mentions="no such file")
    assert str(missing) in line
    assert not list(tmp_path.iterdir())


def test_credentials_file_with_another_section(tmp_path: Path) -> None:
    creds = tmp_path / "creds.cnf"
    creds.write_text("[mysqld]\nuser=x\n")
    config = tmp_path / "c.json"
    config.write_text(
        json.dumps({"SQLite3DataFile": str(tmp_path / "o.sqlite3"), "MySQLTopologyCredentialsConfigFile": str(creds)})
    )
    assert_refused(run_cli("-c", "clusters", config=config), mentions="only a [client] section")
    assert not (tmp_path / "o.sqlite3").exists()


def test_real_process_prints_one_line(backend: OriginalFixture) -> None:
    """The same contract from a real process (as cron sees it), with no traceback leaking."""
    before = dump(backend)
    result = run_cli_process(
        "-c", "begin-downtime", "-i", "db:33o6", "--reason", "r", "--duration", "1h", config=backend.config
    )
    assert_refused(result, mentions="cannot parse instance key")
    assert dump(backend) == before


def test_sqlite_data_file_that_is_not_a_database(tmp_path: Path) -> None:
    garbage = tmp_path / "orchestrator.sqlite3"
    garbage.write_bytes(b"this is not an SQLite database, just some bytes" * 4)
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"SQLite3DataFile": str(garbage)}))
    content = garbage.read_bytes()
    assert_refused(run_cli("-c", "clusters", config=config), mentions="file is not a database")
    assert garbage.read_bytes() == content


def test_sqlite_data_file_that_is_a_directory(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"SQLite3DataFile": str(tmp_path)}))
    assert_refused(run_cli("-c", "clusters", config=config), mentions="cannot open SQLite backend")


def test_unreachable_mysql_backend(tmp_path: Path) -> None:
    port = closed_port()
    config = tmp_path / "c.json"
    config.write_text(
        json.dumps(
            {
                "BackendDB": "mysql",
                "MySQLOrchestratorHost": "127.0.0.1",
                "MySQLOrchestratorPort": port,
                "MySQLOrchestratorDatabase": "orchestrator",
                "MySQLConnectTimeoutSeconds": 1,
            }
        )
    )
    assert_refused(
        run_cli("-c", "begin-downtime", "-i", "db1:3306", "--reason", "r", config=config),
        mentions=f"cannot connect to MySQL backend 127.0.0.1:{port}",
    )


@pytest.mark.parametrize(
    "args",
    [
        ["-c", "which-instance", "-i", "db\x1b[2J:3306"],
        ["-c", "no-such\x1b]0;title\x07"],
        ["-c", "begin-downtime", "-i", REPLICA, "--reason", "r", "--duration", "1\x1bh"],
        ["-c", "tag", "-i", REPLICA, "--tag", "=\x9b31m"],
    ],
    ids=["instance", "command", "duration", "tag"],
)
def test_control_characters_from_argv_are_escaped(backend: OriginalFixture, args: list[str]) -> None:
    """An escape sequence typed (or pasted) into an argument is shown, not executed by the terminal."""
    line = assert_refused(backend.cli(*args))
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", line), repr(line)
    assert "\\x1b" in line or "\\x9b" in line


def test_backend_connect_timeout_is_one_trimmed_line(tmp_path: Path) -> None:
    """A backend that accepts TCP but never greets: the driver's reconnect() advice is not printed."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = int(silent.getsockname()[1])
        config = tmp_path / "c.json"
        config.write_text(
            json.dumps(
                {
                    "BackendDB": "mysql",
                    "MySQLOrchestratorHost": "127.0.0.1",
                    "MySQLOrchestratorPort": port,
                    "MySQLOrchestratorDatabase": "orchestrator",
                    "MySQLConnectTimeoutSeconds": 1,
                }
            )
        )
        line = assert_refused(run_cli_process("-c", "clusters", config=config))
    assert line.startswith(f"orchestrator: clusters: cannot connect to MySQL backend 127.0.0.1:{port}: ")
    assert "timed out" in line and "MySQLConnectTimeoutSeconds=1" in line
    assert "reconnect" not in line and "consider" not in line
