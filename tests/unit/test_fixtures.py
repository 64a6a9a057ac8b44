"""The shared fixtures fail only the tests that use them when they fail, and try again."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.conftest as shared
from tests.conftest import TemplateDatabase, databases_for


def test_a_template_that_failed_is_made_again_by_the_next_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = shared.upgrade

    def flaky_once(url: str) -> None:
        calls.append(url)
        if len(calls) == 1:
            raise RuntimeError("the disk was full for a moment")
        real(url)

    monkeypatch.setattr(shared, "upgrade", flaky_once)
    template = TemplateDatabase("sqlite", tmp_path)
    with pytest.raises(RuntimeError):
        template.get()  # this test's fixture fails: this test errors
    made = template.get()  # the next test's succeeds
    assert Path(made).is_file() and len(calls) == 2
    assert template.get() == made and len(calls) == 2  # and is kept for the session


class _Node:
    def __init__(self, *markers: str) -> None:
        self.markers = markers

    def get_closest_marker(self, name: str) -> object | None:
        return name if name in self.markers else None


def test_the_databases_a_test_runs_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_DATABASE", raising=False)
    assert databases_for(_Node("both_databases")) == ("sqlite", "postgresql")
    assert databases_for(_Node("e2e")) == ("sqlite",)
    monkeypatch.setenv("TEST_DATABASE", "postgresql")
    assert databases_for(_Node()) == ("postgresql",)
    assert databases_for(_Node("both_databases")) == ("postgresql",)
    monkeypatch.setenv("TEST_DATABASE", "mysql")
    with pytest.raises(pytest.UsageError):
        databases_for(_Node())
