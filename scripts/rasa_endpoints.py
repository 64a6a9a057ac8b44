#!/usr/bin/env python3
"""Write the Rasa endpoints file (tracker store, lock store, action server).

Usage: python -m scripts.rasa_endpoints OUTPUT_PATH   (from the repository root)

Environment:
  DATABASE_URL       SQLAlchemy URL of the app database
                     (default: sqlite:///<repo>/var/app.db).
                     sqlite  -> Rasa's tracker store is a SEPARATE sqlite file,
                                named after the app db: <dir>/<db stem>.rasa_tracker.db
                     postgresql[+psycopg2|+psycopg]://... -> same PostgreSQL database
                                (Rasa creates its own table `events` there)
  ACTION_SERVER_URL  default http://127.0.0.1:5055/webhook
  ACTION_SERVER_TOKEN
                     the shared secret the action server requires (bot/action_server.py);
                     Rasa sends it with every action call as the query parameter `token`
  REDIS_URL          optional, redis://[user:password@]host[:port][/db]; when set,
                     Rasa uses a Redis lock store (needed with more than one replica)

Runs in the app's venv; the tracker file's name is services/settings.py's rule.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from services import settings

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{REPO_ROOT / 'var' / 'app.db'}"
DEFAULT_ACTION_SERVER_URL = "http://127.0.0.1:5055/webhook"
POSTGRES_SCHEMES = ("postgresql", "postgresql+psycopg2", "postgresql+psycopg", "postgres")


class ConfigError(ValueError):
    """Raised for an environment value this script cannot turn into Rasa settings."""


def _q(value: object) -> str:
    """Quote a scalar for YAML (a JSON string or number is valid YAML)."""
    return json.dumps(value)


def sqlite_file(database_url: str) -> Path:
    """The absolute path of the SQLite file of `database_url`."""
    rest = database_url.split(":", 1)[1]
    if not rest.startswith("///"):
        raise ConfigError(
            f"unsupported sqlite URL {database_url!r}: use sqlite:///relative.db "
            "or sqlite:////absolute/path.db (an in-memory app db has no directory)"
        )
    path = unquote(rest[3:].split("?", 1)[0])
    if not path or path == ":memory:":
        raise ConfigError(f"in-memory sqlite URL {database_url!r} has no directory")
    # Like SQLAlchemy: sqlite:///x.db is relative to the working directory.
    return Path(os.path.abspath(path))


def sqlite_tracker_path(database_url: str) -> Path:
    """Path of Rasa's tracker db, beside the sqlite app db of `database_url` and named after
    it (services/settings.sqlite_tracker_path: `/srv/vc/app.db` ->
    `/srv/vc/app.rasa_tracker.db`)."""
    return settings.sqlite_tracker_path(sqlite_file(database_url))


def copy_name(database_url: str, port: int) -> str:
    """A name for one copy of the service on a host, for its run files (var/run/NAME/).

    Named after its database and its web port, never its folder: two copies on different
    databases never share run files, nor do two nodes of one service (same database) on
    one host, which must differ in their web port. `sqlite-app-1a2b3c4d-5000`,
    `pg-victims-1a2b3c4d-5000`: readable, and the hash tells apart two databases of the same
    name (another folder, another server).
    """
    scheme = database_url.split(":", 1)[0].lower()
    if scheme.startswith("sqlite"):
        app_db = sqlite_file(database_url)
        where, label = str(app_db), "sqlite-" + app_db.stem
    else:
        parts = urlsplit(database_url)
        where = f"{parts.hostname}:{parts.port or 5432}/{parts.path.lstrip('/')}"
        label = "pg-" + unquote(parts.path.lstrip("/"))
    digest = hashlib.sha256(where.encode()).hexdigest()[:8]
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", label)[:40]
    return f"{safe}-{digest}-{port}"


def tracker_store(database_url: str) -> dict[str, object]:
    """Rasa SQLTrackerStore settings for an SQLAlchemy database URL."""
    scheme = database_url.split(":", 1)[0].lower()
    if scheme.startswith("sqlite"):
        return {"type": "SQL", "dialect": "sqlite", "db": str(sqlite_tracker_path(database_url))}
    if scheme in POSTGRES_SCHEMES:
        parts = urlsplit(database_url)
        db = unquote(parts.path.lstrip("/"))
        if not db:
            raise ConfigError("DATABASE_URL names no database")
        store: dict[str, object] = {
            "type": "SQL",
            "dialect": "postgresql",
            "url": parts.hostname or "localhost",
            "port": parts.port or 5432,
            "db": db,
        }
        if parts.username:
            store["username"] = unquote(parts.username)
        if parts.password:
            store["password"] = unquote(parts.password)
        query = dict(parse_qsl(parts.query))
        if query:
            store["query"] = query
        return store
    raise ConfigError(f"unsupported DATABASE_URL scheme {scheme!r} (use sqlite or postgresql)")


def lock_store(redis_url: str) -> dict[str, object]:
    """Rasa RedisLockStore settings for a redis:// or rediss:// URL."""
    parts = urlsplit(redis_url)
    if parts.scheme not in ("redis", "rediss"):
        raise ConfigError(f"unsupported REDIS_URL scheme {parts.scheme!r}")
    db_text = parts.path.lstrip("/") or dict(parse_qsl(parts.query)).get("db", "0")
    try:
        db = int(db_text)
    except ValueError as exc:
        raise ConfigError(f"REDIS_URL database must be a number, got {db_text!r}") from exc
    store: dict[str, object] = {
        "type": "redis",
        "url": parts.hostname or "localhost",
        "port": parts.port or 6379,
        "db": db,
    }
    if parts.username:
        store["username"] = unquote(parts.username)
    if parts.password:
        store["password"] = unquote(parts.password)
    if parts.scheme == "rediss":
        store["use_ssl"] = True
    return store


def _section(name: str, values: dict[str, object]) -> list[str]:
    lines = [f"{name}:"]
    for key, value in values.items():
        if isinstance(value, dict):
            lines.append(f"  {key}:")
            lines.extend(f"    {_q(k)}: {_q(v)}" for k, v in value.items())
        else:
            lines.append(f"  {key}: {_q(value)}")
    return lines


def render(env: Mapping[str, str]) -> str:
    """The endpoints YAML for the given environment."""
    database_url = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    action_url = env.get("ACTION_SERVER_URL") or DEFAULT_ACTION_SERVER_URL
    action_token = env.get("ACTION_SERVER_TOKEN")
    redis_url = env.get("REDIS_URL")

    lines = ["# Generated by scripts/rasa_endpoints.py; do not edit."]
    action: dict[str, object] = {"url": action_url}
    if action_token:
        # Rasa 3.6 adds it to every call as ?token=... (rasa/utils/endpoints.py).
        action["token"] = action_token
    lines += _section("action_endpoint", action)
    lines += _section("tracker_store", tracker_store(database_url))
    if redis_url:
        lines += _section("lock_store", lock_store(redis_url))
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} OUTPUT_PATH", file=sys.stderr)
        return 2
    try:
        text = render(os.environ)
    except ConfigError as exc:
        print(f"rasa_endpoints: {exc}", file=sys.stderr)
        return 1
    out = Path(argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    # The file may hold a database password and the action server's token.
    tmp.chmod(0o600)
    tmp.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
