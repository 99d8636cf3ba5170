"""Backend dialects: the SQL text each backend gets, and (on an in-memory SQLite) what it does."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator_cli.backend.dialect import MySQLDialect, SQLiteDialect

MYSQL = MySQLDialect()
SQLITE = SQLiteDialect()


# -- text -------------------------------------------------------------------------------------------


def test_time_expressions() -> None:
    assert MYSQL.now() == "NOW()"
    assert SQLITE.now() == "datetime('now')"
    assert MYSQL.add_seconds("t.c", "?") == "(t.c + INTERVAL (?) SECOND)"
    assert SQLITE.add_seconds("t.c", "?") == "datetime(t.c, printf('%+d seconds', ?))"
    assert MYSQL.seconds_ago("60") == "(NOW() + INTERVAL (-(60)) SECOND)"
    assert SQLITE.seconds_from_now() == "datetime(datetime('now'), printf('%+d seconds', ?))"
    assert MYSQL.unix_timestamp() == "UNIX_TIMESTAMP()"
    assert MYSQL.unix_timestamp("c") == "UNIX_TIMESTAMP(c)"
    assert SQLITE.unix_timestamp() == "CAST(strftime('%s', 'now') AS INTEGER)"
    assert SQLITE.unix_timestamp("c") == "CAST(strftime('%s', c) AS INTEGER)"


def test_insert_ignore() -> None:
    assert MYSQL.insert_ignore("t", ["a", "b"]) == "INSERT IGNORE INTO t (a, b) VALUES (?, ?)"
    assert SQLITE.insert_ignore("t", {"a": "?", "b": "datetime('now')"}) == (
        "INSERT OR IGNORE INTO t (a, b) VALUES (?, datetime('now'))"
    )


def test_upsert() -> None:
    columns = {"h": "?", "p": "?", "rule": "?", "ts": "NOW()"}
    assert MYSQL.upsert("c", columns, ["h", "p"]) == (
        "INSERT INTO c (h, p, rule, ts) VALUES (?, ?, ?, NOW())"
        " ON DUPLICATE KEY UPDATE rule=VALUES(rule), ts=VALUES(ts)"
    )
    assert SQLITE.upsert("c", ["h", "p", "rule"], ["h", "p"]) == (
        "INSERT INTO c (h, p, rule) VALUES (?, ?, ?) ON CONFLICT(h, p) DO UPDATE SET rule=excluded.rule"
    )
    assert SQLITE.upsert("c", ["h", "p", "rule"], ["h", "p"], update=["rule"]).endswith(
        "DO UPDATE SET rule=excluded.rule"
    )


def test_upsert_with_nothing_to_update() -> None:
    assert MYSQL.upsert("t", ["a"], ["a"]) == "INSERT IGNORE INTO t (a) VALUES (?)"
    assert SQLITE.upsert("t", ["a"], ["a"]) == "INSERT INTO t (a) VALUES (?) ON CONFLICT(a) DO NOTHING"


def test_regexp() -> None:
    assert MYSQL.regexp("hostname") == SQLITE.regexp("hostname") == "hostname REGEXP ?"


def test_placeholders_sqlite_untouched() -> None:
    sql = "SELECT * FROM t WHERE a = ? AND b LIKE '%x%'"
    assert SQLITE.placeholders(sql) == sql


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("a = ? AND b = ?", "a = %s AND b = %s"),
        ("a LIKE '%db%' AND b = ?", "a LIKE '%db%' AND b = %s"),  # no %% doubling: the driver never un-doubles
        ("c = 'what?' AND d = ?", "c = 'what?' AND d = %s"),
        ('c = "what?" AND d = ?', 'c = "what?" AND d = %s'),
        ("`odd?col` = ?", "`odd?col` = %s"),
        ("c = 'it''s?' AND d = ?", "c = 'it''s?' AND d = %s"),
        ("c = 'back\\'slash?' AND d = ?", "c = 'back\\'slash?' AND d = %s"),
        ("", ""),
    ],
)
def test_placeholders_mysql(sql: str, expected: str) -> None:
    assert MYSQL.placeholders(sql) == expected


def _scan_reference(sql: str) -> str:
    """`?` -> `%s` outside quotes, character by character: the specification the one-pass
    regular expression in `dialect._outside_quotes` must agree with."""
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(sql):
        ch = sql[i]
        if quote:
            out.append(ch)
            if ch == "\\" and quote != "`" and i + 1 < len(sql):
                out.append(sql[i + 1])
                i += 1
            elif ch == quote:
                if sql[i + 1 : i + 2] == quote:
                    out.append(quote)
                    i += 1
                else:
                    quote = ""
        elif ch in "'\"`":
            quote = ch
            out.append(ch)
        else:
            out.append("%s" if ch == "?" else ch)
        i += 1
    return "".join(out)


@given(st.text(alphabet="?'\"`\\ a%\n", max_size=40))
def test_placeholders_mysql_agree_with_the_character_scan(sql: str) -> None:
    """Quotes, doubled quotes, backslashes, unterminated quotes and newlines in any mix."""
    from orchestrator_cli.backend import dialect

    assert dialect._outside_quotes(sql, "?", "%s") == _scan_reference(sql)


def test_placeholders_mysql_are_translated_once_per_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """The character scan runs once per statement text (a probe's upsert is 3 kB of it); the cache
    stays bounded."""
    from orchestrator_cli.backend import dialect

    scans: list[str] = []
    scan = dialect._outside_quotes

    def counted(sql: str, old: str, new: str) -> str:
        scans.append(sql)
        return scan(sql, old, new)

    monkeypatch.setattr(dialect, "_outside_quotes", counted)
    monkeypatch.setattr(dialect, "_TRANSLATED", {})
    monkeypatch.setattr(dialect, "_TRANSLATED_MAX", 3)
    sql = "SELECT ? FROM t WHERE c = 'what?'"
    assert [MYSQL.placeholders(sql) for _ in range(3)] == ["SELECT %s FROM t WHERE c = 'what?'"] * 3
    assert scans == [sql]
    for n in range(5):
        assert MYSQL.placeholders(f"x = {n} AND y = '?' AND z = ?") == f"x = {n} AND y = '?' AND z = %s"
    assert len(dialect._TRANSLATED) <= 3


# -- behaviour on SQLite ------------------------------------------------------------------------------


@pytest.fixture
def db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute(
        "CREATE TABLE c (h TEXT, p INT, rule TEXT DEFAULT 'neutral', priority INT DEFAULT 1,"
        " ts TIMESTAMP, PRIMARY KEY (h, p))"
    )
    yield conn
    conn.close()


def test_sqlite_upsert_keeps_unlisted_columns(db: sqlite3.Connection) -> None:
    # Unlike the original's REPLACE translation, an upsert must not reset columns it does not list.
    db.execute("INSERT INTO c (h, p, rule, priority) VALUES ('db', 1, 'prefer', 7)")
    db.execute(
        SQLITE.upsert("c", {"h": "?", "p": "?", "rule": "?", "ts": SQLITE.now()}, ["h", "p"]), ("db", 1, "must_not")
    )
    assert db.execute("SELECT rule, priority, ts IS NOT NULL FROM c").fetchall() == [("must_not", 7, 1)]
    db.execute(SQLITE.upsert("c", ["h", "p", "rule"], ["h", "p"]), ("db2", 2, "prefer"))
    assert db.execute("SELECT COUNT(*) FROM c").fetchone() == (2,)


def test_sqlite_insert_ignore(db: sqlite3.Connection) -> None:
    sql = SQLITE.insert_ignore("c", ["h", "p", "rule"])
    assert db.execute(sql, ("db", 1, "prefer")).rowcount == 1
    assert db.execute(sql, ("db", 1, "must_not")).rowcount == 0
    assert db.execute("SELECT rule FROM c").fetchall() == [("prefer",)]


@pytest.mark.parametrize("seconds", [0, 1, 59, 3600, 86400 * 7, 5 * 365 * 86400])
def test_sqlite_seconds_arithmetic(db: sqlite3.Connection, seconds: int) -> None:
    later, earlier, now = db.execute(
        f"SELECT {SQLITE.seconds_from_now()}, {SQLITE.seconds_ago()}, {SQLITE.now()}", (seconds, seconds)
    ).fetchone()
    diff = db.execute(
        f"SELECT {SQLITE.unix_timestamp('?')} - {SQLITE.unix_timestamp('?')}", (later, earlier)
    ).fetchone()[0]
    assert diff == 2 * seconds
    assert earlier <= now <= later  # text comparison of 'YYYY-MM-DD HH:MM:SS' is chronological


def test_sqlite_unix_timestamp_is_an_integer(db: sqlite3.Connection) -> None:
    value = db.execute(f"SELECT {SQLITE.unix_timestamp()}").fetchone()[0]
    assert isinstance(value, int) and value > 1_600_000_000
    assert db.execute(f"SELECT {SQLITE.unix_timestamp(repr('1971-01-01 00:00:00'))}").fetchone()[0] == 31536000
