"""Promotion rules, best first; the order drives candidate choice in recovery."""

from __future__ import annotations

RULES_BEST_FIRST = ("must", "prefer", "neutral", "prefer_not", "must_not")
CLI_RULES = ("prefer", "neutral", "prefer_not", "must_not")


def parse_promotion_rule(text: str) -> str:
    """Validate a rule given on the command line (`must` is stored by others but not accepted here)."""
    rule = text.strip()
    if rule not in CLI_RULES:
        raise ValueError(f"unknown promotion rule {text!r}: expected one of {', '.join(CLI_RULES)}")
    return rule


def rule_rank(rule: str | None) -> int:
    """Lower is better; an unknown or empty stored rule counts as neutral."""
    try:
        return RULES_BEST_FIRST.index(rule or "neutral")
    except ValueError:
        return RULES_BEST_FIRST.index("neutral")
