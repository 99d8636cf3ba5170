"""The original's JSON configuration: search order, defaults, type checks and post-load adjustments."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from orchestrator_cli.config_keys import KEYS
from orchestrator_cli.errors import ConfigError

SEARCH_PATH = ("/etc/orchestrator.conf.json", "conf/orchestrator.conf.json", "orchestrator.conf.json")
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    from typing import Any

    _ConfigBase = Mapping[str, Any]
else:
    _ConfigBase = Mapping

_SECRETS = ("password", "passwd", "secret", "token")  # key endings, any case; unknown keys keep their own case
_CANONICAL = {k.lower(): k for k in KEYS}
_ENV_REF = r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}"  # compiled on first use: most configs have no password


class Config(_ConfigBase):
    """Effective configuration: defaults overlaid by every file read, keys in the original's spelling."""

    def __init__(self, values: dict[str, Any], sources: list[str]) -> None:
        self._values = values
        self.sources = sources

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def redacted(self) -> dict[str, Any]:
        """For `dump-config`: secrets are never printed."""
        return {k: ("********" if k.lower().endswith(_SECRETS) and v else v) for k, v in self._values.items()}

    @property
    def is_sqlite(self) -> bool:
        return "sqlite" in str(self._values.get("BackendDB", "")).lower()


def discovery_max_concurrency(config: Mapping[str, Any]) -> int:
    """`DiscoveryMaxConcurrency`: how many servers discovery probes at once (the original's default
    300), as configured. A value that is not a positive integer is the operator's to fix.

    >>> discovery_max_concurrency({})
    300
    >>> discovery_max_concurrency({"DiscoveryMaxConcurrency": 0})
    Traceback (most recent call last):
    ...
    orchestrator_cli.errors.ConfigError: config: DiscoveryMaxConcurrency must be a positive integer, got 0
    """
    value = config.get("DiscoveryMaxConcurrency", KEYS["DiscoveryMaxConcurrency"][0])
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"config: DiscoveryMaxConcurrency must be a positive integer, got {value!r}")
    return value


def default_sqlite_path() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "orchestrator", "orchestrator.sqlite3")


def load_config(path: str | None = None, overrides: Mapping[str, Any] | None = None) -> Config:
    """Read `--config` alone, or overlay the three standard locations in order (missing ones skipped)."""
    values: dict[str, Any] = {k: _copy(v) for k, (v, _) in KEYS.items()}
    sources: list[str] = []
    if path:
        if not os.path.exists(path):
            raise ConfigError(f"cannot read config file {path}: no such file")
        if not os.path.isfile(path):
            raise ConfigError(f"cannot read config file {path}: not a regular file")
        files = [path]
    else:
        files = [p for p in SEARCH_PATH if os.path.isfile(p)]
    given: set[str] = set()
    for file in files:
        given |= _overlay(values, _read_json(file), file)
        sources.append(file)
    if overrides:
        given |= _overlay(values, dict(overrides), "overrides")
    _adjust(values, given)
    return Config(values, sources)


def _copy(v: Any) -> Any:
    return list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v


def _read_json(file: str) -> dict[str, Any]:
    try:
        with open(file, encoding="utf-8-sig") as fh:  # -sig: tolerate a BOM left by Windows editors
            data = parse_json(fh.read())
    except OSError as e:
        raise ConfigError(f"cannot read config file {file}: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"cannot parse config file {file}: not UTF-8 text (byte {e.start})") from e
    except ValueError as e:
        import json  # already loaded: `parse_json` raises through `json.loads`

        if not isinstance(e, json.JSONDecodeError):
            raise
        where = f"line {e.lineno} column {e.colno}"
        raise ConfigError(f"cannot parse config file {file}: {e.msg} at {where}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"cannot parse config file {file}: expected a JSON object")
    return data


class _DefaultDecoder:
    """The settings `json.loads` decodes with (a default `json.JSONDecoder`), as its C scanner reads them."""

    strict = True
    object_hook = None
    array_hook = None  # read from Python 3.15 on
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}.__getitem__


_WHITESPACE = " \t\n\r"  # what JSON allows around a value (json.decoder's WHITESPACE)


def parse_json(text: str) -> Any:
    """`json.loads(text)`, without importing `json` when the text is well-formed.

    `json` imports `re` (and `enum`, `functools`) and compiles its patterns at import: about 3 ms of
    every CLI run, more than a cron command's own work, only to read a config file. The scanner `json`
    itself uses (CPython's `_json`) reads the value with the settings of `json.loads`; anything it does
    not read cleanly (bad JSON, a BOM, trailing data, another Python) is handed to `json.loads`, so
    results and error messages are exactly `json.loads`'.
    """
    try:
        from _json import make_scanner
    except ImportError:  # not CPython
        pass
    else:
        start = len(text) - len(text.lstrip(_WHITESPACE))
        try:
            value, end = make_scanner(_DefaultDecoder)(text, start)  # type: ignore[arg-type]
        except Exception:  # StopIteration or a decode error: json.loads says what is wrong
            end = -1
        if end >= 0 and not text[end:].strip(_WHITESPACE):
            return value
    import json

    return json.loads(text)


def _overlay(values: dict[str, Any], data: dict[str, Any], source: str) -> set[str]:
    """Apply one file's keys; returns the canonical names it set."""
    given: set[str] = set()
    for raw_key, value in data.items():
        key = _CANONICAL.get(raw_key.lower())
        if key is None:
            values[raw_key] = value  # unknown keys are accepted, as the original does
            continue
        if value is None:
            continue
        values[key] = _checked(key, value, KEYS[key][0], source)
        given.add(key)
    return given


def _checked(key: str, value: Any, default: Any, source: str) -> Any:
    def bad(expected: str) -> ConfigError:
        import json

        return ConfigError(f"config {source}: {key} must be {expected}, got {json.dumps(value)}")

    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise bad("true or false")
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
    elif isinstance(default, str):
        if not isinstance(value, str):
            raise bad("a string")
    elif isinstance(default, list):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("a list of strings")
    elif isinstance(default, dict) and (
        not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values())
    ):
        raise bad("an object of strings")
    return value


def _adjust(v: dict[str, Any], given: set[str]) -> None:
    """Post-load rules of the original (synonyms, derived values, conflicts), plus our SQLite default."""
    for prefix in ("MySQLOrchestrator", "MySQLTopology"):
        creds = v.get(f"{prefix}CredentialsConfigFile")
        if creds:
            user, password = read_credentials_file(creds)
            if user is not None:
                v[f"{prefix}User"] = user
            if password is not None:
                v[f"{prefix}Password"] = password
        pw = v.get(f"{prefix}Password") or ""
        m = None
        if "${" in pw:
            import re

            m = re.search(_ENV_REF, pw)
        if m:
            v[f"{prefix}Password"] = os.environ.get(m.group(1), "")
    # The original converts only when the seconds value is 0, so a file setting just the legacy minutes
    # key was silently ignored (the 3600 s default won); a minutes value given without seconds counts.
    minutes_only = "RecoveryPeriodBlockMinutes" in given and "RecoveryPeriodBlockSeconds" not in given
    if (minutes_only or not v["RecoveryPeriodBlockSeconds"]) and v["RecoveryPeriodBlockMinutes"] > 0:
        v["RecoveryPeriodBlockSeconds"] = v["RecoveryPeriodBlockMinutes"] * 60
    _synonym(v, "SlaveLagQuery", "ReplicationLagQuery")
    _synonym(v, "PostponeSlaveRecoveryOnLagMinutes", "PostponeReplicaRecoveryOnLagMinutes")
    if v["DetachLostSlavesAfterMasterFailover"]:
        v["DetachLostReplicasAfterMasterFailover"] = True
    if v["MasterFailoverDetachSlaveMasterHost"]:
        v["MasterFailoverDetachReplicaMasterHost"] = True
    if v["FailMasterPromotionIfSQLThreadNotUpToDate"] and v["DelayMasterPromotionIfSQLThreadNotUpToDate"]:
        raise ConfigError(
            "config: FailMasterPromotionIfSQLThreadNotUpToDate and DelayMasterPromotionIfSQLThreadNotUpToDate"
            " are mutually exclusive"
        )
    if v["FailMasterPromotionOnLagMinutes"] > 0 and not v["ReplicationLagQuery"]:
        raise ConfigError("config: FailMasterPromotionOnLagMinutes requires ReplicationLagQuery")
    if not v["ReasonableLockedSemiSyncMasterSeconds"]:
        v["ReasonableLockedSemiSyncMasterSeconds"] = v["ReasonableReplicationLagSeconds"]
    prefix = v["KVClusterMasterPrefix"]
    if prefix != "/" and not prefix.endswith("/"):
        v["KVClusterMasterPrefix"] = prefix + "/"
    backend = str(v["BackendDB"]).lower()
    if "sqlite" in backend:
        if not v["SQLite3DataFile"]:
            v["SQLite3DataFile"] = default_sqlite_path()
    elif backend not in ("mysql", ""):
        raise ConfigError(f"config: BackendDB must be 'sqlite' or 'mysql', got {v['BackendDB']!r}")
    elif not v["MySQLOrchestratorDatabase"]:
        raise ConfigError("config: BackendDB is mysql but MySQLOrchestratorDatabase is empty")
    if v["DefaultInstancePort"] <= 0 or v["DefaultInstancePort"] > 65535:
        raise ConfigError("config: DefaultInstancePort must be a TCP port")
    discovery_max_concurrency(v)


def _synonym(v: dict[str, Any], old: str, new: str) -> None:
    if v[old] and v[new] and v[old] != v[new]:
        raise ConfigError(f"config: {old} and {new} are synonyms and are set to different values")
    if v[old]:
        v[new] = v[old]
        v[old] = type(v[old])()


def read_credentials_file(path: str) -> tuple[str | None, str | None]:
    """A `[client]` section with `user` and `password` only; anything else is an error, as in the original."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError as e:
        raise ConfigError(f"cannot read credentials file {path}: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"cannot parse credentials file {path}: not UTF-8 text (byte {e.start})") from e
    section = None
    found: dict[str, str] = {}
    for n, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text[0] in "#;":
            continue
        if text.startswith("["):
            section = text.strip("[]").strip().lower()
            if section != "client":
                raise ConfigError(f"credentials file {path}:{n}: only a [client] section is allowed")
            continue
        key, sep, value = text.partition("=")
        key = key.strip().lower()
        if section != "client" or not sep or key not in ("user", "password"):
            raise ConfigError(f"credentials file {path}:{n}: expected user= or password= under [client]")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        else:
            import re

            value = re.split(r"\s[#;]", value)[0].strip()
        found[key] = value
    return found.get("user"), found.get("password")


# Keys a reload (SIGHUP, `reload-configuration`) does not apply: what the process opened or bound at
# start-up with them stays as it is until a restart (the backend database, the HTTP listener and its
# routes, the discovery thread pools).
RESTART_KEYS = frozenset(
    {
        "BackendDB", "SQLite3DataFile",
        "MySQLOrchestratorHost", "MySQLOrchestratorPort", "MySQLOrchestratorDatabase",
        "MySQLOrchestratorUser", "MySQLOrchestratorPassword", "MySQLOrchestratorCredentialsConfigFile",
        "MySQLOrchestratorSSLPrivateKeyFile", "MySQLOrchestratorSSLCertFile", "MySQLOrchestratorSSLCAFile",
        "MySQLOrchestratorSSLSkipVerify", "MySQLOrchestratorUseMutualTLS", "MySQLOrchestratorMaxPoolConnections",
        "ListenAddress", "URLPrefix", "StatusEndpoint",
        "UseSSL", "UseMutualTLS", "SSLSkipVerify", "SSLPrivateKeyFile", "SSLCertFile", "SSLCAFile",
        "RaftEnabled", "RaftBind", "RaftAdvertise", "RaftDataDir", "RaftNodes",
        "ShareDiscoveryAmongNodes", "DiscoveryMaxConcurrency",
    }
)  # fmt: skip


def reloaded(current: Mapping[str, Any], fresh: Config) -> tuple[Config, list[str]]:
    """The configuration a reload applies: `fresh` (the files read again), except `RESTART_KEYS`,
    which keep their `current` values; and the names of those whose value in the files changed.

    >>> current = Config({"MySQLTopologyPassword": "one", "MySQLOrchestratorHost": "db-a"}, [])
    >>> fresh = Config({"MySQLTopologyPassword": "two", "MySQLOrchestratorHost": "db-b"}, ["x.json"])
    >>> effective, ignored = reloaded(current, fresh)
    >>> dict(effective), ignored
    ({'MySQLTopologyPassword': 'two', 'MySQLOrchestratorHost': 'db-a'}, ['MySQLOrchestratorHost'])
    """
    values = dict(fresh._values)
    ignored = []
    for key in sorted(RESTART_KEYS):
        if key in current and values.get(key) != current[key]:
            if key in values:
                ignored.append(key)
            values[key] = current[key]
    return Config(values, fresh.sources), ignored
