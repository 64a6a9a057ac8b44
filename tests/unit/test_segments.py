"""Segments exact at every GSM-7 and UCS-2 boundary, Welsh included; long texts in parts."""

from __future__ import annotations

import pytest

from services.messaging.segments import MAX_BODY, is_gsm7, segments, split_body

WELSH_CIRCUMFLEXES = "âêîôûŵŷÂÊÎÔÛŴŶ"


@pytest.mark.parametrize(
    ("body", "count"),
    [
        ("", 1),
        ("a" * 160, 1),  # one GSM-7 segment holds 160 septets
        ("a" * 161, 2),  # then 153 a segment: 7 septets go to the UDH that joins them
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("a" * 153 * 3, 3),
        ("a" * (153 * 3 + 1), 4),
        # Extension characters cost two septets: an escape, then the character.
        ("€" * 80, 1),
        ("€" * 80 + "a", 2),
        ("[" * 81, 2),
        ("a" * 158 + "^", 1),  # 160 septets exactly
        ("a" * 159 + "^", 2),  # 161
        # An escape and its character never straddle two segments: 152 + 2 + 152 septets
        # is 306, "two segments" by division, but the "€" cannot start at septet 153.
        ("a" * 152 + "€" + "a" * 152, 3),
        ("a" * 151 + "€" + "a" * 153, 2),  # 153 + 153: fits exactly
        # UCS-2: 70 UTF-16 units alone, 67 a segment once split.
        ("ŵ" * 70, 1),
        ("ŵ" * 71, 2),
        ("ŵ" * 134, 2),
        ("ŵ" * 135, 3),
        # Emoji outside the BMP are surrogate pairs: two units each.
        ("👍" * 35, 1),
        ("👍" * 36, 2),
        # A surrogate pair never straddles: 66 + 2 + 66 units is 134, "two" by division.
        ("ŵ" * 66 + "👍" + "ŵ" * 66, 3),
        ("ŵ" * 65 + "👍" + "ŵ" * 67, 2),  # 67 + 67: fits exactly
    ],
)
def test_segments_at_the_boundaries(body: str, count: int) -> None:
    assert segments(body) == count


@pytest.mark.parametrize("letter", WELSH_CIRCUMFLEXES)
def test_one_welsh_circumflex_makes_the_whole_text_ucs2(letter: str) -> None:
    plain = "Diolch am eich neges. " * 7  # 154 characters: one GSM-7 segment
    assert is_gsm7(plain) and segments(plain) == 1
    welsh = plain[:-1] + letter
    assert not is_gsm7(welsh)
    assert segments(welsh) == 3  # 154 UCS-2 units: 67 + 67 + 20


def test_letters_gsm7_has_stay_gsm7() -> None:
    # GSM-7 has à è é ì ò ù ä ö ü but no circumflex: "à" costs nothing extra.
    assert is_gsm7("àèéìòùäöüÄÖÜ")
    assert segments("à" * 160) == 1


def test_a_body_that_fits_is_left_alone() -> None:
    body = "Helô\n\n" + "a" * (MAX_BODY - 6)
    assert split_body(body) == [body]


def test_a_long_body_is_cut_at_words_into_numbered_parts_in_order() -> None:
    welsh = "Mae'r sawl a ddrwgdybir wedi'i gyhuddo. "  # 40 characters
    english = "The suspect has been charged. "
    body = (welsh * 25).strip() + " / " + (english * 34).strip()  # about 2,020 characters
    parts = split_body(body)
    assert len(parts) == 2
    assert [p[:6] for p in parts] == ["(1/2) ", "(2/2) "]
    assert all(len(p) <= MAX_BODY for p in parts)
    # Nothing lost, nothing reordered, no word cut in two.
    assert " ".join(p[6:] for p in parts).split() == body.split()
    assert parts[0].endswith(".")


def test_many_parts_and_a_text_without_spaces() -> None:
    body = "x" * (MAX_BODY * 11)
    parts = split_body(body)
    assert len(parts) == 12
    assert parts[0].startswith("(1/12) ") and parts[-1].startswith("(12/12) ")
    assert all(len(p) <= MAX_BODY for p in parts)
    assert "".join(p.split(" ", 1)[1] for p in parts) == body


def test_a_hard_cut_never_parts_a_letter_from_its_accent() -> None:
    # "ŵ" written as "w" and a combining circumflex (U+0302), as some keyboards do.
    decomposed = "w\u0302"
    body = decomposed * 900  # 1,800 characters, no spaces
    parts = split_body(body)
    assert len(parts) == 2
    for part in parts:
        text = part.split(" ", 1)[1]
        assert text.startswith("w") and text.endswith("\u0302")
