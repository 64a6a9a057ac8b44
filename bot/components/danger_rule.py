"""Danger first: act on report_danger when the model gives it a fair chance, not only when
it is the model's first choice.

A missed cry for help is the worst failure this service can have; a false alarm costs the
victim a 999 reminder and an officer a look (DEVELOPERS.md, "Danger words"). So the bar for
report_danger is lower than for any other intent: when its confidence reaches the threshold
it wins, whatever came first, and even when the FallbackClassifier would have asked the
victim to rephrase. The threshold was chosen by measurement (docs/NLU.md, "Danger first").
"""

from __future__ import annotations

DANGER = "report_danger"


def promote_danger(
    intent: str, ranking: list[tuple[str, float]], threshold: float
) -> tuple[str, float] | None:
    """The (intent, confidence) to act on instead of `intent`, or None to keep it.

    ranking: the classifier's (intent, confidence) pairs, confidences 0.0 to 1.0;
    nlu_fallback in it is ignored. threshold: report_danger's confidence that wins.
    """
    if intent == DANGER:
        return None
    for name, confidence in ranking:
        if name == DANGER and confidence >= threshold:
            return DANGER, confidence
    return None
