"""Welsh initial mutations, by rule: the standard tables (King, "Modern Welsh", the mutation
chapters), checked against forms written out by hand here."""

from __future__ import annotations

import pytest

from services.language.mutations import Mutation, forms, mutate

S, N, A, H = Mutation.SOFT, Mutation.NASAL, Mutation.ASPIRATE, Mutation.H_PROTHESIS


@pytest.mark.parametrize(
    ("radical", "expected"),
    [
        # p t c: soft, nasal and aspirate.
        ("pen", {S: "ben", N: "mhen", A: "phen"}),
        ("plant", {S: "blant", N: "mhlant", A: "phlant"}),
        ("ty", {S: "dy", N: "nhy", A: "thy"}),
        ("taro", {S: "daro", N: "nharo", A: "tharo"}),
        ("tagu", {S: "dagu", N: "nhagu", A: "thagu"}),
        ("cyllell", {S: "gyllell", N: "nghyllell", A: "chyllell"}),
        ("cloi", {S: "gloi", N: "nghloi", A: "chloi"}),
        # b d g: soft and nasal; a soft-mutated g is dropped.
        ("bygwth", {S: "fygwth", N: "mygwth"}),
        ("bywyd", {S: "fywyd", N: "mywyd"}),
        ("dilyn", {S: "ddilyn", N: "nilyn"}),
        ("drws", {S: "ddrws", N: "nrws"}),
        ("gwely", {S: "wely", N: "ngwely"}),
        ("gwn", {S: "wn", N: "ngwn"}),
        ("goriadau", {S: "oriadau", N: "ngoriadau"}),
        # m ll rh: soft only.
        ("mam", {S: "fam"}),
        ("lladd", {S: "ladd"}),
        ("rhywun", {S: "rywun"}),
        # A vowel: h- (after ei "her", ein, eu).
        ("anafu", {H: "hanafu"}),
        ("ymosod", {H: "hymosod"}),
        ("ofn", {H: "hofn"}),
        # Letters that never mutate, digraphs included.
        ("ffon", {}),
        ("chwaer", {}),
        ("theatr", {}),
        ("ffenest", {}),
        ("nain", {}),
        ("sownd", {}),
    ],
)
def test_forms_follow_the_tables(radical: str, expected: dict[Mutation, str]) -> None:
    assert forms(radical) == expected


def test_digraphs_are_one_letter() -> None:
    # ll and rh mutate as letters of their own (not l, r); ch, ph, th, ff, dd, ng never do.
    assert mutate("llafn", S) == "lafn"
    assert mutate("rhwystro", S) == "rwystro"
    for word in ("chwarae", "ffordd", "ddoe", "ngwely", "phen", "thad"):
        assert all(mutate(word, m) is None for m in Mutation), word


def test_a_word_with_nothing_after_a_dropped_g_has_no_soft_form() -> None:
    assert mutate("g", S) is None
    assert mutate("", S) is None
