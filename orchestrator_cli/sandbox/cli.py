"""``orchestrator-sandbox``: start, inspect and stop a local MariaDB replication sandbox.

The servers outlive this command; ``up`` leaves a state file in the sandbox directory that ``down``,
``status``, ``pause`` and ``resume`` attach to.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from orchestrator_cli.sandbox.topology import (
    CONFIG_FILE,
    LAYOUT_NAMES,
    SQLITE_FILE,
    STATE_FILE,
    Sandbox,
    SandboxError,
    iter_sandbox_keys,
)

DIR_ENV = "ORCH_SANDBOX_DIR"

app = typer.Typer(
    help="Run a local MariaDB replication sandbox for orchestrator on 127.0.0.1.",
    no_args_is_help=True,
    add_completion=False,
)
_err = Console(stderr=True, soft_wrap=True)


def _default_dir() -> Path:
    return Path(os.environ.get(DIR_ENV) or Path(tempfile.gettempdir()) / "orchestrator-sandbox")


DirOption = Annotated[
    Path | None,
    typer.Option("--dir", help=f"Sandbox directory [default: ${DIR_ENV} or $TMPDIR/orchestrator-sandbox]"),
]


def _fail(message: str) -> typer.Exit:
    _err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code=1)


@app.command()
def up(
    servers: Annotated[int, typer.Option("--servers", "-n", min=1, help="Number of servers")] = 4,
    layout: Annotated[str, typer.Option(help=f"Topology: {', '.join(LAYOUT_NAMES)}")] = "star",
    gtid: Annotated[bool, typer.Option("--gtid/--no-gtid", help="MariaDB GTID or file:pos replication")] = True,
    directory: DirOption = None,
    base_port: Annotated[int | None, typer.Option(help="First port (default: free ports)")] = None,
) -> None:
    """Start the sandbox and write an orchestrator config for it."""
    base_dir = (directory or _default_dir()).resolve()
    if (base_dir / STATE_FILE).exists():
        try:
            previous = Sandbox.attach(base_dir)
        except (SandboxError, ValueError, KeyError) as exc:
            raise _fail(f"unreadable sandbox state in {base_dir}: {exc}") from exc
        if previous.started:
            raise _fail(f"a sandbox is already running in {base_dir}; run 'orchestrator-sandbox down' first")
        previous.stop()
    began = time.monotonic()
    try:
        sandbox = Sandbox(servers=servers, layout=layout, gtid=gtid, base_dir=base_dir, base_port=base_port)
        sandbox.start()
    except SandboxError as exc:
        raise _fail(str(exc)) from exc
    config = sandbox.write_config(base_dir / CONFIG_FILE, base_dir / SQLITE_FILE)
    elapsed = time.monotonic() - began
    mode = "GTID" if gtid else "file:pos"
    typer.echo(f"sandbox up in {elapsed:.2f}s: {servers} servers, layout {layout}, {mode}")
    for key, role in iter_sandbox_keys(sandbox):
        typer.echo(f"{key}  {role}")
    typer.echo(f"config: {config}")


@app.command()
def down(
    directory: DirOption = None,
    keep: Annotated[bool, typer.Option(help="Shut down cleanly and keep the datadirs")] = False,
) -> None:
    """Stop the sandbox recorded in the directory and remove its files."""
    base_dir = (directory or _default_dir()).resolve()
    if not (base_dir / STATE_FILE).exists():
        typer.echo(f"no sandbox in {base_dir}")
        return
    try:
        sandbox = Sandbox.attach(base_dir)
        sandbox.keep = keep
        sandbox.stop()
    except SandboxError as exc:
        raise _fail(str(exc)) from exc
    typer.echo(f"sandbox in {base_dir} stopped ({len(sandbox.servers)} servers)")


def _server_status(sandbox: Sandbox, parents: dict[int, int | None]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for server in sandbox.servers:
        row: dict[str, Any] = {"index": server.index, "key": server.key, "pid": server.pid}
        if server.index not in parents:
            row["state"] = "down" if not server.running() else "paused"
            rows.append(row)
            continue
        parent = parents[server.index]
        row["state"] = "running"
        row["master"] = None if parent is None else sandbox.key(parent)
        status = sandbox.replica_status(server.index) or {}
        row["io_running"] = status.get("Slave_IO_Running")
        row["sql_running"] = status.get("Slave_SQL_Running")
        row["using_gtid"] = status.get("Using_Gtid")
        gtid = sandbox.query(server.index, "SELECT @@GLOBAL.gtid_current_pos AS pos")[0]["pos"]
        row["gtid_current_pos"] = gtid
        rows.append(row)
    return rows


@app.command()
def status(
    directory: DirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Show each server's process and replication state."""
    base_dir = (directory or _default_dir()).resolve()
    try:
        sandbox = Sandbox.attach(base_dir)
        parents = sandbox.replication_parents()
        rows = _server_status(sandbox, parents)
    except SandboxError as exc:
        raise _fail(str(exc)) from exc
    config = base_dir / CONFIG_FILE
    if as_json:
        typer.echo(json.dumps({"dir": str(base_dir), "config": str(config), "servers": rows}, indent=2))
        return
    table = Table(title=f"sandbox {base_dir}")
    for column in ("#", "key", "pid", "state", "master", "IO", "SQL", "Using_Gtid", "gtid_current_pos"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["index"]),
            row["key"],
            str(row["pid"] or ""),
            row["state"],
            row.get("master") or ("-" if row["state"] == "running" else ""),
            row.get("io_running") or "",
            row.get("sql_running") or "",
            row.get("using_gtid") or "",
            row.get("gtid_current_pos") or "",
        )
    console = Console()
    if not console.is_terminal:
        console.width = 200
    console.print(table)
    typer.echo(f"config: {config}")


ServerArgument = Annotated[str, typer.Argument(help="Server: its index (0 = first), port, or host:port")]


def _attached_server(directory: Path | None, server: str) -> tuple[Sandbox, int]:
    base_dir = (directory or _default_dir()).resolve()
    try:
        sandbox = Sandbox.attach(base_dir)
    except (SandboxError, ValueError, KeyError) as exc:
        raise _fail(f"no usable sandbox in {base_dir}: {exc}") from exc
    text = server.strip()
    if text.isdigit() and int(text) < len(sandbox.servers):
        index = int(text)
    else:
        try:
            index = sandbox.index_of(int(text) if text.isdigit() else text)
        except (SandboxError, ValueError, IndexError):
            raise _fail(
                f"{server!r} is not a server of the sandbox in {base_dir} "
                f"(an index 0-{len(sandbox.servers) - 1}, a port or a host:port)"
            ) from None
    if not sandbox.servers[index].running():
        raise _fail(f"{sandbox.key(index)} is not running")
    return sandbox, index


@app.command()
def pause(server: ServerArgument, directory: DirOption = None) -> None:
    """SIGSTOP a server: its port stays open but it answers nothing, like a hung host."""
    sandbox, index = _attached_server(directory, server)
    sandbox.pause(index)
    typer.echo(f"{sandbox.key(index)} paused")


@app.command()
def resume(server: ServerArgument, directory: DirOption = None) -> None:
    """SIGCONT a paused server (whichever process paused it)."""
    sandbox, index = _attached_server(directory, server)
    sandbox.resume(index)
    typer.echo(f"{sandbox.key(index)} resumed")
