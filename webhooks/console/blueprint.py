"""The console blueprint and what its views share: sign-in and server-side sessions, CSRF,
roles, error pages (a refusal is audited) and template filters. Each view module adds its
routes to `bp`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import LoginManager, UserMixin, current_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from models import Officer, Permission, utcnow
from services.casework.attach_requests import Paused
from services.console import audit, sessions
from services.console.access import NotAllowed
from services.console.takeover import AlreadyClaimed
from services.errors import Conflict, InvalidField, NotFound
from services.privacy.erasure import AlreadyErased
from services.runtime import runtime
from services.victims_code.calendar import LONDON

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)
login_manager = LoginManager()
csrf = CSRFProtect()

# Requests the page makes by itself (live updates): they are not the officer's activity,
# so they neither keep an idle session alive nor survive its end.
POLL_HEADER = "X-Console-Poll"
# The browser's half of its server-side session (services/console/sessions.py).
SESSION_TOKEN = "console_session"
ENDED = {
    "idle": "You were signed out after a period without activity.",
    "expired": "Your session reached its maximum length. Please sign in again.",
    "password": "Your password was changed. Please sign in again.",
    "role": "Your role was changed. Please sign in again.",
    "second_factor": "Your second factor was reset. Please sign in again.",
    "deactivated": "Your account has been deactivated.",
}


class SignedIn(UserMixin):
    """The signed-in officer as Flask-Login holds them between requests."""

    def __init__(self, officer: Officer) -> None:
        self.id = str(officer.id)
        self.officer_id = officer.id
        self.username = officer.username
        self.display_name = officer.display_name
        self.role = officer.role
        self._officer = officer

    def may(self, permission: Permission | str) -> bool:
        return self._officer.may(Permission(permission))


def lifetime() -> sessions.Lifetime:
    settings = runtime().settings
    return sessions.Lifetime(
        idle=dt.timedelta(minutes=settings.console_idle_minutes),
        maximum=dt.timedelta(hours=settings.console_max_hours),
    )


@login_manager.user_loader
def _load(user_id: str) -> SignedIn | None:
    """The officer of this request's server-side session, if it is still valid: signed out,
    ended by a change to the account, idle too long or too old, it is not."""
    token = session.get(SESSION_TOKEN)
    if not isinstance(token, str) or not user_id.isdigit():
        return None
    with runtime().db.session() as db:
        checked = sessions.check(db, token, lifetime(), touch=not request.headers.get(POLL_HEADER))
        if checked.officer is None or checked.officer.id != int(user_id):
            g.session_ended = checked.ended
            return None
        return SignedIn(checked.officer)


@login_manager.unauthorized_handler
def _unauthorized() -> BaseResponse | tuple[Response, int]:
    if request.headers.get(POLL_HEADER):
        return jsonify(error="signed out"), 401
    return redirect(url_for("console.login", next=request.full_path))


@bp.before_request
def _guard() -> BaseResponse | tuple[Response, int] | None:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    if current_user.is_authenticated:
        return None
    ended = g.get("session_ended")
    if ended is not None:
        # The session ended on the server: the browser's cookie goes too.
        logout_user()
        session.clear()
        if request.headers.get(POLL_HEADER):
            return jsonify(error="signed out"), 401
        flash(ENDED.get(ended, "Please sign in again."))
        return redirect(url_for("console.login"))
    return None


@contextmanager
def officer_session() -> Iterator[tuple[Session, Officer]]:
    """A database session and the signed-in officer loaded in it."""
    with runtime().db.session() as db:
        yield db, db.get_one(Officer, int(current_user.officer_id))


def requires(*permissions: Permission) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Sign-in required, and a role with one of `permissions`: 403 otherwise (not a hidden
    link), and the refusal audited."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not any(current_user.may(p) for p in permissions):
                raise NotAllowed(f"your role ({current_user.role.value}) cannot do this")
            return view(*args, **kwargs)

        return wrapped

    return decorate


def _page(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("console/error.html", title=title, message=message), status


@bp.errorhandler(NotAllowed)
def _forbidden(exc: NotAllowed) -> tuple[str, int]:
    # The refused act's transaction was rolled back; its audit event is written on its own.
    if current_user.is_authenticated:
        audit.refused(
            runtime().db,
            int(current_user.officer_id),
            f"{request.method} {request.path}: {exc}",
            actor=current_user.username,
            victim_id=exc.victim_id,
            conversation_id=exc.conversation_id,
            case_id=exc.case_id,
        )
    return _page(403, "Not allowed", str(exc))


@bp.errorhandler(Paused)
def _paused(exc: Paused) -> tuple[str, int]:
    return _page(429, "Paused", str(exc))


@bp.errorhandler(AlreadyErased)
def _erased(exc: AlreadyErased) -> tuple[str, int]:
    return _page(410, "Erased", str(exc))


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> tuple[str, int]:
    return _page(404, "Not found", str(exc))


@bp.errorhandler(AlreadyClaimed)
def _taken(exc: AlreadyClaimed) -> tuple[str, int]:
    return _page(409, "Already claimed", str(exc))


@bp.errorhandler(Conflict)
def _conflict(exc: Conflict) -> tuple[str, int]:
    return _page(409, "Already exists", str(exc))


@bp.errorhandler(InvalidField)
def _invalid(exc: InvalidField) -> tuple[str, int]:
    return _page(400, "Please check the form", str(exc))


@bp.errorhandler(CSRFError)
def _csrf(exc: CSRFError) -> tuple[str, int]:
    return _page(400, "Form expired", "This form has expired. Go back, reload and try again.")


def back(default: str, **values: Any) -> BaseResponse:
    """Redirect to a view of this console (never to a URL the request names)."""
    return redirect(url_for(default, **values))


@bp.app_template_filter("waited")
def waited(since: dt.datetime, now: dt.datetime | None = None) -> str:
    """How long since `since`, in words an officer reads at a glance ("1 h 05 min")."""
    seconds = int(((now or utcnow()) - since).total_seconds())
    minutes = max(0, seconds) // 60
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours // 24} days"


@bp.app_template_filter("local")
def local(at: dt.datetime | None) -> str:
    """A time on the London clock, as officers work."""
    return at.astimezone(LONDON).strftime("%d %b %Y %H:%M") if at is not None else ""


@bp.app_template_filter("local_input")
def local_input(at: dt.datetime) -> str:
    """A time on the London clock as a datetime-local field holds it."""
    return at.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")
