"""Signing in and out of the console."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

from models import AuditAction, Officer, Permission
from services.console import audit, officers
from services.runtime import runtime
from webhooks.console.blueprint import SignedIn, bp
from webhooks.console.forms import LoginForm


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


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | BaseResponse | tuple[str, int]:
    form = LoginForm()
    if request.method == "POST" and form.validate_on_submit():
        with runtime().db.session() as db:
            result = officers.authenticate(db, form.username.data or "", form.password.data or "")
            user = SignedIn(result.officer) if result.officer is not None else None
        if user is None:
            flash(result.refused or officers.WRONG)
            return render_template("console/login.html", form=form), 401
        # A fresh session at sign-in: nothing from before it (session fixation).
        session.clear()
        login_user(user)
        session["seen"] = dt.datetime.now(dt.UTC).timestamp()
        return redirect(_safe_next(request.args.get("next")) or home_for(user))
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return render_template("console/login.html", form=form)


@bp.post("/logout")
def logout() -> BaseResponse:
    if current_user.is_authenticated:
        with runtime().db.session() as db:
            audit.record(db, db.get(Officer, current_user.officer_id), AuditAction.LOGOUT)
        logout_user()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("console.login"))


@bp.get("/")
def index() -> BaseResponse:
    if not current_user.is_authenticated:
        return redirect(url_for("console.login"))
    return redirect(home_for(current_user))
