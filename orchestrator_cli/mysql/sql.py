"""Values sent to topology servers: string literals, and the checks on statement arguments.

The flavors build statement text from caller-supplied values (host names, binlog coordinates, GTID
sets); each value is checked here and quoted, so a wrong value fails before anything is sent.
"""

from __future__ import annotations

from typing import Any

from orchestrator_cli.mysql.rows import FlavorError, gtid_text

_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    "\x00": "\\0",
    "\n": "\\n",
    "\r": "\\r",
    "\x1a": "\\Z",
}


def quote_string(s: str, *, no_backslash_escapes: bool = False) -> str:
    """Return ``s`` as a single-quoted SQL string literal.

    By default backslash, quote, NUL, newline, carriage return and Ctrl-Z are backslash-escaped
    (what ``mysql_real_escape_string`` does).  With ``no_backslash_escapes=True`` (for servers whose
    ``sql_mode`` contains ``NO_BACKSLASH_ESCAPES``) quotes are doubled and everything else is literal.

    >>> print(quote_string("it's"), quote_string("it's", no_backslash_escapes=True))
    'it\\'s' 'it''s'
    """
    if not isinstance(s, str):
        raise FlavorError(f"expected a string to quote, got {type(s).__name__}")
    if no_backslash_escapes:
        return "'" + s.replace("'", "''") + "'"
    return "'" + "".join(_ESCAPES.get(ch, ch) for ch in s) + "'"


def check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    """``value`` if it is an int (not a bool) in ``minimum..maximum``, else FlavorError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise FlavorError(f"{name} must be an integer, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f"..{maximum}"
        raise FlavorError(f"{name} out of range ({minimum}{upper}): {value}")
    return value


def check_str(name: str, value: Any, *, allow_empty: bool = False) -> str:
    """``value`` if it is a (non-empty unless ``allow_empty``) string, else FlavorError."""
    if not isinstance(value, str):
        raise FlavorError(f"{name} must be a string, got {value!r}")
    if not allow_empty and value == "":
        raise FlavorError(f"{name} must not be empty")
    return value


# GTID syntax checks (the values are also quoted; these only reject obviously wrong input early). Compiled
# on first use: only statements that move replicas by GTID need them, and compiling the set pattern
# cost every probe's process ~1 ms at import.
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_TAG = r"[a-zA-Z_][a-zA-Z0-9_]{0,31}"
_INTERVAL = r"[0-9]+(?:-[0-9]+)?"
_ORACLE_GTID = rf"^{_UUID}(?::{_TAG})?:[0-9]+$"
_ORACLE_SET_ENTRY = rf"{_UUID}(?::(?:{_TAG}|{_INTERVAL}))*"
_ORACLE_SET = rf"^\+?\s*(?:{_ORACLE_SET_ENTRY}(?:\s*,\s*{_ORACLE_SET_ENTRY})*)?\s*$"
_MARIADB_POS = r"^\s*(?:[0-9]+-[0-9]+-[0-9]+(?:\s*,\s*[0-9]+-[0-9]+-[0-9]+)*)?\s*$"


def check_oracle_gtid(value: Any) -> str:
    """One Oracle GTID (``uuid[:tag]:number``), stripped."""
    import re

    text = check_str("GTID", value).strip()
    if not re.match(_ORACLE_GTID, text):
        raise FlavorError(f"not a single GTID (uuid[:tag]:number): {value!r}")
    return text


def check_oracle_gtid_set(value: Any, what: str = "GTID set") -> str:
    """An Oracle GTID set, on one line."""
    import re

    text = check_str(what, value, allow_empty=True)
    if not re.match(_ORACLE_SET, gtid_text(text)):
        raise FlavorError(f"not a valid MySQL {what}: {value!r}")
    return gtid_text(text)


def check_mariadb_pos(value: Any) -> str:
    """A MariaDB GTID position (a domain-server-sequence list), stripped."""
    import re

    text = check_str("MariaDB GTID position", value, allow_empty=True)
    if not re.match(_MARIADB_POS, text):
        raise FlavorError(f"not a valid MariaDB GTID position (domain-server-sequence list): {value!r}")
    return text.strip()
