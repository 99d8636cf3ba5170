"""The ``sandbox.json`` state file: what another process needs to attach to a running sandbox.

``orchestrator-sandbox up`` exits while its servers keep running; ``down`` and ``status`` find
them again through this file (ports, pids, paths, and which servers were paused: `pause` and
`resume` may run in different processes).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator_cli.sandbox.errors import SandboxError
from orchestrator_cli.sandbox.process import Server
from orchestrator_cli.sandbox.settings import STATE_FILE

_VERSION = 1


@dataclass(frozen=True)
class SavedState:
    """Everything the state file records, typed."""

    base_dir: Path
    owns_base_dir: bool
    template_dir: Path
    layout: list[int | None]
    gtid: bool
    keep: bool
    mariadbd: str | None
    servers: Sequence[Server]

    def write(self) -> Path:
        """Write the state file atomically (a reader never sees half of it); returns its path."""
        document: dict[str, Any] = {
            "version": _VERSION,
            "base_dir": str(self.base_dir),
            "owns_base_dir": self.owns_base_dir,
            "template_dir": str(self.template_dir),
            "layout": self.layout,
            "gtid": self.gtid,
            "keep": self.keep,
            "mariadbd": self.mariadbd,
            "servers": [
                {
                    "index": s.index,
                    "port": s.port,
                    "server_id": s.server_id,
                    "directory": str(s.directory),
                    "socket": str(s.socket_path),
                    "pid": s.pid,
                    "paused": s.paused,
                    "key": s.key,
                }
                for s in self.servers
            ],
        }
        path = state_path(self.base_dir)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(document, indent=2) + "\n")
        tmp.replace(path)
        return path

    @classmethod
    def read(cls, base_dir: str | Path) -> SavedState:
        """Load the state file of the sandbox in ``base_dir``.

        Raises :class:`SandboxError` when there is none; a malformed file raises ``ValueError`` or
        ``KeyError``, which the CLI reports as unreadable.
        """
        path = state_path(Path(base_dir).resolve())
        try:
            document = json.loads(path.read_text())
        except FileNotFoundError as exc:
            raise SandboxError(f"no sandbox state in {path.parent}") from exc
        return cls(
            base_dir=Path(document["base_dir"]),
            owns_base_dir=bool(document.get("owns_base_dir", False)),
            template_dir=Path(document["template_dir"]),
            layout=list(document["layout"]),
            gtid=bool(document["gtid"]),
            keep=bool(document.get("keep", False)),
            mariadbd=document.get("mariadbd"),
            servers=[
                Server(
                    index=entry["index"],
                    port=entry["port"],
                    server_id=entry["server_id"],
                    directory=Path(entry["directory"]),
                    socket_path=Path(entry["socket"]),
                    pid=entry.get("pid"),
                    paused=bool(entry.get("paused", False)),
                )
                for entry in document["servers"]
            ],
        )


def state_path(base_dir: Path) -> Path:
    return base_dir / STATE_FILE
