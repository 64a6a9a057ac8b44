"""The NLU evaluation's scoring and its bars (scripts/nlu_eval.py), on made-up parses.

Pure logic: the real model is scored by `make nlu-eval`; these check that the figures are
counted as docs/NLU.md says and that a split below its bar fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.nlu_data import CONTRACT_INTENTS, Example
from scripts.nlu_eval import (
    DANGER,
    FALLBACK,
    GATED_SPLITS,
    SPLITS,
    Parse,
    failures,
    score_language,
    score_split,
)


def _examples(language: str, rows: list[tuple[str, str]]) -> list[Example]:
    return [Example(text, text, intent, language, Path("x.yml")) for text, intent in rows]


def _parses(rows: dict[str, str]) -> dict[str, Parse]:
    return {text: Parse(text, intent, 0.9) for text, intent in rows.items()}


def _never(_: str) -> bool:
    return False


def test_make_nlu_eval_gates_the_held_out_and_the_hard_splits() -> None:
    assert GATED_SPLITS == ("held_out", "hard")
    # Issue 13: the hard split's bar is 0.90 in both languages, danger recall 1.0.
    assert SPLITS["hard"].min_macro_f1["en"] >= 0.90
    assert SPLITS["hard"].min_macro_f1["cy"] >= 0.90
    assert SPLITS["hard"].min_danger_recall == 1.0
    # Issue 3 set the held-out bar at 0.90 English, 0.85 Welsh; issue 13 raised Welsh to 0.90.
    assert SPLITS["held_out"].min_macro_f1["en"] >= 0.90
    assert SPLITS["held_out"].min_macro_f1["cy"] >= 0.90
    assert SPLITS["held_out"].min_danger_recall == 1.0


def test_macro_f1_is_the_mean_over_intents_and_fallback_counts_as_wrong() -> None:
    examples = _examples("en", [("a1", "greet"), ("a2", "greet"), ("b1", "thank"), ("b2", "thank")])
    parses = _parses({"a1": "greet", "a2": FALLBACK, "b1": "thank", "b2": "greet"})
    report = score_language("en", examples, parses, danger_net=_never)
    by_intent = {s.intent: s for s in report.intents}
    # greet: 1 right of 2, and 1 of 2 said greet wrongly; thank: 1 of 2, never wrongly.
    assert (by_intent["greet"].precision, by_intent["greet"].recall) == (0.5, 0.5)
    assert (by_intent["thank"].precision, by_intent["thank"].recall) == (1.0, 0.5)
    assert report.macro_f1 == pytest.approx((0.5 + 2 / 3) / 2)
    assert report.fallback_rate == 0.25
    assert [e[0] for e in report.errors] == ["a2", "b2"]


def test_danger_is_caught_by_the_model_or_the_net() -> None:
    examples = _examples("cy", [("d1", DANGER), ("d2", DANGER), ("d3", DANGER)])
    parses = _parses({"d1": DANGER, "d2": "greet", "d3": "greet"})
    report = score_language("cy", examples, parses, danger_net=lambda text: text == "d2")
    assert report.danger_recall_model == pytest.approx(1 / 3)
    assert report.danger_recall_net == pytest.approx(1 / 3)
    assert report.danger_recall == pytest.approx(2 / 3)
    assert report.danger_missed == ["d3"]


@pytest.mark.parametrize("split", ["held_out", "hard"])
def test_a_gated_split_below_its_bar_fails_and_one_at_it_passes(split: str) -> None:
    # Ten examples per intent: all right passes; seven right (the rest fall back) gives
    # F1 0.82 for every intent, below every bar.
    rows = [(f"{intent}-{i}", intent) for intent in CONTRACT_INTENTS for i in range(10)]
    examples = _examples("en", rows) + _examples(
        "cy", [(f"cy-{text}", intent) for text, intent in rows]
    )

    def parses(right: int) -> dict[str, Parse]:
        return _parses(
            {
                e.text: e.intent if int(e.text.rsplit("-", 1)[1]) < right else FALLBACK
                for e in examples
            }
        )

    good = score_split(split, examples, parses(10))
    assert failures({split: good}) == []
    # Danger caught by nobody: fails on recall alone, whatever the macro-F1.
    one_missed = parses(10) | {"report_danger-0": Parse("report_danger-0", "greet", 0.9)}
    missed = score_split(split, examples, one_missed)
    assert any("en: report_danger recall" in reason for reason in failures({split: missed}))
    weak = score_split(split, examples, parses(7))
    reasons = failures({split: weak})
    assert any(reason.startswith(f"{split} en: intent macro-F1") for reason in reasons)
    assert any(reason.startswith(f"{split} cy: intent macro-F1") for reason in reasons)


def test_the_tuning_split_is_reported_but_never_gated() -> None:
    examples = _examples("en", [("t1", "greet"), ("t2", DANGER)])
    weak = score_split("tuning", examples, _parses({"t1": FALLBACK, "t2": "greet"}))
    assert failures({"tuning": weak}) == []
