"""Driving a simulator that runs in another process: JSON lines over a loopback TCP port.

Each request is one line ``{"op": ..., "port": ..., ...}``; each answer one line ``{"ok": true,
"result": ...}`` or ``{"ok": false, "error": ...}``. `SimClient` offers the same fault methods as
`FleetSimulator`, so a benchmark drives either the same way.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

from bench.fleet_sim.server import FleetSimulator


async def serve_control(sim: FleetSimulator, port: int) -> asyncio.Server:
    """Answer control requests on 127.0.0.1:`port`, on the simulator's own loop."""

    async def run(request: dict[str, Any]) -> Any:
        op, target = request.get("op"), request.get("port", 0)
        if op == "kill":
            return await sim._kill(int(target))  # noqa: SLF001 (the loop's own side of kill())
        if op == "revive":
            return await sim._revive(int(target))
        if op == "hang":
            return await sim._hang(int(target))
        if op == "lag":
            return sim.set_lag(int(target), int(request["seconds"]))
        if op == "stop_thread":
            return sim.stop_thread(int(target), str(request.get("thread", "both")))
        if op == "start_threads":
            return sim.start_threads(int(target))
        if op == "describe":
            return sim.describe(int(target))
        if op == "stats":
            return sim.stats()
        if op == "ports":
            return sim.fleet.ports()
        if op == "masters":
            return [s.port for s in sim.fleet.masters()]
        if op == "shutdown":
            sim.loop.call_soon(sim._stop.set)  # type: ignore[union-attr]
            return None
        raise ValueError(f"unknown op {op!r}")

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    answer = {"ok": True, "result": await run(json.loads(line))}
                except Exception as e:  # reported to the client, the control port stays up
                    answer = {"ok": False, "error": f"{type(e).__name__}: {e}"}
                writer.write((json.dumps(answer) + "\n").encode())
                await writer.drain()
        finally:
            writer.close()

    return await asyncio.start_server(client, host="127.0.0.1", port=port)


class SimClient:
    """The control port of a simulator process."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 60.0) -> None:
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._file = self._sock.makefile("rwb")

    def call(self, op: str, **args: Any) -> Any:
        self._file.write((json.dumps({"op": op, **args}) + "\n").encode())
        self._file.flush()
        line = self._file.readline()
        if not line:
            raise ConnectionError("simulator control port closed")
        answer = json.loads(line)
        if not answer["ok"]:
            raise RuntimeError(f"simulator: {answer['error']}")
        return answer["result"]

    def kill(self, port: int) -> None:
        self.call("kill", port=port)

    def revive(self, port: int) -> None:
        self.call("revive", port=port)

    def hang(self, port: int) -> None:
        self.call("hang", port=port)

    def set_lag(self, port: int, seconds: int) -> None:
        self.call("lag", port=port, seconds=seconds)

    def stop_thread(self, port: int, thread: str) -> None:
        self.call("stop_thread", port=port, thread=thread)

    def start_threads(self, port: int) -> None:
        self.call("start_threads", port=port)

    def describe(self, port: int) -> dict[str, Any]:
        result: dict[str, Any] = self.call("describe", port=port)
        return result

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.call("stats")
        return result

    def close(self) -> None:
        self._file.close()
        self._sock.close()
