"""Signing in and out of the console, enrolling a second factor, and changing one's password."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

from models import AuditAction, Officer, Permission
from services.console import audit, officers, second_factor, sessions, throttle
from services.console.officers import Outcome
from services.runtime import runtime
from webhooks.console.blueprint import SESSION_TOKEN, SignedIn, bp, officer_session, requires
from webhooks.console.forms import EnrolForm, LoginForm, OwnPasswordForm

# How long the page to enrol a second factor stays open after the password was right.
ENROL_WITHIN = dt.timedelta(minutes=10)


def home_for(user: SignedIn) -> str:
    """Where an officer lands: the queue, or the accounts page for an admin."""
    if user.may(Permission.WORK):
        return url_for("console.queue")
    return url_for("console.accounts")


def _safe_next(target: str | None) -> str | None:
    # Only a path on this site: never an open redirect to somewhere else.
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/console/"):
        return None
    return target


def _address() -> str:
    return (request.remote_addr or "unknown")[:64]


def _begin_session(officer_id: int, target: str | None) -> BaseResponse:
    """A fresh server-side session (nothing from before it: session fixation), then on."""
    with runtime().db.session() as db:
        officer = db.get_one(Officer, officer_id)
        token = sessions.start(db, officer)
        user = SignedIn(officer)
    session.clear()
    session[SESSION_TOKEN] = token
    login_user(user)
    return redirect(_safe_next(target) or home_for(user))


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | BaseResponse | tuple[str, int]:
    form = LoginForm()
    if request.method == "POST" and form.validate_on_submit():
        result = officers.authenticate(
            runtime().db,
            form.username.data or "",
            form.password.data or "",
            form.code.data or "",
            _address(),
            runtime().settings.production,
        )
        if result.outcome is Outcome.FAILED:
            # The same words for every failure (services/console/officers.py).
            flash(officers.FAILED)
            # The form again with the username only: no password or code is sent back.
            again = LoginForm(formdata=None, username=form.username.data)
            return render_template("console/login.html", form=again), 401
        assert result.officer_id is not None
        if result.outcome is Outcome.ENROL:
            session.clear()
            session["enrol"] = {
                "officer_id": result.officer_id,
                "until": (dt.datetime.now(dt.UTC) + ENROL_WITHIN).timestamp(),
                "next": _safe_next(request.args.get("next")),
            }
            return redirect(url_for("console.enrol"))
        return _begin_session(result.officer_id, request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return render_template("console/login.html", form=form)


def _enrolling() -> int | None:
    pending = session.get("enrol")
    if not isinstance(pending, dict):
        return None
    if pending.get("until", 0) < dt.datetime.now(dt.UTC).timestamp():
        session.pop("enrol", None)
        return None
    officer_id = pending.get("officer_id")
    return officer_id if isinstance(officer_id, int) else None


@bp.route("/enrol", methods=["GET", "POST"])
def enrol() -> str | BaseResponse | tuple[str, int]:
    """Set up the second factor, right after a first sign-in with the right password."""
    officer_id = _enrolling()
    if officer_id is None:
        flash("Sign in first.")
        return redirect(url_for("console.login"))
    form = EnrolForm()
    codes: list[str] | None = None
    failed = False
    if request.method == "POST" and form.validate_on_submit():
        verdict = throttle.reserve(runtime().db, f"enrol:{officer_id}", officers.ENROLMENT)
        with runtime().db.session() as db:
            officer = db.get_one(Officer, officer_id)
            codes = (
                second_factor.confirm(db, officer, form.code.data or "")
                if verdict.allowed
                else None
            )
            if codes is None:
                failed = True
                audit.record(
                    db,
                    officer,
                    AuditAction.LOGIN_FAILED,
                    detail="second factor enrolment: wrong code"
                    if verdict.allowed
                    else "second factor enrolment: paused",
                )
            else:
                audit.record(db, officer, AuditAction.ENROL_SECOND_FACTOR, detail="TOTP")
                audit.record(db, officer, AuditAction.LOGIN, detail=f"enrolled from {_address()}")
    if codes is not None:
        target = (session.get("enrol") or {}).get("next")
        response = _begin_session(officer_id, target)
        # The codes are shown once, here, and never stored in the clear.
        return render_template(
            "console/recovery_codes.html", codes=codes, next=response.headers["Location"]
        )
    with runtime().db.session() as db:
        officer = db.get_one(Officer, officer_id)
        if officer.totp_secret is None or second_factor.enrolled(officer):
            second_factor.begin(officer)
        secret, qr = officer.totp_secret, second_factor.qr_svg(officer)
    if failed:
        flash("That code did not match. Check the app's clock and try the next code.")
    return render_template("console/enrol.html", form=EnrolForm(), secret=secret, qr=qr), (
        400 if failed else 200
    )


@bp.post("/logout")
def logout() -> BaseResponse:
    """Sign out: every session of this officer ends, not only this browser's (one left open
    on another computer closes too)."""
    if current_user.is_authenticated:
        with runtime().db.session() as db:
            me = db.get_one(Officer, current_user.officer_id)
            ended = sessions.end_all(db, me, "signed_out")
            audit.record(db, me, AuditAction.LOGOUT, detail=f"{ended} session(s) ended")
        logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("console.login"))


@bp.route("/password", methods=["GET", "POST"])
@requires(Permission.WORK, Permission.SUPERVISE, Permission.ACCOUNTS)
def own_password() -> str | BaseResponse | tuple[str, int]:
    """An officer changes their own password; every session of theirs ends, this one too."""
    form = OwnPasswordForm()
    if request.method == "POST" and form.validate_on_submit():
        if form.new_password.data != form.confirm.data:
            flash("The two new passwords differ.")
            return render_template("console/password.html", form=form), 400
        with officer_session() as (db, me):
            officers.change_own_password(
                db, me, form.current_password.data or "", form.new_password.data or ""
            )
        logout_user()
        session.clear()
        flash("Your password was changed. Please sign in again.")
        return redirect(url_for("console.login"))
    return render_template("console/password.html", form=form)


@bp.get("/")
def index() -> BaseResponse:
    if not current_user.is_authenticated:
        return redirect(url_for("console.login"))
    return redirect(home_for(current_user))
