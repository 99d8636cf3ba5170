"""Replication control, read_only and binary-log commands: each changes one live server.

A command resolves `-i`, calls one operation of `topology.replication` and prints the instance key.
With `--noop` nothing changes: the command prints the statements the real run would send, one per
line as `host:port: STATEMENT`, and exits 0.
"""

from __future__ import annotations

from collections.abc import Callable

from orchestrator_cli.commands.context import Context
from orchestrator_cli.commands.output import Output, line, lines
from orchestrator_cli.commands.registry import command
from orchestrator_cli.errors import UsageError

GENERAL = "Replication, general"
INSTANCE = "Instance"
BINARY_LOGS = "Binary logs"
NOOP = "--noop: print the statements that would run, change nothing"


def _run(ctx: Context, operation: Callable[..., None], *args: object) -> Output:
    """Run a changing operation on `-i`; print its key, or under --noop the statements it would send."""
    from orchestrator_cli.commands import dry_run

    key = ctx.instance_key()
    with dry_run.recorded(ctx) as taken:
        operation(ctx.topology_env(), key, *args)
    if not ctx.options.noop:
        return line(key)
    return lines(dry_run.lines_of(taken), data={"Key": str(key), "Noop": True, "Statements": [s for _, s in taken]})


def _binlog_file(ctx: Context, what: str) -> str:
    """`--binlog` as a file name; a `file:pos` value is accepted and its position ignored."""
    from orchestrator_cli.model.coordinates import BinlogCoordinates

    return BinlogCoordinates.file_name_of(ctx.require(ctx.options.binlog.strip(), "--binlog", what))


# -- Replication, general ---------------------------------------------------------------------------


@command(
    "stop-replica",
    GENERAL,
    "Stop replication (STOP SLAVE / STOP REPLICA)",
    access="L",
    synonyms=("stop-slave",),
    flags=(NOOP,),
)
def stop_replica(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    return _run(ctx, replication.stop_replica)


@command(
    "start-replica",
    GENERAL,
    "Start replication and wait for both threads to run",
    access="L",
    synonyms=("start-slave",),
    flags=(NOOP,),
)
def start_replica(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    return _run(ctx, replication.start_replica)


@command(
    "restart-replica",
    GENERAL,
    "Stop, then start replication",
    access="L",
    synonyms=("restart-slave",),
    flags=(NOOP,),
)
def restart_replica(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    return _run(ctx, replication.restart_replica)


@command(
    "reset-replica",
    GENERAL,
    "Stop replication and RESET SLAVE ALL: the server forgets its master (destructive)",
    access="L",
    synonyms=("reset-slave",),
    flags=(NOOP,),
    details="The master and coordinates it replicated from are written to the audit log.",
)
def reset_replica(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    return _run(ctx, replication.reset_replica)


@command(
    "detach-replica-master-host",
    GENERAL,
    "Stop replication and prefix the master host with // (breaks replication, reversibly)",
    access="L",
    synonyms=("detach-slave", "detach-replica", "detach-slave-master-host"),
    flags=(NOOP,),
    details=(
        "A GTID replica keeps its GTID mode; a file:pos replica is pinned to its executed coordinates. "
        "reattach-replica-master-host resumes at the same position."
    ),
)
def detach_replica_master_host(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    return _run(ctx, replication.detach_replica_master_host)


@command(
    "reattach-replica-master-host",
    GENERAL,
    "Undo detach-replica-master-host and start replication",
    access="L",
    synonyms=("reattach-slave", "reattach-replica", "reattach-slave-master-host"),
    flags=(NOOP,),
)
def reattach_replica_master_host(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    return _run(ctx, replication.reattach_replica_master_host)


@command(
    "skip-query",
    GENERAL,
    "Skip the transaction a stopped SQL thread failed on, then start replication",
    access="L",
    flags=(NOOP,),
    details=(
        "Oracle MySQL with gtid_mode=ON: an empty transaction is committed under the failing GTID. "
        "Otherwise (file:pos, or MariaDB with or without GTID) the skip counter is used."
    ),
)
def skip_query(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    return _run(ctx, replication.skip_query)


@command(
    "enable-gtid",
    GENERAL,
    "Switch replication to GTID (auto-position; MariaDB MASTER_USE_GTID=slave_pos)",
    access="L",
    flags=(NOOP,),
)
def enable_gtid(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    return _run(ctx, replication.enable_gtid)


@command(
    "disable-gtid",
    GENERAL,
    "Switch replication back to file:pos at the executed coordinates",
    access="L",
    flags=(NOOP,),
)
def disable_gtid(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    return _run(ctx, replication.disable_gtid)


@command("which-gtid-errant", GENERAL, "Print the errant GTID set of a replica (empty line if none)", access="L")
def which_gtid_errant(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    errant = replication.which_gtid_errant(ctx.topology_env(), ctx.instance_key())
    return line(errant)


@command(
    "gtid-errant-reset-master",
    GENERAL,
    "RESET MASTER and set gtid_purged without the errant GTIDs (Oracle GTID, no replicas)",
    access="L",
    flags=(NOOP,),
)
def gtid_errant_reset_master(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    return _run(ctx, replication.gtid_errant_reset_master)


@command(
    "master-pos-wait",
    GENERAL,
    "Block until a replica has executed up to the given master coordinates",
    access="L",
    flags=("--binlog <file:pos> (required)",),
)
def master_pos_wait(ctx: Context) -> Output:
    from orchestrator_cli.model.coordinates import BinlogCoordinates
    from orchestrator_cli.topology import replication

    text = ctx.options.binlog.strip()
    try:
        coordinates = BinlogCoordinates.parse(text)
    except ValueError as e:
        raise UsageError(f"expecting --binlog argument as file:pos ({e})") from e
    key = ctx.instance_key()
    replication.master_pos_wait(ctx.topology_env(), key, coordinates)
    return line(key)


SEMI_SYNC_REPLICA_NOTE = "Takes effect when the IO thread reconnects: a running IO thread is restarted."


@command("enable-semi-sync-master", GENERAL, "Enable semi-sync replication (master side)", access="L", flags=(NOOP,))
def enable_semi_sync_master(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    return _run(ctx, replication.set_semi_sync, "master", True)


@command("disable-semi-sync-master", GENERAL, "Disable semi-sync replication (master side)", access="L", flags=(NOOP,))
def disable_semi_sync_master(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    return _run(ctx, replication.set_semi_sync, "master", False)


@command(
    "enable-semi-sync-replica",
    GENERAL,
    "Enable semi-sync replication (replica side)",
    access="L",
    flags=(NOOP,),
    details=SEMI_SYNC_REPLICA_NOTE,
)
def enable_semi_sync_replica(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    return _run(ctx, replication.set_semi_sync, "replica", True)


@command(
    "disable-semi-sync-replica",
    GENERAL,
    "Disable semi-sync replication (replica side)",
    access="L",
    flags=(NOOP,),
    details=SEMI_SYNC_REPLICA_NOTE,
)
def disable_semi_sync_replica(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    return _run(ctx, replication.set_semi_sync, "replica", False)


@command(
    "restart-replica-statements",
    GENERAL,
    "Print (do not run) statements that stop replication, run --statement and restore the thread state",
    access="L",
    synonyms=("restart-slave-statements",),
    flags=("--statement <SQL> (the statement to wrap)",),
)
def restart_replica_statements(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    statements = replication.restart_replica_statements(ctx.topology_env(), ctx.instance_key(), ctx.options.statement)
    return lines(statements, data=statements)


# -- Instance ---------------------------------------------------------------------------------------


@command(
    "set-read-only",
    INSTANCE,
    "Set read_only (and super_read_only with UseSuperReadOnly)",
    access="L",
    flags=(NOOP,),
)
def set_read_only(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    return _run(ctx, replication.set_read_only, True)


@command(
    "set-writeable",
    INSTANCE,
    "Clear read_only (and super_read_only)",
    access="L",
    flags=(NOOP,),
)
def set_writeable(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    return _run(ctx, replication.set_read_only, False)


# -- Binary logs ------------------------------------------------------------------------------------


@command(
    "flush-binary-logs",
    BINARY_LOGS,
    "FLUSH BINARY LOGS once, or until --binlog is the current binary log",
    access="L",
    flags=("--binlog <file> (optional target)", NOOP),
)
def flush_binary_logs(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    target = _binlog_file(ctx, "a binary log file name") if ctx.options.binlog.strip() else None
    return _run(ctx, replication.flush_binary_logs, target)


@command(
    "purge-binary-logs",
    BINARY_LOGS,
    "PURGE BINARY LOGS TO --binlog, unless a replica still needs an older binary log",
    access="L",
    flags=("--binlog <file> (required)", NOOP),
    details="Every known replica is read live first; one that cannot be read refuses the purge.",
)
def purge_binary_logs(ctx: Context) -> Output:
    from orchestrator_cli.topology import replication

    if not ctx.options.binlog.strip():
        raise UsageError("expecting --binlog value (the first binary log to keep)")
    return _run(ctx, replication.purge_binary_logs, _binlog_file(ctx, "a binary log file name"))
