"""Evaluate the trained NLU model on the held-out and hard splits, per language; fail below
the bars.

Usage (from the repository root, with the app venv):
    .venvs/app/bin/python -m scripts.nlu_eval [--model var/rasa-models/current.tar.gz]
        [--out var/nlu-eval] [--split held_out hard tuning] [--errors held_out tuning]

The model parses every message of each split through its whole pipeline,
FallbackClassifier included (scripts/nlu_parse.py, in the Rasa venv), so a message the
assistant would answer with "please rephrase" counts as wrong. The splits (docs/NLU.md):
the held-out split (nlu/test/en/, nlu/test/cy/), the hard split of indirect, dialect and
code-switched messages (nlu/test/hard/), and the tuning split (nlu/test/tuning/, reported
only when asked for and never gated). Per split and language it prints each intent's
precision, recall and F1, and the intent macro-F1: the mean F1 over the intents in that
language's split (nlu_fallback is never a right answer, so it lowers recall, but it is not
itself averaged in). `report_danger` recall counts a message as caught when the model says
report_danger OR the safety net (services.conversations.safety.in_danger) fires, because
the two run side by side in the assistant and the model can never veto the net. The danger
split (nlu/test/danger/, issue 10: Welsh mutations, Welsh mixed with English, indirect
danger) is scored the same way, for danger recall only. It exits 1 below a bar (SPLITS:
macro-F1 per split and language, danger recall 1.0 on every gated split and on the danger
split).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.nlu_data import (
    LANGUAGES,
    ROOT,
    Example,
    danger_examples,
    hard_examples,
    held_out_examples,
    tuning_examples,
)
from services.conversations.safety import in_danger

RASA_PYTHON = ROOT / ".venvs" / "rasa" / "bin" / "python"
DEFAULT_MODEL = ROOT / "var" / "rasa-models" / "current.tar.gz"
DEFAULT_OUT = ROOT / "var" / "nlu-eval"

DANGER = "report_danger"
FALLBACK = "nlu_fallback"


@dataclass(frozen=True)
class Split:
    """One evaluation split: where its examples are, and the bar it is held to."""

    name: str
    title: str
    examples: Callable[[], list[Example]]
    # Intent macro-F1 per language below which the evaluation fails; empty: not gated.
    min_macro_f1: dict[str, float]
    # report_danger recall (model or safety net) below which it fails; None: not gated.
    min_danger_recall: float | None


# The bars: issue 3, item 11 for the held-out split (Welsh raised in issue 13); issue 13,
# item 5 for the hard split.
SPLITS = {
    "held_out": Split(
        "held_out",
        "held-out split (nlu/test/en, nlu/test/cy)",
        held_out_examples,
        # Welsh raised from 0.85 (issue 3) once it stood at 0.92 (issue 13).
        {"en": 0.90, "cy": 0.90},
        1.0,
    ),
    "hard": Split(
        "hard",
        "hard split: indirect, dialect, code-switched (nlu/test/hard)",
        hard_examples,
        {"en": 0.90, "cy": 0.90},
        1.0,
    ),
    "tuning": Split(
        "tuning",
        "tuning split, not gated (nlu/test/tuning)",
        tuning_examples,
        {},
        None,
    ),
}
# What `make nlu-eval` scores and gates.
GATED_SPLITS = ("held_out", "hard")
# The danger split (issue 10) is all danger: only its recall, model or net, is gated.
MIN_DANGER_RECALL = 1.0

_ENTITY = re.compile(r"\[([^\]]*)\]\{([^}]*)\}")


@dataclass(frozen=True)
class Parse:
    """What the model made of one message."""

    text: str
    intent: str
    confidence: float
    entities: tuple[tuple[str, str], ...] = ()


@dataclass
class IntentScore:
    intent: str
    support: int
    precision: float
    recall: float
    f1: float


@dataclass
class LanguageReport:
    split: str
    language: str
    examples: int
    macro_f1: float
    accuracy: float
    fallback_rate: float
    danger_recall: float  # model OR safety net
    danger_recall_model: float  # the model alone
    danger_recall_net: float  # the safety net alone
    entity_accuracy: float | None  # switch_language examples with an annotated language
    intents: list[IntentScore]
    errors: list[tuple[str, str, str, float]] = field(default_factory=list)
    danger_missed: list[str] = field(default_factory=list)

    def failures(self) -> list[str]:
        """Why this language is below its split's bar (empty when it passes)."""
        split = SPLITS[self.split]
        where = f"{self.split} {self.language}"
        reasons = []
        minimum = split.min_macro_f1.get(self.language)
        if minimum is not None and self.macro_f1 < minimum:
            reasons.append(f"{where}: intent macro-F1 {self.macro_f1:.3f} < {minimum}")
        if split.min_danger_recall is not None and self.danger_recall < split.min_danger_recall:
            reasons.append(
                f"{where}: report_danger recall {self.danger_recall:.3f} "
                f"< {split.min_danger_recall} (missed: {'; '.join(self.danger_missed)})"
            )
        return reasons


def parse_with_model(model: Path, texts: list[str], workdir: Path) -> dict[str, Parse]:
    """Parse texts with the model in the Rasa venv; results by text."""
    workdir.mkdir(parents=True, exist_ok=True)
    texts_path = workdir / "texts.json"
    parsed_path = workdir / "parsed.json"
    texts_path.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    with tempfile.TemporaryFile(mode="w+") as log:
        done = subprocess.run(
            [
                str(RASA_PYTHON),
                str(ROOT / "scripts" / "nlu_parse.py"),
                str(model),
                str(texts_path),
                str(parsed_path),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
        if done.returncode != 0:
            log.seek(0)
            raise RuntimeError(f"nlu_parse failed ({done.returncode}):\n{log.read()[-3000:]}")
    rows: list[dict[str, Any]] = json.loads(parsed_path.read_text(encoding="utf-8"))
    return {
        row["text"]: Parse(
            row["text"],
            row["intent"] or FALLBACK,
            row["confidence"],
            tuple((e["entity"], str(e["value"])) for e in row["entities"]),
        )
        for row in rows
    }


def expected_entities(annotated: str) -> tuple[tuple[str, str], ...]:
    """The (entity, value) pairs annotated in an example, in order."""
    pairs = []
    for text, attributes in _ENTITY.findall(annotated):
        spec = json.loads("{" + attributes + "}")
        pairs.append((spec["entity"], str(spec.get("value", text))))
    return tuple(pairs)


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


@dataclass
class DangerReport:
    """Danger recall on the danger split of one language: the model, the net, either."""

    language: str
    examples: int
    recall: float
    recall_model: float
    recall_net: float
    missed: list[str] = field(default_factory=list)

    def failures(self) -> list[str]:
        """Why this language's danger split is below the bar (empty when it passes)."""
        if self.recall >= MIN_DANGER_RECALL:
            return []
        return [
            f"{self.language}: danger split recall {self.recall:.3f} < {MIN_DANGER_RECALL} "
            f"(missed: {'; '.join(self.missed)})"
        ]


def score_danger(
    language: str,
    examples: list[Example],
    parses: dict[str, Parse],
    danger_net: Callable[[str], bool] = in_danger,
) -> DangerReport:
    """Recall of report_danger, the safety net, and the two together, on danger examples."""
    by_model = {e.text for e in examples if parses[e.text].intent == DANGER}
    by_net = {e.text for e in examples if danger_net(e.text)}
    missed = [e.text for e in examples if e.text not in by_model | by_net]
    return DangerReport(
        language=language,
        examples=len(examples),
        recall=_ratio(len(examples) - len(missed), len(examples)),
        recall_model=_ratio(len(by_model), len(examples)),
        recall_net=_ratio(len(by_net), len(examples)),
        missed=missed,
    )


def score_language(
    language: str,
    examples: list[Example],
    parses: dict[str, Parse],
    danger_net: Callable[[str], bool] = in_danger,
    split: str = "held_out",
) -> LanguageReport:
    """Precision, recall and F1 per intent, macro-F1, and danger recall for one language of
    one split. Ratios are 0.0 to 1.0; an example's parse is looked up by its text."""
    gold = [e.intent for e in examples]
    predicted = [parses[e.text].intent for e in examples]
    scores = []
    for intent in sorted(set(gold)):
        tp = sum(g == intent and p == intent for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != intent and p == intent for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == intent and p != intent for g, p in zip(gold, predicted, strict=True))
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        f1 = _ratio(2 * precision * recall, precision + recall)
        scores.append(IntentScore(intent, tp + fn, precision, recall, f1))

    danger = score_danger(language, [e for e in examples if e.intent == DANGER], parses, danger_net)

    with_entities = [e for e in examples if expected_entities(e.annotated)]
    entities_right = sum(
        set(expected_entities(e.annotated)) == set(parses[e.text].entities) for e in with_entities
    )
    return LanguageReport(
        split=split,
        language=language,
        examples=len(examples),
        macro_f1=_ratio(sum(s.f1 for s in scores), len(scores)),
        accuracy=_ratio(sum(g == p for g, p in zip(gold, predicted, strict=True)), len(gold)),
        fallback_rate=_ratio(sum(p == FALLBACK for p in predicted), len(predicted)),
        danger_recall=danger.recall,
        danger_recall_model=danger.recall_model,
        danger_recall_net=danger.recall_net,
        entity_accuracy=_ratio(entities_right, len(with_entities)) if with_entities else None,
        intents=scores,
        errors=[
            (e.text, e.intent, parses[e.text].intent, parses[e.text].confidence)
            for e in examples
            if parses[e.text].intent != e.intent
        ],
        danger_missed=danger.missed,
    )


Reports = dict[str, dict[str, LanguageReport]]  # split -> language -> report


def score_split(
    split: str, examples: list[Example], parses: dict[str, Parse]
) -> dict[str, LanguageReport]:
    """One split's examples scored per language."""
    return {
        language: score_language(
            language, [e for e in examples if e.language == language], parses, split=split
        )
        for language in LANGUAGES
    }


def evaluate(
    model: Path,
    workdir: Path,
    extra_texts: Iterable[str] = (),
    splits: Iterable[str] = GATED_SPLITS,
) -> tuple[Reports, dict[str, Parse]]:
    """Parse the splits (and any extra texts) with one load of the model; score each per
    language. Raises ValueError when a split repeats a text (parses are looked up by it)."""
    examples = {name: SPLITS[name].examples() for name in splits}
    for name, split_examples in examples.items():
        texts = [e.text for e in split_examples]
        duplicates = sorted({t for t in texts if texts.count(t) > 1})
        if duplicates:
            raise ValueError(f"{name}: texts must be unique across languages: {duplicates}")
    every_text = [e.text for split_examples in examples.values() for e in split_examples]
    texts = list(dict.fromkeys([*every_text, *extra_texts]))
    parses = parse_with_model(model, texts, workdir)
    reports = {name: score_split(name, found, parses) for name, found in examples.items()}
    return reports, parses


def evaluate_danger(parses: dict[str, Parse]) -> dict[str, DangerReport]:
    """Score the danger split per language, from parses that include its texts."""
    examples = danger_examples()
    return {
        language: score_danger(language, [e for e in examples if e.language == language], parses)
        for language in LANGUAGES
    }


def format_danger(reports: dict[str, DangerReport]) -> str:
    """The danger split's recall per language, and what was missed."""
    lines = ["danger split (nlu/test/danger/)  examples  recall (model | net | both)"]
    for r in reports.values():
        lines.append(
            f"{r.language:<32} {r.examples:>8}  {r.recall_model:.3f} | {r.recall_net:.3f}"
            f" | {r.recall:.3f}"
        )
        lines.extend(f"  missed: {text}" for text in r.missed)
    return "\n".join(lines)


def format_report(reports: Reports, errors_for: Iterable[str] = ()) -> str:
    """Plain-text tables, one section per split: per-language summary, then per-intent
    figures side by side; then every wrong prediction of the splits in errors_for."""
    lines: list[str] = []
    for name, by_language in reports.items():
        if lines:
            lines.append("")
        lines.append(f"== {SPLITS[name].title}")
        lines.extend(_format_split(by_language))
    for name in errors_for:
        for r in reports.get(name, {}).values():
            lines.append("")
            lines.append(
                f"{name} {r.language}: {len(r.errors)} wrong (text | expected | got | conf)"
            )
            lines.extend(f"  {t} | {g} | {p} | {c:.2f}" for t, g, p, c in r.errors)
    return "\n".join(lines)


def _format_split(reports: dict[str, LanguageReport]) -> list[str]:
    lines = [
        "language  examples  macro-F1  accuracy  fallback  danger recall "
        "(model | net | both)  language entity",
    ]
    for r in reports.values():
        entity = "-" if r.entity_accuracy is None else f"{r.entity_accuracy:.3f}"
        lines.append(
            f"{r.language:<9} {r.examples:>8}  {r.macro_f1:>8.3f}  {r.accuracy:>8.3f}  "
            f"{r.fallback_rate:>8.3f}  {r.danger_recall_model:.3f} | {r.danger_recall_net:.3f}"
            f" | {r.danger_recall:.3f}{'':>11}{entity}"
        )
    lines.append("")
    header = f"{'intent':<24}" + "".join(
        f"  {lang + ' P':>6} {lang + ' R':>6} {lang + ' F1':>6} {'n':>3}" for lang in reports
    )
    lines.append(header)
    intents = sorted({s.intent for r in reports.values() for s in r.intents})
    for intent in intents:
        row = f"{intent:<24}"
        for r in reports.values():
            found = [s for s in r.intents if s.intent == intent]
            if found:
                s = found[0]
                row += f"  {s.precision:>6.2f} {s.recall:>6.2f} {s.f1:>6.2f} {s.support:>3}"
            else:
                row += f"  {'-':>6} {'-':>6} {'-':>6} {0:>3}"
        lines.append(row)
    return lines


def summary(reports: Reports) -> dict[str, Any]:
    """The figures as JSON-friendly data (var/nlu-eval/summary.json): split -> language ->
    figures (ratios 0.0 to 1.0) and per-intent figures."""
    return {name: _split_summary(by_language) for name, by_language in reports.items()}


def _split_summary(reports: dict[str, LanguageReport]) -> dict[str, Any]:
    return {
        lang: {
            "examples": r.examples,
            "macro_f1": round(r.macro_f1, 4),
            "accuracy": round(r.accuracy, 4),
            "fallback_rate": round(r.fallback_rate, 4),
            "danger_recall": round(r.danger_recall, 4),
            "danger_recall_model": round(r.danger_recall_model, 4),
            "danger_recall_net": round(r.danger_recall_net, 4),
            "entity_accuracy": None if r.entity_accuracy is None else round(r.entity_accuracy, 4),
            "intents": {
                s.intent: {
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                    "support": s.support,
                }
                for s in r.intents
            },
        }
        for lang, r in reports.items()
    }


def failures(reports: Reports) -> list[str]:
    """Every reason a split is below its bar; empty when all pass."""
    return [
        reason
        for by_language in reports.values()
        for r in by_language.values()
        for reason in r.failures()
    ]


def bars(splits: Iterable[str]) -> str:
    """The bars of the given splits in words, for the closing line."""
    parts = []
    for name in splits:
        split = SPLITS[name]
        if not split.min_macro_f1 and split.min_danger_recall is None:
            continue
        f1 = ", ".join(f"{lang} >= {v:.2f}" for lang, v in split.min_macro_f1.items())
        parts.append(f"{name}: macro-F1 {f1}, danger recall {split.min_danger_recall}")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--split",
        nargs="+",
        choices=sorted(SPLITS),
        default=list(GATED_SPLITS),
        help="the splits to score (default: the gated ones, held_out and hard)",
    )
    parser.add_argument(
        "--errors",
        nargs="*",
        choices=sorted(SPLITS),
        default=None,
        help="list every wrong prediction of these splits (none named: all scored). The hard "
        "split's errors are for reading, never for writing training data from",
    )
    args = parser.parse_args(argv)
    if not args.model.exists():
        print(f"nlu_eval: no model at {args.model}; run `make model` first", file=sys.stderr)
        return 2
    danger_texts = [e.text for e in danger_examples()]
    reports, parses = evaluate(args.model, args.out, danger_texts, splits=args.split)
    danger = evaluate_danger(parses)
    errors_for = [] if args.errors is None else (args.errors or args.split)
    print(format_report(reports, errors_for=errors_for))
    print()
    print(format_danger(danger))
    figures = summary(reports)
    figures["danger"] = {
        language: {
            "examples": r.examples,
            "recall": round(r.recall, 4),
            "recall_model": round(r.recall_model, 4),
            "recall_net": round(r.recall_net, 4),
        }
        for language, r in danger.items()
    }
    (args.out / "summary.json").write_text(json.dumps(figures, indent=2) + "\n")
    below = failures(reports) + [reason for d in danger.values() for reason in d.failures()]
    if below:
        print("\nNLU evaluation FAILED:\n  " + "\n  ".join(below), file=sys.stderr)
        return 1
    print(f"\nNLU evaluation passed ({bars(args.split) or 'no split scored here is gated'}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
