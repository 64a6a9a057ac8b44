"""The console's second factor: TOTP (RFC 6238, pyotp) for every officer, with recovery codes.

An officer enrols at their first sign-in: the page shows a secret (and its QR code) for an
authenticator app, and the first code from the app confirms it. Ten recovery codes are then
shown, once; each works once in place of a code. A code is accepted for the current 30 s
step and the one either side (clocks drift), and never twice: the step of the last code
accepted is kept, and a code from it or an earlier step is refused (RFC 6238, section 5.2).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

import pyotp
import segno
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import Officer, RecoveryCode, utcnow

ISSUER = "Victim care console"
RECOVERY_CODES = 10
# A step either side of now: an authenticator's clock may be half a minute out.
VALID_WINDOW = 1


def begin(officer: Officer) -> str:
    """A new secret for `officer`, not yet confirmed (base32, 160 bits as RFC 4226 advises)."""
    officer.totp_secret = pyotp.random_base32(32)
    officer.totp_enrolled_at = None
    officer.totp_last_step = None
    return officer.totp_secret


def provisioning_uri(officer: Officer) -> str:
    """The otpauth:// URI an authenticator app reads (from the QR code)."""
    assert officer.totp_secret is not None
    return pyotp.TOTP(officer.totp_secret).provisioning_uri(
        name=officer.username, issuer_name=ISSUER
    )


def qr_svg(officer: Officer) -> str:
    """The provisioning URI as an inline SVG QR code (no script, no external image)."""
    return str(segno.make(provisioning_uri(officer), error="m").svg_inline(scale=4))


def _step(at: dt.datetime) -> int:
    return int(at.timestamp()) // 30


def _matching_step(secret: str, code: str, at: dt.datetime) -> int | None:
    totp = pyotp.TOTP(secret)
    now = _step(at)
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _digest(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode("utf-8")).hexdigest()


def check_code(officer: Officer, code: str) -> bool:
    """Whether `code` is a current TOTP code of `officer` not used before; marks it used."""
    code = _normalise(code)
    if officer.totp_secret is None or not code.isdigit() or len(code) != 6:
        return False
    step = _matching_step(officer.totp_secret, code, utcnow())
    if step is None or (officer.totp_last_step is not None and step <= officer.totp_last_step):
        return False
    officer.totp_last_step = step
    return True


def confirm(session: Session, officer: Officer, code: str) -> list[str] | None:
    """Finish enrolment with a first code: the recovery codes (shown once), or None."""
    if officer.totp_secret is None or not check_code(officer, code):
        return None
    officer.totp_enrolled_at = utcnow()
    return new_recovery_codes(session, officer)


def new_recovery_codes(session: Session, officer: Officer) -> list[str]:
    """Ten fresh recovery codes (the old ones stop working); only their hashes are kept."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.officer_id == officer.id))
    codes = [
        "-".join(secrets.token_hex(5)[i : i + 5] for i in (0, 5)) for _ in range(RECOVERY_CODES)
    ]
    session.add_all(RecoveryCode(officer_id=officer.id, code_hash=_digest(c)) for c in codes)
    return codes


def use_recovery_code(session: Session, officer: Officer, code: str) -> bool:
    """Whether `code` is one of the officer's unused recovery codes; it is then used up."""
    if not _normalise(code):
        return False
    found = session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.officer_id == officer.id,
            RecoveryCode.code_hash == _digest(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if found is None:
        return False
    found.used_at = utcnow()
    return True


def recovery_codes_left(session: Session, officer: Officer) -> int:
    return len(
        session.scalars(
            select(RecoveryCode.id).where(
                RecoveryCode.officer_id == officer.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def reset(session: Session, officer: Officer) -> None:
    """Forget the officer's second factor: they enrol again at their next sign-in."""
    officer.totp_secret = None
    officer.totp_enrolled_at = None
    officer.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.officer_id == officer.id))


def enrolled(officer: Officer) -> bool:
    return officer.totp_enrolled_at is not None and officer.totp_secret is not None
