"""The queue of open handoffs: urgent first, then oldest; claimed by one officer only."""

from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from werkzeug.wrappers import Response as BaseResponse

from models import AuditAction, Handoff, HandoffStatus, Officer, Permission, utcnow
from services.console import access, audit, handoffs, takeover
from webhooks.console.blueprint import back, bp, officer_session, requires
from webhooks.console.forms import ActionForm

PAGE = 50


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def _items(db: Session, me: Officer, page: int) -> dict[str, object]:
    """The page of the queue, and which of its cases this officer may see (the others'
    references are not shown). Viewing it is a read of victims' names: audited, once in a
    few minutes while it is open."""
    items = handoffs.open_handoffs(db, limit=PAGE, offset=(page - 1) * PAGE)
    total = handoffs.count_open(db)
    audit.record_read(db, me, AuditAction.VIEW_QUEUE)
    return {
        "items": items,
        "total": total,
        "page": page,
        "has_next": page * PAGE < total,
        "now": utcnow(),
        "claim_form": ActionForm(),
        "visible_cases": access.visible_case_ids(
            db, me, [h.case_id for h in items if h.case_id is not None]
        ),
    }


@bp.get("/queue")
@requires(Permission.WORK)
def queue() -> str:
    with officer_session() as (db, me):
        context = _items(db, me, _page())
        mine = access.my_conversations(db, me)
        recent = (
            list(
                db.scalars(
                    select(Handoff)
                    .where(Handoff.status != HandoffStatus.OPEN)
                    .order_by(Handoff.claimed_at.desc().nulls_last(), Handoff.id.desc())
                    .limit(25)
                    .options(joinedload(Handoff.victim))
                )
            )
            if me.may(Permission.SUPERVISE)
            else []
        )
        names = {i: n for i, n in db.execute(select(Officer.id, Officer.display_name))}
        page = render_template(
            "console/queue.html", mine=mine, recent=recent, names=names, **context
        )
    return page


@bp.get("/queue/items")
@requires(Permission.WORK)
def queue_items() -> str:
    """The queue's list alone, for the page's live update."""
    with officer_session() as (db, me):
        page = render_template("console/_queue_items.html", **_items(db, me, _page()))
    return page


@bp.post("/handoffs/<int:handoff_id>/claim")
@requires(Permission.WORK)
def claim(handoff_id: int) -> BaseResponse:
    with officer_session() as (db, me):
        handoff = takeover.claim(db, me, handoff_id)
        conversation_id = handoff.conversation_id
    return back("console.conversation", conversation_id=conversation_id)
