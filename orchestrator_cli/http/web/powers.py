"""What the caller may do, as the service's auth module decides it, for the pages to show or hide controls.

Hiding controls is a courtesy: the API refuses a read-only caller's changes whatever the page shows.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from orchestrator_cli.http import auth


def caller_powers(request: Request) -> dict[str, Any]:
    """`{"User", "CanWrite", "AuthenticationMethod"}` for the request's caller (401 without credentials)."""
    auth.authenticate(request)
    caller = auth.caller_of(request)
    return {
        "User": caller.user,
        "CanWrite": caller.powerful,
        "AuthenticationMethod": auth.method_of(request.app.state.config),
    }


def require_changes(request: Request) -> None:
    """Dry runs are the first step of a change: only callers who may change things get them."""
    auth.require_power(request)
