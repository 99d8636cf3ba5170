"""Who may call the API. `AuthenticationMethod: ""` (the default) lets every caller read and change.

Two FastAPI dependencies: `authenticate` guards every /api route, `require_power` every route that
changes a topology or the backend. The auth helper replaces their bodies with `basic`, `multi` and
`proxy` handling; the route modules only depend on these two names.
"""

from __future__ import annotations

from fastapi import Request


def authenticate(request: Request) -> None:
    """Accept the caller (no authentication configured)."""
    return None


def require_power(request: Request) -> None:
    """Accept the change (no authentication configured: every caller has powers)."""
    return None
