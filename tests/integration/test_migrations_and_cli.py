"""Migrations match the models; the CLI commands that `make run` uses work."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import func, select

from models import Base, Case, Victim
from services.runtime import Runtime

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
