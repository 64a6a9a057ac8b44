"""A conversation: transcript (live), the victim's profile and case, reply, note, hand back."""

from __future__ import annotations

from typing import Any

from flask import flash, render_template
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload
from werkzeug.wrappers import Response as BaseResponse

from models import (
    AuditAction,
    Case,
    CaseVictim,
    Conversation,
    ConversationState,
    NeedsAssessment,
    Officer,
    Permission,
    Referral,
    Victim,
    utcnow,
)
from services.casework import protection
from services.console import access, audit, takeover, transcripts
from services.identity import verification as identity
from services.runtime import runtime
from webhooks.console.blueprint import back, bp, officer_session, requires
from webhooks.console.forms import ActionForm, NoteForm, ReplyForm


def verified(conversation: Conversation | None) -> bool:
    """Whether the victim proved who they are in this conversation (and it still holds)."""
    until = getattr(conversation, "verified_until", None)
    return until is not None and until > utcnow()


def victim_context(db: Session, me: Officer, victim: Victim | None) -> dict[str, Any]:
    """What of the victim this officer may see (services/console/access.py): the profile
    (never the date of birth), and only the cases they may see, with those cases' needs
    answers and referrals, the identity check's lock and the changes that wait for an
    officer. An officer who sees the victim only through a conversation (in the queue, or
    claimed) gets the profile alone."""
    if victim is None:
        return {
            "victim": None,
            "cases": [],
            "assessments": [],
            "referrals": [],
            "identity_locked": False,
            "pending_requests": [],
        }
    linked = list(db.scalars(select(CaseVictim.case_id).where(CaseVictim.victim_id == victim.id)))
    visible = access.visible_case_ids(db, me, linked)
    cases = list(
        db.scalars(
            select(Case)
            .where(Case.id.in_(visible))
            .order_by(Case.id)
            .options(joinedload(Case.events))
        ).unique()
    )
    if not access.may_see_victim(db, me, victim.id):
        return {
            "victim": victim,
            "cases": cases,
            "assessments": [],
            "referrals": [],
            "identity_locked": False,
            "pending_requests": [],
        }
    assessments = list(
        db.scalars(
            select(NeedsAssessment)
            .where(
                NeedsAssessment.victim_id == victim.id,
                or_(NeedsAssessment.case_id.in_(visible), NeedsAssessment.case_id.is_(None)),
            )
            .order_by(NeedsAssessment.id.desc())
            .options(joinedload(NeedsAssessment.answers))
        ).unique()
    )
    referrals = list(
        db.scalars(
            select(Referral)
            .where(
                Referral.victim_id == victim.id,
                or_(Referral.case_id.in_(visible), Referral.case_id.is_(None)),
            )
            .order_by(Referral.id)
        )
    )
    return {
        "victim": victim,
        "cases": cases,
        "assessments": assessments,
        "referrals": referrals,
        "identity_locked": identity.locked(victim, utcnow()),
        "pending_requests": protection.pending(db, victim),
    }


@bp.get("/conversations/<int:conversation_id>")
@requires(Permission.WORK)
def conversation(conversation_id: int) -> str:
    with officer_session() as (db, me):
        talk = access.conversation_for(db, me, conversation_id)
        audit.record(
            db,
            me,
            AuditAction.VIEW_CONVERSATION,
            victim_id=talk.victim_id,
            conversation_id=talk.id,
        )
        context = victim_context(db, me, talk.victim)
        page = render_template(
            "console/conversation.html",
            talk=talk,
            me=me,
            lines=transcripts.transcript(db, talk.id),
            notes=transcripts.notes(db, talk.id),
            handoffs=transcripts.handoffs_of(db, talk.id),
            owner=talk.officer_id == me.id and talk.state is ConversationState.OFFICER,
            route=takeover.reply_route(talk),
            verified=verified(talk),
            action_form=ActionForm(),
            reply_form=ReplyForm(),
            note_form=NoteForm(),
            **context,
        )
    return page


@bp.get("/conversations/<int:conversation_id>/transcript")
@requires(Permission.WORK)
def transcript(conversation_id: int) -> str:
    """The transcript alone, for the page's live update. A read like any other: audited,
    once in every few minutes that it is open (audit.record_read), so a transcript read
    straight from this address leaves its mark as the page does."""
    with officer_session() as (db, me):
        talk = access.conversation_for(db, me, conversation_id)
        audit.record_read(
            db,
            me,
            AuditAction.VIEW_TRANSCRIPT,
            victim_id=talk.victim_id,
            conversation_id=talk.id,
            also=(AuditAction.VIEW_CONVERSATION,),
        )
        return render_template(
            "console/_transcript.html", lines=transcripts.transcript(db, talk.id), talk=talk
        )


@bp.post("/conversations/<int:conversation_id>/reply")
@requires(Permission.WORK)
def reply(conversation_id: int) -> BaseResponse:
    form = ReplyForm()
    if not form.validate():
        flash("Write a reply of at most 1600 characters.")
        return back("console.conversation", conversation_id=conversation_id)
    with officer_session() as (db, me):
        takeover.reply(db, me, conversation_id, form.body.data or "")
    # The reply is in the outbox; a worker may send it now rather than at its next poll.
    runtime().waker.nudge()
    return back("console.conversation", conversation_id=conversation_id)


@bp.post("/conversations/<int:conversation_id>/notes")
@requires(Permission.WORK)
def add_note(conversation_id: int) -> BaseResponse:
    form = NoteForm()
    if not form.validate():
        flash("Write a note of at most 4000 characters.")
        return back("console.conversation", conversation_id=conversation_id)
    with officer_session() as (db, me):
        takeover.note(db, me, conversation_id, form.note.data or "")
    return back("console.conversation", conversation_id=conversation_id)


@bp.post("/conversations/<int:conversation_id>/hand-back")
@requires(Permission.WORK)
def hand_back(conversation_id: int) -> BaseResponse:
    with officer_session() as (db, me):
        takeover.hand_back(db, me, conversation_id)
    flash("Handed back to the assistant.")
    return back("console.queue")


@bp.post("/conversations/<int:conversation_id>/close")
@requires(Permission.WORK)
def close(conversation_id: int) -> BaseResponse:
    with officer_session() as (db, me):
        takeover.close(db, me, conversation_id)
    flash("Conversation closed.")
    return back("console.queue")
