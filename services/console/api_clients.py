"""The case systems that call /api: one named token each, stored hashed, with scopes.

A force gives each case system its own token (`flask --app webhooks tokens create NAME
--scope ...`), shown once; only its SHA-256 is kept (a token is 256 random bits, so a slow
hash would add nothing). Every call is audited under `api:<name>`, and a token can be
revoked alone. The single `API_TOKEN` of the environment (contract) still works: it is the
client named API_TOKEN_CLIENT, with every scope.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import ApiClient, AuditAction, utcnow
from models.db import rows_updated
from services.console import audit
from services.errors import Conflict, InvalidField, NotFound

# What a token may do; each endpoint names the one it needs (webhooks/bearer.py).
SCOPES: dict[str, str] = {
    "cases:write": "register cases and victims, record events, schedule updates, close cases",
    "cases:read": "read a case's scheduled updates",
    "notifications:read": "read a case's notifications and whether they went in time",
    "handoffs:read": "read the open handoffs (conversations waiting for an officer)",
    "reports:read": "read the Victims' Code compliance report",
    "metrics:read": "read /metrics (counts and ages, never a victim's data)",
}
API_TOKEN_CLIENT = "API_TOKEN"
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
TOKEN_PREFIX = "vcm_"


@dataclass(frozen=True)
class Caller:
    """Who is calling the API: the client's name and what it may do."""

    name: str
    scopes: frozenset[str]
    client_id: int | None = None

    @property
    def actor(self) -> str:
        """The caller as the audit trail names it."""
        return f"api:{self.name}"[:64]


def digest(token: str) -> str:
    """SHA-256 of a token, as stored (any text: a token that is not ASCII is just wrong)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def _scopes(requested: list[str]) -> list[str]:
    unknown = sorted(set(requested) - set(SCOPES))
    if unknown or not requested:
        raise InvalidField("scope", f"must be one or more of: {', '.join(SCOPES)}")
    return sorted(set(requested))


def create(session: Session, name: str, scopes: list[str], by: str = "cli") -> str:
    """A new client and its token, returned once (only the hash is stored)."""
    name = name.strip().lower()
    if not NAME.match(name) or name == API_TOKEN_CLIENT.lower():
        raise InvalidField(
            "name", "2 to 40 lower-case letters, digits, dots, dashes or underscores"
        )
    chosen = _scopes(scopes)
    if session.scalar(select(ApiClient.id).where(ApiClient.name == name)) is not None:
        raise Conflict(f"API client {name!r} exists already")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiClient(name=name, token_hash=digest(token), scopes=" ".join(chosen), created_by=by)
    )
    session.flush()
    audit.record(
        session, None, AuditAction.CREATE_TOKEN, actor=by, detail=f"{name}: {' '.join(chosen)}"
    )
    return token


def revoke(session: Session, name: str, by: str = "cli") -> None:
    """Stop a client's token working at once; NotFound for an unknown or revoked one."""
    done = rows_updated(
        session,
        update(ApiClient)
        .where(ApiClient.name == name.strip().lower(), ApiClient.revoked_at.is_(None))
        .values(revoked_at=utcnow()),
    )
    if not done:
        raise NotFound(f"no active API client {name!r}")
    audit.record(session, None, AuditAction.REVOKE_TOKEN, actor=by, detail=name)


def everyone(session: Session) -> list[ApiClient]:
    return list(session.scalars(select(ApiClient).order_by(ApiClient.name)))


def identify(session: Session, token: str, api_token: str | None) -> Caller | None:
    """The caller a bearer token belongs to, or None. The environment's API_TOKEN is the
    client API_TOKEN_CLIENT with every scope; a named client's token must not be revoked."""
    if not token:
        return None
    hashed = digest(token)
    if api_token and hmac.compare_digest(hashed, digest(api_token)):
        return Caller(API_TOKEN_CLIENT, frozenset(SCOPES))
    client = session.scalar(
        select(ApiClient).where(ApiClient.token_hash == hashed, ApiClient.revoked_at.is_(None))
    )
    if client is None:
        return None
    client.last_used_at = utcnow()
    return Caller(client.name, frozenset(client.scopes.split()), client.id)
