"""The demo's invented case and victims (Ofcom drama numbers only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Case
from services import cases

DEMO_CASE = {
    "case_ref": "DEMO-0001",
    "crime_type": "burglary",
    "officer_in_charge": "DC Siân Morgan",
}
DEMO_VICTIMS = [
    {
        "name": "Megan Jones",
        "phone": "+447700900101",
        "channel": "sms",
        "language": "en",
        "date_of_birth": "1990-05-14",
    },
    {
        "name": "Gwenllian ap Rhys",
        "phone": "+447700900102",
        "channel": "whatsapp",
        "language": "cy",
        "date_of_birth": "1978-11-02",
    },
]


def ensure(session: Session) -> bool:
    """Create the demo case and victims if missing; True when anything was created."""
    if session.scalar(select(Case.id).where(Case.case_ref == DEMO_CASE["case_ref"])):
        return False
    case = cases.register_case(session, DEMO_CASE)
    for victim in DEMO_VICTIMS:
        cases.register_victim(session, case.case_ref, victim)
    return True
