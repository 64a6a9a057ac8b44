"""The NLU examples in nlu/, by language: one reader for the evaluation, the pipeline
comparison and the data tests.

Layout: training data in nlu/en/ and nlu/cy/, plus language-neutral files at the top of
nlu/ (nlu/entities.yml; the dialogue's own keywords in nlu/dialogue_seed.yml, whose
examples count as language "any"). Under nlu/test/, which training never reads
(scripts/train_model.sh and the Makefile leave it out), the splits that are not trained on:

- the held-out split, nlu/test/en/ and nlu/test/cy/;
- the hard split, nlu/test/hard/en/ and nlu/test/hard/cy/: indirect, colloquial, dialect
  and code-switched messages, written before any model's errors on them were seen and
  never tuned on (issue 13);
- the tuning split, nlu/test/tuning/en/ and nlu/test/tuning/cy/: messages like the hard
  ones that training data and settings may be tuned against, so that the other two stay
  unseen;
- the danger split, nlu/test/danger/en/ and nlu/test/danger/cy/: held-out danger messages
  of the kinds the safety net must catch (issue 10); every one is danger.

An example's language is the folder it sits in.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
NLU_DIR = ROOT / "nlu"
TEST_DIR = NLU_DIR / "test"
HARD_DIR = TEST_DIR / "hard"
TUNING_DIR = TEST_DIR / "tuning"
DANGER_DIR = TEST_DIR / "danger"
LANGUAGES = ("en", "cy")
ANY_LANGUAGE = "any"  # examples in files at the top of nlu/

# The contract (issue 3): evaluations use these names.
CONTRACT_INTENTS = (
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "bot_challenge",
    "out_of_scope",
    "request_update",
    "request_support",
    "start_needs_assessment",
    "talk_to_officer",
    "report_danger",
    "report_new_crime",
    "ask_rights",
    "make_complaint",
    "change_preferences",
    "switch_language",
    "opt_out",
)

# [text]{"entity": ...} or [text](entity): Rasa's inline entity annotations.
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\{[^}]*\}|\([^)]*\))")
_NOT_WORD = re.compile(r"[^\w\s]+")


@dataclass(frozen=True)
class Example:
    """One training or held-out example."""

    text: str  # as the victim would type it, annotations removed
    annotated: str  # as written in the file
    intent: str
    language: str
    path: Path


def plain_text(annotated: str) -> str:
    """The message text without Rasa's entity annotations."""
    return _ANNOTATION.sub(r"\1", annotated)


def normalise(text: str) -> str:
    """Case, punctuation and spacing folded, so near-identical lines compare equal.

    Hyphens and apostrophes go too ("ta-ta" is "tata"); accents stay, because in Welsh
    they change the word.
    """
    folded = unicodedata.normalize("NFC", plain_text(text)).casefold()
    return " ".join(_NOT_WORD.sub("", folded).split())


def read_examples(path: Path, language: str) -> list[Example]:
    """The intent examples of one Rasa NLU YAML file."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples = []
    for block in document.get("nlu", []):
        if "intent" not in block:
            continue  # lookup tables, synonyms, regexes
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                annotated = line[2:].strip()
                examples.append(
                    Example(plain_text(annotated), annotated, block["intent"], language, path)
                )
    return examples


def examples_in(folder: Path) -> list[Example]:
    """Every example under folder/<language>/, for each language."""
    examples = []
    for language in LANGUAGES:
        for path in sorted((folder / language).glob("*.yml")):
            examples.extend(read_examples(path, language))
    return examples


def training_examples() -> list[Example]:
    """The training examples: by language (nlu/en/, nlu/cy/), then language-neutral ones."""
    neutral = [
        example
        for path in sorted(NLU_DIR.glob("*.yml"))
        for example in read_examples(path, ANY_LANGUAGE)
    ]
    return examples_in(NLU_DIR) + neutral


def held_out_examples() -> list[Example]:
    """The held-out evaluation examples (nlu/test/en/, nlu/test/cy/)."""
    return examples_in(TEST_DIR)


def hard_examples() -> list[Example]:
    """The hard split (nlu/test/hard/en/, nlu/test/hard/cy/)."""
    return examples_in(HARD_DIR)


def tuning_examples() -> list[Example]:
    """The tuning split (nlu/test/tuning/en/, nlu/test/tuning/cy/)."""
    return examples_in(TUNING_DIR)


def danger_examples() -> list[Example]:
    """The danger split (nlu/test/danger/en/, nlu/test/danger/cy/): every one is danger."""
    return examples_in(DANGER_DIR)


def training_files() -> list[Path]:
    """Every NLU training file: what `rasa train` is given, never nlu/test/."""
    return sorted(p for p in NLU_DIR.rglob("*.yml") if TEST_DIR not in p.parents)
