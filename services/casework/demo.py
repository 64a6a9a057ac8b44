"""The demo's invented case and victims (Ofcom drama numbers only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Case, OfficerRole
from services.casework import cases
from services.console import audit, officers

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


# The console's demo officers (invented), one per role, all with the dev install's generated
# password (settings.demo_officer_password, kept in var/dev-secrets.json; never in production).
# They are marked `demo`: they may sign in without a second factor in development only, and
# not at all in production (services/console/officers.authenticate).
DEMO_OFFICERS = [
    ("demo.officer", "PC Alys Pritchard", OfficerRole.OFFICER),
    ("demo.supervisor", "Sgt Huw Bevan", OfficerRole.SUPERVISOR),
    ("demo.admin", "Elen Watkins (admin)", OfficerRole.ADMIN),
]


def ensure_officers(session: Session, password: str) -> bool:
    """Create the demo officers if missing; True when any was created."""
    created = [officers.ensure(session, u, n, r, password, demo=True) for u, n, r in DEMO_OFFICERS]
    return any(created)


def ensure(session: Session, officer_password: str | None = None) -> bool:
    """Create the demo case and victims (and, given a password, the demo officers) if
    missing; True when anything was created."""
    created = bool(officer_password) and ensure_officers(session, officer_password or "")
    if session.scalar(select(Case.id).where(Case.case_ref == DEMO_CASE["case_ref"])):
        return created
    case = cases.register_case(session, DEMO_CASE)
    for victim in DEMO_VICTIMS:
        cases.register_victim(session, case.case_ref, victim, audit.SERVICE)
    return True
