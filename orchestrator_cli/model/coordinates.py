"""Binary-log / relay-log coordinates (``file:pos``) as an ordered, immutable value.

Orchestrator compares coordinates everywhere: candidate selection by Exec coordinates,
``START SLAVE UNTIL`` overshoot checks, pseudo-GTID matching. Files are ordered by their numeric
suffix when they share a prefix, so ``mysql-bin.999999`` sorts before ``mysql-bin.1000000``
(upstream compared the names as plain strings and got that rollover wrong).

>>> a = BinlogCoordinates.parse("mysql-bin.000012:1234")
>>> a < BinlogCoordinates("mysql-bin.000013", 4)
True
>>> a.next_file_name()
'mysql-bin.000013'
>>> str(a.detach()), a.detach().reattach() == a
('//mysql-bin.000012:1234:1234', True)
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

from orchestrator_cli.model.frozen import Frozen

__all__ = ["BinlogCoordinates", "LogType"]

_SUFFIX_RE: Final = re.compile(r"(.*?)([0-9]+)", re.DOTALL)
# A detached replica keeps its position inside the file name: ``//mysql-bin.000012:1234``.
_DETACHED_RE: Final = re.compile(r"//([^/:]+):([0-9]+)")
_DIGITS_RE: Final = re.compile(r"[0-9]+")


class LogType(StrEnum):
    """Which log the coordinates point into; relay and binary positions are never comparable."""

    BINARY = "binary"
    RELAY = "relay"


def _file_sort_key(name: str) -> tuple[str, int, str, str]:
    """Prefix, then numeric suffix (compared by value without ``int()``), then the raw name.

    The raw name keeps the order total and consistent with equality (``a.01`` vs ``a.1``).
    Names without a numeric suffix sort by their full text.
    """
    match = _SUFFIX_RE.fullmatch(name)
    if match is None:
        return (name, -1, "", name)
    digits = match.group(2).lstrip("0") or "0"
    return (match.group(1), len(digits), digits, name)


class BinlogCoordinates(Frozen):
    """A position in a binary or relay log.

    Equality includes ``log_type``; ordering is file, then position, then log type (the last
    only as a tie-break so that sorting is well defined). A written-out immutable class rather
    than a frozen dataclass, which cost every `discover` its generation at import (model/frozen.py).
    """

    __slots__ = ("file", "pos", "log_type")
    file: str
    pos: int
    log_type: LogType

    def __init__(self, file: str, pos: int, log_type: LogType = LogType.BINARY) -> None:
        set_ = object.__setattr__
        set_(self, "file", file)
        set_(self, "pos", pos)
        set_(self, "log_type", log_type)
        if type(file) is str and type(pos) is int and pos >= 0 and type(log_type) is LogType:
            return  # the common case, checked cheaply: instance snapshots build several per row
        if not isinstance(file, str):
            raise TypeError(f"binlog file name must be a str, got {type(file).__name__}")
        if not isinstance(pos, int) or isinstance(pos, bool):
            raise TypeError(f"binlog position must be an integer, got {pos!r}")
        if pos < 0:
            raise ValueError(f"binlog position must not be negative, got {pos}")
        set_(self, "log_type", LogType(log_type))

    @classmethod
    def parse(cls, text: str, log_type: LogType = LogType.BINARY) -> BinlogCoordinates:
        """Parse ``file:pos`` (the position is after the last colon, so detached text works).

        This is the one parser of user-given coordinates (``--binlog``); bad text is a ValueError.

        >>> BinlogCoordinates.parse(" mysql-bin.000002:1234 ")
        BinlogCoordinates(file='mysql-bin.000002', pos=1234, log_type=<LogType.BINARY: 'binary'>)
        >>> BinlogCoordinates.parse("relay-bin.000007:4", LogType.RELAY).log_type
        <LogType.RELAY: 'relay'>
        >>> BinlogCoordinates.parse("//mysql-bin.000002:1234:1234").reattach().file
        'mysql-bin.000002'
        >>> BinlogCoordinates.parse("mysql-bin.000002")
        Traceback (most recent call last):
        ...
        ValueError: invalid binlog coordinates 'mysql-bin.000002': expected 'file:position'
        >>> BinlogCoordinates.parse("mysql-bin.000002:12ab")
        Traceback (most recent call last):
        ...
        ValueError: invalid binlog coordinates 'mysql-bin.000002:12ab': position '12ab' is not a number
        >>> BinlogCoordinates.parse(":4")
        Traceback (most recent call last):
        ...
        ValueError: invalid binlog coordinates ':4': expected 'file:position'
        """
        stripped = text.strip()
        file, sep, pos = stripped.rpartition(":")
        if not sep or not file.strip():
            raise ValueError(f"invalid binlog coordinates {text!r}: expected 'file:position'")
        if not _DIGITS_RE.fullmatch(pos.strip()):
            raise ValueError(f"invalid binlog coordinates {text!r}: position {pos!r} is not a number")
        return cls(file.strip(), int(pos), log_type)

    @classmethod
    def file_name_of(cls, text: str) -> str:
        """A log file name given as ``file`` or ``file:pos`` (the position, when there is one, is dropped).

        >>> BinlogCoordinates.file_name_of("mysql-bin.000004"), BinlogCoordinates.file_name_of("mysql-bin.000004:120")
        ('mysql-bin.000004', 'mysql-bin.000004')
        >>> BinlogCoordinates.file_name_of("odd:name")
        'odd:name'
        """
        try:
            return cls.parse(text).file
        except ValueError:
            return text.strip()

    def __str__(self) -> str:
        """``file:pos``, the form `parse` reads and orchestrator prints.

        >>> str(BinlogCoordinates("mysql-bin.000002", 1234))
        'mysql-bin.000002:1234'
        """
        return f"{self.file}:{self.pos}"

    # -- ordering --------------------------------------------------------------------------

    def _sort_key(self) -> tuple[tuple[str, int, str, str], int, str]:
        return (_file_sort_key(self.file), self.pos, self.log_type.value)

    def __lt__(self, other: BinlogCoordinates) -> bool:
        if not isinstance(other, BinlogCoordinates):
            return NotImplemented
        return self._sort_key() < other._sort_key()

    def __le__(self, other: BinlogCoordinates) -> bool:
        if not isinstance(other, BinlogCoordinates):
            return NotImplemented
        return self._sort_key() <= other._sort_key()

    def __gt__(self, other: BinlogCoordinates) -> bool:
        if not isinstance(other, BinlogCoordinates):
            return NotImplemented
        return self._sort_key() > other._sort_key()

    def __ge__(self, other: BinlogCoordinates) -> bool:
        if not isinstance(other, BinlogCoordinates):
            return NotImplemented
        return self._sort_key() >= other._sort_key()

    def file_smaller_than(self, other: BinlogCoordinates) -> bool:
        return _file_sort_key(self.file) < _file_sort_key(other.file)

    def same_position(self, other: BinlogCoordinates) -> bool:
        """Same file and position regardless of log type."""
        return self.file == other.file and self.pos == other.pos

    # -- file numbering --------------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        return self.file == ""

    def _split_file(self) -> tuple[str, str]:
        match = _SUFFIX_RE.fullmatch(self.file)
        if match is None:
            raise ValueError(f"binlog file name {self.file!r} has no numeric suffix")
        return match.group(1), match.group(2)

    def file_number(self) -> int:
        """Numeric suffix of the file name (``mysql-bin.000012`` -> 12)."""
        return int(self._split_file()[1])

    def next_file_name(self) -> str:
        """Name of the following log, keeping the zero padding (it grows past ``999999``)."""
        prefix, digits = self._split_file()
        return prefix + str(int(digits) + 1).zfill(len(digits))

    def previous_file_name(self) -> str:
        prefix, digits = self._split_file()
        number = int(digits) - 1
        if number < 1:
            raise ValueError(f"no log file precedes {self.file!r}")
        return prefix + str(number).zfill(len(digits))

    def file_number_delta(self, other: BinlogCoordinates) -> int:
        """How many files ``self`` is ahead of ``other`` (both must share a naming prefix)."""
        mine, theirs = self._split_file(), other._split_file()
        if mine[0] != theirs[0]:
            raise ValueError(f"log files {self.file!r} and {other.file!r} have different prefixes")
        return int(mine[1]) - int(theirs[1])

    # -- detach / reattach -----------------------------------------------------------------

    @property
    def is_detached(self) -> bool:
        """Whether the file name is orchestrator's ``//file:pos`` "detached replica" marker."""
        return _DETACHED_RE.fullmatch(self.file) is not None

    def detach(self) -> BinlogCoordinates:
        """Coordinates whose file name breaks replication reversibly (idempotent)."""
        if self.is_detached:
            return self
        return BinlogCoordinates(f"//{self.file}:{self.pos}", self.pos, self.log_type)

    def reattach(self) -> BinlogCoordinates:
        """The original coordinates hidden in a detached file name; non-detached ones unchanged."""
        match = _DETACHED_RE.fullmatch(self.file)
        if match is None:
            return self
        return BinlogCoordinates(match.group(1), int(match.group(2)), self.log_type)
