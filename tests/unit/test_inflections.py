"""Verbs in every person and tense, by rule (services/language/inflections.py)."""

from __future__ import annotations

import pytest

from services.language.inflections import (
    ENGLISH_VERBS,
    WELSH_VERBS,
    english_forms,
    welsh_forms,
    welsh_stems,
)


@pytest.mark.parametrize(
    ("verb_noun", "stems"),
    [
        ("dilyn", ("dilyn",)),
        ("cicio", ("cici",)),
        ("tagu", ("tag",)),
        ("curo", ("cur",)),
        ("stelcian", ("stelci",)),
        ("llosgi", ("llosg",)),
        ("bygwth", ("bygythi",)),
        ("taro", ("tar", "traw")),
    ],
)
def test_welsh_stems(verb_noun: str, stems: tuple[str, ...]) -> None:
    assert welsh_stems(verb_noun) == stems


@pytest.mark.parametrize(
    ("verb_noun", "form"),
    [
        ("dilyn", "dilynodd"),
        ("dilyn", "dilynais"),
        ("dilyn", "dilynaist"),
        ("dilyn", "dilynon"),
        ("dilyn", "dilynwyd"),
        ("bygwth", "bygythiodd"),
        ("bygwth", "bygythion"),
        ("taro", "tarodd"),
        ("taro", "trawodd"),
        ("cicio", "ciciodd"),
        ("cicio", "cicith"),
        ("cicio", "ciciws"),
        ("gwthio", "gwthiodd"),
        ("cydio", "cydiodd"),
        ("gwylio", "gwylia"),
        ("tagu", "tagiff"),
        ("lladd", "lladdwn"),
        ("ymosod", "ymosododd"),
        ("cau", "caeodd"),
    ],
)
def test_welsh_forms_in_every_person_and_tense(verb_noun: str, form: str) -> None:
    assert form in welsh_forms(verb_noun)


def test_only_known_verbs_are_inflected() -> None:
    # A noun with a verb ending ("drws" + "odd") would only add noise; a word outside the
    # lists is read as itself.
    assert welsh_forms("drws") == frozenset()
    assert english_forms("door") == frozenset()
    assert "dilyn" not in welsh_forms("dilyn")
    assert {"dilyn", "bygwth", "taro"} <= WELSH_VERBS
    assert {"follow", "threaten", "stalk"} <= ENGLISH_VERBS


@pytest.mark.parametrize(
    ("base", "forms"),
    [
        ("follow", {"follow", "follows", "followed", "following", "followin"}),
        ("threaten", {"threaten", "threatens", "threatened", "threatening", "threatenin"}),
        ("stab", {"stab", "stabs", "stabbed", "stabbing", "stabbin"}),
        ("strangle", {"strangle", "strangles", "strangled", "strangling", "stranglin"}),
        ("push", {"push", "pushes", "pushed", "pushing", "pushin"}),
        ("beat", {"beat", "beats", "beaten", "beating", "beatin"}),
        ("hit", {"hit", "hits", "hitting", "hittin"}),
    ],
)
def test_english_forms(base: str, forms: set[str]) -> None:
    assert english_forms(base) == forms
