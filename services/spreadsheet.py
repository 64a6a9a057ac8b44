"""The one CSV writer for every export: cells a spreadsheet would run as formulas are defused.

A supervisor opens exports in Excel or LibreOffice, and some cells come from outside: a
username typed at sign-in, a case reference from a case system, a detail. A cell whose first
character is `=`, `+`, `-`, `@`, `|` or `%`, or a tab or carriage return, may be run as a
formula or a DDE call (OWASP, "CSV Injection"). defusedcsv catches the first six; this module
adds what it misses: a leading tab, carriage return or line feed; the full-width and small
forms (U+FF1D FULLWIDTH EQUALS SIGN, U+FE66 SMALL EQUALS SIGN, ...) that a spreadsheet in an
East Asian locale reads as their ASCII twins (NFKC folds them); the minus sign U+2212; and any
of these behind leading spaces, which a spreadsheet may skip. Such a cell is written with a
leading apostrophe, which a spreadsheet shows as text. A plain number (`-12.5`) is left as
it is.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from defusedcsv import csv as defusedcsv

# What a spreadsheet may take as the start of a formula, after NFKC.
FORMULA_START = frozenset("=+-@|%\u2212")
# Characters that, first in a cell, make a spreadsheet start a new cell or formula.
CONTROL_START = frozenset("\t\r\n")
_NUMBER = re.compile(r"^-?[0-9][0-9,]*(\.[0-9]+)?$")


def dangerous(cell: str) -> bool:
    """Whether a spreadsheet could run `cell` (a string) as a formula."""
    if not cell:
        return False
    if cell[0] in CONTROL_START:
        return True
    folded = unicodedata.normalize("NFKC", cell).lstrip(" \u00a0\u3000")
    if not folded:
        return False
    return folded[0] in FORMULA_START and not _NUMBER.match(folded)


def safe(value: Any) -> Any:
    """A cell as it may be written: numbers as they are, None as empty, dangerous text
    behind an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if dangerous(text) else text


def write(rows: Iterable[Iterable[Any]]) -> str:
    """Rows as CSV text (RFC 4180 line ends), every cell made safe; also run through
    defusedcsv, so nothing it knows of is missed either."""
    out = io.StringIO()
    writer = defusedcsv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe(cell) for cell in row])
    return out.getvalue()
