"""Promotion rules (`candidate_database_instance`)."""

from __future__ import annotations

from orchestrator_cli.backend.connection import Backend, Row
from orchestrator_cli.model.keys import InstanceKey


def register(backend: Backend, key: InstanceKey, rule: str) -> None:
    d = backend.dialect
    backend.execute(
        d.upsert(
            "candidate_database_instance",
            {"hostname": "?", "port": "?", "promotion_rule": "?", "last_suggested": d.now()},
            ["hostname", "port"],
        ),
        (key.hostname, key.port, rule),
    )


def bulk_rules(backend: Backend) -> list[Row]:
    """Every registered rule with its expiry (works on SQLite too, unlike the original's query)."""
    d = backend.dialect
    minutes = int(backend.config.get("CandidateInstanceExpireMinutes", 60))
    return backend.query(
        f"""SELECT hostname, port, promotion_rule, last_suggested,
                   {d.add_seconds("last_suggested", str(minutes * 60))} AS promotion_rule_expiry
            FROM candidate_database_instance ORDER BY hostname, port"""
    )


def rule_of(backend: Backend, key: InstanceKey) -> str:
    """The registered promotion rule of one instance, expired or not ("" when none is registered)."""
    rules = (r for r in bulk_rules(backend) if InstanceKey(str(r["hostname"]), int(r["port"])) == key)
    return next((str(r["promotion_rule"]) for r in rules), "")


def expire(backend: Backend) -> int:
    """Delete rules not re-registered within CandidateInstanceExpireMinutes."""
    d = backend.dialect
    minutes = int(backend.config.get("CandidateInstanceExpireMinutes", 60))
    return backend.execute(
        f"DELETE FROM candidate_database_instance WHERE last_suggested < {d.seconds_ago('?')}", (minutes * 60,)
    )
