"""Welsh words to one form (bot/components/welsh_lemmas.py): mutations, dialect, English."""

from __future__ import annotations

import pytest

from bot.components.welsh_lemmas import DIALECT, lemma, lemmas, radical


@pytest.mark.parametrize(
    ("written", "radical_form"),
    [
        # Issue 13's examples: soft, nasal and aspirate mutations of "cyllell" (knife),
        # soft and nasal of "bygwth" (threaten).
        ("gyllell", "cyllell"),
        ("nghyllell", "cyllell"),
        ("chyllell", "cyllell"),
        ("cyllell", "cyllell"),
        ("fygwth", "bygwth"),
        ("mygwth", "bygwth"),
        ("bygwth", "bygwth"),
        # Mutated forms of words victims use of the police and the courts.
        ("lys", "llys"),
        ("ddal", "dal"),
        ("gyhuddo", "cyhuddo"),
        ("nghyhuddo", "cyhuddo"),
        ("dystion", "tyst"),
        ("swyddogion", "swyddog"),
    ],
)
def test_mutated_and_inflected_forms_share_a_lemma(written: str, radical_form: str) -> None:
    assert lemma(written) == radical_form


@pytest.mark.parametrize(
    ("north", "south"),
    [
        ("isio", "eisiau"),
        ("moyn", "eisiau"),
        ("efo", "gyda"),
        ("be", "beth"),
        ("rŵan", "nawr"),
        ("hogyn", "bachgen"),
        ("crwt", "bachgen"),
        ("deud", "gweud"),
        ("fo", "fe"),
    ],
)
def test_northern_and_southern_forms_share_a_lemma(north: str, south: str) -> None:
    assert lemma(north) == lemma(south)


@pytest.mark.parametrize(
    "word", ["the", "have", "caught", "arrested", "bothered", "police", "court", "case"]
)
def test_english_words_are_left_as_written(word: str) -> None:
    # "the" is Welsh "te" (tea) mutated, and "case" a Welsh word too: an English message
    # must keep its own words.
    assert lemma(word) == word


def test_a_mutation_is_undone_only_into_a_known_welsh_word() -> None:
    assert radical("gyllell") == "cyllell"
    assert radical("zzyllell") is None
    assert lemma("qwxz") == "qwxz"


def test_lemmas_keep_length_order_and_fold_case() -> None:
    words = ["Mae", "gynno", "FO", "gyllell"]
    assert lemmas(words) == ["bod", "gan", "ef", "cyllell"]


def test_the_dialect_table_maps_to_lower_case_words() -> None:
    assert all(k == k.casefold() and v == v.casefold() for k, v in DIALECT.items())
