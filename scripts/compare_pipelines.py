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


def sweep(name: str) -> str:
    """Re-score a trained candidate's saved parses at other fallback settings.

    The FallbackClassifier only relabels the classifier's top intent, so its threshold and
    ambiguity threshold can be tried without training again: from the ranking in
    var/nlu-compare/<name>/eval/parsed.json (top five intents, before any fallback).
    """
    rows = json.loads((OUT / name / "eval" / "parsed.json").read_text(encoding="utf-8"))
    examples = {split: SPLITS[split].examples() for split in MEASURED_SPLITS}
    lines = [
        "| threshold | ambiguity | macro-F1 held-out en / cy | hard en / cy | tuning en / cy | "
        "danger recall held-out en / cy | hard en / cy | gibberish left alone | "
        "gibberish as affirm |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for threshold in (0.25, 0.3, 0.35, 0.4, 0.5):
        for ambiguity in (0.0, 0.05, 0.1):
            parses = {}
            for row in rows:
                ranking = [r for r in row["ranking"] if r[0] != FALLBACK]
                top, confidence = ranking[0] if ranking else (FALLBACK, 0.0)
                second = ranking[1][1] if len(ranking) > 1 else 0.0
                if confidence < threshold or confidence - second < ambiguity:
                    top = FALLBACK
                entities = tuple((e["entity"], str(e["value"])) for e in row["entities"])
                parses[row["text"]] = Parse(row["text"], top, confidence, entities)
            reports = {
                split: score_split(split, found, parses) for split, found in examples.items()
            }
            left = sum(parses[t].intent in (FALLBACK, "out_of_scope") for t in GIBBERISH)
            affirm = sum(parses[t].intent == "affirm" for t in GIBBERISH)
            f1 = {s: f"{r['en'].macro_f1:.3f} / {r['cy'].macro_f1:.3f}" for s, r in reports.items()}
            danger = {
                s: f"{r['en'].danger_recall:.2f} / {r['cy'].danger_recall:.2f}"
                for s, r in reports.items()
            }
            lines.append(
                f"| {threshold} | {ambiguity} | {f1['held_out']} | {f1['hard']} | "
                f"{f1['tuning']} | {danger['held_out']} | {danger['hard']} | "
                f"{left / len(GIBBERISH):.2f} | {affirm}/{len(GIBBERISH)} |"
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
