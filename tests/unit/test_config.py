"""Config loading: the original's search order, key matching and adjustments, with clear errors for bad files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator_cli import config as config_module
from orchestrator_cli.config import (
    SEARCH_PATH,
    discovery_max_concurrency,
    load_config,
    parse_json,
    read_credentials_file,
)
from orchestrator_cli.config_keys import KEYS
from orchestrator_cli.errors import ConfigError


def write(path: Path, data: Any) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


@pytest.fixture
def search_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from an empty directory, with the /etc location redirected into it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        config_module, "SEARCH_PATH", (str(tmp_path / "etc" / "orchestrator.conf.json"), *SEARCH_PATH[1:])
    )
    return tmp_path


# -- which files ------------------------------------------------------------------------------------


def test_search_path_is_the_originals() -> None:
    assert SEARCH_PATH == ("/etc/orchestrator.conf.json", "conf/orchestrator.conf.json", "orchestrator.conf.json")


def test_no_file_gives_defaults(search_dir: Path) -> None:
    config = load_config()
    assert config.sources == []
    assert config["InstancePollSeconds"] == 5
    assert config["DefaultInstancePort"] == 3306
    assert config.is_sqlite


def test_later_files_override_earlier_ones(search_dir: Path) -> None:
    etc = write(search_dir / "etc" / "orchestrator.conf.json", {"InstancePollSeconds": 7, "DefaultInstancePort": 1})
    conf = write(search_dir / "conf" / "orchestrator.conf.json", {"InstancePollSeconds": 8})
    local = write(search_dir / "orchestrator.conf.json", {"DefaultInstancePort": 3307})
    config = load_config()
    assert config.sources == [etc, "conf/orchestrator.conf.json", "orchestrator.conf.json"]
    assert Path(conf).exists() and Path(local).exists()
    assert config["InstancePollSeconds"] == 8
    assert config["DefaultInstancePort"] == 3307


def test_missing_locations_are_skipped(search_dir: Path) -> None:
    write(search_dir / "orchestrator.conf.json", {"InstancePollSeconds": 9})
    config = load_config()
    assert config.sources == ["orchestrator.conf.json"]
    assert config["InstancePollSeconds"] == 9


def test_explicit_file_is_read_alone(search_dir: Path) -> None:
    write(search_dir / "orchestrator.conf.json", {"InstancePollSeconds": 9})
    explicit = write(search_dir / "mine.json", {"DefaultInstancePort": 3310})
    config = load_config(explicit)
    assert config.sources == [explicit]
    assert config["InstancePollSeconds"] == 5
    assert config["DefaultInstancePort"] == 3310


def test_explicit_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(str(tmp_path / "absent.json"))
    with pytest.raises(ConfigError, match="not a regular file"):
        load_config(str(tmp_path))


def test_unparsable_file_in_the_search_path_is_fatal(search_dir: Path) -> None:
    write(search_dir / "conf" / "orchestrator.conf.json", "{")
    with pytest.raises(ConfigError, match="conf/orchestrator.conf.json"):
        load_config()


# -- keys and types ---------------------------------------------------------------------------------


def test_keys_match_case_insensitively(tmp_path: Path) -> None:
    path = write(tmp_path / "c.json", {"instancepollseconds": 11, "OAuthClientID": "abc", "BACKENDDB": "sqlite3"})
    config = load_config(path)
    assert config["InstancePollSeconds"] == 11
    assert config["OAuthClientId"] == "abc"
    assert config["BackendDB"] == "sqlite3"
    assert config.is_sqlite
    assert "instancepollseconds" not in config


def test_unknown_keys_are_accepted(tmp_path: Path) -> None:
    legacy = {"ActiveNodeExpireSeconds": 5, "AuditPageSize": 20, "MaintenanceOwner": "x", "StatusSimpleHealth": True}
    config = load_config(write(tmp_path / "c.json", legacy))
    assert config["AuditPageSize"] == 20


def test_null_leaves_the_default(tmp_path: Path) -> None:
    assert load_config(write(tmp_path / "c.json", {"InstancePollSeconds": None}))["InstancePollSeconds"] == 5


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("InstancePollSeconds", "5", 'InstancePollSeconds must be an integer, got "5"'),
        ("InstancePollSeconds", 5.5, "InstancePollSeconds must be an integer, got 5.5"),
        ("InstancePollSeconds", True, "InstancePollSeconds must be an integer, got true"),
        ("Debug", "yes", 'Debug must be true or false, got "yes"'),
        ("Debug", 1, "Debug must be true or false, got 1"),
        ("MySQLTopologyUser", 5, "MySQLTopologyUser must be a string, got 5"),
        ("PromotionIgnoreHostnameFilters", "db.*", "must be a list of strings"),
        ("PromotionIgnoreHostnameFilters", [1], "must be a list of strings"),
    ],
)
def test_wrong_types_are_refused_clearly(tmp_path: Path, key: str, value: Any, expected: str) -> None:
    path = write(tmp_path / "c.json", {key: value})
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert expected in message
    assert path in message
    assert "\n" not in message


@pytest.mark.parametrize("value", [0, -3])
def test_discovery_concurrency_must_be_positive(tmp_path: Path, value: int) -> None:
    path = write(tmp_path / "c.json", {"DiscoveryMaxConcurrency": value})
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"config: DiscoveryMaxConcurrency must be a positive integer, got {value}"


def test_discovery_concurrency_is_honoured_as_configured(tmp_path: Path) -> None:
    """The original's default (300) and larger values are used as given (no silent cap)."""
    assert discovery_max_concurrency(load_config(write(tmp_path / "a.json", {}))) == 300
    assert discovery_max_concurrency(load_config(write(tmp_path / "b.json", {"DiscoveryMaxConcurrency": 500}))) == 500
    with pytest.raises(ConfigError, match="must be a positive integer"):
        discovery_max_concurrency({"DiscoveryMaxConcurrency": "8"})  # a mapping that bypassed load_config


def test_every_default_passes_its_own_type_check(tmp_path: Path) -> None:
    defaults = {k: v for k, (v, _) in KEYS.items() if k not in ("BackendDB",)}
    config = load_config(write(tmp_path / "c.json", defaults))
    assert config["InstancePollSeconds"] == KEYS["InstancePollSeconds"][0]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"a": 1,\n "b": }', "line 2 column 7"),
        ('{"a": 1\n\n  "b": 2}', "line 3 column 3"),
        ("", "line 1 column 1"),
    ],
)
def test_invalid_json_reports_line_and_column(tmp_path: Path, text: str, where: str) -> None:
    path = write(tmp_path / "c.json", text)
    with pytest.raises(ConfigError, match=f"cannot parse config file {path}: .* at {where}"):
        load_config(path)


def test_json_must_be_an_object(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected a JSON object"):
        load_config(write(tmp_path / "c.json", "[1, 2]"))


def test_binary_garbage_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(b"\xff\xfe{\x00")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(str(path))


def test_utf8_bom_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(b'\xef\xbb\xbf{"InstancePollSeconds": 6}')
    assert load_config(str(path))["InstancePollSeconds"] == 6


# -- credentials ------------------------------------------------------------------------------------


def test_credentials_file_replaces_user_and_password(tmp_path: Path) -> None:
    creds = write(tmp_path / "topology.cnf", "[client]\nuser=orc_topo\npassword=s3cret\n")
    path = write(
        tmp_path / "c.json",
        {
            "MySQLTopologyUser": "json_user",
            "MySQLTopologyPassword": "json_pw",
            "MySQLTopologyCredentialsConfigFile": creds,
        },
    )
    config = load_config(path)
    assert (config["MySQLTopologyUser"], config["MySQLTopologyPassword"]) == ("orc_topo", "s3cret")


def test_credentials_file_details(tmp_path: Path) -> None:
    text = '# comment\n; another\n\n[Client]\n  User = spaced  \nPASSWORD = "pa;ss#word"  \n'
    assert read_credentials_file(write(tmp_path / "a.cnf", text)) == ("spaced", "pa;ss#word")
    assert read_credentials_file(write(tmp_path / "b.cnf", "[client]\nuser=u ; trailing comment\n")) == ("u", None)
    assert read_credentials_file(write(tmp_path / "c.cnf", "[client]\n")) == (None, None)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[mysqld]\nuser=x\n", "only a [client] section"),
        ("[client]\nhost=db1\n", "expected user= or password="),
        ("user=x\n", "expected user= or password="),
        ("[client]\nuser\n", "expected user= or password="),
    ],
)
def test_credentials_file_errors(tmp_path: Path, text: str, why: str) -> None:
    creds = write(tmp_path / "bad.cnf", text)
    with pytest.raises(ConfigError, match=re.escape(why)) as err:
        load_config(
            write(tmp_path / "c.json", {"MySQLOrchestratorCredentialsConfigFile": creds, "BackendDB": "sqlite"})
        )
    assert creds in str(err.value)


def test_missing_credentials_file(tmp_path: Path) -> None:
    path = write(tmp_path / "c.json", {"MySQLTopologyCredentialsConfigFile": str(tmp_path / "none.cnf")})
    with pytest.raises(ConfigError, match="cannot read credentials file .*none.cnf"):
        load_config(path)


def test_env_reference_replaces_the_whole_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORC_TEST_TOPO_PW", "from-env")
    monkeypatch.delenv("ORC_TEST_UNSET_PW", raising=False)
    creds = write(tmp_path / "b.cnf", "[client]\nuser=backend\npassword=${ORC_TEST_TOPO_PW}\n")
    path = write(
        tmp_path / "c.json",
        {
            "MySQLTopologyPassword": "prefix-${ORC_TEST_TOPO_PW}-suffix",
            "MySQLOrchestratorCredentialsConfigFile": creds,
            "HTTPAuthPassword": "${ORC_TEST_TOPO_PW}",
        },
    )
    config = load_config(path)
    assert config["MySQLTopologyPassword"] == "from-env"
    assert config["MySQLOrchestratorUser"] == "backend"
    assert config["MySQLOrchestratorPassword"] == "from-env"
    assert config["HTTPAuthPassword"] == "${ORC_TEST_TOPO_PW}"  # only the two MySQL passwords are expanded
    unset = write(tmp_path / "d.json", {"MySQLTopologyPassword": "${ORC_TEST_UNSET_PW}"})
    assert load_config(unset)["MySQLTopologyPassword"] == ""


# -- adjustments ----------------------------------------------------------------------------------


def test_slave_lag_query_is_copied_to_replication_lag_query(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "c.json", {"SlaveLagQuery": "select 1"}))
    assert (config["ReplicationLagQuery"], config["SlaveLagQuery"]) == ("select 1", "")
    same = load_config(write(tmp_path / "d.json", {"SlaveLagQuery": "select 1", "ReplicationLagQuery": "select 1"}))
    assert same["ReplicationLagQuery"] == "select 1"


def test_conflicting_lag_query_synonyms(tmp_path: Path) -> None:
    path = write(tmp_path / "c.json", {"SlaveLagQuery": "select 1", "ReplicationLagQuery": "select 2"})
    with pytest.raises(ConfigError, match="SlaveLagQuery and ReplicationLagQuery are synonyms"):
        load_config(path)


def test_conflicting_postpone_synonyms(tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.json", {"PostponeSlaveRecoveryOnLagMinutes": 1, "PostponeReplicaRecoveryOnLagMinutes": 2}
    )
    with pytest.raises(ConfigError, match="synonyms"):
        load_config(path)


@pytest.mark.parametrize(
    ("values", "seconds"),
    [
        ({}, 3600),
        ({"RecoveryPeriodBlockSeconds": 0, "RecoveryPeriodBlockMinutes": 2}, 120),
        ({"RecoveryPeriodBlockMinutes": 2}, 120),
        ({"RecoveryPeriodBlockSeconds": 30, "RecoveryPeriodBlockMinutes": 2}, 30),
        ({"RecoveryPeriodBlockSeconds": 45}, 45),
    ],
)
def test_recovery_period_block_minutes_to_seconds(tmp_path: Path, values: dict[str, int], seconds: int) -> None:
    assert load_config(write(tmp_path / "c.json", values))["RecoveryPeriodBlockSeconds"] == seconds


def test_other_adjustments(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path / "c.json",
            {"KVClusterMasterPrefix": "mysql/master", "ReasonableReplicationLagSeconds": 17, "SQLite3DataFile": ""},
        )
    )
    assert config["KVClusterMasterPrefix"] == "mysql/master/"
    assert config["ReasonableLockedSemiSyncMasterSeconds"] == 17
    assert config["SQLite3DataFile"].endswith("orchestrator.sqlite3")
    assert load_config(write(tmp_path / "d.json", {"KVClusterMasterPrefix": "/"}))["KVClusterMasterPrefix"] == "/"
    assert load_config(write(tmp_path / "e.json", {"DetachLostSlavesAfterMasterFailover": True}))[
        "DetachLostReplicasAfterMasterFailover"
    ]


@pytest.mark.parametrize(
    ("values", "why"),
    [
        (
            {"FailMasterPromotionIfSQLThreadNotUpToDate": True, "DelayMasterPromotionIfSQLThreadNotUpToDate": True},
            "mutually exclusive",
        ),
        ({"FailMasterPromotionOnLagMinutes": 5}, "requires ReplicationLagQuery"),
        ({"BackendDB": "postgres"}, "BackendDB must be 'sqlite' or 'mysql'"),
        ({"BackendDB": "mysql"}, "MySQLOrchestratorDatabase is empty"),
        ({"DefaultInstancePort": 0}, "DefaultInstancePort must be a TCP port"),
        ({"DefaultInstancePort": 70000}, "DefaultInstancePort must be a TCP port"),
    ],
)
def test_inconsistent_settings(tmp_path: Path, values: dict[str, Any], why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        load_config(write(tmp_path / "c.json", values))


def test_mysql_backend_with_database(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "c.json", {"BackendDB": "MySQL", "MySQLOrchestratorDatabase": "orc"}))
    assert not config.is_sqlite


def test_overrides_win_over_files(tmp_path: Path) -> None:
    path = write(tmp_path / "c.json", {"SkipOrchestratorDatabaseUpdate": True})
    assert load_config(path, {"SkipOrchestratorDatabaseUpdate": False})["SkipOrchestratorDatabaseUpdate"] is False


# -- redaction ------------------------------------------------------------------------------------


def test_redacted_hides_every_secret(tmp_path: Path) -> None:
    secrets = {
        "MySQLTopologyPassword": "s3cret-topology",
        "MySQLOrchestratorPassword": "s3cret-backend",
        "HTTPAuthPassword": "s3cret-http",
        "OAuthClientSecret": "s3cret-oauth",
        "ConsulAclToken": "s3cret-consul",
        "someCustomPassword": "s3cret-custom",
        "legacy_api_token": "s3cret-legacy",
    }
    config = load_config(write(tmp_path / "c.json", {**secrets, "MySQLTopologyUser": "visible"}))
    redacted = config.redacted()
    for name in secrets:
        canonical = next((k for k in redacted if k.lower() == name.lower()), name)
        assert redacted[canonical] == "********", canonical
    assert redacted["MySQLTopologyUser"] == "visible"
    assert redacted["AccessTokenExpiryMinutes"] == 1440  # not a secret, despite "Token" inside
    text = json.dumps(redacted)
    assert not any(value in text for value in secrets.values())
    assert config["MySQLTopologyPassword"] == "s3cret-topology"  # the real value stays usable


def test_empty_secrets_are_shown_empty(tmp_path: Path) -> None:
    assert load_config(write(tmp_path / "c.json", {})).redacted()["MySQLTopologyPassword"] == ""


def test_dump_config_prints_one_line_without_secrets(tmp_path: Path) -> None:
    from tests.support import run_cli

    path = write(
        tmp_path / "c.json",
        {"SQLite3DataFile": str(tmp_path / "o.sqlite3"), "MySQLTopologyPassword": "s3cret-dump", "Custom": 1},
    )
    result = run_cli("-c", "dump-config", config=path)
    assert result.code == 0, result.err
    assert len(result.lines) == 1
    dumped = json.loads(result.out)
    assert dumped["MySQLTopologyPassword"] == "********"
    assert dumped["Custom"] == 1
    assert "s3cret-dump" not in result.out
    assert not (tmp_path / "o.sqlite3").exists()  # needs no backend


# -- parse_json: json.loads without importing json ---------------------------------------------------


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
JSON_SNIPPETS = st.sampled_from(
    ["{", "}", "[", "]", ",", ":", '"', "\\", "\\u00e9", "\\ud800", "NaN", "-Infinity", "1e400", "01", "-", "\ufeff",
     " ", "\t", "\n", "\r", "\x0b", "\x00", "true", "nul", '"a"', "//", "1" * 5000]
)  # fmt: skip


def outcome(parse: Any, text: str) -> tuple[str, str]:
    """What parsing `text` gives: the value (repr, so that NaN equals NaN) or the error's type and text."""
    try:
        return "value", repr(parse(text))
    except Exception as e:  # the point: the same error, said the same way
        return type(e).__name__, str(e)


@given(JSON_VALUES, st.sampled_from([None, 0, 2]), st.sampled_from(["", " ", "\n", " \t\r\n "]))
def test_parse_json_reads_what_json_loads_reads(value: Any, indent: int | None, padding: str) -> None:
    text = padding + json.dumps(value, indent=indent) + padding
    assert outcome(parse_json, text) == outcome(json.loads, text)


@given(JSON_VALUES, st.lists(st.tuples(st.integers(0, 10_000), JSON_SNIPPETS), max_size=3))
def test_parse_json_fails_as_json_loads_fails(value: Any, edits: list[tuple[int, str]]) -> None:
    """Broken, truncated or padded text: the same value or the same error as `json.loads`."""
    text = json.dumps(value)
    for at, snippet in edits:
        at %= len(text) + 1
        text = text[:at] + snippet + text[at:]
    assert outcome(parse_json, text) == outcome(json.loads, text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "  ",
        "\x0b{}",
        "\xa0[]",
        "{}\x0c",
        "\u2028 1",
        '{"a": 1} x',
        '{"a": 1}{}',
        "\ufeff{}",
        '{"a": NaN, "b": -Infinity}',
        "[1, 2",
        '"\\x"',
        "1" * 5000,
    ],
)
def test_parse_json_edge_cases(text: str) -> None:
    assert outcome(parse_json, text) == outcome(json.loads, text)
