"""WhatsApp templates: variables cleaned to WhatsApp's rules, and what cannot fit said why
(end to end through the dev phone in tests/integration/test_outbound_limits.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models import Language
from services.messaging import templates
from services.messaging.templates import MAX_TEMPLATE_BODY, Unfit, clean_variable

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def code_update() -> templates.Template:
    template = templates.load(ROOT / "config" / "whatsapp_templates.json").get(
        "code_update", Language.EN
    )
    assert template is not None
    return template


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("He was charged.\nHe is in custody.", "He was charged. He is in custody."),
        ("Court:\r\n\r\n3 March", "Court: 3 March"),
        ("Bail\tconditions", "Bail conditions"),
        ("five     spaces", "five spaces"),
        ("  leading and trailing  ", "leading and trailing"),
        ("line\u2028separator\u00a0nbsp", "line separator nbsp"),
        ("Mae'r sawl a ddrwgdybir wedi'i gyhuddo.", "Mae'r sawl a ddrwgdybir wedi'i gyhuddo."),
    ],
)
def test_variables_lose_what_whatsapp_refuses(raw: str, clean: str) -> None:
    assert clean_variable(raw) == clean


def test_fill_gives_clean_variables(code_update: templates.Template) -> None:
    filled = code_update.fill({"case_ref": "CR-1", "summary": "Arrested.\n\n\tCharged.    Bailed."})
    assert isinstance(filled, str)
    values = json.loads(filled)
    assert values == {"1": "CR-1", "2": "Arrested. Charged. Bailed."}
    for value in values.values():
        assert "\n" not in value and "\t" not in value and "     " not in value


def test_a_body_over_1024_characters_does_not_fit(code_update: templates.Template) -> None:
    wrapper = len(code_update.render(code_update.variables({"case_ref": "CR-1", "summary": ""})))
    fits = "a" * (MAX_TEMPLATE_BODY - wrapper)
    assert isinstance(code_update.fill({"case_ref": "CR-1", "summary": fits}), str)
    unfit = code_update.fill({"case_ref": "CR-1", "summary": fits + "a"})
    assert isinstance(unfit, Unfit) and "1,025 characters" in unfit.reason


def test_an_empty_variable_does_not_fit(code_update: templates.Template) -> None:
    unfit = code_update.fill({"case_ref": "CR-1", "summary": " \n\t "})
    assert isinstance(unfit, Unfit) and "summary" in unfit.reason
