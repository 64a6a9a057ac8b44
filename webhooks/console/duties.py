"""The Victims' Code duties an officer meets from a case's page: a referral sent to its
support service (Right 4), a request for a review acknowledged and decided (the Victims'
Right to Review). The case page lists them against their limits (webhooks/console/cases.py).

Each act needs the case to be one the officer may see (services/console/access.py) and the
referral or request to belong to a victim on it; it is audited like every other act.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from models import AuditAction, Case, Officer, Permission, ReviewStatus
from services.casework import cases, referrals, reviews
from services.console import access, audit
from services.errors import InvalidField, NotFound
from webhooks.console.blueprint import back, bp, officer_session, requires
from webhooks.console.forms import ActionForm


def _checked_form() -> None:
    if not ActionForm().validate():
        raise InvalidField("csrf_token", "the form has expired; reload the page")


def _case_for(db: Session, me: Officer, case_ref: str) -> Case:
    return access.case_for(db, me, cases.find_case(db, case_ref))


@bp.post("/cases/<case_ref>/referrals/<int:referral_id>/sent")
@requires(Permission.WORK)
def mark_referral_sent(case_ref: str, referral_id: int) -> BaseResponse:
    _checked_form()
    with officer_session() as (db, me):
        found = _case_for(db, me, case_ref)
        if referral_id not in {r.id for r in referrals.for_case(db, found.case_ref)}:
            raise NotFound(f"no referral {referral_id} on case {found.case_ref!r}")
        referral = referrals.mark_sent(db, referral_id, f"officer:{me.username}")
        audit.record(
            db,
            me,
            AuditAction.MARK_REFERRAL_SENT,
            victim_id=referral.victim_id,
            case_id=found.id,
            detail=f"referral #{referral.id}",
        )
    return back("console.case", case_ref=case_ref)


def _move_review(case_ref: str, review_id: int, to: ReviewStatus, action: AuditAction) -> None:
    with officer_session() as (db, me):
        found = _case_for(db, me, case_ref)
        if review_id not in {r.id for r in reviews.for_case(db, found.case_ref)}:
            raise NotFound(f"no review request {review_id} on case {found.case_ref!r}")
        review = reviews.move(db, review_id, to, f"officer:{me.username}")
        audit.record(
            db,
            me,
            action,
            victim_id=review.victim_id,
            case_id=found.id,
            detail=f"review request #{review.id}",
        )


@bp.post("/cases/<case_ref>/reviews/<int:review_id>/acknowledge")
@requires(Permission.WORK)
def acknowledge_review(case_ref: str, review_id: int) -> BaseResponse:
    _checked_form()
    _move_review(case_ref, review_id, ReviewStatus.ACKNOWLEDGED, AuditAction.ACKNOWLEDGE_REVIEW)
    return back("console.case", case_ref=case_ref)


@bp.post("/cases/<case_ref>/reviews/<int:review_id>/decide")
@requires(Permission.WORK)
def decide_review(case_ref: str, review_id: int) -> BaseResponse:
    _checked_form()
    _move_review(case_ref, review_id, ReviewStatus.DECIDED, AuditAction.DECIDE_REVIEW)
    return back("console.case", case_ref=case_ref)
