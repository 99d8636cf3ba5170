"""Binlog search on recorded ``SHOW BINLOG EVENTS`` rows: Info normalisation, chunked paging, searches, lock-step."""

from __future__ import annotations

import pytest

from orchestrator_cli.errors import TopologyError
from orchestrator_cli.model.coordinates import BinlogCoordinates, LogType
from orchestrator_cli.mysql.facts import BinlogEvent
from orchestrator_cli.mysql.flavor import MariaDB, MySQL80, MySQL84
from orchestrator_cli.topology import binlog_search as bs

ENTRY = "drop view if exists `_pseudo_gtid_`.`_asc:6b0615{:02x}:00000065:126ea7eab2a2129e`"


def _rows(file: str, events: list[tuple[str, str]], server_id: int = 101, xid_base: int = 50) -> list[BinlogEvent]:
    """Events as a MariaDB server lists them: positions ascend, End_log_pos is the next event's Pos."""
    out = [BinlogEvent(file, 4, "Format_desc", server_id, 256, "Server ver: 10.11.6-MariaDB-log, Binlog ver: 4")]
    pos = 256
    for n, (kind, info) in enumerate(events):
        end = pos + 40 + len(info)
        out.append(BinlogEvent(file, pos, kind, server_id, end, info.replace("{xid}", str(xid_base + n))))
        pos = end
    return out


def _transaction(value: str, table_id: int) -> list[tuple[str, str]]:
    return [
        ("Gtid", f"BEGIN GTID 0-101-{len(value)}"),
        ("Annotate_rows", f"INSERT INTO sandbox_test.writes (val) VALUES ('{value}')"),
        ("Table_map", f"table_id: {table_id} (sandbox_test.writes)"),
        ("Write_rows_v1", f"table_id: {table_id} flags: STMT_END_F"),
        ("Xid", "COMMIT /* xid={xid} */"),
    ]


class FakeServer:
    """Answers SHOW BINLOG EVENTS like a server: FROM must be an event start, LIMIT offset,n; counts queries."""

    def __init__(self, files: dict[str, list[BinlogEvent]]) -> None:
        self.files = files
        self.queries = 0

    def binlog_events(
        self, file: str, pos: int, limit: int, *, relay: bool = False, offset: int = 0
    ) -> list[BinlogEvent]:
        self.queries += 1
        if file not in self.files:
            raise TopologyError(f"Could not find target log {file}")
        events = self.files[file]
        starts = [e.pos for e in events]
        if pos not in starts:
            raise TopologyError("Wrong offset or I/O error")
        first = starts.index(pos) + offset
        return events[first : first + limit]

    def binary_logs(self) -> list[tuple[str, int]]:
        return [(name, events[-1].end_log_pos) for name, events in self.files.items()]


def test_normalise_info_removes_what_differs_between_servers() -> None:
    assert bs.normalise_info("COMMIT /* xid=81 */") == "COMMIT"
    assert bs.normalise_info("table_id: 18 (sandbox_test.writes)") == bs.normalise_info(
        "table_id: 33 (sandbox_test.writes)"
    )
    assert bs.normalise_info("BEGIN GTID 0-101-4 cid=1234") == "BEGIN GTID 0-101-4"
    assert bs.normalise_info("INSERT INTO t VALUES (X'0a0b' COLLATE binary)") == "INSERT INTO t VALUES (0x0a0b)"
    assert bs.normalise_info("use `db`; /* app */ UPDATE t  SET a=1") == "use `db`; UPDATE t SET a=1"
    assert bs.normalise_info("UPDATE t SET a=2") != bs.normalise_info("UPDATE t SET a=1")


def test_entry_matcher_substring_and_regex() -> None:
    fixed = bs.entry_matcher("drop view if exists `_pseudo_gtid_`", True)
    assert fixed(ENTRY.format(1)) and not fixed("DROP VIEW IF EXISTS `_pseudo_gtid_`.x")
    regex = bs.entry_matcher(r"_pseudo_gtid_.*_asc:[0-9a-f]+", False)
    assert regex(ENTRY.format(1)) and not regex("COMMIT")
    with pytest.raises(TopologyError, match="invalid PseudoGTIDPattern"):
        bs.entry_matcher("(unclosed", False)


def test_neighbour_files_keep_the_number_width() -> None:
    assert bs.neighbour_file("mysql-bin.000010", -1) == "mysql-bin.000009"
    assert bs.neighbour_file("relay-bin.999999", 1) == "relay-bin.1000000"
    assert bs.neighbour_file("mysql-bin.000001", -1) is None
    assert bs.neighbour_file("no-number", 1) is None


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 10000])
def test_chunked_reading_returns_every_event_once(chunk: int) -> None:
    events = _rows("mysql-bin.000001", _transaction("a", 18) * 3)
    server = FakeServer({"mysql-bin.000001": events})
    assert list(bs.LogReader(server, chunk=chunk).events("mysql-bin.000001")) == events
    start = events[5].pos
    assert list(bs.LogReader(server, chunk=chunk).events("mysql-bin.000001", start)) == events[5:]


def _two_files() -> FakeServer:
    first = _rows("mysql-bin.000001", [("Query", ENTRY.format(1)), *_transaction("a", 18), ("Query", ENTRY.format(2))])
    second = _rows("mysql-bin.000002", [*_transaction("b", 18), ("Query", ENTRY.format(3)), *_transaction("c", 18)])
    empty = _rows("mysql-bin.000003", [])
    return FakeServer({"mysql-bin.000001": first, "mysql-bin.000002": second, "mysql-bin.000003": empty})


def test_last_entry_searches_files_newest_first() -> None:
    server = _two_files()
    reader = bs.LogReader(server, chunk=2)
    is_entry = bs.entry_matcher("_pseudo_gtid_", True)
    found = bs.last_entry(reader, reader.binlog_files_newest_first(), is_entry)
    assert found is not None and found.info == ENTRY.format(3) and found.file == "mysql-bin.000002"
    before = BinlogCoordinates(found.file, found.pos)
    earlier = bs.last_entry(reader, reader.binlog_files_newest_first(), is_entry, before=before)
    assert earlier is not None and earlier.info == ENTRY.format(2)
    assert bs.last_entry(reader, ["mysql-bin.000009", "mysql-bin.000001"], is_entry) is None  # purged: stop


def test_find_exact_skips_later_files_of_monotonic_entries() -> None:
    server = _two_files()
    reader = bs.LogReader(server, chunk=3)
    is_entry = bs.entry_matcher("_pseudo_gtid_", True)
    files = reader.binlog_files_newest_first()
    found = bs.find_exact(reader, files, ENTRY.format(1), is_entry, "asc:")
    assert found is not None and (found.file, found.pos) == ("mysql-bin.000001", 256)
    with_skip = server.queries
    server.queries = 0
    assert bs.find_exact(reader, files, ENTRY.format(1)) == found
    assert with_skip < server.queries  # the monotonic hint stopped reading mysql-bin.000002 at its first entry
    assert bs.find_exact(reader, files, ENTRY.format(9), is_entry, "asc:") is None


def test_lock_step_correlation_across_files_and_chunks() -> None:
    replica = _two_files()
    other = FakeServer(
        {
            "mysql-bin.000007": _rows(
                "mysql-bin.000007",
                [
                    ("Query", ENTRY.format(1)),
                    *_transaction("a", 41),
                    ("Query", ENTRY.format(2)),
                    *_transaction("b", 41),
                ],
                server_id=102,
                xid_base=900,
            ),
            "mysql-bin.000008": _rows(
                "mysql-bin.000008",
                [("Query", ENTRY.format(3)), *_transaction("c", 41), *_transaction("d", 41)],
                server_id=102,
            ),
        }
    )
    mine = bs.forward(
        bs.LogReader(replica, chunk=2), BinlogCoordinates("mysql-bin.000001", 256), last_file="mysql-bin.000003"
    )
    theirs = bs.forward(
        bs.LogReader(other, chunk=4), BinlogCoordinates("mysql-bin.000007", 256), last_file="mysql-bin.000008"
    )
    result = bs.correlate(mine, theirs)
    commit_of_c = other.files["mysql-bin.000008"][6]
    assert commit_of_c.event_type == "Xid"
    assert result.coordinates == BinlogCoordinates("mysql-bin.000008", commit_of_c.end_log_pos)
    assert result.matched == 18  # three entries and three transactions of five events


def test_correlation_refuses_mismatches_an_ahead_instance_and_nothing() -> None:
    a = [BinlogEvent("f.1", 4, "Query", 1, 50, "UPDATE t SET a=1")]
    b = [BinlogEvent("g.1", 4, "Query", 2, 50, "UPDATE t SET a=2")]
    with pytest.raises(TopologyError, match="mismatching entries"):
        bs.correlate(a, b)
    with pytest.raises(TopologyError, match="the instance is ahead"):
        bs.correlate(a + a, a)
    with pytest.raises(TopologyError, match="0 events processed"):
        bs.correlate([], a)


def test_forward_stops_at_relay_coordinates_and_skips_configured_events() -> None:
    relay = _rows("relay-bin.000002", [("Query", ENTRY.format(1)), *_transaction("a", 18), ("Query", "heartbeat x")])
    server = FakeServer({"relay-bin.000002": relay})
    reader = bs.LogReader(server, relay=True, chunk=2)
    stop = BinlogCoordinates("relay-bin.000002", relay[4].pos, LogType.RELAY)
    got = list(bs.forward(reader, BinlogCoordinates("relay-bin.000002", 4, LogType.RELAY), stop=stop))
    assert [e.event_type for e in got] == ["Query", "Gtid", "Annotate_rows"]  # Format_desc skipped
    got = list(
        bs.forward(reader, BinlogCoordinates("relay-bin.000002", 4, LogType.RELAY), skip_containing=["heartbeat"])
    )
    assert got[-1].event_type == "Xid"


def test_last_executed_relay_entry() -> None:
    relay = _rows("relay-bin.000002", [("Query", ENTRY.format(1)), *_transaction("a", 18)])
    reader = bs.LogReader(FakeServer({"relay-bin.000002": relay}), relay=True, chunk=3)
    entry = bs.last_executed_relay_entry(reader, BinlogCoordinates("relay-bin.000002", relay[4].pos))
    assert entry.event == relay[3] and entry.next_pos == relay[4].pos
    assert str(entry) == (
        f"{{Coordinates:relay-bin.000002:{relay[3].pos} NextEventPos:{relay[4].pos} EventType:Annotate_rows"
        f" Info:INSERT INTO sandbox_test.writes (val) VALUES ('a')}}:{relay[4].pos}"
    )
    with pytest.raises(TopologyError, match="no executed event"):
        bs.last_executed_relay_entry(reader, BinlogCoordinates("relay-bin.000002", 256))


@pytest.mark.parametrize("flavor", [MariaDB(), MySQL80(), MySQL84()], ids=lambda f: f.name)
def test_flavor_statements_and_parsing(flavor: MariaDB | MySQL80) -> None:
    assert flavor.binlog_events_sql("mysql-bin.000002", 1234, 100) == (
        "SHOW BINLOG EVENTS IN 'mysql-bin.000002' FROM 1234 LIMIT 0,100"
    )
    assert flavor.binlog_events_sql("relay-bin.000003", 4, 10, relay=True, offset=1) == (
        "SHOW RELAYLOG EVENTS IN 'relay-bin.000003' FROM 4 LIMIT 1,10"
    )
    assert flavor.binlog_events_sql("it's", 4, 1).startswith("SHOW BINLOG EVENTS IN 'it\\'s'")
    row = {"Log_name": "b.1", "Pos": 840, "Event_type": "Query", "Server_id": 101, "End_log_pos": 977, "Info": "x"}
    assert flavor.parse_binlog_events([row]) == [BinlogEvent("b.1", 840, "Query", 101, 977, "x")]


def test_files_with_gtids_reads_previous_gtids_events() -> None:
    uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562"
    own = "b9b4712a-df64-11e3-b391-60672090eb04"

    def file(name: str, previous: str) -> list[BinlogEvent]:
        return [
            BinlogEvent(name, 4, "Format_desc", 1, 126, "Server ver: 8.0.36, Binlog ver: 4"),
            BinlogEvent(name, 126, "Previous_gtids", 1, 197, previous),
            BinlogEvent(name, 197, "Gtid", 1, 276, "SET @@SESSION.GTID_NEXT= '...'"),
        ]

    server = FakeServer(
        {
            "binlog.000001": file("binlog.000001", ""),
            "binlog.000002": file("binlog.000002", f"{uuid}:1-10"),
            "binlog.000003": file("binlog.000003", f"{uuid}:1-20,\n{own}:1"),
        }
    )
    reader = bs.LogReader(server, chunk=2)
    files = ["binlog.000001", "binlog.000002", "binlog.000003"]
    executed = f"{uuid}:1-30,{own}:1-2"
    assert bs.files_with_gtids(reader, files, executed, f"{own}:1") == ["binlog.000002"]
    assert bs.files_with_gtids(reader, files, executed, f"{own}:1-2") == ["binlog.000002", "binlog.000003"]
    assert bs.files_with_gtids(reader, files, executed, f"{uuid}:5") == ["binlog.000001"]


def test_find_same_event_in_a_sibling_relay_log() -> None:
    def relay(file: str, shift: int) -> list[BinlogEvent]:
        """Relay rows: relay positions differ between siblings, End_log_pos is the master's."""
        rows = [BinlogEvent(file, 4, "Format_desc", 102, 0, "Server ver")]
        master_end = 500
        pos = 256 + shift
        for kind, template in _transaction("a", 18):
            info = template.replace("{xid}", "7")
            length = 40 + len(info)
            master_end += length
            rows.append(BinlogEvent(file, pos, kind, 101, master_end, info))
            pos += length
        return rows

    mine, theirs = relay("relay-bin.000002", 0), relay("relay-bin.000007", 90)
    reader = bs.LogReader(FakeServer({"relay-bin.000007": theirs}), relay=True, chunk=2)
    found = bs.find_same_event(reader, ["relay-bin.000008", "relay-bin.000007"], mine[3])
    assert found == (theirs[3], BinlogCoordinates("relay-bin.000007", theirs[4].pos))
    last = bs.find_same_event(reader, ["relay-bin.000007"], mine[-1])
    assert last is not None and last[1] == BinlogCoordinates(
        "relay-bin.000007", theirs[-1].pos + 40 + len(theirs[-1].info)
    )
    assert bs.find_same_event(reader, ["relay-bin.000007"], mine[0]) is None


def test_injection_grants_and_entry_text() -> None:
    from orchestrator_cli.topology.pseudo_gtid import may_drop_pseudo_gtid_views, pseudo_gtid_entry

    assert may_drop_pseudo_gtid_views(["GRANT ALL PRIVILEGES ON *.* TO `orc`@`%` WITH GRANT OPTION"])
    assert may_drop_pseudo_gtid_views(
        ["GRANT USAGE ON *.* TO 'orc'@'%'", "GRANT SELECT, DROP ON `_pseudo_gtid_`.* TO 'orc'@'%'"]
    )
    assert not may_drop_pseudo_gtid_views(["GRANT SELECT, DROP ON `app`.* TO 'orc'@'%'"])
    assert not may_drop_pseudo_gtid_views(["GRANT SUPER, REPLICATION CLIENT ON *.* TO 'orc'@'%'"])
    assert pseudo_gtid_entry(0x6B0615A0, 101, "126ea7eab2a2129e") == "_asc:6b0615a0:00000065:126ea7eab2a2129e"
    assert pseudo_gtid_entry(1, 1) < pseudo_gtid_entry(2, 1)
    assert MariaDB().pseudo_gtid_injection("_asc:1:2:3") == ["drop view if exists `_pseudo_gtid_`.`_asc:1:2:3`"]
    with pytest.raises(ValueError):
        MariaDB().pseudo_gtid_injection("x`; drop table t; --")
