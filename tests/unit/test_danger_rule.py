"""Danger first (bot/components/danger_rule.py): report_danger wins at its own, lower bar."""

from __future__ import annotations

from bot.components.danger_rule import DANGER, promote_danger

RANKING = [("request_support", 0.46), (DANGER, 0.35), ("greet", 0.1)]


def test_danger_at_the_threshold_wins_over_the_first_choice() -> None:
    assert promote_danger("request_support", RANKING, 0.3) == (DANGER, 0.35)


def test_danger_wins_over_a_fallback_too() -> None:
    # The FallbackClassifier would have asked a frightened victim to rephrase.
    assert promote_danger("nlu_fallback", RANKING, 0.35) == (DANGER, 0.35)


def test_below_the_threshold_the_first_choice_stands() -> None:
    assert promote_danger("request_support", RANKING, 0.4) is None


def test_danger_already_first_is_left_alone() -> None:
    assert promote_danger(DANGER, [(DANGER, 0.9)], 0.3) is None


def test_no_danger_in_the_ranking_changes_nothing() -> None:
    assert promote_danger("greet", [("greet", 0.9), ("thank", 0.05)], 0.0) is None
