"""Registrations a probe keeps current (cluster alias, domain, promotion rule): whether the backend's
row already says what the probe would write."""

from __future__ import annotations

# A registration (cluster alias, domain, promotion rule) already current is written again once it is
# this old: its expiry (the original's leader deletes cluster_alias and cluster_domain_name rows not
# refreshed for an hour or more, `candidates.expire` after CandidateInstanceExpireMinutes) stays far off,
# while a probe every InstancePollSeconds writes only its instance row.
REFRESH_SECONDS = 60


class Registered:
    """A registration row as the backend holds it: its value, and whether it was written recently."""

    __slots__ = ("fresh", "value")

    def __init__(self, value: str | None, fresh: bool) -> None:
        self.value = value  # None: no row
        self.fresh = fresh

    def current(self, value: str) -> bool:
        """True when writing `value` again would change nothing but a recent timestamp."""
        return self.value == value and self.fresh
