"""The pins: every file hashed, production free of development tools yet complete.

`make requirements` writes the three .txt files (DEVELOPERS.md, "Dependencies"); these
checks catch a hand edit, a development tool that slipped into production, and a
production import that production would not install.
"""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")
# Production code: every package the service runs, and the scripts `make run` starts it with.
PRODUCTION = ["bot", "models", "scheduler", "services", "webhooks", "workers"]
PRODUCTION_SCRIPTS = ["scripts/run_service.py", "scripts/rasa_endpoints.py"]
# Custom NLU components are loaded by the Rasa server, in its own venv (requirements-rasa.txt).
RASA_SIDE = ["bot/components"]
DEVELOPMENT_ONLY = {
    "pytest",
    "mypy",
    "ruff",
    "playwright",
    "import-linter",
    "schemathesis",
    "hypothesis",
    "openapi-spec-validator",
    "pip-audit",
    "uv",
    "types-requests",
    "types-pyyaml",
}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(name: str) -> dict[str, str]:
    found = {}
    for line in (ROOT / name).read_text().splitlines():
        match = PIN.match(line)
        if match:
            found[normalise(match.group(1))] = match.group(2)
    return found


@pytest.mark.parametrize(
    "name", ["requirements.txt", "requirements-dev.txt", "requirements-rasa.txt"]
)
def test_every_pin_has_its_hashes(name: str) -> None:
    text = (ROOT / name).read_text()
    assert "make requirements" in text.splitlines()[1], f"{name} is written by make requirements"
    # One requirement per block: "name==version \" then its "--hash=sha256:..." lines.
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    requirements = [b for b in blocks if PIN.match(b)]
    assert len(requirements) == len(pins(name)) > 10
    unhashed = [b.split()[0] for b in requirements if "--hash=sha256:" not in b]
    assert not unhashed, f"{name}: no hash for {unhashed}"


def test_production_installs_no_development_tool() -> None:
    assert not DEVELOPMENT_ONLY & set(pins("requirements.txt"))
    assert DEVELOPMENT_ONLY <= set(pins("requirements-dev.txt"))


def test_development_pins_what_production_pins_at_the_same_version() -> None:
    production, development = pins("requirements.txt"), pins("requirements-dev.txt")
    differ = {n: (v, development.get(n)) for n, v in production.items() if development.get(n) != v}
    assert not differ


def _third_party_imports(paths: list[Path]) -> set[str]:
    local = {p.split("/")[0] for p in PRODUCTION} | {"scripts", "tests", "bench"}
    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found |= {n.split(".")[0] for n in names}
    return {n for n in found if n not in local and n not in sys.stdlib_module_names}


def test_production_pins_every_package_production_code_imports() -> None:
    rasa_side = [ROOT / d for d in RASA_SIDE]
    files = [
        p
        for d in PRODUCTION
        for p in (ROOT / d).rglob("*.py")
        if not any(p.is_relative_to(r) for r in rasa_side)
    ]
    files += [ROOT / s for s in PRODUCTION_SCRIPTS]
    imported = _third_party_imports(files)
    distributions = packages_distributions()
    production = set(pins("requirements.txt"))
    missing = {
        module: distributions.get(module)
        for module in imported
        if not {normalise(d) for d in distributions.get(module, [module])} & production
    }
    assert not missing, f"imported by production code but not in requirements.txt: {missing}"
