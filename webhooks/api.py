"""The case data API (contract): JSON in and out, bearer token, errors as {"error": ...}.

Each endpoint names the scope its token needs (webhooks/bearer.py, one line) and audits what
it did, in its own transaction, under the caller's name.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.blueprints import BlueprintSetupState
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from models import AuditAction, HandoffStatus, NotificationKind, utcnow
from services.casework import (
    attach_requests,
    cases,
    notifications,
    referrals,
    reports,
    reviews,
    scheduled_updates,
)
from services.casework.cases import KnownVictim
from services.console import handoffs
from services.errors import Conflict, InvalidField, NotFound
from services.runtime import runtime
from webhooks import openapi
from webhooks.bearer import audit_call, audited, caller, mark_audited, public, requires_scope
from webhooks.bearer import authenticate as _authenticate

bp = Blueprint("api", __name__, url_prefix="/api")
bp.before_request(_authenticate)
bp.after_request(audit_call)
log = logging.getLogger(__name__)


def _error(status: int, message: str) -> tuple[Response, int]:
    return jsonify(error=message), status


@bp.errorhandler(InvalidField)
def _invalid(exc: InvalidField) -> tuple[Response, int]:
    return _error(400, str(exc))


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> tuple[Response, int]:
    return _error(404, str(exc))


@bp.errorhandler(Conflict)
def _conflict(exc: Conflict) -> tuple[Response, int]:
    if isinstance(exc, KnownVictim):
        mark_audited()  # attach_requests.register audited it, against the victim
    return _error(409, str(exc))


@bp.errorhandler(attach_requests.Paused)
def _paused(exc: attach_requests.Paused) -> tuple[Response, int]:
    mark_audited()
    return _error(429, str(exc))


@bp.errorhandler(IntegrityError)
def _race(_exc: IntegrityError) -> tuple[Response, int]:
    # Two requests registering the same thing at once: the database's unique constraint
    # decides, and the loser is told it is a duplicate.
    return _error(409, "duplicate: it was registered at the same moment by another request")


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> tuple[Response, int]:
    return _error(exc.code or 500, exc.description or exc.name)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> tuple[Response, int]:
    # Still JSON, as the contract says; what went wrong is in the log, not the answer.
    log.error("unexpected error in %s %s", request.method, request.path, exc_info=exc)
    return _error(500, "internal error: it has been logged")


def _unrouted(exc: HTTPException) -> HTTPException | tuple[Response, int]:
    """404 and 405 that no blueprint saw (no route matched): JSON under /api, as the rest."""
    if request.path.startswith("/api/"):
        return _http(exc)
    return exc  # Flask renders it as it would have


@bp.record_once
def _json_errors_before_routing(state: BlueprintSetupState) -> None:
    state.app.register_error_handler(HTTPException, _unrouted)


def _payload() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidField("body", "must be a JSON object (Content-Type: application/json)")
    return data


@bp.get("/openapi.json")
@public
def describe() -> Response:
    """This API's OpenAPI 3.1 description (contract), from webhooks/openapi.yml."""
    # In the order it is written (jsonify would sort the keys): paths in a life cycle's order.
    return Response(json.dumps(openapi.document(), ensure_ascii=False), mimetype="application/json")


@bp.post("/cases")
@requires_scope("cases:write")
def create_case() -> tuple[Response, int]:
    with runtime().db.session() as session:
        case = cases.register_case(session, _payload())
        audited(session, AuditAction.REGISTER_CASE, case_id=case.id, detail=case.case_ref)
        body = {
            "case_ref": case.case_ref,
            "crime_type": case.crime_type,
            "officer_in_charge": case.officer_in_charge,
            "status": case.status.value,
        }
    return jsonify(body), 201


@bp.post("/cases/<case_ref>/victims")
@requires_scope("cases:write")
def add_victim(case_ref: str) -> tuple[Response, int]:
    # Audited there (a refusal against the victim it aimed at, in a transaction of its own);
    # refusals are throttled.
    outcome = attach_requests.register(runtime().db, case_ref, _payload(), actor=caller().actor)
    mark_audited()
    # The welcome is planned; the scheduler hands it to the outbox within a second. The
    # answer says which protective settings are in force (docs/SAFETY.md).
    return jsonify(outcome.registration), 201


@bp.post("/cases/<case_ref>/events")
@requires_scope("cases:write")
def add_event(case_ref: str) -> tuple[Response, int]:
    with runtime().db.session() as session:
        event = cases.record_event(session, case_ref, _payload())
        audited(session, AuditAction.RECORD_EVENT, case_id=event.case_id, detail=event.type.value)
        body = {
            "event_id": event.id,
            "notifications": [
                notifications.as_json(n) for n in notifications.for_event(session, event)
            ],
        }
    return jsonify(body), 201


@bp.post("/cases/<case_ref>/close")
@requires_scope("cases:write")
def close_case(case_ref: str) -> Response:
    """Close a case: each victim gets the closing message and its satisfaction survey."""
    with runtime().db.session() as session:
        case = cases.close_case(session, case_ref)
        audited(session, AuditAction.CLOSE_CASE, case_id=case.id, detail=case.case_ref)
        body = {
            "case_ref": case.case_ref,
            "status": case.status.value,
            "closed_at": notifications.iso(case.closed_at),
            "notifications": [
                notifications.as_json(n)
                for n in notifications.for_case(session, case)
                if n.kind is NotificationKind.CLOSING_SURVEY
            ],
        }
    return jsonify(body)


@bp.post("/cases/<case_ref>/scheduled-updates")
@requires_scope("cases:write")
def schedule_update(case_ref: str) -> tuple[Response, int]:
    with runtime().db.session() as session:
        scheduled = scheduled_updates.create(session, case_ref, _payload())
        audited(
            session,
            AuditAction.SCHEDULE_UPDATE,
            case_id=scheduled.case_id,
            detail=f"#{scheduled.id}",
        )
        body = scheduled_updates.as_json(scheduled, scheduled.case)
    return jsonify(body), 201


@bp.get("/cases/<case_ref>/scheduled-updates")
@requires_scope("cases:read")
def list_scheduled_updates(case_ref: str) -> Response:
    with runtime().db.session() as session:
        found = scheduled_updates.for_case(session, case_ref)
        body = [scheduled_updates.as_json(s, s.case) for s in found]
        audited(
            session,
            AuditAction.READ_SCHEDULED_UPDATES,
            case_id=cases.find_case(session, case_ref).id,
        )
    return jsonify(body)


@bp.get("/cases/<case_ref>/scheduled-updates/<int:update_id>")
@requires_scope("cases:read")
def show_scheduled_update(case_ref: str, update_id: int) -> Response:
    with runtime().db.session() as session:
        scheduled = scheduled_updates.find(session, case_ref, update_id)
        audited(
            session,
            AuditAction.READ_SCHEDULED_UPDATES,
            case_id=scheduled.case_id,
            detail=f"#{scheduled.id}",
        )
        body = scheduled_updates.as_json(scheduled, scheduled.case)
    return jsonify(body)


@bp.patch("/cases/<case_ref>/scheduled-updates/<int:update_id>")
@requires_scope("cases:write")
def change_scheduled_update(case_ref: str, update_id: int) -> Response:
    with runtime().db.session() as session:
        scheduled = scheduled_updates.change(session, case_ref, update_id, _payload())
        audited(
            session,
            AuditAction.CHANGE_SCHEDULED_UPDATE,
            case_id=scheduled.case_id,
            detail=f"#{scheduled.id}",
        )
        body = scheduled_updates.as_json(scheduled, scheduled.case)
    return jsonify(body)


@bp.delete("/cases/<case_ref>/scheduled-updates/<int:update_id>")
@requires_scope("cases:write")
def cancel_scheduled_update(case_ref: str, update_id: int) -> Response:
    with runtime().db.session() as session:
        scheduled = scheduled_updates.cancel(session, case_ref, update_id)
        audited(
            session,
            AuditAction.CANCEL_SCHEDULED_UPDATE,
            case_id=scheduled.case_id,
            detail=f"#{scheduled.id}",
        )
        body = scheduled_updates.as_json(scheduled, scheduled.case)
    return jsonify(body)


@bp.get("/cases/<case_ref>/notifications")
@requires_scope("notifications:read")
def list_notifications(case_ref: str) -> Response:
    with runtime().db.session() as session:
        case = cases.find_case(session, case_ref)
        audited(session, AuditAction.READ_NOTIFICATIONS, case_id=case.id, detail=case.case_ref)
        body = [notifications.as_json(n) for n in notifications.for_case(session, case)]
    return jsonify(body)


@bp.get("/cases/<case_ref>/referrals")
@requires_scope("cases:read")
def list_case_referrals(case_ref: str) -> Response:
    """The referrals of the victims on a case, against the Code's Right 4 limit."""
    with runtime().db.session() as session:
        found = referrals.for_case(session, case_ref)
        case = cases.find_case(session, case_ref)
        audited(session, AuditAction.READ_REFERRALS, case_id=case.id, detail=case.case_ref)
        now = utcnow()
        body = [referrals.as_json(r, now) for r in found]
    return jsonify(body)


@bp.get("/referrals")
@requires_scope("cases:read")
def list_referrals() -> Response:
    """Every referral not yet marked sent, the soonest due first: a case system's work list."""
    with runtime().db.session() as session:
        now = utcnow()
        body = [referrals.as_json(r, now) for r in referrals.unsent(session)]
        audited(session, AuditAction.READ_REFERRALS, detail=f"unsent: {len(body)}")
    return jsonify(body)


@bp.post("/referrals/<int:referral_id>/sent")
@requires_scope("cases:write")
def mark_referral_sent(referral_id: int) -> Response:
    """The referral reached its support service (the Code's Right 4): now, by this caller."""
    with runtime().db.session() as session:
        referral = referrals.mark_sent(session, referral_id, caller().actor)
        audited(
            session,
            AuditAction.MARK_REFERRAL_SENT,
            victim_id=referral.victim_id,
            case_id=referral.case_id,
            detail=f"referral #{referral.id}",
        )
        body = referrals.as_json(referral)
    return jsonify(body)


@bp.get("/cases/<case_ref>/reviews")
@requires_scope("cases:read")
def list_case_reviews(case_ref: str) -> Response:
    """The requests for a review by the victims on a case, against the scheme's limits."""
    with runtime().db.session() as session:
        found = reviews.for_case(session, case_ref)
        case = cases.find_case(session, case_ref)
        audited(session, AuditAction.READ_REVIEWS, case_id=case.id, detail=case.case_ref)
        now = utcnow()
        body = [reviews.as_json(r, now) for r in found]
    return jsonify(body)


@bp.get("/handoffs")
@requires_scope("handoffs:read")
def list_handoffs() -> Response:
    status = request.args.get("status", "")
    if status != HandoffStatus.OPEN.value:
        # Claimed and closed handoffs belong to the officers' console, not yet built.
        raise InvalidField("status", "must be 'open' (only open handoffs can be listed for now)")
    with runtime().db.session() as session:
        body = [handoffs.as_json(h) for h in handoffs.open_handoffs(session)]
        audited(session, AuditAction.READ_HANDOFFS, detail=f"status=open: {len(body)}")
    return jsonify(body)


@bp.get("/reports/compliance")
@requires_scope("reports:read")
def compliance_report() -> Response:
    start, end = reports.parse_period(request.args.get("from"), request.args.get("to"))
    with runtime().db.session() as session:
        body = reports.compliance(session, start, end).as_json()
        audited(session, AuditAction.VIEW_REPORT, detail=f"compliance {start} to {end}")
    return jsonify(body)
