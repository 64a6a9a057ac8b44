"""The NLU data itself, checked without training: coverage, the held-out and hard splits,
Welsh."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
import yaml

from scripts.nlu_data import (
    CONTRACT_INTENTS,
    DANGER_DIR,
    HARD_DIR,
    LANGUAGES,
    NLU_DIR,
    ROOT,
    TEST_DIR,
    TUNING_DIR,
    Example,
    danger_examples,
    hard_examples,
    held_out_examples,
    normalise,
    read_examples,
    training_examples,
    training_files,
    tuning_examples,
)
from scripts.nlu_eval import expected_entities

MIN_HELD_OUT_PER_INTENT = 25
MIN_HARD_PER_INTENT = 15

# The field's misreadings (issue 13), word for word: they belong to the hard split, so the
# model is judged on them without ever having been shown them.
FIELD_MISREADINGS = {
    "have they caught him yet": "request_update",
    "has someone been arrested": "request_update",
    "when does it go to court": "request_update",
    "nobody has bothered to contact me in weeks": "make_complaint",
}

# Welsh words that are wrong without their accent, as they would be written without it.
# (Words such as "a"/"â" or "gan"/"gân" are left out: both spellings are real words.)
WELSH_NEEDS_ACCENT = {
    "ol": "ôl",
    "nol": "nôl",
    "rwan": "rŵan",
    "siwr": "siŵr",
    "gwr": "gŵr",
    "ffon": "ffôn",
    "mechniaeth": "mechnïaeth",
    "fechniaeth": "fechnïaeth",
    "dilewch": "dilëwch",
    "gret": "grêt",
    "gem": "gêm",
    "joc": "jôc",
    "tren": "trên",
    "pel": "pêl",
    "son": "sôn",
    "swn": "sŵn",
    "dwr": "dŵr",
}


@pytest.fixture(scope="module")
def training() -> list[Example]:
    return training_examples()


@pytest.fixture(scope="module")
def held_out() -> list[Example]:
    return held_out_examples()


@pytest.fixture(scope="module")
def hard() -> list[Example]:
    return hard_examples()


@pytest.fixture(scope="module")
def tuning() -> list[Example]:
    return tuning_examples()


def _by_language_and_intent(examples: list[Example]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for example in examples:
        counts[(example.language, example.intent)] += 1
    return counts


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_contract_intent_has_training_examples_in_each_language(
    training: list[Example], language: str
) -> None:
    counts = _by_language_and_intent(training)
    thin = {i: counts[(language, i)] for i in CONTRACT_INTENTS if counts[(language, i)] < 15}
    assert thin == {}, f"{language}: intents with fewer than 15 training examples"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_contract_intent_has_held_out_examples_in_each_language(
    held_out: list[Example], language: str
) -> None:
    counts = _by_language_and_intent(held_out)
    thin = {
        i: counts[(language, i)]
        for i in CONTRACT_INTENTS
        if counts[(language, i)] < MIN_HELD_OUT_PER_INTENT
    }
    assert thin == {}, f"{language}: held-out intents below {MIN_HELD_OUT_PER_INTENT} examples"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_contract_intent_has_hard_examples_in_each_language(
    hard: list[Example], language: str
) -> None:
    counts = _by_language_and_intent(hard)
    thin = {
        i: counts[(language, i)]
        for i in CONTRACT_INTENTS
        if counts[(language, i)] < MIN_HARD_PER_INTENT
    }
    assert thin == {}, f"{language}: hard intents below {MIN_HARD_PER_INTENT} examples"


def test_the_field_misreadings_are_in_the_hard_split(hard: list[Example]) -> None:
    english = {e.text: e.intent for e in hard if e.language == "en"}
    assert {text: english.get(text) for text in FIELD_MISREADINGS} == FIELD_MISREADINGS


def test_the_data_uses_only_contract_intents_and_those_the_domain_declares(
    training: list[Example], held_out: list[Example], hard: list[Example]
) -> None:
    domain = yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
    declared = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    used = {e.intent for e in training + held_out + hard}
    assert set(CONTRACT_INTENTS) <= used
    assert used - declared == set(), "intents in nlu/ that bot/domain.yml does not declare"


def test_no_held_out_line_is_in_the_training_data(
    training: list[Example], held_out: list[Example]
) -> None:
    trained = {normalise(e.text): e for e in training}
    leaked = [
        f"{e.path.relative_to(ROOT)}: {e.text!r} ~ {trained[normalise(e.text)].text!r}"
        for e in held_out
        if normalise(e.text) in trained
    ]
    assert leaked == []


def test_no_hard_line_is_in_the_training_data_or_the_held_out_split(
    training: list[Example], held_out: list[Example], hard: list[Example]
) -> None:
    # The hard split measures what the model makes of wording it was never shown: a line
    # copied (or nearly) into training, or shared with the held-out split, would be
    # counted twice or learnt by heart.
    seen = {normalise(e.text): e for e in training + held_out}
    leaked = [
        f"{e.path.relative_to(ROOT)}: {e.text!r} ~ {seen[normalise(e.text)].path.relative_to(ROOT)}"
        for e in hard
        if normalise(e.text) in seen
    ]
    assert leaked == []


def test_no_tuning_line_is_in_any_other_split(
    training: list[Example], held_out: list[Example], hard: list[Example], tuning: list[Example]
) -> None:
    # Tuning against a line that is also held out would tune on the held-out split.
    seen = {normalise(e.text) for e in training + held_out + hard}
    assert [e.text for e in tuning if normalise(e.text) in seen] == []


@pytest.mark.parametrize("which", ["held_out", "hard", "tuning"])
def test_evaluation_texts_are_unique(
    held_out: list[Example], hard: list[Example], tuning: list[Example], which: str
) -> None:
    # The evaluation looks predictions up by text, and splits them by language.
    examples = {"held_out": held_out, "hard": hard, "tuning": tuning}[which]
    seen: dict[str, Example] = {}
    repeated = []
    for example in examples:
        if normalise(example.text) in seen:
            repeated.append(example.text)
        seen[normalise(example.text)] = example
    assert repeated == []


def test_no_training_line_has_two_intents(training: list[Example]) -> None:
    intents: dict[str, set[str]] = defaultdict(set)
    for example in training:
        intents[normalise(example.text)].add(example.intent)
    assert {t: i for t, i in intents.items() if len(i) > 1} == {}


def test_training_never_reads_the_held_out_split() -> None:
    files = training_files()
    assert files, "no training files found"
    assert all(TEST_DIR not in path.parents for path in files)
    # scripts/train_model.sh and the Makefile must leave nlu/test/ out the same way.
    assert "-not -path 'nlu/test/*'" in (ROOT / "scripts" / "train_model.sh").read_text()
    assert "-not -path 'nlu/test/*'" in (ROOT / "Makefile").read_text()


def test_every_held_out_file_sits_in_a_language_folder() -> None:
    # The evaluation takes an example's language from its folder, and its split from the
    # folder above; a file anywhere else would be scored in no language and no split. The
    # danger split (nlu/test/danger/<language>/) is scored on its own.
    for path in TEST_DIR.rglob("*.yml"):
        assert path.parent.parent in (TEST_DIR, HARD_DIR, TUNING_DIR, DANGER_DIR), path
        assert path.parent.name in LANGUAGES, path


def test_the_danger_split_is_danger_in_both_languages_and_never_trained_on(
    training: list[Example], held_out: list[Example]
) -> None:
    danger = danger_examples()
    assert {e.language for e in danger} == set(LANGUAGES)
    assert {e.intent for e in danger} == {"report_danger"}
    seen = {normalise(e.text) for e in training + held_out}
    assert [e.text for e in danger if normalise(e.text) in seen] == []
    texts = [normalise(e.text) for e in danger]
    assert sorted({t for t in texts if texts.count(t) > 1}) == []


@pytest.mark.parametrize("which", ["training", "held_out", "hard", "tuning"])
def test_welsh_words_carry_their_accents(
    training: list[Example],
    held_out: list[Example],
    hard: list[Example],
    tuning: list[Example],
    which: str,
) -> None:
    examples = {"training": training, "held_out": held_out, "hard": hard, "tuning": tuning}[which]
    wrong = []
    for example in examples:
        if example.language != "cy":
            continue
        for word in re.findall(r"[\w']+", example.text.casefold()):
            if word.strip("'") in WELSH_NEEDS_ACCENT:
                wrong.append(f"{example.text!r}: {word} -> {WELSH_NEEDS_ACCENT[word.strip("'")]}")
    assert wrong == []


def test_welsh_data_has_its_accented_letters(training: list[Example]) -> None:
    # A guard against a file saved through something that strips accents.
    welsh = " ".join(e.text for e in training if e.language == "cy")
    for letter in "âôŵŷ":
        assert letter in welsh, letter


def test_language_entity_values_are_en_or_cy(
    training: list[Example], held_out: list[Example], hard: list[Example]
) -> None:
    annotated = [
        pair for e in training + held_out + hard for pair in expected_entities(e.annotated)
    ]
    assert annotated, "switch_language needs examples annotated with the language entity"
    assert {entity for entity, _ in annotated} == {"language"}
    assert {value for _, value in annotated} == {"en", "cy"}
    document = yaml.safe_load((NLU_DIR / "entities.yml").read_text(encoding="utf-8"))
    synonyms = {block["synonym"] for block in document["nlu"] if "synonym" in block}
    assert synonyms == {"en", "cy"}


def test_no_phone_numbers_in_the_data(
    training: list[Example], held_out: list[Example], hard: list[Example]
) -> None:
    # Only 999 and 101 belong here; never a real person's number.
    numbers = [e.text for e in training + held_out + hard if re.search(r"\d[\d ]{5,}\d", e.text)]
    assert numbers == []


def test_keyboard_mash_is_letters_only() -> None:
    # Mash is taught as nlu_fallback; a date of birth or a time must never look like it.
    mash = read_examples(NLU_DIR / "noise.yml", "any")
    assert mash and {e.intent for e in mash} == {"nlu_fallback"}
    assert [e.text for e in mash if not e.text.replace(" ", "").isalpha()] == []
