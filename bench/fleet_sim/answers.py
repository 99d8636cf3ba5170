"""The statements a simulated server understands, answered from the fleet model (no I/O, no SQL parser).

Probes send a small, fixed vocabulary (ours: orchestrator_cli/mysql/flavor.py; the original's: spec
§1.2), so statements are recognised by their text rather than parsed with sqlglot: a probe costs the
simulator a few regular expressions, which is what lets one process serve thousands of servers.
`answer` returns ``(rows, column_names)``; a statement it does not know raises `SimError` 1064 and
is counted, so a gap in the vocabulary shows up in the simulator's stats instead of passing as an
empty answer.

User-configured queries (Detect*Query, ReplicationLagQuery, ReplicationCredentialsQuery) of the
production-style config in `fleet_config` read the tables ``meta.cluster``, ``meta.instance`` and
``meta.heartbeat`` (`META_TABLES`), or are constant selects.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from bench.fleet_sim.model import HOST, VERSION, VERSION_COMMENT, Fleet, SimServer

Result = tuple[list[tuple[Any, ...]], list[str]]


class SimError(Exception):
    """A MySQL error the simulated server returns (code, message)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


SLAVE_STATUS_COLUMNS = (
    "Slave_IO_State",
    "Master_Host",
    "Master_User",
    "Master_Port",
    "Connect_Retry",
    "Master_Log_File",
    "Read_Master_Log_Pos",
    "Relay_Log_File",
    "Relay_Log_Pos",
    "Relay_Master_Log_File",
    "Slave_IO_Running",
    "Slave_SQL_Running",
    "Replicate_Rewrite_DB",
    "Replicate_Do_DB",
    "Replicate_Ignore_DB",
    "Replicate_Do_Table",
    "Replicate_Ignore_Table",
    "Replicate_Wild_Do_Table",
    "Replicate_Wild_Ignore_Table",
    "Last_Errno",
    "Last_Error",
    "Skip_Counter",
    "Exec_Master_Log_Pos",
    "Relay_Log_Space",
    "Until_Condition",
    "Until_Log_File",
    "Until_Log_Pos",
    "Master_SSL_Allowed",
    "Master_SSL_CA_File",
    "Master_SSL_CA_Path",
    "Master_SSL_Cert",
    "Master_SSL_Cipher",
    "Master_SSL_Key",
    "Seconds_Behind_Master",
    "Master_SSL_Verify_Server_Cert",
    "Last_IO_Errno",
    "Last_IO_Error",
    "Last_SQL_Errno",
    "Last_SQL_Error",
    "Replicate_Ignore_Server_Ids",
    "Master_Server_Id",
    "Master_SSL_Crl",
    "Master_SSL_Crlpath",
    "Using_Gtid",
    "Gtid_IO_Pos",
    "Replicate_Do_Domain_Ids",
    "Replicate_Ignore_Domain_Ids",
    "Parallel_Mode",
    "SQL_Delay",
    "SQL_Remaining_Delay",
    "Slave_SQL_Running_State",
    "Slave_DDL_Groups",
    "Slave_Non_Transactional_Groups",
    "Slave_Transactional_Groups",
)
IO_STATES = {"Yes": "Waiting for master to send event", "Connecting": "Reconnecting after a failed master event read"}
ALL_SLAVES_EXTRA = ("Retried_transactions", "Max_relay_log_size", "Executed_log_entries", "Gtid_Slave_Pos")

META_TABLES: dict[str, Callable[[Fleet, SimServer], dict[str, Any]]] = {
    "cluster": lambda fleet, s: {
        "cluster_alias": s.cluster,
        "cluster_domain": f"{s.cluster}.sim.local",
        "data_center": f"dc{s.port % 3}",
        "region": "sim",
        "environment": "bench",
    },
    "instance": lambda fleet, s: {
        "instance_alias": s.hostname,
        "promotion_rule": "prefer" if s.role == "replica" and s.port % 5 == 1 else "neutral",
        "semi_sync_priority": 0,
    },
    "heartbeat": lambda fleet, s: {"lag_seconds": heartbeat_lag(fleet, s)},
}


def heartbeat_lag(fleet: Fleet, server: SimServer) -> float | None:
    """What a pt-heartbeat style query reports: the injected lag, growing while replication is broken."""
    if server.master_port is None:
        return 0
    master = fleet.master_of(server)
    now = time.monotonic()
    if fleet.replicating(server, now):
        return server.lag_seconds
    if master is not None and master.down_since is not None:
        return server.lag_seconds + int(now - master.down_since)
    return None


# ------------------------------------------------------------------------------------------------
# variables
# ------------------------------------------------------------------------------------------------


def global_variables(fleet: Fleet, s: SimServer) -> dict[str, Any]:
    gtid = fleet.gtid_pos(s)
    values: dict[str, Any] = {
        "hostname": s.hostname,
        "report_host": HOST,
        "report_port": s.port,
        "port": s.port,
        "server_id": s.server_id,
        "version": VERSION,
        "version_comment": VERSION_COMMENT,
        "read_only": int(s.read_only),
        "binlog_format": "ROW",
        "binlog_row_image": "FULL",
        "log_bin": int(s.log_bin),
        "log_slave_updates": int(s.log_slave_updates),
        "gtid_binlog_pos": gtid if s.log_bin else "",
        "gtid_current_pos": gtid,
        "gtid_slave_pos": gtid if s.master_port is not None else "",
        "gtid_strict_mode": 1,
        "gtid_domain_id": 0,
        "slave_net_timeout": int(fleet.slave_net_timeout),
        "rpl_semi_sync_master_enabled": "OFF",
        "rpl_semi_sync_master_timeout": 10000,
        "rpl_semi_sync_master_wait_point": "AFTER_COMMIT",
        "rpl_semi_sync_slave_enabled": "OFF",
        "sql_mode": "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION",
        "autocommit": 1,
        "max_allowed_packet": 16777216,
        "character_set_server": "utf8mb4",
        "time_zone": "SYSTEM",
        "system_time_zone": "UTC",
    }
    values.update(s.globals)
    return values


def status_variables(fleet: Fleet, s: SimServer) -> dict[str, Any]:
    return {
        "Uptime": max(1, int(time.time() - s.started_at)),
        "Rpl_semi_sync_master_status": "OFF",
        "Rpl_semi_sync_master_clients": 0,
        "Rpl_semi_sync_slave_status": "OFF",
        "Slave_running": "ON" if fleet.replicating(s, time.monotonic()) else "OFF",
    }


def _like(pattern: str) -> re.Pattern[str]:
    text = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.compile(f"^{text}$", re.IGNORECASE)


def _show_like(values: dict[str, Any], like: str | None) -> Result:
    regex = _like(like) if like is not None else None
    rows = [(k, "" if v is None else str(v)) for k, v in values.items() if regex is None or regex.match(k)]
    return rows, ["Variable_name", "Value"]


# ------------------------------------------------------------------------------------------------
# SELECT lists: @@variables, literals, IFNULL, comparisons, a few functions
# ------------------------------------------------------------------------------------------------

_ALIAS_RE = re.compile(r"^(?P<expr>.+?)\s+(?:as\s+)?(?P<alias>`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)$", re.IGNORECASE | re.S)
_VAR_RE = re.compile(r"^@@(?:global\.|session\.|local\.)?([A-Za-z_][A-Za-z0-9_]*)$", re.IGNORECASE)
_CALL_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)$", re.S)
_NUMBER_RE = re.compile(r"^-?\d+(?:\.\d+)?$")


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split at `sep` outside quotes and parentheses."""
    parts: list[str] = []
    depth, quote, start = 0, "", 0
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
        i += 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _unquote(text: str) -> str:
    body = text[1:-1]
    if text[0] == "'":
        body = body.replace("''", "'")
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "0": "\0", "r": "\r"}.get(m.group(1), m.group(1)), body)


class Evaluator:
    """Evaluates one select item against a server: `columns` are the row of a `meta` table, if any."""

    def __init__(self, fleet: Fleet, server: SimServer, columns: dict[str, Any] | None = None) -> None:
        self.fleet = fleet
        self.server = server
        self.columns = columns
        self._variables: dict[str, Any] | None = None

    def variable(self, name: str) -> Any:
        if self._variables is None:
            self._variables = global_variables(self.fleet, self.server)
        key = name.lower()
        if key not in self._variables:
            raise SimError(1193, f"Unknown system variable '{name}'")
        return self._variables[key]

    def value(self, expr: str) -> Any:
        expr = expr.strip()
        while expr.startswith("(") and expr.endswith(")") and len(split_top(expr[1:-1])) == 1:
            expr = expr[1:-1].strip()
        if m := _VAR_RE.match(expr):
            return self.variable(m.group(1))
        if _NUMBER_RE.match(expr):
            return float(expr) if "." in expr else int(expr)
        if len(expr) >= 2 and expr[0] in "'\"" and expr[-1] == expr[0]:
            return _unquote(expr)
        if expr.upper() == "NULL":
            return None
        for op in ("!=", "<>", "="):
            sides = _split_operator(expr, op)
            if sides is not None:
                left, right = self.value(sides[0]), self.value(sides[1])
                equal = str(left).lower() == str(right).lower()
                return int(equal if op == "=" else not equal)
        if m := _CALL_RE.match(expr):
            return self.call(m.group(1).upper(), split_top(m.group(2)))
        if self.columns is not None and expr.strip("`").lower() in self.columns:
            return self.columns[expr.strip("`").lower()]
        raise SimError(1054, f"Unknown column '{expr}' in 'field list'")

    def call(self, name: str, args: list[str]) -> Any:
        if name == "IFNULL" and len(args) == 2:
            first = self.value(args[0])
            return self.value(args[1]) if first is None else first
        if name in ("MAX", "MIN", "ANY_VALUE") and len(args) == 1:
            return self.value(args[0])
        if name in ("UNIX_TIMESTAMP", "NOW", "SYSDATE") and not args:
            return int(time.time()) if name == "UNIX_TIMESTAMP" else time.strftime("%Y-%m-%d %H:%M:%S")
        if name in ("MASTER_GTID_WAIT", "MASTER_POS_WAIT", "SOURCE_POS_WAIT"):
            return wait_result(self.fleet, self.server)
        if name in ("DATABASE", "SCHEMA", "USER", "CURRENT_USER", "CONNECTION_ID", "VERSION"):
            return {"VERSION": VERSION, "CONNECTION_ID": 1}.get(name)
        raise SimError(1305, f"FUNCTION {name} does not exist")


def _split_operator(expr: str, op: str) -> tuple[str, str] | None:
    depth, quote = 0, ""
    for i, ch in enumerate(expr):
        if quote:
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"`":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and expr.startswith(op, i):
            if op == "=" and i > 0 and expr[i - 1] in "!<>":
                continue
            return expr[:i], expr[i + len(op) :]
    return None


def wait_result(fleet: Fleet, server: SimServer) -> Any:
    """MASTER_GTID_WAIT / MASTER_POS_WAIT: replicating replicas catch up on the next tick; else NULL/-1."""
    if server.master_port is None or not server.sql_thread:
        return None
    return 0 if fleet.io_view(server).running == "Yes" else -1


_SELECT_RE = re.compile(
    r"^select\s+(?P<items>.+?)(?:\s+from\s+(?P<table>[`\w.]+)(?:\s+where\s+.*?)?)?(?:\s+limit\s+\d+)?$",
    re.IGNORECASE | re.S,
)


def select(fleet: Fleet, server: SimServer, sql: str) -> Result:
    m = _SELECT_RE.match(sql)
    if m is None:
        raise SimError(1064, f"You have an error in your SQL syntax near '{sql[:40]}'")
    table = (m.group("table") or "").replace("`", "").lower()
    columns: dict[str, Any] | None = None
    if table:
        if table.startswith("information_schema.processlist"):
            return [], ["host"]
        schema, _, name = table.rpartition(".")
        if schema != "meta" or name not in META_TABLES:
            raise SimError(1146, f"Table '{table}' doesn't exist")
        columns = META_TABLES[name](fleet, server)
    evaluator = Evaluator(fleet, server, columns)
    names: list[str] = []
    values: list[Any] = []
    for item in split_top(m.group("items")):
        expr, label = item, item
        alias = _ALIAS_RE.match(item)
        if alias and not alias.group("expr").rstrip().endswith((",", "(", "=", "!", "<", ">")):
            candidate = alias.group("expr")
            # "@@global.x AS y" or "expr y"; but not a lone function call or literal misread as an alias
            if not _looks_incomplete(candidate):
                expr, label = candidate, alias.group("alias").strip("`")
        values.append(evaluator.value(expr))
        names.append(label)
    return [tuple(values)], names


def _looks_incomplete(expr: str) -> bool:
    """`select 'ci', 'ci'` has items without aliases: a bare string/number item is never `expr alias`."""
    stripped = expr.strip()
    return stripped.upper() in ("SELECT", "DISTINCT") or stripped.endswith((" and", " or", " not"))


# ------------------------------------------------------------------------------------------------
# SHOW statements
# ------------------------------------------------------------------------------------------------


def slave_status(fleet: Fleet, s: SimServer, *, all_slaves: bool = False) -> Result:
    columns = list(SLAVE_STATUS_COLUMNS)
    if all_slaves:
        columns = ["Connection_name", "Slave_SQL_State", *columns, *ALL_SLAVES_EXTRA]
    if s.master_port is None:
        return [], columns
    now = time.monotonic()
    io = fleet.io_view(s, now)
    master = fleet.master_of(s)
    master_file = master.binlog_file if master else "mysql-bin.000001"
    read_pos = master.binlog_pos(s.read) if master else 4
    exec_pos = master.binlog_pos(s.executed) if master else 4
    replicating = s.sql_thread and io.running == "Yes"
    sbm = s.lag_seconds if replicating else None
    gtid = fleet.gtid_pos(s)
    values: dict[str, Any] = dict.fromkeys(SLAVE_STATUS_COLUMNS, "")
    values.update(
        Slave_IO_State=IO_STATES.get(io.running, ""),
        Master_Host=HOST, Master_User=s.master_user, Master_Port=s.master_port, Connect_Retry=60,
        Master_Log_File=master_file, Read_Master_Log_Pos=read_pos, Relay_Log_File="relay-bin.000002",
        Relay_Log_Pos=4 + int(s.executed) * 200, Relay_Master_Log_File=master_file,
        Slave_IO_Running=io.running, Slave_SQL_Running="Yes" if s.sql_thread else "No",
        Last_Errno=0, Skip_Counter=0, Exec_Master_Log_Pos=exec_pos, Relay_Log_Space=4096,
        Until_Condition="None", Until_Log_Pos=0, Master_SSL_Allowed="No", Seconds_Behind_Master=sbm,
        Master_SSL_Verify_Server_Cert="No", Last_IO_Errno=io.errno, Last_IO_Error=io.error, Last_SQL_Errno=0,
        Master_Server_Id=io.master_server_id, Using_Gtid=s.use_gtid, Gtid_IO_Pos=gtid, Parallel_Mode="optimistic",
        SQL_Delay=0, SQL_Remaining_Delay=None,
        Slave_SQL_Running_State="Slave has read all relay log; waiting for more updates" if s.sql_thread else "",
        Slave_DDL_Groups=0, Slave_Non_Transactional_Groups=0, Slave_Transactional_Groups=int(s.executed),
    )  # fmt: skip
    if all_slaves:
        values.update(
            Connection_name="", Slave_SQL_State=values["Slave_SQL_Running_State"], Retried_transactions=0,
            Max_relay_log_size=1073741824, Executed_log_entries=int(s.executed), Gtid_Slave_Pos=gtid,
        )  # fmt: skip
    return [tuple(values[c] for c in columns)], columns


def slave_hosts(fleet: Fleet, s: SimServer) -> Result:
    rows = [
        (r.server_id, HOST, r.port, s.server_id)
        for r in fleet.replicas_of(s)
        if r.answering and fleet.io_view(r).running == "Yes"
    ]
    return rows, ["Server_id", "Host", "Port", "Master_id"]


def master_status(fleet: Fleet, s: SimServer) -> Result:
    columns = ["File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB"]
    if not s.log_bin:
        return [], columns
    return [(s.binlog_file, s.binlog_pos(), "", "")], columns


def binary_logs(fleet: Fleet, s: SimServer) -> Result:
    rows = [(f"mysql-bin.{i:06d}", 1073741824) for i in range(1, s.binlog_index)]
    rows.append((s.binlog_file, s.binlog_pos()))
    return rows, ["Log_name", "File_size"]


# ------------------------------------------------------------------------------------------------
# changes
# ------------------------------------------------------------------------------------------------

_ASSIGN_RE = re.compile(r"^\s*(\w+)\s*=\s*(.+?)\s*$", re.S)


def _require_stopped(s: SimServer) -> None:
    if s.io_thread or s.sql_thread:
        raise SimError(
            1198, "This operation cannot be performed as you have a running slave ''; run STOP SLAVE '' first"
        )


def change_master(fleet: Fleet, s: SimServer, clause: str) -> Result:
    _require_stopped(s)
    settings: dict[str, str] = {}
    for part in split_top(clause):
        m = _ASSIGN_RE.match(part)
        if m is None:
            raise SimError(1064, f"You have an error in your SQL syntax near '{part[:40]}'")
        value = m.group(2)
        settings[m.group(1).upper()] = _unquote(value) if value[:1] in "'\"" else value
    host = settings.get("MASTER_HOST")
    port = settings.get("MASTER_PORT")
    if host is not None and host not in (HOST, "localhost") and not host.startswith("sim-"):
        s.master_port = -1  # a host the simulator does not serve: the IO thread cannot connect
    if port is not None:
        s.master_port = int(port)
    elif host is not None and host.startswith("sim-"):
        s.master_port = int(host.removeprefix("sim-"))
    if s.master_port is None and (host is not None or port is not None):
        s.master_port = 3306
    if "MASTER_USER" in settings:
        s.master_user = settings["MASTER_USER"]
    if "MASTER_USE_GTID" in settings:
        s.use_gtid = {"no": "No", "slave_pos": "Slave_Pos", "current_pos": "Current_Pos"}.get(
            settings["MASTER_USE_GTID"].lower(), "No"
        )
    s.read = s.executed  # relay logs are discarded by a change of master
    fleet.reindex()
    return [], []


def set_global(fleet: Fleet, s: SimServer, assignments: str) -> Result:
    for part in split_top(assignments):
        m = _ASSIGN_RE.match(re.sub(r"^\s*(?:global\s+|@@global\.)", "", part, flags=re.IGNORECASE))
        if m is None:
            raise SimError(1064, f"You have an error in your SQL syntax near '{part[:40]}'")
        name, raw = m.group(1).lower(), m.group(2)
        value = _unquote(raw) if raw[:1] in "'\"" else raw
        flag = str(value).upper() in ("1", "ON", "TRUE")
        if name == "read_only":
            s.read_only = flag
        elif name == "super_read_only":
            raise SimError(1193, "Unknown system variable 'super_read_only'")
        else:
            s.globals[name] = value
    return [], []


def _threads(rest: str) -> tuple[bool, bool]:
    words = rest.upper()
    io = "IO_THREAD" in words or "SQL_THREAD" not in words
    sql = "SQL_THREAD" in words or "IO_THREAD" not in words
    return io, sql


_STATEMENTS: list[tuple[re.Pattern[str], Callable[[Fleet, SimServer, re.Match[str]], Result]]] = []


def statement(pattern: str) -> Callable[[Callable[[Fleet, SimServer, re.Match[str]], Result]], Any]:
    def register(fn: Callable[[Fleet, SimServer, re.Match[str]], Result]) -> Any:
        _STATEMENTS.append((re.compile(pattern, re.IGNORECASE | re.S), fn))
        return fn

    return register


@statement(r"^show\s+(?:global\s+|session\s+)?variables(?:\s+like\s+'(?P<like>[^']*)')?$")
def _show_variables(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    return _show_like(global_variables(fleet, s), m.group("like"))


@statement(r"^show\s+(?:global\s+|session\s+)?status(?:\s+like\s+'(?P<like>[^']*)')?$")
def _show_status(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    return _show_like(status_variables(fleet, s), m.group("like"))


@statement(
    r"^show\s+(?:global\s+|session\s+)?status\s+where\s+variable_name\s*=\s*'(?P<name>[^']*)'"
    r"\s+or\s+variable_name\s+like\s+'(?P<like>[^']*)'$"
)
def _show_status_where(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    """The probe's `... WHERE Variable_name = 'x' OR Variable_name LIKE 'y%'` (Flavor.probe_status_sql)."""
    name, like = m.group("name").lower(), _like(m.group("like"))
    values = status_variables(fleet, s)
    rows = [(k, "" if v is None else str(v)) for k, v in values.items() if k.lower() == name or like.match(k)]
    return rows, ["Variable_name", "Value"]


@statement(r"^show\s+(?:slave|replica)\s+status$")
def _show_slave_status(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    return slave_status(fleet, s)


@statement(r"^show\s+all\s+(?:slaves|replicas)\s+status$")
def _show_all_slaves_status(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    return slave_status(fleet, s, all_slaves=True)


@statement(r"^show\s+(?:slave\s+hosts|replicas)$")
def _show_slave_hosts(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    return slave_hosts(fleet, s)


@statement(r"^show\s+(?:master|binary\s+log|binlog)\s+status$")
def _show_master_status(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    return master_status(fleet, s)


@statement(r"^show\s+(?:binary|master)\s+logs$")
def _show_binary_logs(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    return binary_logs(fleet, s)


@statement(r"^show\s+(?:binlog|relaylog)\s+events\b.*$")
def _show_events(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    return [], ["Log_name", "Pos", "Event_type", "Server_id", "End_log_pos", "Info"]


@statement(r"^show\s+grants\b.*$")
def _show_grants(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    return [("GRANT ALL PRIVILEGES ON *.* TO `orchestrator`@`%` WITH GRANT OPTION",)], ["Grants for orchestrator@%"]


@statement(r"^select\s.*$")
def _select(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    return select(fleet, s, m.group(0))


@statement(r"^stop\s+(?:slave|replica)(?P<rest>.*)$")
def _stop(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    io, sql = _threads(m.group("rest"))
    fleet.tick()
    if io:
        s.io_thread = False
    if sql:
        s.sql_thread = False
    return [], []


@statement(r"^start\s+(?:slave|replica)(?P<rest>.*)$")
def _start(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    if s.master_port is None:
        raise SimError(
            1200, "Misconfigured slave: MASTER_HOST was not set; Fix in config file or with CHANGE MASTER TO"
        )
    io, sql = _threads(m.group("rest").split(" UNTIL ")[0].split(" until ")[0])
    fleet.tick()
    if io:
        s.io_thread = True
    if sql:
        s.sql_thread = True
    return [], []


@statement(r"^change\s+(?:master|replication\s+source)\s+to\s+(?P<clause>.+)$")
def _change_master(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    return change_master(fleet, s, m.group("clause"))


@statement(r"^reset\s+(?:slave|replica)(?P<all>\s+all)?$")
def _reset_slave(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    _require_stopped(s)
    if m.group("all"):
        s.master_port = None
        s.lag_seconds = 0
        fleet.reindex()
    s.read = s.executed
    return [], []


@statement(r"^reset\s+(?:master|binary\s+logs\s+and\s+gtids)$")
def _reset_master(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    s.binlog_index, s.binlog_start = 1, s.executed
    return [], []


@statement(r"^flush\s+(?:binary\s+)?logs$")
def _flush_logs(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    s.binlog_index, s.binlog_start = s.binlog_index + 1, s.executed
    return [], []


@statement(r"^purge\s+(?:binary|master)\s+logs\b.*$")
def _purge(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    return [], []


@statement(r"^set\s+(?:global\s+|@@global\.)(?P<assign>.+)$")
def _set_global(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    return set_global(fleet, s, m.group("assign"))


@statement(
    r"^set\s+(?:session\s+|@@session\.|@@|names\s|character\s+set\s|autocommit|sql_mode|time_zone|transaction\s).*$"
)
def _set_session(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    return [], []


@statement(r"^drop\s+view\s+if\s+exists\s+.*$")
def _pseudo_gtid(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    if s.master_port is None and not s.read_only:
        s.executed += 1
    return [], []


@statement(r"^(?:commit|rollback|begin|start\s+transaction|kill\s+\d+|do\s+.*)$")
def _noops(fleet: Fleet, s: SimServer, m: re.Match[str]) -> Result:
    return [], []


def normalize(sql: str) -> str:
    text = sql.strip().rstrip(";").strip()
    return re.sub(r"\s+", " ", text) if "\n" in text or "  " in text or "\t" in text else text


def answer(fleet: Fleet, server: SimServer, sql: str) -> Result:
    """Rows and column names for one statement on `server`; SimError for what a server would refuse."""
    text = normalize(sql)
    for pattern, handler in _STATEMENTS:
        m = pattern.match(text)
        if m is not None:
            return handler(fleet, server, m)
    raise SimError(1064, f"You have an error in your SQL syntax (not simulated): '{text[:60]}'")
