"""Promotion rules: what `--promotion-rule` accepts, and the best-first order recovery sorts candidates by."""

from __future__ import annotations

import pytest

from orchestrator_cli.model.promotion import CLI_RULES, RULES_BEST_FIRST, parse_promotion_rule, rule_rank


@pytest.mark.parametrize("rule", ["prefer", "neutral", "prefer_not", "must_not", " prefer "])
def test_cli_accepts_the_four_rules(rule: str) -> None:
    assert parse_promotion_rule(rule) == rule.strip()


@pytest.mark.parametrize("rule", ["must", "", "PREFER", "prefer-not", "preferred", "mustnot", "neutral,prefer"])
def test_cli_refuses_others(rule: str) -> None:
    with pytest.raises(ValueError, match="expected one of prefer, neutral, prefer_not, must_not"):
        parse_promotion_rule(rule)


def test_must_is_stored_by_others_and_ranks_best() -> None:
    assert "must" not in CLI_RULES
    assert RULES_BEST_FIRST[0] == "must"
    ranked = sorted(["must_not", "neutral", "prefer", "must", "prefer_not"], key=rule_rank)
    assert ranked == ["must", "prefer", "neutral", "prefer_not", "must_not"]


@pytest.mark.parametrize("stored", [None, "", "garbage"])
def test_missing_or_unknown_stored_rule_counts_as_neutral(stored: str | None) -> None:
    assert rule_rank(stored) == rule_rank("neutral")
