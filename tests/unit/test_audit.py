"""make audit's verdict on pip-audit's reports (scripts/audit.py): pure logic on its JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.audit import Accepted, load_accepted, parse, verdict

UNREACHABLE = {
    "dependencies": [
        {"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be audited"},
        {"name": "twilio", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    ]
}
KERAS = {"id": "GHSA-aaaa-bbbb-cccc", "aliases": ["CVE-2024-3660"], "fix_versions": ["2.13.1"]}
REPORTED = {
    "dependencies": [
        {"name": "keras", "version": "2.12.0", "vulns": [KERAS]},
        {"name": "numpy", "version": "1.23.5", "vulns": []},
        {"name": "local-thing", "skip_reason": "Dependency not found on PyPI"},
    ]
}
KERAS_ACCEPTED = Accepted("CVE-2024-3660", "Keras", "rasa", "we load only our own model")


def test_nothing_checked_is_said_plainly_and_does_not_fail() -> None:
    status, lines = verdict([parse("app", UNREACHABLE)], [])
    assert status == 0
    text = "\n".join(lines)
    assert "NO ADVISORY CHECK WAS MADE" in text and "app venv" in text
    assert "checked" not in text.replace("CHECK", "")  # never "0 packages checked, fine"


def test_pip_audit_failing_outright_is_said_plainly() -> None:
    result = parse("rasa", {})
    result.error = "ConnectionError: api.osv.dev"
    status, lines = verdict([result], [])
    assert status == 0
    assert any("api.osv.dev" in line for line in lines)


def test_an_advisory_not_accepted_fails_and_says_how_to_fix() -> None:
    status, lines = verdict([parse("rasa", REPORTED)], [])
    assert status == 1
    assert any(
        "NOT ACCEPTED keras 2.12.0: GHSA-aaaa-bbbb-cccc (fixed in 2.13.1)" in x for x in lines
    )
    assert any("local-thing" in line for line in lines)  # what could not be checked is named


def test_an_accepted_advisory_passes_with_its_reason_matched_by_alias() -> None:
    status, lines = verdict([parse("rasa", REPORTED)], [KERAS_ACCEPTED])
    assert status == 0
    assert any("accepted keras 2.12.0" in x and "our own model" in x for x in lines)


def test_acceptance_is_per_venv() -> None:
    other = Accepted("CVE-2024-3660", "keras", "app", "not this venv")
    assert verdict([parse("rasa", REPORTED)], [other])[0] == 1


def test_an_acceptance_no_longer_reported_is_named_for_removal() -> None:
    fixed = {"dependencies": [{"name": "keras", "version": "2.13.1", "vulns": []}]}
    status, lines = verdict([parse("rasa", fixed)], [KERAS_ACCEPTED])
    assert status == 0
    assert any("no longer reported: CVE-2024-3660" in line for line in lines)


def test_every_accepted_advisory_in_the_repository_has_a_reason() -> None:
    entries = load_accepted()
    assert entries, "advisories.yml lists the advisories accepted for the Rasa venv"
    assert all(len(e.reason) > 40 for e in entries)
    assert {e.venv for e in entries} <= {"app", "rasa"}


def test_an_entry_without_a_reason_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "advisories.yml"
    bad.write_text("accepted:\n  - {id: CVE-1, package: x, venv: rasa}\n")
    with pytest.raises(ValueError, match="reason"):
        load_accepted(bad)
