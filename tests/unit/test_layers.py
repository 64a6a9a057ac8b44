"""The layout holds: layers import only downward, no module imports round in a circle, and
no project import is hidden in a function body to dodge one (DEVELOPERS.md, "Map")."""

from __future__ import annotations

import ast
import contextlib
import io
import logging
from pathlib import Path

import grimp
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "models", "scheduler", "services", "webhooks", "workers")


def test_the_import_linter_contracts_are_kept() -> None:
    # The contracts live in pyproject.toml: entry points over services over models, and the
    # services' packages in their order.
    out = io.StringIO()
    # import-linter sets up logging with dictConfig, which disables every logger that
    # exists: the rest of the session's tests would then see no log line at all.
    loggers = [
        (logger, logger.disabled)
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    try:
        with contextlib.redirect_stdout(out):
            code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    finally:
        for logger, disabled in loggers:
            logger.disabled = disabled
    assert code == 0, out.getvalue()


def _cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in imports.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(imports):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_round_in_a_circle() -> None:
    # grimp reads every import statement, those inside functions included, so a cycle
    # dodged with a late import is still a cycle here.
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    imports = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    assert _cycles(imports) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _hidden_imports(source: str) -> list[tuple[int, str]]:
    """Project imports that are not at module level (in a function, class or if-block)."""
    tree = ast.parse(source)
    top = set(map(id, tree.body))
    hidden = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        ours = [n for n in names if n.split(".")[0] in PACKAGES]
        if ours and id(node) not in top:
            hidden.append((node.lineno, ours[0]))
    return hidden


def test_no_project_import_is_hidden_in_a_function_body() -> None:
    hidden = {
        str(path.relative_to(ROOT)): found
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts and (found := _hidden_imports(path.read_text()))
    }
    assert hidden == {}


def test_the_hidden_import_check_finds_one() -> None:
    source = "import os\n\ndef f():\n    from services.casework import notifications\n"
    assert _hidden_imports(source) == [(4, "services.casework")]
