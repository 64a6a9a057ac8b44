"""Migrations match the models; the CLI commands that `make run` uses work."""

from __future__ import annotations

import dataclasses

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import func, select

from models import Base, Case, Officer, Victim
from scripts import run_service
from services import logs
from services.runtime import Runtime
from services.settings import Settings
from webhooks import create_app

# Both databases: migrations.
pytestmark = pytest.mark.both_databases


def test_migrations_produce_exactly_the_models(rt: Runtime) -> None:
    with rt.db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "models changed without a migration: run alembic revision"


def test_db_upgrade_and_demo_data_are_idempotent(app: Flask, rt: Runtime) -> None:
    runner = app.test_cli_runner()
    assert "up to date" in runner.invoke(args=["db-upgrade"]).output
    assert runner.invoke(args=["demo-data"]).output.strip() == "demo data created"
    assert runner.invoke(args=["demo-data"]).output.strip() == "demo data already present"
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 1
        phones = set(session.scalars(select(Victim.phone)))
    assert phones == {"+447700900101", "+447700900102"}


def test_production_creates_no_demo_data_and_prints_no_secret(settings: Settings) -> None:
    app = create_app(dataclasses.replace(settings, production=True), TESTING=True)
    rt: Runtime = app.extensions["runtime"]
    try:
        result = app.test_cli_runner().invoke(args=["demo-data"])
        assert result.exit_code == 0 and "never created" in result.output
        with rt.db.session() as session:
            assert session.scalar(select(func.count()).select_from(Case)) == 0
            assert session.scalar(select(func.count()).select_from(Officer)) == 0
    finally:
        rt.close()
        logs.configure(False)
    text = run_service.banner("https://victims.example", "secret-api-token", None, None, True)
    assert "secret-api-token" not in text and "devphone" not in text
    dev = run_service.banner("http://127.0.0.1:5000", "dev-api-token", "demo-pass-123")
    assert "dev-api-token" in dev and "demo.officer / demo-pass-123" in dev
