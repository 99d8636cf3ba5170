"""The web interface of `orchestrator http`: pages and assets served beside the JSON API.

Plain HTML, CSS and JavaScript modules shipped as package data (no build step, nothing fetched from
the internet at run time). The pages read and change topologies only through the service's `/api`
routes; `router` adds the page itself, its assets, and two small JSON helpers under `/web/` for what
the API does not say: the caller's powers and the dry run of an action the UI is about to confirm.
"""

from __future__ import annotations

from orchestrator_cli.http.web.routes import router

__all__ = ["router"]
