"""Who is calling the API, and whether they may: bearer tokens and scopes, in one place.

`Authorization: Bearer <token>` (contract) names a caller: a case system's named token, or
the environment's single API_TOKEN (services/console/api_clients.py). Each endpoint says
what it needs with one line, `@requires_scope("cases:write")`; an endpoint without it
cannot be reached (`authenticate` refuses it), so a new endpoint is never open by mistake.

Every call is audited under `api:<name>`: an endpoint records its act in its own transaction
with `audited(...)`; `audit_call`, after the response, records any call that did not (a
refusal, an error), in a transaction of its own, so a refused attempt is never lost with
the act it tried.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, g, jsonify, request
from sqlalchemy.orm import Session

from models import AuditAction
from services.console import api_clients, audit
from services.console.api_clients import Caller
from services.runtime import runtime

UNAUTHENTICATED = "a valid 'Authorization: Bearer <token>' header is required"
# What `public` endpoints declare instead of a scope (a description of the API, say): no
# token is asked for, and nothing about a victim may be served there.
PUBLIC = "public"


def _error(status: int, message: str) -> tuple[Response, int]:
    return jsonify(error=message), status


def caller() -> Caller:
    """The authenticated caller of this request (after `authenticate`)."""
    found: Caller = g.api_caller
    return found


def authenticate() -> tuple[Response, int] | None:
    """Identify the caller from the bearer token (401 otherwise), and refuse an endpoint
    that declares no scope (403): run before every request to a protected blueprint."""
    g.api_audited = False
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "required_scope", None) == PUBLIC:
        g.api_audited = True
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    with runtime().db.session() as session:
        found = (
            api_clients.identify(session, token.strip(" \t"), runtime().settings.api_token)
            if scheme.lower() == "bearer"
            else None
        )
    if found is None:
        return _error(401, UNAUTHENTICATED)
    g.api_caller = found
    if view is not None and getattr(view, "required_scope", None) is None:
        return _error(403, "this endpoint declares no scope, so no token may use it")
    return None


def requires_scope[F: Callable[..., Any]](scope: str) -> Callable[[F], F]:
    """The endpoint needs `scope` (services/console/api_clients.SCOPES): 403 without it."""
    if scope not in api_clients.SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def decorate(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if scope not in caller().scopes:
                return _error(403, f"this token does not have the {scope!r} scope")
            return view(*args, **kwargs)

        checked.required_scope = scope  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return decorate


def public[F: Callable[..., Any]](view: F) -> F:
    """The endpoint needs no token (it must serve nothing about any victim)."""
    view.required_scope = PUBLIC  # type: ignore[attr-defined]
    return view


def audited(
    session: Session,
    action: AuditAction,
    *,
    victim_id: int | None = None,
    case_id: int | None = None,
    detail: str = "",
) -> None:
    """Record this call's act in the caller's transaction (it stands or falls with it)."""
    audit.record(
        session,
        None,
        action,
        actor=caller().actor,
        victim_id=victim_id,
        case_id=case_id,
        detail=detail or f"{request.method} {request.path}",
    )
    g.api_audited = True


def mark_audited() -> None:
    """This call's audit event is written already (by the service that refused it)."""
    g.api_audited = True


def audit_call(response: Response) -> Response:
    """After the response: record a call that recorded nothing, in a transaction of its
    own: a refusal or an error (`refused`), or an endpoint that forgot (`api_call`)."""
    if g.get("api_audited", True):
        return response
    found: Caller | None = g.get("api_caller")
    actor = found.actor if found is not None else "api:unauthenticated"
    detail = f"{request.method} {request.path}: {response.status_code}"
    if response.status_code >= 400:
        audit.refused(runtime().db, None, detail, actor=actor)
    else:
        with runtime().db.session() as session:
            audit.record(session, None, AuditAction.API_CALL, actor=actor, detail=detail)
    return response
