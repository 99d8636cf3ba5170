"""The `topology*` renderers: exact lines of cli-catalog §3.1, padding, tabulated columns, co-masters, tags."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator_cli.cli.render import render
from orchestrator_cli.commands.output import Output
from orchestrator_cli.commands.topology_view import as_json, build_tree, render_plain, render_tabulated, rich_tree
from orchestrator_cli.model.keys import InstanceKey

REASONABLE = 10


def row(port: int, master_port: int = 0, host: str = "testhost", master_host: str = "testhost", **kw: Any) -> dict:
    """A row as the instance reads return it, shaped like the original's fixture rows."""
    is_replica = master_port != 0
    base: dict[str, Any] = {
        "hostname": host,
        "port": port,
        "master_host": master_host if is_replica else "",
        "master_port": master_port,
        "master_log_file": "mysql-bin.000167" if is_replica else "",
        "relay_master_log_file": "mysql-bin.000167" if is_replica else "",
        "replication_sql_thread_state": 1 if is_replica else -1,
        "replication_io_thread_state": 1 if is_replica else -1,
        "seconds_behind_master": None,
        "slave_lag_seconds": None,
        "sql_delay": 0,
        "version": "5.6.28-log",
        "read_only": 0,
        "log_bin": 1,
        "log_slave_updates": 1,
        "binlog_format": "STATEMENT",
        "pseudo_gtid": 1,
        "is_last_check_valid": 1,
        "is_recently_checked": 0,
        "is_downtimed": 0,
        "instance_alias": "",
        "is_co_master": 0,
        "replication_depth": 0,
    }
    base.update(kw)
    return base


def fixture_rows() -> list[dict]:
    """The original's create-per-test topology, in the cluster read order (host, port)."""
    return [
        row(22293),
        row(22294, 22293, replication_depth=1),
        row(22295, 22294, replication_depth=2),
        row(22296, 22293, version="5.6.28", log_bin=0, replication_depth=1),
        row(22297, 22293, replication_depth=1),
    ]


def fresh(r: dict, lag: int) -> dict:
    return {**r, "is_recently_checked": 1, "seconds_behind_master": lag, "slave_lag_seconds": lag}


def test_plain_exact_lines() -> None:
    assert render_plain(build_tree(fixture_rows()), REASONABLE) == [
        "testhost:22293     [unknown,unchecked,5.6.28-log,rw,STATEMENT,>>,P-GTID]",
        "- testhost:22294   [unknown,unchecked,5.6.28-log,rw,STATEMENT,>>,P-GTID]",
        "  - testhost:22295 [unknown,unchecked,5.6.28-log,rw,STATEMENT,>>,P-GTID]",
        "- testhost:22296   [unknown,unchecked,5.6.28,rw,nobinlog,P-GTID]",
        "- testhost:22297   [unknown,unchecked,5.6.28-log,rw,STATEMENT,>>,P-GTID]",
    ]


def test_brackets_start_in_one_column() -> None:
    rows = fixture_rows()
    rows.append(row(3306, 22295, host="a-much-longer-hostname.example.com", replication_depth=3))
    lines = render_plain(build_tree(rows), REASONABLE)
    longest = "    - a-much-longer-hostname.example.com:3306"
    assert lines[3] == f"{longest} [unknown,unchecked,5.6.28-log,rw,STATEMENT,>>,P-GTID]"
    assert {ln.index("[") for ln in lines} == {len(longest) + 1}


def test_input_order_does_not_matter() -> None:
    expected = render_plain(build_tree(fixture_rows()), REASONABLE)
    assert render_plain(build_tree(list(reversed(fixture_rows()))), REASONABLE) == expected


def test_marker_plus_needs_running_valid_and_recent() -> None:
    rows = fixture_rows()
    rows[1] = fresh(rows[1], 7)
    rows[4] = {**fresh(rows[4], 7), "replication_io_thread_state": 0}
    rows[2] = {**fresh(rows[2], 7), "is_last_check_valid": 0}
    lines = render_plain(build_tree(rows), REASONABLE)
    assert lines[1].startswith("+ testhost:22294 ")
    assert lines[2].startswith("  - testhost:22295 ")
    assert lines[4].startswith("- testhost:22297 ")


def test_tabulated_exact_lines() -> None:
    rows = fixture_rows()
    rows[1] = fresh(rows[1], 7)
    rows[4] = fresh(rows[4], 7)
    lines = render_tabulated(build_tree(rows), REASONABLE)
    assert lines == [
        "testhost:22293    |unknown|unchecked|5.6.28-log|rw|STATEMENT|>>,P-GTID",
        "+ testhost:22294  |     7s|ok       |5.6.28-log|rw|STATEMENT|>>,P-GTID",
        "  - testhost:22295|unknown|unchecked|5.6.28-log|rw|STATEMENT|>>,P-GTID",
        "- testhost:22296  |unknown|unchecked|5.6.28    |rw|nobinlog |P-GTID   ",
        "+ testhost:22297  |     7s|ok       |5.6.28-log|rw|STATEMENT|>>,P-GTID",
    ]


def test_tabulated_keeps_an_empty_extras_column() -> None:
    rows = [row(1, log_slave_updates=0, pseudo_gtid=0), row(2, 1, log_slave_updates=0, pseudo_gtid=0)]
    lines = render_tabulated(build_tree(rows), REASONABLE)
    assert [ln.count("|") for ln in lines] == [6, 6]
    assert all(ln.endswith("|") for ln in lines)


def test_tags_use_the_display_form_and_empty_brackets() -> None:
    tags = {
        InstanceKey("testhost", 22293): ["in_service", "role=backup"],
        InstanceKey("testhost", 22294): ["role=delayed"],
    }
    lines = render_plain(build_tree(fixture_rows()), REASONABLE, tags)
    assert (
        lines[0] == "testhost:22293     [unknown,unchecked,5.6.28-log,rw,STATEMENT,>>,P-GTID] [in_service,role=backup]"
    )
    assert lines[1].endswith("] [role=delayed]")
    assert lines[3] == "- testhost:22296   [unknown,unchecked,5.6.28,rw,nobinlog,P-GTID] []"


def test_instance_alias_is_part_of_the_padded_key() -> None:
    rows = fixture_rows()
    rows[3]["instance_alias"] = "backup"
    lines = render_plain(build_tree(rows), REASONABLE)
    assert lines[3] == "- testhost:22296 (backup) [unknown,unchecked,5.6.28,rw,nobinlog,P-GTID]"
    assert lines[0].startswith("testhost:22293" + " " * 12 + "[")


def test_co_masters_each_get_a_branch() -> None:
    # the original's system test: 10111 and 10113 are co-masters, 10112 replicates from 10111
    def live(port: int, master_port: int, **kw: Any) -> dict:
        return row(port, master_port, host="127.0.0.1", master_host="127.0.0.1", is_recently_checked=1,
                   seconds_behind_master=0, slave_lag_seconds=0, **kw)  # fmt: skip

    rows = [
        live(10111, 10113, is_co_master=1, replication_depth=1),
        live(10112, 10111, replication_depth=2),
        live(10113, 10111, is_co_master=1, replication_depth=1),
    ]
    lines = render_tabulated(build_tree(rows), REASONABLE)
    assert [ln.split("|")[:3] for ln in lines] == [
        ["+ 127.0.0.1:10111  ", "0s", "ok"],
        ["  + 127.0.0.1:10112", "0s", "ok"],
        ["+ 127.0.0.1:10113  ", "0s", "ok"],
    ]


def test_single_live_replica_line() -> None:
    rows = [
        row(10111, host="127.0.0.1", is_recently_checked=1),
        row(10112, 10111, host="127.0.0.1", master_host="127.0.0.1", is_recently_checked=1,
            seconds_behind_master=0, slave_lag_seconds=0),
    ]  # fmt: skip
    lines = render_tabulated(build_tree(rows), REASONABLE)
    assert lines[1].split("|")[:3] == ["+ 127.0.0.1:10112", "0s", "ok"]


def test_replica_of_an_unknown_master_is_its_own_root() -> None:
    rows = [row(1), row(2, 1), row(3, 99)]
    nodes = build_tree(rows)
    assert [(str(n.view.key), n.depth) for n in nodes] == [("testhost:1", 0), ("testhost:2", 1), ("testhost:3", 0)]


def test_empty_cluster_renders_nothing() -> None:
    assert render_plain([], REASONABLE) == []
    assert render_tabulated([], REASONABLE) == []


def test_json_form() -> None:
    data = as_json(build_tree(fixture_rows()), REASONABLE)
    assert [d["Key"] for d in data] == [f"testhost:{p}" for p in (22293, 22294, 22295, 22296, 22297)]
    assert data[0]["MasterKey"] == "" and data[2]["MasterKey"] == "testhost:22294"
    assert [d["Depth"] for d in data] == [0, 1, 2, 1, 1]
    assert data[3]["Description"] == ["unknown", "unchecked", "5.6.28", "rw", "nobinlog", "P-GTID"]


@st.composite
def random_tree(draw: st.DrawFn) -> tuple[list[dict], dict[int, int]]:
    """A single-master tree of up to 25 instances, rows in a random order; returns rows and port->depth."""
    count = draw(st.integers(min_value=1, max_value=25))
    parents = [draw(st.integers(min_value=0, max_value=i - 1)) for i in range(1, count)]
    ports = [20000 + i for i in range(count)]
    depth = {ports[0]: 0}
    rows = [row(ports[0])]
    for i, parent in enumerate(parents, start=1):
        depth[ports[i]] = depth[ports[parent]] + 1
        rows.append(row(ports[i], ports[parent], replication_depth=depth[ports[i]]))
    return draw(st.permutations(rows)), depth


@given(random_tree())
def test_any_tree_renders_each_instance_once_at_its_depth(tree: tuple[list[dict], dict[int, int]]) -> None:
    rows, depth = tree
    lines = render_plain(build_tree(rows), REASONABLE)
    assert len(lines) == len(rows)
    assert len({ln.index("[") for ln in lines}) == 1
    seen_at: dict[int, int] = {}
    for n, ln in enumerate(lines):
        head = ln[: ln.index("[")].rstrip()
        port = int(head.rsplit(":", 1)[1])
        expected_depth = depth[port]
        indent = "" if expected_depth == 0 else "  " * (expected_depth - 1) + "- "
        assert head == f"{indent}testhost:{port}"
        seen_at[port] = n
    assert sorted(seen_at) == sorted(depth)
    for r in rows:
        if r["master_port"]:
            assert seen_at[r["master_port"]] < seen_at[r["port"]]  # a master comes before its replicas
    tabulated = render_tabulated(build_tree(rows), REASONABLE)
    assert len({len(ln) for ln in tabulated}) == 1


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_tree_draws_box_lines_without_the_plain_markers(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal the hierarchy is drawn by the box lines alone: no `+`/`-` marker after them."""
    monkeypatch.setenv("COLUMNS", "200")
    rows = [fresh(r, 0) for r in fixture_rows()]
    rows[2]["replication_io_thread_state"] = 0  # 22295 not replicating: "-" in the plain form
    nodes = build_tree(rows)
    assert [line.split()[0] for line in render_plain(nodes, REASONABLE)][1:] == ["+", "-", "+", "+"]
    tags = {InstanceKey("testhost", 22294): ["role=backup"]}
    stream = _Terminal()
    render(
        Output(lines=["plain"], rich=lambda: rich_tree(nodes, REASONABLE, "cluster testhost:22293", tags)),
        "text",
        stream,
    )
    drawn = re.sub(r"\x1b\[[0-9;]*m", "", stream.getvalue()).splitlines()
    assert drawn[0] == "cluster testhost:22293"
    keys = [re.search(r"testhost:\d+", line).group() for line in drawn[1:]]  # type: ignore[union-attr]
    assert keys == [f"testhost:{p}" for p in (22293, 22294, 22295, 22296, 22297)]
    for line in drawn[1:]:
        assert re.match(r"^[\s│├└─]+testhost:\d+  \S", line), line  # box lines, then the key itself
    assert "22295  unknown" not in drawn[3] and "nonreplicating" in drawn[3]
    assert drawn[2].endswith("[role=backup]") and drawn[1].endswith("[]")
