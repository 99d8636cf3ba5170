"""`URLPrefix`: the service answers only below `/prefix/` (the API, `/metrics`, health routes, the web UI).

A reverse proxy that forwards `https://tools.example/orchestrator/...` unchanged needs the service to
answer at `/orchestrator/api/...`. The middleware keeps the full path and names the prefix as the ASGI
`root_path`, which is how Starlette's routing, `request.url` and the API docs page find their way: the
routes themselves are declared without the prefix. The web page's addresses are relative, so it works
below any prefix once it is loaded as `/prefix/` (the bare `/prefix` is redirected there).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send


def url_prefix(config: Mapping[str, Any]) -> str:
    """`URLPrefix` normalized to `/prefix` ("" when unset), as the original normalizes it.

    >>> url_prefix({"URLPrefix": "orc/"}), url_prefix({"URLPrefix": "/a/b"}), url_prefix({"URLPrefix": "/"})
    ('/orc', '/a/b', '')
    """
    text = str(config.get("URLPrefix") or "").strip().strip("/")
    return f"/{text}" if text else ""


class UnderPrefix:
    """Outermost middleware: serve `prefix/...` with `root_path` set; answer 404 elsewhere."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.prefix:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(self.prefix + "/"):
            await self.app({**scope, "root_path": scope.get("root_path", "") + self.prefix}, receive, send)
            return
        if scope["type"] == "http" and path == self.prefix:
            query = scope.get("query_string", b"").decode("latin-1")
            target = self.prefix + "/" + (f"?{query}" if query else "")
            await _answer(send, 308, b"", [(b"location", target.encode("latin-1"))])
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            message = f"Unknown path: {path} (this service is served below URLPrefix {self.prefix}/)"
            body = json.dumps({"Code": "ERROR", "Message": message, "Details": None}).encode()
            await _answer(send, 404, body, [(b"content-type", b"application/json")])


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
