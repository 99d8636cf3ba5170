"""Binary log tools: search a server's binary and relay logs (Pseudo-GTID entries, exact entries, positions).

All of them read the live server named by -i and change nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator_cli.commands.context import Context
from orchestrator_cli.commands.output import Output, line
from orchestrator_cli.commands.registry import command
from orchestrator_cli.errors import UsageError

if TYPE_CHECKING:
    from orchestrator_cli.model.coordinates import BinlogCoordinates

BINARY_LOGS = "Binary logs"


def _position(text: str) -> BinlogCoordinates | None:
    """`--binlog file:pos` (None when empty)."""
    from orchestrator_cli.model.coordinates import BinlogCoordinates

    text = text.strip()
    if not text:
        return None
    try:
        return BinlogCoordinates.parse(text)
    except ValueError:
        raise UsageError(f"invalid --binlog {text!r}: expecting file:pos, e.g. mysql-bin.000002:1234") from None


@command(
    "find-binlog-entry",
    BINARY_LOGS,
    "Find the binary log position of an entry given by its exact text (--pattern)",
    flags=("--pattern",),
    access="L",
    details="Searches the binary logs newest first for an event whose Info is exactly --pattern; prints file:pos.",
    examples=(
        "orchestrator -c find-binlog-entry -i instance.to.search.on.com"
        " --pattern \"insert into my_data (my_column) values ('distinct_value_01234_56789')\"",
    ),
)
def find_binlog_entry(ctx: Context) -> Output:
    from orchestrator_cli.errors import NotFoundError
    from orchestrator_cli.topology import binlog_search as bs

    key = ctx.instance_key()
    text = ctx.options.pattern
    if not text:
        raise UsageError("No pattern given")
    chunk = int(ctx.config.get("BinlogEventsChunkSize") or bs.DEFAULT_CHUNK)
    reader = bs.LogReader(ctx.topology_env().server(key), relay=False, chunk=chunk)
    found = bs.find_exact(reader, reader.binlog_files_newest_first(), text)
    if found is None:
        raise NotFoundError(f"{key}: entry not found in binary logs: {text}")
    return line(f"{found.file}:{found.pos}", data={"LogFile": found.file, "LogPos": found.pos})


@command(
    "last-pseudo-gtid",
    BINARY_LOGS,
    "Find the last Pseudo-GTID entry of an instance",
    flags=("--strict", "--skip-binlog-search (search relay logs only)"),
    access="L",
    details="""
Searches the binary logs (when the instance writes its replication stream there), else the executed
relay logs, newest file first; prints file:pos:<entry text>. The search always covers every file,
so --strict (the original's exhaustive search) is accepted and changes nothing.""",
    examples=("orchestrator -c last-pseudo-gtid -i instance.with.possible.pseudo-gtid.injection",),
)
def last_pseudo_gtid(ctx: Context) -> Output:
    from orchestrator_cli.topology.pseudo_gtid import last_pseudo_gtid as run

    key = ctx.instance_key()
    event = run(ctx.topology_env(), key, skip_binlog_search=ctx.options.skip_binlog_search)
    return line(
        f"{event.file}:{event.pos}:{event.info}", data={"LogFile": event.file, "LogPos": event.pos, "Entry": event.info}
    )


@command(
    "locate-gtid-errant",
    BINARY_LOGS,
    "List the binary logs of a replica that hold its errant GTIDs (Oracle GTID)",
    access="L",
    details="""
Errant GTIDs are those the replica executed that its master did not (as which-gtid-errant shows).
Each binary log's share is read from the Previous_gtids events. Fails when there is no errant GTID,
when one is already purged, and on MariaDB (no Oracle GTID).""",
    examples=("orchestrator -c locate-gtid-errant -i replica.with.errant.gtid.com",),
)
def locate_gtid_errant(ctx: Context) -> Output:
    from orchestrator_cli.commands.output import lines
    from orchestrator_cli.topology.pseudo_gtid import locate_gtid_errant as run

    files = run(ctx.topology_env(), ctx.instance_key())
    return lines(files, data=files)


@command(
    "last-executed-relay-entry",
    BINARY_LOGS,
    "Show the last relay log event a replica's SQL thread executed",
    access="L",
    examples=("orchestrator -c last-executed-relay-entry -i replica.to.inspect.com",),
)
def last_executed_relay_entry(ctx: Context) -> Output:
    from orchestrator_cli.errors import TopologyError
    from orchestrator_cli.topology import binlog_search as bs

    key = ctx.instance_key()
    server = ctx.topology_env().server(key)
    status = server.replica_status()
    if not status.is_replica or not status.relay_log_file:
        raise TopologyError(f"{key} is not a replica: it has no relay logs")
    chunk = int(ctx.config.get("BinlogEventsChunkSize") or bs.DEFAULT_CHUNK)
    entry = bs.last_executed_relay_entry(bs.LogReader(server, relay=True, chunk=chunk), status.relay_coordinates)
    e = entry.event
    data = {
        "LogFile": e.file,
        "LogPos": e.pos,
        "NextEventPos": entry.next_pos,
        "EventType": e.event_type,
        "Info": e.info,
    }
    return line(str(entry), data=data)


@command(
    "correlate-binlog-pos",
    BINARY_LOGS,
    "Map a binary log position of an instance to the same data in another instance's binary logs (Pseudo-GTID)",
    destination="required",
    flags=("--binlog <file:pos> (default: the instance's current position)",),
    access="L",
    details="Needs PseudoGTIDPattern; walks both binary logs from the last Pseudo-GTID entry before the position.",
    examples=(
        "orchestrator -c correlate-binlog-pos -i instance.with.binary.log.com"
        " --binlog=mysql-bin.002366:14127 -d other.instance.com",
    ),
)
def correlate_binlog_pos(ctx: Context) -> Output:
    from orchestrator_cli.topology.pseudo_gtid import correlate_binlog_pos as run

    key = ctx.instance_key()
    destination = ctx.destination_key()
    assert destination is not None
    found = run(ctx.topology_env(), key, destination, _position(ctx.options.binlog))
    return line(str(found), data={"LogFile": found.file, "LogPos": found.pos})


@command(
    "correlate-relaylog-pos",
    BINARY_LOGS,
    "Map a relay log position of a replica to the same event in a sibling's relay logs",
    destination="required",
    flags=("--binlog <relay-file:pos> (default: the last executed relay log event)",),
    access="L",
    details="""
Both must replicate from the same master. Prints `<instance coords>;<sibling coords>;<next coords>`:
the instance's event, the sibling's event replicated from the same master event, and the sibling's
position after it.""",
    examples=("orchestrator -c correlate-relaylog-pos -i replica.com --binlog=relay-bin.000002:1234 -d sibling.com",),
)
def correlate_relaylog_pos(ctx: Context) -> Output:
    from orchestrator_cli.topology.pseudo_gtid import correlate_relaylog_pos as run

    key = ctx.instance_key()
    sibling = ctx.destination_key()
    assert sibling is not None
    mine, theirs, following = run(ctx.topology_env(), key, sibling, _position(ctx.options.binlog))
    text = ";".join(str(coords) for coords in (mine, theirs, following))
    data = {
        "Instance": {"LogFile": mine.file, "LogPos": mine.pos},
        "Correlated": {"LogFile": theirs.file, "LogPos": theirs.pos},
        "Next": {"LogFile": following.file, "LogPos": following.pos},
    }
    return line(text, data=data)
