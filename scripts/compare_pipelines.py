"""Compare candidate NLU pipelines on the held-out and hard splits; the figures behind
config.yml.

Usage (from the repository root, with the app venv; trains one model at a time):
    .venvs/app/bin/python -m scripts.compare_pipelines [--only NAME ...]

For each candidate it trains an NLU-only model on the training data (never nlu/test/),
times the training, and scores it with scripts/nlu_eval.py's measures on the held-out, hard
and tuning splits: intent macro-F1 per language, report_danger recall (model alone, and
with the safety net), and the language entity on switch_language. It also parses a few
dozen lines of keyboard mash and reports how many the pipeline leaves to nlu_fallback or
out_of_scope rather than acting on (a pipeline that is sure about gibberish sends victims
down the wrong path). Writes var/nlu-compare/results.md (the table docs/NLU.md quotes) and
results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from bot.components.danger_rule import DANGER, promote_danger
from scripts.nlu_data import NLU_DIR, ROOT, TEST_DIR, training_files
from scripts.nlu_eval import FALLBACK, SPLITS, Parse, evaluate, score_split

OUT = ROOT / "var" / "nlu-compare"
RASA_BIN = ROOT / ".venvs" / "rasa" / "bin" / "rasa"

# Messages nobody could act on. Not a contract intent, so not in nlu/test/.
GIBBERISH = [
    "asdfgh",
    "jjjjjj",
    "kdkd lsls",
    "qwertyuiop",
    "xzxzx",
    "hhhhh",
    "fdgdfg dfg",
    "zzzz",
    "mnbvcxz",
    "blah blah blah",
    "ggggg",
    "sjdhf kdjf",
    "aaaaaaa",
    "123",
    "4567 89",
    "hjkl",
    "lkjlkj",
    "poiuy",
    "asdf asdf",
    "ewrwer",
    "vbvbvb",
    "qqq",
    "ooooo",
    "wdwdw efef",
    "bnm",
    "ptptpt",
    "rrrrr",
    "sdfsdf sdf",
    "yuyu",
    "klklkl",
]

_TOKENS: list[dict[str, Any]] = [
    {"name": "WhitespaceTokenizer"},
    # Lookup-table matches (nlu/entities.yml) as features for the entity extractor.
    {"name": "RegexFeaturizer", "case_sensitive": False, "use_word_boundaries": True},
]
_WORDS = {"name": "CountVectorsFeaturizer"}
_ENTITIES: list[dict[str, Any]] = [
    {"name": "CRFEntityExtractor"},
    {"name": "EntitySynonymMapper"},
]


def _chars(low: int, high: int) -> dict[str, Any]:
    return {
        "name": "CountVectorsFeaturizer",
        "analyzer": "char_wb",
        "min_ngram": low,
        "max_ngram": high,
    }


def _danger_first(threshold: float) -> dict[str, Any]:
    """report_danger wins at this confidence (bot/components/danger_first.py)."""
    return {"name": "bot.components.danger_first.DangerFirst", "threshold": threshold}


def _logistic() -> dict[str, Any]:
    return {"name": "LogisticRegressionClassifier", "max_iter": 100, "random_state": 42}


def _fallback(threshold: float, ambiguity: float = 0.1) -> dict[str, Any]:
    return {"name": "FallbackClassifier", "threshold": threshold, "ambiguity_threshold": ambiguity}


def _diet(epochs: int) -> dict[str, Any]:
    return {
        "name": "DIETClassifier",
        "epochs": epochs,
        "number_of_transformer_layers": 1,
        "transformer_size": 128,
        "constrain_similarities": True,
        "random_seed": 42,
    }


CANDIDATES: dict[str, list[dict[str, Any]]] = {
    # Last session's pipeline (with an entity extractor added).
    "lr-char2-4-fb0.6": [*_TOKENS, _WORDS, _chars(2, 4), _logistic(), *_ENTITIES, _fallback(0.6)],
    "lr-char2-4-fb0.4": [*_TOKENS, _WORDS, _chars(2, 4), _logistic(), *_ENTITIES, _fallback(0.4)],
    "lr-char1-5-fb0.4": [*_TOKENS, _WORDS, _chars(1, 5), _logistic(), *_ENTITIES, _fallback(0.4)],
    "lr-char2-5-fb0.3": [*_TOKENS, _WORDS, _chars(2, 5), _logistic(), *_ENTITIES, _fallback(0.3)],
    # The threshold and ambiguity picked by --sweep on lr-char2-5-fb0.3's parses.
    "lr-char2-5-fb0.35-amb0.05": [
        *_TOKENS,
        _WORDS,
        _chars(2, 5),
        _logistic(),
        *_ENTITIES,
        _fallback(0.35, 0.05),
    ],
    # Danger first (issue 13): report_danger wins at 0.3, after the fallback.
    "lr-char2-5-fb0.35-amb0.05-danger0.3": [
        *_TOKENS,
        _WORDS,
        _chars(2, 5),
        _logistic(),
        *_ENTITIES,
        _fallback(0.35, 0.05),
        _danger_first(0.3),
    ],
    # DIET kept small (one transformer layer, 40 epochs) so that it can train on 2 cores.
    "diet40-char2-4-fb0.6": [
        *_TOKENS,
        _WORDS,
        _chars(2, 4),
        _diet(40),
        {"name": "EntitySynonymMapper"},
        _fallback(0.6),
    ],
}


def training_data_dir() -> Path:
    """A copy of the training files: `rasa train nlu` takes one path, and nlu/ holds nlu/test/."""
    target = OUT / "train-data"
    shutil.rmtree(target, ignore_errors=True)
    for path in training_files():
        destination = target / path.relative_to(NLU_DIR)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
    assert not (target / TEST_DIR.name).exists()
    return target


def train(name: str, pipeline: list[dict[str, Any]], data: Path) -> tuple[Path, float]:
    """Train one candidate; the model and the wall-clock seconds it took."""
    workdir = OUT / name
    workdir.mkdir(parents=True, exist_ok=True)
    config = {"recipe": "default.v1", "language": "en", "pipeline": pipeline, "policies": []}
    config_path = workdir / "config.yml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        # Rasa's training cache would otherwise land in ./.rasa/.
        "RASA_CACHE_DIRECTORY": str(OUT / "cache"),
    }
    started = time.monotonic()
    with (workdir / "train.log").open("w") as log:
        subprocess.run(
            [
                str(RASA_BIN),
                "train",
                "nlu",
                "--config",
                str(config_path),
                "--nlu",
                str(data),
                "--out",
                str(workdir),
                "--fixed-model-name",
                "model",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )
    return workdir / "model.tar.gz", time.monotonic() - started


# Every candidate is scored on these; the figures keys are "<split>_<language>_<measure>".
MEASURED_SPLITS = ("held_out", "hard", "tuning")


def measure(name: str, pipeline: list[dict[str, Any]], data: Path) -> dict[str, Any]:
    """Train and score one candidate."""
    model, seconds = train(name, pipeline, data)
    reports, parses = evaluate(
        model, OUT / name / "eval", extra_texts=GIBBERISH, splits=MEASURED_SPLITS
    )
    left_alone = sum(parses[t].intent in (FALLBACK, "out_of_scope") for t in GIBBERISH)
    return {
        "name": name,
        "train_seconds": round(seconds, 1),
        "gibberish_left_alone": round(left_alone / len(GIBBERISH), 3),
        **{
            f"{split}_{lang}_{key}": getattr(r, key)
            for split, by_language in reports.items()
            for lang, r in by_language.items()
            for key in (
                "macro_f1",
                "fallback_rate",
                "danger_recall_model",
                "danger_recall",
                "entity_accuracy",
            )
        },
    }


# The fallback settings and danger-first thresholds --sweep tries (None: no danger rule).
SWEEP_FALLBACK = ((0.3, 0.05), (0.35, 0.05), (0.4, 0.05))
SWEEP_DANGER = (None, 0.2, 0.25, 0.3, 0.35)


def reparse(row: dict[str, Any], fallback: float, ambiguity: float, danger: float | None) -> Parse:
    """What the pipeline would have said with other fallback and danger-first settings, from
    a saved parse (top five intents of the classifier, before any fallback)."""
    ranking = [(n, c) for n, c in row["ranking"] if n != FALLBACK]
    top, confidence = ranking[0] if ranking else (FALLBACK, 0.0)
    second = ranking[1][1] if len(ranking) > 1 else 0.0
    if confidence < fallback or confidence - second < ambiguity:
        top = FALLBACK
    if danger is not None and (promoted := promote_danger(top, ranking, danger)) is not None:
        top, confidence = promoted
    entities = tuple((e["entity"], str(e["value"])) for e in row["entities"])
    return Parse(row["text"], top, confidence, entities)


def sweep(name: str) -> str:
    """Re-score a trained candidate's saved parses at other fallback and danger-first settings.

    The FallbackClassifier and the danger-first rule only relabel the classifier's ranking,
    so they can be tried without training again: from var/nlu-compare/<name>/eval/parsed.json.
    "false danger" counts messages of other intents (and mash) that would get 999 guidance.
    """
    rows = json.loads((OUT / name / "eval" / "parsed.json").read_text(encoding="utf-8"))
    examples = {split: SPLITS[split].examples() for split in MEASURED_SPLITS}
    lines = [
        "| fallback | ambiguity | danger first | macro-F1 held-out en / cy | hard en / cy | "
        "tuning en / cy | danger recall with net held-out | hard | tuning | "
        "false danger held-out / hard / tuning / mash | mash left alone |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for fallback, ambiguity in SWEEP_FALLBACK:
        for danger in SWEEP_DANGER:
            parses = {row["text"]: reparse(row, fallback, ambiguity, danger) for row in rows}
            reports = {
                split: score_split(split, found, parses) for split, found in examples.items()
            }
            f1 = {s: f"{r['en'].macro_f1:.3f} / {r['cy'].macro_f1:.3f}" for s, r in reports.items()}
            recall = {
                s: f"{r['en'].danger_recall:.2f} / {r['cy'].danger_recall:.2f}"
                for s, r in reports.items()
            }
            false = [
                sum(parses[e.text].intent == DANGER and e.intent != DANGER for e in found)
                for found in examples.values()
            ]
            false.append(sum(parses[t].intent == DANGER for t in GIBBERISH))
            left = sum(parses[t].intent in (FALLBACK, "out_of_scope") for t in GIBBERISH)
            lines.append(
                f"| {fallback} | {ambiguity} | {danger or '-'} | {f1['held_out']} | {f1['hard']} "
                f"| {f1['tuning']} | {recall['held_out']} | {recall['hard']} | {recall['tuning']}"
                f" | {' / '.join(map(str, false))} | {left / len(GIBBERISH):.2f} |"
            )
    return "\n".join(lines)


def _pair(row: dict[str, Any], split: str, key: str, digits: int = 3) -> str:
    """English / Welsh figures of one measure, "-" where a row lacks it."""
    values = [row.get(f"{split}_{lang}_{key}") for lang in ("en", "cy")]
    return " / ".join("-" if v is None else f"{v:.{digits}f}" for v in values)


def table(rows: list[dict[str, Any]]) -> str:
    """The comparison as a Markdown table: macro-F1 and danger recall (with the net) per
    split, en / cy; the model's own danger recall and fallback share on the hard split."""
    lines = [
        "| pipeline | train s | macro-F1 held-out | macro-F1 hard | macro-F1 tuning | "
        "danger with net held-out | hard | danger model alone held-out | hard | "
        "fallback hard | language entity held-out | gibberish left alone |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['train_seconds']:.0f} | {_pair(r, 'held_out', 'macro_f1')} | "
            f"{_pair(r, 'hard', 'macro_f1')} | {_pair(r, 'tuning', 'macro_f1')} | "
            f"{_pair(r, 'held_out', 'danger_recall', 2)} | {_pair(r, 'hard', 'danger_recall', 2)}"
            f" | {_pair(r, 'held_out', 'danger_recall_model', 2)} | "
            f"{_pair(r, 'hard', 'danger_recall_model', 2)} | "
            f"{_pair(r, 'hard', 'fallback_rate', 2)} | "
            f"{_pair(r, 'held_out', 'entity_accuracy', 2)} | {r['gibberish_left_alone']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(CANDIDATES), default=None)
    parser.add_argument(
        "--sweep", choices=sorted(CANDIDATES), help="re-score a trained candidate's parses"
    )
    args = parser.parse_args(argv)
    if args.sweep:
        print(sweep(args.sweep))
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    data = training_data_dir()
    results_path = OUT / "results.json"
    previous = json.loads(results_path.read_text()) if results_path.exists() else {}
    for name in args.only or list(CANDIDATES):
        print(f"==> {name}", flush=True)
        previous[name] = measure(name, CANDIDATES[name], data)
        print(json.dumps(previous[name]), flush=True)
        results_path.write_text(json.dumps(previous, indent=2) + "\n")
    rows = [previous[name] for name in CANDIDATES if name in previous]
    (OUT / "results.md").write_text(table(rows) + "\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
