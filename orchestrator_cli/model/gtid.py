"""GTID values for Oracle MySQL / Percona and MariaDB, as plain immutable Python objects.

Orchestrator reads GTID state as text (``@@gtid_executed``, ``Executed_Gtid_Set``,
``@@gtid_purged``, MariaDB's ``@@gtid_binlog_pos``...) and must reason about it without a round
trip to a server: errant-GTID detection, the purged-GTID check before a GTID move, and deciding
whether a MariaDB replica may be pointed at another server with ``MASTER_USE_GTID``.

The two flavours are unrelated formats and are modelled separately:

* :class:`OracleGtidSet` -- ``uuid[:tag]:interval[:interval...]`` sets with set arithmetic that
  matches ``GTID_SUBTRACT`` / ``GTID_SUBSET`` and MySQL's canonical rendering;
* :class:`MariadbGtidPosition` -- one ``domain-server-seqno`` triplet per replication domain.

>>> s = OracleGtidSet.parse("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:11-18,\\n"
...                         "3e11fa47-71ca-11e1-9e33-c80aa9429562:6-10")
>>> str(s)
'3e11fa47-71ca-11e1-9e33-c80aa9429562:1-18'
>>> str(MariadbGtidPosition.parse("1-2-5,0-1-100"))
'0-1-100,1-2-5'
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final

__all__ = [
    "MAX_GNO",
    "Gtid",
    "GtidEntries",
    "Interval",
    "MariadbGtid",
    "MariadbGtidPosition",
    "OracleGtidSet",
    "errant",
    "purged_missing",
]

#: Largest transaction number MySQL accepts (``GNO_END - 1`` = 2^63 - 2).
MAX_GNO: Final = 2**63 - 2

_UUID_RE: Final = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
# MySQL 8.3+: a tag starts with a letter or underscore, at most 32 characters, case-insensitive.
_TAG_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")
_DIGITS_RE: Final = re.compile(r"[0-9]+")
_DIGITS: Final = frozenset("0123456789")

Interval = tuple[int, int]
"""Inclusive ``(first, last)`` range of transaction numbers."""

_Tsid = tuple[str, str]  # (lowercase uuid, lowercase tag or "")

GtidEntries = (
    Mapping[str, Iterable[tuple[int, int]]]
    | Mapping[tuple[str, str], Iterable[tuple[int, int]]]
    | Mapping[str | tuple[str, str], Iterable[tuple[int, int]]]
)
"""Constructor input: ``{uuid: intervals}``, ``{(uuid, tag): intervals}`` or a mix of both."""


def _show(text: str, limit: int = 120) -> str:
    """Quote user text for an error message without flooding the log with a huge GTID set."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def _normalize_uuid(text: str) -> str:
    candidate = text.strip()
    if not _UUID_RE.fullmatch(candidate):
        raise ValueError(f"invalid server UUID {_show(text)}: expected 8-4-4-4-12 hexadecimal digits")
    return candidate.lower()


def _normalize_tag(text: str) -> str:
    candidate = text.strip()
    if not _TAG_RE.fullmatch(candidate):
        raise ValueError(
            f"invalid GTID tag {_show(text)}: expected a letter or '_' followed by up to 31 letters, digits or '_'"
        )
    return candidate.lower()


def _loose_uuid(text: str) -> str:
    """Normalise a UUID used only as a filter; junk simply matches nothing."""
    return text.strip().lower()


def _check_interval(start: object, end: object) -> Interval:
    if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
        raise TypeError(f"GTID interval bounds must be integers, got ({start!r}, {end!r})")
    if start < 1:
        raise ValueError(f"invalid GTID interval {start}-{end}: transaction numbers start at 1")
    if end > MAX_GNO:
        raise ValueError(f"invalid GTID interval {start}-{end}: exceeds the maximum {MAX_GNO}")
    if start > end:
        raise ValueError(f"invalid GTID interval {start}-{end}: start is greater than end")
    return (start, end)


def _parse_gno(text: str) -> int:
    token = text.strip()
    if not _DIGITS_RE.fullmatch(token):
        raise ValueError(f"invalid transaction number {_show(text)}")
    return int(token)


def _parse_interval(text: str) -> Interval:
    low, sep, high = text.partition("-")
    start = _parse_gno(low)
    end = _parse_gno(high) if sep else start
    return _check_interval(start, end)


def _merge(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sort and coalesce overlapping or adjacent intervals, as MySQL stores them."""
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + 1:
            if end > merged[-1][1]:
                merged[-1][1] = end
        else:
            merged.append([start, end])
    return tuple((start, end) for start, end in merged)


def _subtract(left: tuple[Interval, ...], right: tuple[Interval, ...]) -> tuple[Interval, ...]:
    """``left - right`` for normalised interval lists, in one linear sweep."""
    result: list[Interval] = []
    j = 0
    for start, end in left:
        cursor = start
        while j < len(right) and right[j][1] < cursor:
            j += 1
        k = j
        while k < len(right) and right[k][0] <= end:
            cut_start, cut_end = right[k]
            if cut_start > cursor:
                result.append((cursor, cut_start - 1))
            cursor = max(cursor, cut_end + 1)
            if cursor > end:
                break
            k += 1
        if cursor <= end:
            result.append((cursor, end))
    return tuple(result)


def _intersect(left: tuple[Interval, ...], right: tuple[Interval, ...]) -> tuple[Interval, ...]:
    result: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start <= end:
            result.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return tuple(result)


@dataclass(frozen=True)
class Gtid:
    """One Oracle GTID (``uuid:gno`` or MySQL 8.4's tagged ``uuid:tag:gno``).

    >>> str(Gtid.parse("3E11FA47-71CA-11E1-9E33-C80AA9429562:Batch:23"))
    '3e11fa47-71ca-11e1-9e33-c80aa9429562:batch:23'
    """

    uuid: str
    gno: int
    tag: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "uuid", _normalize_uuid(self.uuid))
        object.__setattr__(self, "tag", _normalize_tag(self.tag) if self.tag else "")
        _check_interval(self.gno, self.gno)

    @classmethod
    def parse(cls, text: str) -> Gtid:
        parts = text.split(":")
        try:
            if len(parts) == 2:
                return cls(parts[0], _parse_gno(parts[1]))
            if len(parts) == 3:
                return cls(parts[0], _parse_gno(parts[2]), parts[1])
            raise ValueError("expected 'uuid:number' or 'uuid:tag:number'")
        except ValueError as exc:
            raise ValueError(f"invalid GTID {_show(text)}: {exc}") from None

    def __str__(self) -> str:
        return f"{self.uuid}:{self.tag}:{self.gno}" if self.tag else f"{self.uuid}:{self.gno}"


class OracleGtidSet:
    """An immutable, normalised Oracle MySQL GTID set.

    Keys are ``(uuid, tag)`` pairs (tag ``""`` for untagged GTIDs), each with sorted, disjoint,
    non-adjacent inclusive intervals -- the same normal form MySQL keeps, so equality and the
    rendered text are canonical.

    >>> a = OracleGtidSet.parse("00000000-0000-0000-0000-00000000000a:1-10")
    >>> b = OracleGtidSet.parse("00000000-0000-0000-0000-00000000000a:3-4:8")
    >>> str(a - b)
    '00000000-0000-0000-0000-00000000000a:1-2:5-7:9-10'
    >>> b <= a, (b - a).is_empty()
    (True, True)
    """

    __slots__ = ("_entries",)
    _entries: dict[_Tsid, tuple[Interval, ...]]

    def __init__(self, entries: GtidEntries | None = None) -> None:
        """Build from ``{uuid or (uuid, tag): [(first, last), ...]}``; intervals may be unsorted."""
        collected: dict[_Tsid, list[Interval]] = {}
        for key, intervals in (entries or {}).items():
            if isinstance(key, str):
                tsid = (_normalize_uuid(key), "")
            else:
                uuid, tag = key
                tsid = (_normalize_uuid(uuid), _normalize_tag(tag) if tag else "")
            bucket = collected.setdefault(tsid, [])
            bucket.extend(_check_interval(start, end) for start, end in intervals)
        self._entries = self._normal_form(collected)._entries

    @classmethod
    def _normal_form(cls, collected: Mapping[_Tsid, Iterable[Interval]]) -> OracleGtidSet:
        return cls._trusted({tsid: _merge(intervals) for tsid, intervals in collected.items()})

    @classmethod
    def _trusted(cls, entries: Mapping[_Tsid, tuple[Interval, ...]]) -> OracleGtidSet:
        """Wrap already-merged intervals, dropping empty entries and sorting keys."""
        result = object.__new__(cls)
        result._entries = {tsid: entries[tsid] for tsid in sorted(entries) if entries[tsid]}
        return result

    @classmethod
    def parse(cls, text: str) -> OracleGtidSet:
        """Parse GTID set text as printed or accepted by MySQL.

        Whitespace (including the newlines of ``Executed_Gtid_Set``) around tokens is ignored,
        UUIDs and tags are case-insensitive, repeated UUIDs and overlapping ranges are merged,
        and empty elements between commas are skipped, as MySQL does.
        """
        if not isinstance(text, str):
            raise TypeError(f"GTID set text must be a str, got {type(text).__name__}")
        collected: dict[_Tsid, list[Interval]] = {}
        for element in text.split(","):
            if not element.strip():
                continue
            parts = element.split(":")
            try:
                uuid = _normalize_uuid(parts[0])
                bucket = collected.setdefault((uuid, ""), [])
                for part in parts[1:]:
                    token = part.strip()
                    if not token:
                        raise ValueError(f"empty interval in {_show(element.strip())}")
                    if token[0] in _DIGITS:
                        bucket.append(_parse_interval(token))
                    else:
                        bucket = collected.setdefault((uuid, _normalize_tag(token)), [])
            except ValueError as exc:
                raise ValueError(f"invalid GTID set {_show(text)}: {exc}") from None
        return cls._normal_form(collected)

    @classmethod
    def coerce(cls, value: OracleGtidSet | str) -> OracleGtidSet:
        """Accept either a set or its text, so callers can pass backend columns directly."""
        if isinstance(value, OracleGtidSet):
            return value
        return cls.parse(value)

    # -- rendering -------------------------------------------------------------------------

    def render(self, separator: str = ",") -> str:
        """Canonical text; pass ``separator=",\\n"`` for MySQL's exact ``@@gtid_executed`` layout.

        Tagged ranges follow the untagged ones of the same UUID, as in
        ``uuid:1-5:domain_1:1-3:domain_2:8``.
        """
        chunks: list[str] = []
        previous_uuid = ""
        for (uuid, tag), intervals in self._entries.items():
            text = "".join(f":{start}" if start == end else f":{start}-{end}" for start, end in intervals)
            if tag:
                text = f":{tag}{text}"
            if uuid == previous_uuid:
                chunks[-1] += text
            else:
                chunks.append(uuid + text)
                previous_uuid = uuid
        return separator.join(chunks)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"OracleGtidSet({self.render()!r})"

    # -- value semantics -------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OracleGtidSet):
            return NotImplemented
        return self._entries == other._entries

    def __hash__(self) -> int:
        return hash(tuple(self._entries.items()))

    def __bool__(self) -> bool:
        return bool(self._entries)

    def is_empty(self) -> bool:
        return not self._entries

    # -- inspection ------------------------------------------------------------------------

    def entries(self) -> Iterator[tuple[str, str, tuple[Interval, ...]]]:
        """``(uuid, tag, intervals)`` in canonical order."""
        for (uuid, tag), intervals in self._entries.items():
            yield uuid, tag, intervals

    def uuids(self) -> tuple[str, ...]:
        """Distinct source UUIDs, sorted (tags folded together)."""
        return tuple(sorted({uuid for uuid, _ in self._entries}))

    def intervals(self, uuid: str, tag: str = "") -> tuple[Interval, ...]:
        key = (_loose_uuid(uuid), tag.strip().lower())
        return self._entries.get(key, ())

    def count(self) -> int:
        """Number of transactions in the set (can exceed any machine integer, hence not ``len``)."""
        return sum(end - start + 1 for intervals in self._entries.values() for start, end in intervals)

    def contains(self, gtid: Gtid | str) -> bool:
        """Whether one transaction is in the set."""
        if isinstance(gtid, str):
            gtid = Gtid.parse(gtid)
        intervals = self._entries.get((gtid.uuid, gtid.tag), ())
        index = bisect.bisect_right(intervals, (gtid.gno, MAX_GNO + 1)) - 1
        return index >= 0 and intervals[index][0] <= gtid.gno <= intervals[index][1]

    def __contains__(self, gtid: object) -> bool:
        if not isinstance(gtid, Gtid | str):
            return False
        return self.contains(gtid)

    def explode(self) -> Iterator[Gtid]:
        """Every single GTID in order, e.g. to inject one empty transaction per errant GTID."""
        for (uuid, tag), intervals in self._entries.items():
            for start, end in intervals:
                for gno in range(start, end + 1):
                    yield Gtid(uuid, gno, tag)

    def next_gtid(self, uuid: str, tag: str = "") -> Gtid:
        """The GTID right after the highest one executed for ``uuid`` (used by skip-query).

        >>> OracleGtidSet.parse("00000000-0000-0000-0000-00000000000a:1-6:9").next_gtid(
        ...     "00000000-0000-0000-0000-00000000000A")
        Gtid(uuid='00000000-0000-0000-0000-00000000000a', gno=10, tag='')
        """
        intervals = self.intervals(uuid, tag)
        return Gtid(uuid, intervals[-1][1] + 1 if intervals else 1, tag)

    # -- set arithmetic --------------------------------------------------------------------

    def union(self, other: OracleGtidSet | str) -> OracleGtidSet:
        other = OracleGtidSet.coerce(other)
        combined: dict[_Tsid, list[Interval]] = {tsid: list(iv) for tsid, iv in self._entries.items()}
        for tsid, intervals in other._entries.items():
            combined.setdefault(tsid, []).extend(intervals)
        return OracleGtidSet._normal_form(combined)

    def subtract(self, other: OracleGtidSet | str) -> OracleGtidSet:
        """Like ``GTID_SUBTRACT(self, other)``."""
        other = OracleGtidSet.coerce(other)
        return OracleGtidSet._trusted(
            {
                tsid: _subtract(intervals, other._entries[tsid]) if tsid in other._entries else intervals
                for tsid, intervals in self._entries.items()
            }
        )

    def intersection(self, other: OracleGtidSet | str) -> OracleGtidSet:
        other = OracleGtidSet.coerce(other)
        return OracleGtidSet._trusted(
            {
                tsid: _intersect(intervals, other._entries[tsid])
                for tsid, intervals in self._entries.items()
                if tsid in other._entries
            }
        )

    def is_subset(self, other: OracleGtidSet | str) -> bool:
        """Like ``GTID_SUBSET(self, other)``."""
        other = OracleGtidSet.coerce(other)
        return all(not _subtract(intervals, other._entries.get(tsid, ())) for tsid, intervals in self._entries.items())

    def is_disjoint(self, other: OracleGtidSet | str) -> bool:
        return self.intersection(other).is_empty()

    def __or__(self, other: OracleGtidSet) -> OracleGtidSet:
        return self.union(other) if isinstance(other, OracleGtidSet) else NotImplemented

    def __and__(self, other: OracleGtidSet) -> OracleGtidSet:
        return self.intersection(other) if isinstance(other, OracleGtidSet) else NotImplemented

    def __sub__(self, other: OracleGtidSet) -> OracleGtidSet:
        return self.subtract(other) if isinstance(other, OracleGtidSet) else NotImplemented

    def __le__(self, other: OracleGtidSet) -> bool:
        return self.is_subset(other) if isinstance(other, OracleGtidSet) else NotImplemented

    def __ge__(self, other: OracleGtidSet) -> bool:
        return other.is_subset(self) if isinstance(other, OracleGtidSet) else NotImplemented

    def __lt__(self, other: OracleGtidSet) -> bool:
        if not isinstance(other, OracleGtidSet):
            return NotImplemented
        return self != other and self.is_subset(other)

    def __gt__(self, other: OracleGtidSet) -> bool:
        if not isinstance(other, OracleGtidSet):
            return NotImplemented
        return self != other and other.is_subset(self)

    # -- UUID filters ----------------------------------------------------------------------

    def remove_uuids(self, uuids: str | Iterable[str]) -> OracleGtidSet:
        """Drop every range (all tags) of the given UUIDs; a lone string is one UUID.

        Blank or unknown UUIDs are ignored so that raw ancestry lists can be passed as they are.
        """
        drop = _uuid_filter(uuids)
        return OracleGtidSet._trusted({t: iv for t, iv in self._entries.items() if t[0] not in drop})

    def only_uuids(self, uuids: str | Iterable[str]) -> OracleGtidSet:
        """Keep only the ranges (all tags) of the given UUIDs."""
        keep = _uuid_filter(uuids)
        return OracleGtidSet._trusted({t: iv for t, iv in self._entries.items() if t[0] in keep})


def _uuid_filter(uuids: str | Iterable[str]) -> frozenset[str]:
    if isinstance(uuids, str):
        uuids = [uuids]
    return frozenset(u for u in map(_loose_uuid, uuids) if u)


def errant(
    replica_executed: OracleGtidSet | str,
    master_executed: OracleGtidSet | str,
    *,
    replica_uuid: str = "",
    master_uuid: str = "",
    ancestry: str | Iterable[str] = (),
    is_co_master: bool = False,
) -> OracleGtidSet:
    """Errant GTIDs of a replica, following orchestrator's redaction rules.

    Transactions of the master and of every ancestor are ignored because the two sets are read
    at different moments (the replica may legitimately be ahead of the stored master row):

    1. from the replica's executed set remove every ``ancestry`` UUID except the replica's own
       (a co-master also removes its own, since its co-master may not have applied it yet);
    2. from the master's executed set remove ``master_uuid``;
    3. the result is (1) minus (2).

    ``master_uuid`` is also removed in step 1: a well-formed ancestry contains it anyway, and a
    stale or missing ancestry must not turn the master's own newer transactions into errant ones.
    Nothing is errant when either executed set is empty (no data to compare). ``ancestry`` may be
    the comma-separated ``ancestry_uuid`` column.

    >>> errant("00000000-0000-0000-0000-0000000000aa:1-9,00000000-0000-0000-0000-0000000000bb:1-3",
    ...        "00000000-0000-0000-0000-0000000000aa:1-7",
    ...        replica_uuid="00000000-0000-0000-0000-0000000000bb",
    ...        master_uuid="00000000-0000-0000-0000-0000000000aa",
    ...        ancestry="00000000-0000-0000-0000-0000000000aa,00000000-0000-0000-0000-0000000000bb")
    OracleGtidSet('00000000-0000-0000-0000-0000000000bb:1-3')
    """
    replica_set = OracleGtidSet.coerce(replica_executed)
    master_set = OracleGtidSet.coerce(master_executed)
    if replica_set.is_empty() or master_set.is_empty():
        return OracleGtidSet()
    if isinstance(ancestry, str):
        ancestry = ancestry.split(",")
    own = _loose_uuid(replica_uuid)
    redact = [uuid for uuid in map(_loose_uuid, ancestry) if uuid and (uuid != own or is_co_master)]
    redact.append(master_uuid)
    redacted = replica_set.remove_uuids(redact)
    if redacted.is_empty():
        return redacted
    return redacted.subtract(master_set.remove_uuids(master_uuid))


def purged_missing(replica_executed: OracleGtidSet | str, source_purged: OracleGtidSet | str) -> OracleGtidSet:
    """Transactions a replica still needs but the candidate source already purged.

    ``GTID_SUBTRACT(source.gtid_purged, replica.gtid_executed)``: a non-empty result means an
    auto-position move below that source would fail with error 1236.
    """
    return OracleGtidSet.coerce(source_purged).subtract(replica_executed)


# ----------------------------------------------------------------------------------------------
# MariaDB
# ----------------------------------------------------------------------------------------------

_MAX_U32: Final = 2**32 - 1
_MAX_U64: Final = 2**64 - 1


def _check_unsigned(name: str, value: object, maximum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"MariaDB GTID {name} must be an integer, got {value!r}")
    if not 0 <= value <= maximum:
        raise ValueError(f"MariaDB GTID {name} {value} is outside 0..{maximum}")
    return value


@dataclass(frozen=True)
class MariadbGtid:
    """One MariaDB GTID ``domain_id-server_id-seqno``.

    >>> MariadbGtid.parse("0-1-100")
    MariadbGtid(domain_id=0, server_id=1, seqno=100)
    """

    domain_id: int
    server_id: int
    seqno: int

    def __post_init__(self) -> None:
        _check_unsigned("domain_id", self.domain_id, _MAX_U32)
        _check_unsigned("server_id", self.server_id, _MAX_U32)
        _check_unsigned("seqno", self.seqno, _MAX_U64)

    @classmethod
    def parse(cls, text: str) -> MariadbGtid:
        parts = text.strip().split("-")
        if len(parts) != 3 or not all(_DIGITS_RE.fullmatch(p) for p in parts):
            raise ValueError(f"invalid MariaDB GTID {_show(text)}: expected domain-server-sequence, e.g. '0-1-100'")
        try:
            return cls(int(parts[0]), int(parts[1]), int(parts[2]))
        except ValueError as exc:
            raise ValueError(f"invalid MariaDB GTID {_show(text)}: {exc}") from None

    def __str__(self) -> str:
        return f"{self.domain_id}-{self.server_id}-{self.seqno}"


class MariadbGtidPosition:
    """A MariaDB GTID position: at most one GTID per replication domain.

    This is the shape of ``@@gtid_binlog_pos``, ``@@gtid_current_pos`` and ``@@gtid_slave_pos``
    (not ``@@gtid_binlog_state``, which keeps one GTID per domain *and* server). Positions are
    only partially ordered, so comparisons are explicit methods rather than ``<``.

    >>> replica = MariadbGtidPosition.parse("0-1-100")
    >>> source = MariadbGtidPosition.parse("0-1-120,1-3-7")
    >>> replica.is_behind_or_equal(source), replica.can_replicate_from(source)
    (True, True)
    >>> MariadbGtidPosition.parse("0-2-120").diverged_domains(source)
    (0,)
    """

    __slots__ = ("_by_domain",)
    _by_domain: dict[int, MariadbGtid]

    def __init__(self, gtids: Iterable[MariadbGtid] = ()) -> None:
        by_domain: dict[int, MariadbGtid] = {}
        for gtid in gtids:
            if not isinstance(gtid, MariadbGtid):
                raise TypeError(f"expected MariadbGtid, got {type(gtid).__name__}")
            if gtid.domain_id in by_domain:
                raise ValueError(
                    f"duplicate domain {gtid.domain_id} ({by_domain[gtid.domain_id]} and {gtid}): a GTID "
                    "position holds one GTID per domain (gtid_binlog_state is not a position)"
                )
            by_domain[gtid.domain_id] = gtid
        self._by_domain = dict(sorted(by_domain.items()))

    @classmethod
    def _trusted(cls, by_domain: Mapping[int, MariadbGtid]) -> MariadbGtidPosition:
        result = object.__new__(cls)
        result._by_domain = dict(sorted(by_domain.items()))
        return result

    @classmethod
    def parse(cls, text: str) -> MariadbGtidPosition:
        """Parse ``0-1-100,1-2-5``; whitespace around triplets is ignored, empty text is empty."""
        if not isinstance(text, str):
            raise TypeError(f"MariaDB GTID position text must be a str, got {type(text).__name__}")
        if not text.strip():
            return cls()
        try:
            return cls(MariadbGtid.parse(element) for element in text.split(","))
        except ValueError as exc:
            raise ValueError(f"invalid MariaDB GTID position {_show(text)}: {exc}") from None

    @classmethod
    def coerce(cls, value: MariadbGtidPosition | str) -> MariadbGtidPosition:
        return value if isinstance(value, MariadbGtidPosition) else cls.parse(value)

    def render(self) -> str:
        """Comma-separated triplets ordered by domain."""
        return ",".join(str(gtid) for gtid in self._by_domain.values())

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"MariadbGtidPosition({self.render()!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MariadbGtidPosition):
            return NotImplemented
        return self._by_domain == other._by_domain

    def __hash__(self) -> int:
        return hash(tuple(self._by_domain.values()))

    def __iter__(self) -> Iterator[MariadbGtid]:
        return iter(self._by_domain.values())

    def __len__(self) -> int:
        return len(self._by_domain)

    def __bool__(self) -> bool:
        return bool(self._by_domain)

    def is_empty(self) -> bool:
        return not self._by_domain

    def domains(self) -> tuple[int, ...]:
        return tuple(self._by_domain)

    def get(self, domain_id: int) -> MariadbGtid | None:
        return self._by_domain.get(domain_id)

    def is_behind_or_equal(self, other: MariadbGtidPosition | str) -> bool:
        """Every domain of ``self`` exists in ``other`` with a sequence number at least as high."""
        other = MariadbGtidPosition.coerce(other)
        for domain_id, gtid in self._by_domain.items():
            theirs = other._by_domain.get(domain_id)
            if theirs is None or gtid.seqno > theirs.seqno:
                return False
        return True

    def contains_all_domains_of(self, other: MariadbGtidPosition | str) -> bool:
        other = MariadbGtidPosition.coerce(other)
        return other._by_domain.keys() <= self._by_domain.keys()

    def merge_max(self, other: MariadbGtidPosition | str) -> MariadbGtidPosition:
        """Per domain, the GTID with the higher sequence number (``self`` wins ties)."""
        other = MariadbGtidPosition.coerce(other)
        merged = dict(other._by_domain)
        for domain_id, gtid in self._by_domain.items():
            theirs = merged.get(domain_id)
            if theirs is None or gtid.seqno >= theirs.seqno:
                merged[domain_id] = gtid
        return MariadbGtidPosition._trusted(merged)

    def subtract_domains(self, domains: Iterable[int] | MariadbGtidPosition) -> MariadbGtidPosition:
        """Drop the given domains (or every domain present in another position)."""
        drop = set(domains.domains() if isinstance(domains, MariadbGtidPosition) else domains)
        return MariadbGtidPosition._trusted({d: g for d, g in self._by_domain.items() if d not in drop})

    def only_domains(self, domains: Iterable[int] | MariadbGtidPosition) -> MariadbGtidPosition:
        keep = set(domains.domains() if isinstance(domains, MariadbGtidPosition) else domains)
        return MariadbGtidPosition._trusted({d: g for d, g in self._by_domain.items() if d in keep})

    def diverged_domains(self, other: MariadbGtidPosition | str) -> tuple[int, ...]:
        """Domains where both sides stand at the same seqno written by different servers.

        That is the only divergence visible from positions alone: two servers each committed
        their own transaction under the same sequence number (e.g. writes on both sides of a
        failover). Divergence hidden behind a higher seqno needs the binlogs to detect.
        """
        other = MariadbGtidPosition.coerce(other)
        return tuple(
            domain_id
            for domain_id, gtid in self._by_domain.items()
            if (theirs := other._by_domain.get(domain_id)) is not None
            and theirs.seqno == gtid.seqno
            and theirs.server_id != gtid.server_id
        )

    def diverges_from(self, other: MariadbGtidPosition | str) -> bool:
        return bool(self.diverged_domains(other))

    def replication_blockers(self, source: MariadbGtidPosition | str) -> tuple[str, ...]:
        """Why a replica at ``self`` cannot be moved below ``source`` with ``MASTER_USE_GTID``.

        The source must hold every domain the replica has, at or ahead of the replica's seqno,
        and must not have diverged at the same seqno. An empty tuple means no known obstacle.
        """
        source = MariadbGtidPosition.coerce(source)
        reasons: list[str] = []
        for domain_id, gtid in self._by_domain.items():
            theirs = source._by_domain.get(domain_id)
            if theirs is None:
                reasons.append(f"domain {domain_id}: replica at {gtid} but source has no GTID in this domain")
            elif theirs.seqno < gtid.seqno:
                reasons.append(f"domain {domain_id}: replica at {gtid} is ahead of source at {theirs}")
            elif theirs.seqno == gtid.seqno and theirs.server_id != gtid.server_id:
                reasons.append(
                    f"domain {domain_id}: replica at {gtid} and source at {theirs} have the same sequence "
                    "number from different servers (diverged)"
                )
        return tuple(reasons)

    def can_replicate_from(self, source: MariadbGtidPosition | str) -> bool:
        return not self.replication_blockers(source)
