"""Searching binary and relay logs: the machinery behind Pseudo-GTID and the binlog tools.

Logs are read through ``SHOW BINLOG EVENTS`` / ``SHOW RELAYLOG EVENTS`` one chunk at a time
(`BinlogEventsChunkSize` rows), so a large log never arrives in one result set. Searches go
backwards file by file (newest first) because the entry wanted is almost always recent; matching
walks two streams forward in lock-step and compares events by their normalised ``Info`` text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from orchestrator_cli.errors import OrchestratorError, TopologyError
from orchestrator_cli.model.coordinates import BinlogCoordinates
from orchestrator_cli.mysql.facts import BinlogEvent

#: Events that describe a log file rather than data: they differ between servers holding the same data.
SKIPPED_EVENT_TYPES = frozenset(
    {
        "Format_desc",
        "Stop",
        "Rotate",
        "Gtid_list",
        "Binlog_checkpoint",
        "Previous_gtids",
        "Start_encryption",
        "Heartbeat",
    }
)
DEFAULT_CHUNK = 10000
FIRST_EVENT_POS = 4

_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_TABLE_ID = re.compile(r"table_id: \d+")
_HEX_COLLATE = re.compile(r"X'([0-9a-fA-F]*)' COLLATE \w+")
_MARIADB_CID = re.compile(r"^(BEGIN GTID \S+) cid=\d+")
_SPACES = re.compile(r"\s+")
_NUMBERED = re.compile(r"^(.*?)(\d+)$")


class EventSource(Protocol):
    """What the search needs from a server (TopologyServer implements it)."""

    def binlog_events(
        self, file: str, pos: int, limit: int, *, relay: bool = False, offset: int = 0
    ) -> list[BinlogEvent]: ...

    def binary_logs(self) -> list[tuple[str, int]]: ...


def normalise_info(info: str) -> str:
    """The part of an event's Info that is the same on every server holding the event.

    Comments (e.g. ``/* xid=81 */`` after COMMIT) and table ids are local to each server; MariaDB
    adds a commit id to ``BEGIN GTID``; old servers print binary literals as ``X'..' COLLATE``.
    """
    text = _COMMENT.sub("", info)
    text = _TABLE_ID.sub("table_id: ###", text)
    text = _HEX_COLLATE.sub(r"0x\1", text)
    text = _SPACES.sub(" ", text).strip()
    return _MARIADB_CID.sub(r"\1", text)


def entry_matcher(pattern: str, fixed_substring: bool) -> Callable[[str], bool]:
    """Whether an event's Info is a Pseudo-GTID entry (substring, or regular expression)."""
    if fixed_substring:
        return lambda info: pattern in info
    try:
        regex = re.compile(pattern)
    except re.error as e:
        raise TopologyError(f"invalid PseudoGTIDPattern {pattern!r}: {e}") from e
    return lambda info: regex.search(info) is not None


def neighbour_file(name: str, step: int) -> str | None:
    """The log file numbered `step` away (``mysql-bin.000007`` -> ``mysql-bin.000006``), or None."""
    found = _NUMBERED.match(name)
    if not found:
        return None
    number = int(found.group(2)) + step
    if number < 1:
        return None
    return f"{found.group(1)}{number:0{len(found.group(2))}d}"


@dataclass
class LogReader:
    """Pages through one server's binary logs (or relay logs) chunk by chunk."""

    source: EventSource
    relay: bool = False
    chunk: int = DEFAULT_CHUNK

    def events(self, file: str, start: int = FIRST_EVENT_POS) -> Iterator[BinlogEvent]:
        """Every event of `file` from position `start` on.

        The next chunk starts at the last event read and skips it (``LIMIT 1,n``): relay logs do
        not show their own next-event position, so this works for both kinds of log.
        """
        pos, offset = start, 0
        while True:
            rows = self.source.binlog_events(file, pos, self.chunk, relay=self.relay, offset=offset)
            yield from rows
            if len(rows) < self.chunk:
                return
            pos, offset = rows[-1].pos, 1

    def binlog_files_newest_first(self) -> list[str]:
        return [name for name, _ in reversed(self.source.binary_logs())]

    def files_after(self, file: str) -> list[str]:
        """The existing files numbered after `file` (a relay log the IO thread writes ahead of the SQL thread)."""
        found: list[str] = []
        name = neighbour_file(file, 1)
        while name is not None:
            try:
                self.source.binlog_events(name, FIRST_EVENT_POS, 1, relay=self.relay)
            except OrchestratorError:
                break
            found.append(name)
            name = neighbour_file(name, 1)
        return found

    def files_back_from(self, newest: str) -> Iterator[str]:
        """`newest`, then earlier files by decreasing number (relay logs have no SHOW statement listing them)."""
        name: str | None = newest
        while name is not None:
            yield name
            name = neighbour_file(name, -1)


def last_entry(
    reader: LogReader,
    files_newest_first: Iterable[str],
    is_entry: Callable[[str], bool],
    before: BinlogCoordinates | None = None,
) -> BinlogEvent | None:
    """The newest event matching `is_entry`, searching files newest first (events before `before` only).

    A file that cannot be read (purged, or a guessed relay log name that does not exist) ends the search.
    """
    for file in files_newest_first:
        found: BinlogEvent | None = None
        try:
            for event in reader.events(file):
                if before is not None and file == before.file and event.pos >= before.pos:
                    break
                if event.event_type not in SKIPPED_EVENT_TYPES and is_entry(event.info):
                    found = event
        except OrchestratorError:
            return None
        if found is not None:
            return found
    return None


def find_exact(
    reader: LogReader,
    files_newest_first: Iterable[str],
    text: str,
    is_entry: Callable[[str], bool] | None = None,
    monotonic_hint: str = "",
) -> BinlogEvent | None:
    """The newest event whose Info is exactly `text`.

    With monotonic entries (`monotonic_hint` in `text`, and `is_entry` recognising entries) a file
    whose first entry sorts after `text` was written after it: the rest of that file is skipped.
    """
    monotonic = bool(monotonic_hint) and monotonic_hint in text and is_entry is not None
    for file in files_newest_first:
        found: BinlogEvent | None = None
        first_entry_seen = False
        try:
            for event in reader.events(file):
                if event.info == text:
                    found = event
                    continue
                if monotonic and not first_entry_seen and is_entry is not None and is_entry(event.info):
                    first_entry_seen = True
                    if event.info > text:
                        break
        except OrchestratorError:
            return None
        if found is not None:
            return found
    return None


def forward(
    reader: LogReader,
    start: BinlogCoordinates,
    *,
    last_file: str | None = None,
    stop: BinlogCoordinates | None = None,
    skip_containing: Sequence[str] = (),
    max_empty_files: int = 10,
) -> Iterator[BinlogEvent]:
    """Data events from `start` onwards, into following files, up to `stop` (excluded) or the end of `last_file`.

    Without `last_file` and `stop` the walk ends after `max_empty_files` consecutive files without
    events or at the first file that cannot be read.
    """
    file, pos = start.file, start.pos
    empty = 0
    while True:
        seen_any = False
        try:
            for event in reader.events(file, pos):
                seen_any = True
                if stop is not None and file == stop.file and event.pos >= stop.pos:
                    return
                if event.event_type in SKIPPED_EVENT_TYPES:
                    continue
                if any(s and s in event.info for s in skip_containing):
                    continue
                yield event
        except OrchestratorError:
            if stop is not None or last_file is not None:
                raise
            return
        if (stop is not None and file == stop.file) or (last_file is not None and file == last_file):
            return
        empty = 0 if seen_any else empty + 1
        following = neighbour_file(file, 1)
        if following is None or empty >= max_empty_files:
            return
        file, pos = following, FIRST_EVENT_POS


@dataclass(frozen=True)
class Correlation:
    """Where `other` holds what the instance stream ended with: other's position after the last matched event."""

    coordinates: BinlogCoordinates
    matched: int
    last_event: BinlogEvent


def correlate(instance_events: Iterable[BinlogEvent], other_events: Iterable[BinlogEvent]) -> Correlation:
    """Walk both streams in lock-step: every instance event must be the next other event (normalised Info).

    The answer is other's coordinates right after the event matching the instance's last one.
    """
    others = iter(other_events)
    matched = 0
    last: BinlogEvent | None = None
    for mine in instance_events:
        theirs = next(others, None)
        if theirs is None:
            where = f"{mine.file}:{mine.pos}"
            raise TopologyError(
                f"the instance is ahead: its event at {where} ({_short(mine.info)}) is not in the other's logs yet"
            )
        if normalise_info(mine.info) != normalise_info(theirs.info):
            raise TopologyError(
                f"mismatching entries, aborting: {mine.file}:{mine.pos} {_short(mine.info)!r} vs "
                f"{theirs.file}:{theirs.pos} {_short(theirs.info)!r}"
            )
        matched += 1
        last = theirs
    if last is None:
        raise TopologyError("Unexpected: 0 events processed while iterating logs. Something went wrong; aborting.")
    return Correlation(BinlogCoordinates(last.file, last.end_log_pos), matched, last)


def _short(info: str, limit: int = 120) -> str:
    return info if len(info) <= limit else info[: limit - 3] + "..."


@dataclass(frozen=True)
class ExecutedEntry:
    """The last event a replica's SQL thread executed, and the relay log position after it."""

    event: BinlogEvent
    next_pos: int

    def __str__(self) -> str:
        e = self.event
        return (
            f"{{Coordinates:{e.file}:{e.pos} NextEventPos:{self.next_pos} EventType:{e.event_type} Info:{e.info}}}"
            f":{self.next_pos}"
        )


def last_executed_relay_entry(reader: LogReader, executed: BinlogCoordinates) -> ExecutedEntry:
    """The last data event before the executed relay log position, within the relay log being executed."""
    file, stop_pos = executed.file, executed.pos
    last: BinlogEvent | None = None
    next_pos = stop_pos
    try:
        for event in reader.events(file):
            if event.pos >= stop_pos:
                break
            if last is not None and next_pos == stop_pos and event.pos > last.pos:
                next_pos = event.pos
            if event.event_type not in SKIPPED_EVENT_TYPES:
                last, next_pos = event, stop_pos
    except OrchestratorError as e:
        raise TopologyError(f"cannot read relay log {file}: {e}") from e
    if last is None:
        raise TopologyError(f"no executed event in relay log {file} before position {stop_pos}")
    return ExecutedEntry(last, next_pos)


def files_with_gtids(reader: LogReader, files_oldest_first: Sequence[str], executed: str, wanted: str) -> list[str]:
    """Oracle GTID: the binary logs holding any of `wanted`.

    Each file opens with a ``Previous_gtids`` event (everything logged before it), so a file holds
    the next file's previous set minus its own; the newest file holds `executed` minus its own.
    """
    from orchestrator_cli.model.gtid import OracleGtidSet

    target = OracleGtidSet.parse(wanted)
    previous: list[OracleGtidSet] = []
    for file in files_oldest_first:
        found = OracleGtidSet()
        for event in reader.events(file):
            if event.event_type == "Previous_gtids":
                found = OracleGtidSet.parse(event.info)
                break
            if event.event_type not in ("Format_desc", "Rotate", "Start_encryption"):
                break
        previous.append(found)
    bounds = [*previous[1:], OracleGtidSet.parse(executed)]
    return [
        file
        for file, before, after in zip(files_oldest_first, previous, bounds, strict=True)
        if not after.subtract(before).is_disjoint(target)
    ]


def event_at(reader: LogReader, coords: BinlogCoordinates) -> BinlogEvent:
    """The event starting exactly at `coords`."""
    try:
        for event in reader.events(coords.file, coords.pos):
            return event
    except OrchestratorError as e:
        raise TopologyError(f"no event at {coords}: {e}") from e
    raise TopologyError(f"no event at {coords}")


def find_same_event(
    reader: LogReader, files: Iterable[str], like: BinlogEvent
) -> tuple[BinlogEvent, BinlogCoordinates] | None:
    """In another replica's relay logs: the event replicated from the same master event as `like`.

    Relay log rows carry the master's End_log_pos; together with the event type and the normalised
    Info that identifies the master event. Returns it and the coordinates of the event after it.
    """
    wanted = normalise_info(like.info)
    for file in files:
        found: BinlogEvent | None = None
        before: BinlogEvent | None = None
        try:
            for event in reader.events(file):
                if found is not None:
                    return found, BinlogCoordinates(file, event.pos)
                if (
                    event.event_type not in SKIPPED_EVENT_TYPES
                    and event.end_log_pos == like.end_log_pos
                    and event.event_type == like.event_type
                    and normalise_info(event.info) == wanted
                ):
                    found = event
                else:
                    before = event
        except OrchestratorError:
            continue
        if found is not None:
            return found, _after_last(file, found, before)
    return None


def _after_last(file: str, last: BinlogEvent, before: BinlogEvent | None) -> BinlogCoordinates:
    """The relay position after the last event of a file: an event is as long in the relay log as in
    the master's binary log, so its length is the master's end position minus the previous event's."""
    if before is not None and 0 < before.end_log_pos < last.end_log_pos:
        return BinlogCoordinates(file, last.pos + last.end_log_pos - before.end_log_pos)
    following = neighbour_file(file, 1)
    return BinlogCoordinates(following, FIRST_EVENT_POS) if following else BinlogCoordinates(file, last.pos)
