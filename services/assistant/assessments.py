"""The needs questionnaire: starting, resuming, saving each answer as it comes, and ending.

Every answer is saved the moment it is given, so a pause ("later"), a stop or a dropped
conversation loses nothing; the next start resumes at the first unanswered question.
"Not safe" or "unsure" to the first question opens a high-priority handoff at once.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    AssessmentStatus,
    Conversation,
    HandoffPriority,
    NeedsAnswer,
    NeedsAssessment,
    NeedsQuestion,
    Victim,
)
from models.assessments import QUESTION_ORDER, answered
from services.console import handoffs
from services.language import phrases

log = logging.getLogger(__name__)

UNSAFE_REASON = "needs questionnaire: not safe or unsure"
SKIPPED = "skipped"


class Control(enum.StrEnum):
    """Words that steer the questionnaire instead of answering it."""

    SKIP = "skip"
    LATER = "later"
    STOP = "stop"


# Whole-message control words. A bare STOP is the opt-out keyword and never reaches the
# assistant, so the questionnaire asks for "no more" to stop.
_CONTROL: dict[Control, tuple[str, ...]] = {
    Control.SKIP: (
        SKIPPED,
        "skip",
        "skip it",
        "skip this",
        "skip question",
        "pass",
        "next",
        "next question",
        "rather not say",
        "id rather not say",
        "prefer not to say",
        "n a",
        "nesaf",
        "hepgor",
        "sgip",
        "sgipio",
        "pasio",
        "gwell gen i beidio",
        "gwell peidio",
    ),
    Control.LATER: (
        "later",
        "later please",
        "do it later",
        "maybe later",
        "not now",
        "another time",
        "pause",
        "wait",
        "ask me later",
        "l8r",
        "ltr",
        "wedyn",
        "nes ymlaen",
        "yn nes ymlaen",
        "hwyrach",
        "ddim nawr",
        "dim nawr",
        "rywbryd arall",
        "rhywbryd arall",
        "aros",
        "saib",
    ),
    Control.STOP: (
        "no more",
        "no more questions",
        "stop questions",
        "stop the questions",
        "stop questionnaire",
        "cancel questions",
        "end questions",
        "i want to stop",
        "dont want to do this",
        "i dont want to answer",
        "dim mwy",
        "dim mwy o gwestiynau",
        "stopio cwestiynau",
        "dim rhagor",
        "dwi ddim eisiau ateb",
        "rhoi gorau iddi",
    ),
}

SAFE, NOT_SAFE, UNSURE = "safe", "not_safe", "unsure"
_UNSURE = (
    "not sure",
    "unsure",
    "dunno",
    "dont know",
    "idk",
    "maybe",
    "kind of",
    "sort of",
    "not really sure",
    "no idea",
    "dno",
    "ddim yn siwr",
    "ddim yn siwr iawn",
    "dim yn siwr",
    "dwn i ddim",
    "sai n gwbod",
    "sai gwbod",
    "dwi ddim yn gwybod",
    "efallai",
    "falle",
    "hwyrach",
    "rhywfaint",
)
_NOT_SAFE = (
    "no",
    "nope",
    "nah",
    "not safe",
    "not really",
    "not at all",
    "im not",
    "scared",
    "afraid",
    "frightened",
    "terrified",
    "unsafe",
    "na",
    "nac ydw",
    "nag ydw",
    "nac ydw i",
    "ddim yn ddiogel",
    "dim yn ddiogel",
    "dw i ddim",
    "dwi ddim",
    "ofn",
    "ofnus",
)
_SAFE = (
    "yes",
    "yeah",
    "yep",
    "yh",
    "ye",
    "safe",
    "i am safe",
    "im safe",
    "ok",
    "okay",
    "fine",
    "i feel safe",
    "all good",
    "ydw",
    "yndw",
    "ydw diolch",
    "diogel",
    "yn ddiogel",
    "iawn",
    "ydw dwi n ddiogel",
    "ydw rwyn ddiogel",
)

SUPPORT_KINDS: dict[str, tuple[str, ...]] = {
    "emotional": (
        "emotional",
        "emotion",
        "talk",
        "talking",
        "someone to talk to",
        "counselling",
        "counseling",
        "feelings",
        "emosiynol",
        "siarad",
        "cwnsela",
        "rhywun i siarad",
    ),
    "practical": (
        "practical",
        "practical help",
        "locks",
        "lock",
        "repairs",
        "forms",
        "ymarferol",
        "cloeon",
        "clo",
        "ffurflenni",
    ),
    "financial": (
        "financial",
        "money",
        "money help",
        "compensation",
        "benefits",
        "ariannol",
        "arian",
        "iawndal",
        "budd daliadau",
    ),
    "health": (
        "health",
        "medical",
        "mental health",
        "doctor",
        "gp",
        "iechyd",
        "iechyd meddwl",
        "meddyg",
        "meddygol",
    ),
    "housing": (
        "housing",
        "house",
        "home",
        "somewhere to live",
        "move house",
        "refuge",
        "tai",
        "ty",
        "cartref",
        "lloches",
        "symud ty",
    ),
}
_NONE = (
    "none",
    "nothing",
    "no",
    "no thanks",
    "no thank you",
    "nope",
    "nah",
    "not needed",
    "im ok",
    "im fine",
    "dim",
    "dim byd",
    "na",
    "dim diolch",
    "na diolch",
    "dim angen",
)


def control(text: str) -> Control | None:
    """SKIP, LATER or STOP when the whole message says so, else None."""
    for kind, words in _CONTROL.items():
        if phrases.is_one_of(text, words):
            return kind
    return None


def interpret(question: NeedsQuestion, text: str) -> str | None:
    """What an answer means for `question`, or None when it must be asked again."""
    if question is NeedsQuestion.SAFE_NOW:
        if phrases.contains(text, _UNSURE):
            return UNSURE
        if phrases.contains(text, _NOT_SAFE):
            return NOT_SAFE
        if phrases.contains(text, _SAFE):
            return SAFE
        return None
    if question is NeedsQuestion.SUPPORT:
        kinds = [kind for kind, words in SUPPORT_KINDS.items() if phrases.contains(text, words)]
        if kinds:
            return ",".join(kinds)
        return "none" if phrases.contains(text, _NONE) else None
    # Communication needs, contact wishes and times to avoid are the victim's own words,
    # for the officer to read: anything is an answer.
    if not phrases.normalise(text):
        return None
    return "none" if phrases.is_one_of(text, _NONE) else "given"


def open_assessment(session: Session, victim: Victim) -> NeedsAssessment | None:
    """The victim's questionnaire in progress or paused, if any."""
    return session.scalar(
        select(NeedsAssessment)
        .where(
            NeedsAssessment.victim_id == victim.id,
            NeedsAssessment.status.in_([AssessmentStatus.IN_PROGRESS, AssessmentStatus.PAUSED]),
        )
        .order_by(NeedsAssessment.id.desc())
        .limit(1)
    )


def start_or_resume(session: Session, victim: Victim) -> tuple[NeedsAssessment, bool]:
    """The questionnaire to go on with, and whether it resumes one with answers already."""
    assessment = open_assessment(session, victim)
    if assessment is not None:
        if assessment.status is AssessmentStatus.PAUSED:
            assessment.move(AssessmentStatus.IN_PROGRESS)
        return assessment, bool(assessment.answers)
    cases = victim.cases
    assessment = NeedsAssessment(
        victim_id=victim.id,
        case_id=cases[0].case_id if len(cases) == 1 else None,
        status=AssessmentStatus.IN_PROGRESS,
    )
    session.add(assessment)
    session.flush()
    log.info("needs assessment %s started", assessment.id)
    return assessment, False


def given_so_far(assessment: NeedsAssessment) -> dict[NeedsQuestion, str]:
    """Each answered question with the victim's words (or SKIPPED), to resume a form."""
    return {q: (SKIPPED if a.skipped else (a.text or "")) for q, a in answered(assessment).items()}


def next_question(assessment: NeedsAssessment) -> NeedsQuestion | None:
    """The first question not yet answered or skipped."""
    done = answered(assessment)
    return next((q for q in QUESTION_ORDER if q not in done), None)


@dataclass(frozen=True)
class Recorded:
    """What saving an answer did."""

    value: str | None
    skipped: bool
    # True when this answer opened (or raised) a high-priority handoff.
    unsafe: bool


def record(
    session: Session,
    conversation: Conversation,
    assessment: NeedsAssessment,
    question: NeedsQuestion,
    text: str,
    now: dt.datetime,
) -> Recorded | None:
    """Save one answer now; None when it was not understood (nothing is saved).

    Saving the same words again (a resumed form re-checks what it had) changes nothing.
    """
    existing = answered(assessment).get(question)
    skipped = control(text) is Control.SKIP
    value = None if skipped else interpret(question, text)
    if not skipped and value is None:
        return None
    words = None if skipped else text.strip()[:2000]
    if existing is not None and existing.skipped == skipped and existing.text == words:
        return Recorded(existing.value, skipped, False)
    if existing is None:
        existing = NeedsAnswer(question=question)
        assessment.answers.append(existing)
    existing.value, existing.text, existing.skipped, existing.answered_at = (
        value,
        words,
        skipped,
        now,
    )
    assessment.updated_at = now
    unsafe = question is NeedsQuestion.SAFE_NOW and value in (NOT_SAFE, UNSURE)
    if unsafe:
        handoffs.open_handoff(session, conversation, HandoffPriority.HIGH, UNSAFE_REASON)
    session.flush()
    return Recorded(value, skipped, unsafe)


def pause(assessment: NeedsAssessment) -> None:
    if assessment.status is AssessmentStatus.IN_PROGRESS:
        assessment.move(AssessmentStatus.PAUSED)


def stop(assessment: NeedsAssessment) -> None:
    if assessment.status in (AssessmentStatus.IN_PROGRESS, AssessmentStatus.PAUSED):
        assessment.move(AssessmentStatus.STOPPED)


def complete(assessment: NeedsAssessment) -> None:
    if assessment.status is AssessmentStatus.PAUSED:
        assessment.move(AssessmentStatus.IN_PROGRESS)
    assessment.move(AssessmentStatus.COMPLETED)
