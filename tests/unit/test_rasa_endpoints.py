"""Rasa's endpoints file: the tracker store is always SQL, the lock store Redis when asked."""

from __future__ import annotations

import pytest
import yaml

from scripts.rasa_endpoints import ConfigError, copy_name, render


def test_sqlite_app_database_gets_a_separate_tracker_file() -> None:
    endpoints = yaml.safe_load(render({"DATABASE_URL": "sqlite:////srv/vc/app.db"}))
    assert endpoints["tracker_store"] == {
        "type": "SQL",
        "dialect": "sqlite",
        "db": "/srv/vc/app.rasa_tracker.db",
    }
    assert "lock_store" not in endpoints
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"


def test_postgresql_and_redis() -> None:
    endpoints = yaml.safe_load(
        render(
            {
                "DATABASE_URL": "postgresql+psycopg://care:s3cr%40t@db.internal:6432/victims",
                "REDIS_URL": "redis://cache.internal:6380/2",
                "ACTION_SERVER_URL": "http://actions:5055/webhook",
            }
        )
    )
    assert endpoints["tracker_store"] == {
        "type": "SQL",
        "dialect": "postgresql",
        "url": "db.internal",
        "port": 6432,
        "db": "victims",
        "username": "care",
        "password": "s3cr@t",
    }
    assert endpoints["lock_store"] == {
        "type": "redis",
        "url": "cache.internal",
        "port": 6380,
        "db": 2,
    }
    assert endpoints["action_endpoint"]["url"] == "http://actions:5055/webhook"


def test_an_unsupported_database_is_refused() -> None:
    with pytest.raises(ConfigError):
        render({"DATABASE_URL": "mysql://root@localhost/x"})


def test_the_action_server_token_goes_to_rasa_as_its_endpoint_token() -> None:
    # Rasa 3.6 sends an endpoint's `token` as the query parameter `token` on every call
    # (rasa/utils/endpoints.py); bot/action_server.py requires it.
    endpoints = yaml.safe_load(render({"ACTION_SERVER_TOKEN": "s3cret:/?&"}))
    assert endpoints["action_endpoint"]["token"] == "s3cret:/?&"
    assert "token" not in yaml.safe_load(render({}))["action_endpoint"]


def test_two_copies_whose_databases_share_a_folder_keep_their_own_tracker_and_run_files() -> None:
    one, two = "sqlite:////srv/vc/force-a.db", "sqlite:////srv/vc/force-b.db"
    trackers = {
        yaml.safe_load(render({"DATABASE_URL": url}))["tracker_store"]["db"] for url in (one, two)
    }
    assert trackers == {"/srv/vc/force-a.rasa_tracker.db", "/srv/vc/force-b.rasa_tracker.db"}
    assert copy_name(one, 5000) != copy_name(two, 5000)
    assert copy_name(one, 5000).startswith("sqlite-force-a-")


def test_run_files_are_named_after_the_database_and_port_not_the_folder() -> None:
    pg = "postgresql+psycopg://care@db.internal:5432/victims"
    assert copy_name(pg, 5000).startswith("pg-victims-")
    # Two nodes of one service on one host: one database, two web ports.
    assert copy_name(pg, 5000) != copy_name(pg, 5100)
    # The same database name on another server is another copy.
    assert copy_name(pg, 5000) != copy_name("postgresql+psycopg://care@db2:5432/victims", 5000)
    assert copy_name(pg, 5000) == copy_name(pg, 5000)
