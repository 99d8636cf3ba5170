"""The few SQL spellings that differ between the SQLite and MySQL backends, in one place."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up (mypy reads the name)
if TYPE_CHECKING:
    import re
    from typing import Any


ER_DUP_ENTRY = 1062  # MySQL: Duplicate entry for a unique key


class Dialect:
    """SQL text helpers; statements elsewhere in `backend/` are written once and use these."""

    name = "base"

    def now(self) -> str:
        raise NotImplementedError

    def add_seconds(self, expr: str, seconds: str) -> str:
        """`expr` plus `seconds` (an SQL expression or `?`)."""
        raise NotImplementedError

    def unix_timestamp(self, expr: str | None = None) -> str:
        raise NotImplementedError

    def seconds_from_now(self, seconds: str = "?") -> str:
        return self.add_seconds(self.now(), seconds)

    def seconds_ago(self, seconds: str = "?") -> str:
        return self.add_seconds(self.now(), f"-({seconds})")

    def is_duplicate_key(self, error: BaseException) -> bool:
        """Whether a failed statement (or the driver error it wraps) broke a unique key."""
        raise NotImplementedError

    def insert_ignore(self, table: str, columns: Sequence[str] | Mapping[str, str]) -> str:
        raise NotImplementedError

    def upsert(
        self,
        table: str,
        columns: Sequence[str] | Mapping[str, str],
        keys: Sequence[str],
        update: Sequence[str] | None = None,
    ) -> str:
        """Insert or update in place: unlike REPLACE, columns not listed keep their values."""
        raise NotImplementedError

    def placeholders(self, sql: str) -> str:
        return sql

    def concat(self, *parts: str) -> str:
        """String concatenation of SQL expressions."""
        return " || ".join(parts)

    def regexp(self, expr: str) -> str:
        """`expr REGEXP ?` (SQLite gets a Python function registered under the same name)."""
        return f"{expr} REGEXP ?"

    def in_values(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
        """`(columns) IN rows` as a parenthesized test and its parameters, for a caller-supplied
        collection of any size (the keys of a data-centre outage): a fixed-depth expression whatever
        the number of rows, where an `OR` chain of `(a = ? AND b = ?)` makes SQLite refuse a tree
        deeper than 1,000 past ~900 keys. No rows: a test that is false."""
        raise NotImplementedError


def _columns_values(columns: Sequence[str] | Mapping[str, str]) -> tuple[str, str, list[str]]:
    mapping = columns if isinstance(columns, Mapping) else {c: "?" for c in columns}
    names = list(mapping)
    return ", ".join(names), ", ".join(mapping[c] for c in names), names


class SQLiteDialect(Dialect):
    name = "sqlite"

    def is_duplicate_key(self, error: BaseException) -> bool:
        import sqlite3

        cause = error.__cause__ or error
        return isinstance(cause, sqlite3.IntegrityError) and "UNIQUE constraint failed" in str(cause)

    def now(self) -> str:
        return "datetime('now')"

    def add_seconds(self, expr: str, seconds: str) -> str:
        return f"datetime({expr}, printf('%+d seconds', {seconds}))"

    def unix_timestamp(self, expr: str | None = None) -> str:
        target = expr or "'now'"
        return f"CAST(strftime('%s', {target}) AS INTEGER)"

    def insert_ignore(self, table: str, columns: Sequence[str] | Mapping[str, str]) -> str:
        cols, vals, _ = _columns_values(columns)
        return f"INSERT OR IGNORE INTO {table} ({cols}) VALUES ({vals})"

    def upsert(
        self,
        table: str,
        columns: Sequence[str] | Mapping[str, str],
        keys: Sequence[str],
        update: Sequence[str] | None = None,
    ) -> str:
        cols, vals, names = _columns_values(columns)
        targets = update if update is not None else [c for c in names if c not in keys]
        sets = ", ".join(f"{c}=excluded.{c}" for c in targets)
        action = f"DO UPDATE SET {sets}" if sets else "DO NOTHING"
        return f"INSERT INTO {table} ({cols}) VALUES ({vals}) ON CONFLICT({', '.join(keys)}) {action}"

    def in_values(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
        """The rows travel as one JSON parameter read back by `json_each`: the statement text is the
        same for any number (SQLite's limit of 32,766 parameters never applies) and the subquery is
        materialized once (a key lookup per row)."""
        if not rows:
            return "(0 = 1)", []
        import json

        if len(columns) == 1:
            return f"({columns[0]} IN (SELECT value FROM json_each(?)))", [json.dumps([r[0] for r in rows])]
        fields = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
        test = f"(({', '.join(columns)}) IN (SELECT {fields} FROM json_each(?)))"
        return test, [json.dumps([list(r) for r in rows])]


class MySQLDialect(Dialect):
    name = "mysql"

    def is_duplicate_key(self, error: BaseException) -> bool:
        cause = error.__cause__ or error
        return getattr(cause, "errno", None) == ER_DUP_ENTRY

    def now(self) -> str:
        return "NOW()"

    def add_seconds(self, expr: str, seconds: str) -> str:
        return f"({expr} + INTERVAL ({seconds}) SECOND)"

    def unix_timestamp(self, expr: str | None = None) -> str:
        return f"UNIX_TIMESTAMP({expr or ''})"

    def insert_ignore(self, table: str, columns: Sequence[str] | Mapping[str, str]) -> str:
        cols, vals, _ = _columns_values(columns)
        return f"INSERT IGNORE INTO {table} ({cols}) VALUES ({vals})"

    def upsert(
        self,
        table: str,
        columns: Sequence[str] | Mapping[str, str],
        keys: Sequence[str],
        update: Sequence[str] | None = None,
    ) -> str:
        cols, vals, names = _columns_values(columns)
        targets = update if update is not None else [c for c in names if c not in keys]
        if not targets:
            return self.insert_ignore(table, columns)
        sets = ", ".join(f"{c}=VALUES({c})" for c in targets)
        return f"INSERT INTO {table} ({cols}) VALUES ({vals}) ON DUPLICATE KEY UPDATE {sets}"

    def concat(self, *parts: str) -> str:
        return f"CONCAT({', '.join(parts)})"

    def in_values(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
        """A flat `IN` list of row constructors (MySQL 5.7 has no JSON_TABLE; a list is one node, and
        the driver interpolates the parameters, so their number is not limited by the protocol). The
        list is padded to a power of two with its last row repeated (a duplicate changes nothing):
        the statement text takes a few shapes, not one per count, which `placeholders` caches."""
        if not rows:
            return "(0 = 1)", []
        width = 1 << (len(rows) - 1).bit_length()
        padded = [*rows, *[rows[-1]] * (width - len(rows))]
        if len(columns) == 1:
            return f"({columns[0]} IN ({', '.join('?' * width)}))", [r[0] for r in padded]
        row = f"({', '.join('?' * len(columns))})"
        test = f"(({', '.join(columns)}) IN ({', '.join([row] * width)}))"
        return test, [v for r in padded for v in r]

    def placeholders(self, sql: str) -> str:
        """`?` -> `%s` outside quoted text. mysql-connector substitutes `%s` tokens only and never
        un-doubles `%%`, so a literal `%` (a LIKE pattern, DATE_FORMAT) must be left as it is."""
        return _mysql_placeholders(sql)


_TRANSLATED: dict[str, str] = {}  # SQL text -> its MySQL placeholders, least recently used first
_TRANSLATED_MAX = 1024


def _mysql_placeholders(sql: str) -> str:
    """Cached: statements come from a few templates, and on a probe's 75-column upsert even one pass
    over the text cost more CPU than sending it (bench/probe_cost.py).

    A daemon's statements are a few dozen texts (each `Dialect.in_values` list takes a power-of-two
    width, so an analysis pass adds one text per width of its unreachable list, ~13 up to 5,000 keys):
    they stay cached for good. The cache is bounded by evicting the least recently used text, one at a
    time, so a burst of one-off texts (an API client paging through the audit log) never takes the
    statements of every probe cycle out with it, as clearing the whole cache when full did."""
    translated = _TRANSLATED.pop(sql, None)
    if translated is None:
        if "'" not in sql and '"' not in sql and "`" not in sql:
            translated = sql.replace("?", "%s")
        else:
            translated = _outside_quotes(sql, "?", "%s")
        if len(_TRANSLATED) >= _TRANSLATED_MAX:
            # the oldest entry; another thread may be evicting or reinserting at the same time
            with contextlib.suppress(KeyError, RuntimeError, StopIteration):
                del _TRANSLATED[next(iter(_TRANSLATED))]
    _TRANSLATED[sql] = translated  # (re)inserted last: the most recently used
    return translated


_QUOTED: list[re.Pattern[str]] = []  # the compiled pattern, made on first use (`re` stays off the cron path)


def _outside_quotes(sql: str, old: str, new: str) -> str:
    """Replace the one-character `old` where it is not inside '...', "..." or `...` (backslash escapes in
    the first two, doubled quotes in all three; an unterminated quote runs to the end).

    The regular expression finds the quoted parts only; the text between them is translated by
    `str.replace`. Python-level work is per quoted part, not per placeholder: the analysis statement
    with an unreachable list of a few thousand keys has thousands of `?` and a dozen quoted literals
    (a Python call per `?` made each new width of that list cost a daemon ~17 ms)."""
    if old != "?":
        raise ValueError(f"only '?' is translated, not {old!r}")
    if not _QUOTED:
        import re

        quoted = r"'(?:[^'\\]|\\.|'')*(?:'|\\?\Z)|\"(?:[^\"\\]|\\.|\"\")*(?:\"|\\?\Z)|`(?:[^`]|``)*(?:`|\Z)"
        _QUOTED.append(re.compile(quoted, re.DOTALL))
    parts: list[str] = []
    done = 0
    for match in _QUOTED[0].finditer(sql):
        start, end = match.span()
        parts.append(sql[done:start].replace(old, new))
        parts.append(sql[start:end])
        done = end
    parts.append(sql[done:].replace(old, new))
    return "".join(parts)
