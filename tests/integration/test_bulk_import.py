"""Bulk registration from CSV: good rows in, bad rows reported with reasons, re-runs harmless."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from models import Case, CaseVictim, Channel, Language, Notification, NotificationKind, Victim
from services.casework import bulk_import
from services.runtime import Runtime

# Both databases: savepoints and SQLite's BEGIN IMMEDIATE.
pytestmark = pytest.mark.both_databases

HEADER = (
    "case_ref,crime_type,officer_in_charge,name,phone,channel,language,date_of_birth,"
    "enhanced_rights,update_every_days,quiet_start,quiet_end,safe_contact"
)
GOOD = [
    # Line 2 onwards. A case on several rows, Welsh diacritics, an emoji, a UK-style date, a
    # channel and language as a spreadsheet might write them, short quiet hours.
    "CR-100,burglary,DC Siân Morgan,Gwenllïan ap Rhys,07700 900201,WhatsApp,CY,02/11/1978,"
    "yes,14,21:30,7:00,no",
    "CR-100,burglary,DC Siân Morgan,Llŷr Ŵyn Jones,+447700900202,sms,cy,1990-05-14,false,,,,TRUE",
    "CR-101,assault,PC Ifan Rees,Megan 🌼 Jones,+447700900203,sms,en,2001-12-31,,,,,",
]


def _write(tmp_path: Path, *lines: str, name: str = "victims.csv", bom: bool = True) -> Path:
    path = tmp_path / name
    path.write_text(("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def _count(rt: Runtime, model: type) -> int:
    with rt.db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_good_rows_are_imported_as_the_api_would_register_them(
    app: Flask, rt: Runtime, tmp_path: Path
) -> None:
    path = _write(tmp_path, HEADER, *GOOD[:2], "", "  ,,, ", GOOD[2])
    result = app.test_cli_runner().invoke(args=["import-cases", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 rows: 3 imported, 0 already registered, 0 rejected; cases created: 2" in result.output
    with rt.db.session() as session:
        by_phone = {v.phone: v for v in session.scalars(select(Victim))}
        assert set(by_phone) == {"+447700900201", "+447700900202", "+447700900203"}
        gwen = by_phone["+447700900201"]
        assert gwen.name == "Gwenllïan ap Rhys"
        assert (gwen.channel, gwen.language) == (Channel.WHATSAPP, Language.CY)
        assert gwen.date_of_birth == dt.date(1978, 11, 2)
        assert gwen.enhanced_rights is True and gwen.safe_contact is False
        assert gwen.update_every_days == 14
        assert (gwen.quiet_start, gwen.quiet_end) == (dt.time(21, 30), dt.time(7, 0))
        llyr = by_phone["+447700900202"]
        assert llyr.name == "Llŷr Ŵyn Jones" and llyr.safe_contact is True
        assert (llyr.quiet_start, llyr.quiet_end) == (dt.time(20, 0), dt.time(8, 0))
        assert by_phone["+447700900203"].name == "Megan 🌼 Jones"
        case = session.scalars(select(Case).where(Case.case_ref == "CR-100")).one()
        assert case.officer_in_charge == "DC Siân Morgan"
        assert {place.victim.phone for place in case.victims} == {
            "+447700900201",
            "+447700900202",
        }
        # The same path as the API: each victim gets the welcome for their case.
        welcomes = session.scalars(
            select(Notification).where(Notification.kind == NotificationKind.WELCOME)
        ).all()
        assert len(welcomes) == 3
    assert _count(rt, Case) == 2


def test_bad_rows_are_reported_with_reasons_and_the_rest_imported(
    app: Flask, rt: Runtime, tmp_path: Path
) -> None:
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    rows = [
        GOOD[0],  # line 2
        "CR-102,theft,PC Rees,Ann Evans,12345,sms,en,1980-01-01,,,,,",  # 3: phone
        f"CR-102,theft,PC Rees,Ann Evans,+447700900210,sms,en,{future},,,,,",  # 4
        "CR-102,theft,PC Rees,Ann Evans,+447700900211,pigeon,en,1980-01-01,,,,,",  # 5
        "CR-102,theft,PC Rees,Ann Evans,+447700900212,sms,en,1980-01-01,maybe,,,,",  # 6
        "CR-102,theft,PC Rees,Ann Evans,+447700900213,sms,en,1980-01-01,,x,,,",  # 7
        "CR-102,theft,PC Rees,Ann Evans,+447700900214,sms,en,1980-01-01,,,21:00,,",  # 8
        # 9: the case of line 2 with another crime: a mistyped reference, most likely.
        "CR-100,robbery,DC Siân Morgan,Ann Evans,+447700900215,sms,en,1980-01-01,,,,,",
        # 10: another person on line 2's number.
        "CR-102,theft,PC Rees,Bethan Lloyd,07700900201,sms,en,1970-07-07,,,,,",
        "CR-102,theft,PC Rees,,+447700900216,sms,en,1980-01-01,,,,,",  # 11: no name
        "CR-102,theft,PC Rees,Ann Evans,+447700900217,sms,en,1980-01-01,,,,,,surplus",  # 12
        # 13-14: one record over two lines (a quoted line break), then a good row.
        'CR-103,"criminal\ndamage",PC Rees,Huw Owen,+447700900218,sms,en,1985-02-03,,,,,',
        "CR-102,theft,PC Rees,Ann Evans,+447700900219,sms,en,1980-01-01,no,28,22:00,06:30,y",
        "CR-104,theft,PC Rees,Ann Evans,+447700900220,sms,en,1980-1-1,,,,,",  # 16
    ]
    path = _write(tmp_path, HEADER, *rows)
    result = app.test_cli_runner().invoke(args=["import-cases", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    expected = {
        3: "phone: must be a phone number",
        4: "date_of_birth: must not be in the future",
        5: "channel: must be one of: sms, whatsapp",
        6: "enhanced_rights: must be yes, no, true or false",
        7: "update_every_days: must be a whole number",
        8: "quiet_end: must be a time as HH:MM",
        9: "crime_type 'burglary', not 'robbery'",
        10: "phone is registered to another victim",
        11: "name: is required",
        12: "row: has 1 more cells than the header has columns",
        16: "date_of_birth: must be a date as YYYY-MM-DD",
    }
    for line, reason in expected.items():
        [reported] = [x for x in lines if x.startswith(f"line {line}: rejected: ")]
        assert reason in reported, reported
    assert lines[-1].startswith(
        "14 rows: 3 imported, 0 already registered, 11 rejected; cases created: 3"
    ), lines[-1]
    # Nothing personal in the report: the number by its last three digits, no dates of birth.
    assert "(case 'CR-102', phone …210)" in result.output
    for personal in ("7700900", "1980-01-01", "Ann Evans", "Bethan", future):
        assert personal not in result.output
    with rt.db.session() as session:
        assert set(session.scalars(select(Victim.phone))) == {
            "+447700900201",
            "+447700900218",
            "+447700900219",
        }
        assert session.scalar(select(Case.crime_type).where(Case.case_ref == "CR-103")) == (
            "criminal\ndamage"
        )
        # A rejected row leaves no case behind: CR-104's only row was refused.
        assert session.scalar(select(Case.id).where(Case.case_ref == "CR-104")) is None


def test_a_second_run_reports_the_registered_rather_than_duplicating(
    app: Flask, rt: Runtime, tmp_path: Path
) -> None:
    fixed_later = "CR-102,theft,PC Rees,Ann Evans,+447700900210,sms,en,1980-01-01,,,,,"
    first = _write(tmp_path, HEADER, *GOOD, fixed_later.replace("+447700900210", "12"))
    runner = app.test_cli_runner()
    assert (
        "3 imported, 0 already registered, 1 rejected; cases created: 2"
        in runner.invoke(args=["import-cases", str(first)]).output
    )
    counts = [_count(rt, model) for model in (Case, Victim, CaseVictim, Notification)]
    assert counts == [2, 3, 3, 3]

    # The same file again, with its rejected row fixed and one row repeated.
    again = _write(tmp_path, HEADER, *GOOD, fixed_later, GOOD[2], name="again.csv")
    result = runner.invoke(args=["import-cases", str(again)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith(
        "5 rows: 1 imported, 4 already registered, 0 rejected; cases created: 1"
    )
    for line in (2, 3, 4, 6):
        assert f"line {line}: already registered: this victim is on the case already" in (
            result.output
        )
    counts = [_count(rt, model) for model in (Case, Victim, CaseVictim, Notification)]
    assert counts == [3, 4, 4, 4]


def test_dry_run_checks_everything_and_saves_nothing(
    app: Flask, rt: Runtime, tmp_path: Path
) -> None:
    path = _write(tmp_path, HEADER, *GOOD, GOOD[1])
    result = app.test_cli_runner().invoke(args=["import-cases", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    # The repeated row is seen as registered by the row before it, as a real run would.
    assert "line 5: already registered" in result.output
    assert (
        "4 rows: 3 would be imported, 1 already registered, 0 rejected; cases created: 2"
        " (dry run: nothing was saved)"
    ) in result.output
    assert [_count(rt, model) for model in (Case, Victim, Notification)] == [0, 0, 0]


def test_an_unreadable_file_or_a_wrong_header_imports_nothing_and_fails(
    app: Flask, rt: Runtime, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(
        (HEADER + "\n" + GOOD[0] + "\n").encode("utf-8").replace(b"\xc3\xa2", b"\xe2")
    )
    files = {
        tmp_path / "missing.csv": "no such file",
        _write(tmp_path, "", name="empty.csv"): "the file is empty",
        latin1: "not UTF-8",
        _write(tmp_path, HEADER.replace(",phone,", ",mobile,"), GOOD[0], name="h1.csv"): (
            "wrong header: missing phone; unknown mobile. Expected columns: case_ref,"
        ),
        _write(tmp_path, HEADER + ",name", GOOD[0], name="h2.csv"): "repeated name",
        _write(tmp_path, HEADER.replace(",", ";"), name="h3.csv"): ("separated by ';': use commas"),
        _write(tmp_path, HEADER, GOOD[0], 'CR-9,"unclosed', name="bad.csv"): (
            "not a readable CSV file"
        ),
    }
    for path, message in files.items():
        result = runner.invoke(args=["import-cases", str(path)])
        assert result.exit_code == 1, (path.name, result.output)
        assert message in result.output, (path.name, result.output)
    # The good row before the broken one was not imported either.
    assert _count(rt, Victim) == 0


def test_headers_are_forgiving_and_optional_columns_optional(rt: Runtime, tmp_path: Path) -> None:
    header = "Case Ref,Crime-Type,OFFICER_IN_CHARGE,Name,Phone,Channel,Language,Date of birth"
    path = _write(
        tmp_path,
        header,
        "CR-200,burglary,PC Rees,Siôn Ifans,+447700900230,sms,en,1999-09-09",
        bom=False,
    )
    report = bulk_import.import_file(rt.db, path)
    assert (report.rows, report.imported, report.problems) == (1, 1, [])
    with rt.db.session() as session:
        victim = session.scalars(select(Victim)).one()
        assert victim.name == "Siôn Ifans" and victim.enhanced_rights is False


def test_the_acknowledges_report_column_makes_the_welcome_right_3s_acknowledgement(
    app: Flask, rt: Runtime, tmp_path: Path
) -> None:
    rows = [
        GOOD[0] + ",yes",
        GOOD[1] + ",",
        GOOD[2] + ",no",
        "CR-102,theft,PC Ifan Rees,Cerys Lloyd,+447700900204,sms,en,1970-01-01,,,,,,perhaps",
    ]
    path = _write(tmp_path, HEADER + ",acknowledges_report", *rows)
    result = app.test_cli_runner().invoke(args=["import-cases", str(path)])
    assert "4 rows: 3 imported, 0 already registered, 1 rejected" in result.output
    assert "acknowledges_report" in result.output  # the rejected row says which column
    with rt.db.session() as session:
        duties = {
            phone: duty
            for phone, duty in session.execute(
                select(Victim.phone, Notification.duty).join(
                    Notification, Notification.victim_id == Victim.id
                )
            )
        }
    assert duties == {
        "+447700900201": "right_3_acknowledgement",
        "+447700900202": None,
        "+447700900203": None,
    }
