"""Known vulnerabilities in both virtual environments: pip-audit, with the accepted ones listed.

`make audit` (part of `make test`) runs pip-audit over what is installed in `.venvs/app`
and `.venvs/rasa` and compares what it reports with `advisories.yml`, where each accepted
advisory has its reason. It exits 1 when an advisory is reported that is not accepted there.

pip-audit asks an advisory database over the network (PyPI's JSON API by default, or OSV:
AUDIT_SERVICE=osv). Where neither can be reached, it learns nothing, and says only that
each package "could not be audited". This script then says plainly, in a banner, that no
advisory check was made, and exits 0 (the rest of the suite still runs) unless
AUDIT_REQUIRED=1 asks it to fail. It never reports "no known vulnerabilities" unless
packages were in fact checked.

Usage: python -m scripts.audit [--venv NAME=PATH ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ACCEPTED_FILE = ROOT / "advisories.yml"
PIP_AUDIT = ROOT / ".venvs" / "app" / "bin" / "pip-audit"
VENVS = {"app": ROOT / ".venvs" / "app", "rasa": ROOT / ".venvs" / "rasa"}


@dataclasses.dataclass(frozen=True)
class Accepted:
    """One advisory we live with, and why (advisories.yml)."""

    id: str
    package: str
    venv: str
    reason: str


@dataclasses.dataclass(frozen=True)
class Finding:
    """One advisory pip-audit reported for one installed package."""

    venv: str
    package: str
    version: str
    id: str
    aliases: tuple[str, ...]
    fixed_in: tuple[str, ...]

    def matches(self, accepted: Accepted) -> bool:
        return (
            accepted.venv == self.venv
            and normalise(accepted.package) == normalise(self.package)
            and accepted.id in (self.id, *self.aliases)
        )


@dataclasses.dataclass
class VenvResult:
    """What pip-audit said about one venv: findings, and how many packages it could check."""

    venv: str
    findings: list[Finding]
    checked: int
    skipped: list[str]
    error: str | None = None

    @property
    def reached(self) -> bool:
        """Whether the advisory database answered for at least one package."""
        return self.error is None and self.checked > 0


def normalise(name: str) -> str:
    """A package name as PyPI compares them (PEP 503)."""
    return "-".join(name.lower().replace("_", "-").replace(".", "-").split("-"))


def load_accepted(path: Path = ACCEPTED_FILE) -> list[Accepted]:
    """The accepted advisories; ValueError names an entry without an id, package, venv
    (app or rasa) or reason: an advisory is never accepted without saying why."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = []
    for number, entry in enumerate(data.get("accepted") or [], start=1):
        fields = {k: str(entry.get(k) or "").strip() for k in ("id", "package", "venv", "reason")}
        missing = [k for k, v in fields.items() if not v]
        if missing or fields["venv"] not in VENVS:
            raise ValueError(
                f"{path.name}: entry {number} needs id, package, venv (app or rasa) and "
                f"reason; it has {entry!r}"
            )
        entries.append(Accepted(**fields))
    return entries


def parse(venv: str, report: dict[str, Any]) -> VenvResult:
    """pip-audit's JSON report (`-f json`) for one venv."""
    findings, skipped, checked = [], [], 0
    for dependency in report.get("dependencies", []):
        if "skip_reason" in dependency:
            skipped.append(f"{dependency['name']}: {dependency['skip_reason']}")
            continue
        checked += 1
        for vuln in dependency.get("vulns", []):
            findings.append(
                Finding(
                    venv=venv,
                    package=dependency["name"],
                    version=dependency["version"],
                    id=vuln["id"],
                    aliases=tuple(vuln.get("aliases", [])),
                    fixed_in=tuple(vuln.get("fix_versions", [])),
                )
            )
    return VenvResult(venv=venv, findings=findings, checked=checked, skipped=skipped)


def site_packages(venv: Path) -> Path:
    """The venv's site-packages folder; FileNotFoundError when the venv is not built."""
    found = sorted(venv.glob("lib/python3.*/site-packages"))
    if not found:
        raise FileNotFoundError(f"{venv} has no site-packages: run `make install`")
    return found[-1]


def run_pip_audit(venv: str, path: Path, service: str) -> VenvResult:
    """pip-audit over the packages installed at `path` (never raises for a network error)."""
    argv = [str(PIP_AUDIT), "--path", str(path), "--format", "json"]
    argv += ["--vulnerability-service", service, "--progress-spinner", "off", "--timeout", "15"]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        return VenvResult(venv=venv, findings=[], checked=0, skipped=[], error=last[:300])
    return parse(venv, report)


def verdict(results: Iterable[VenvResult], accepted: list[Accepted]) -> tuple[int, list[str]]:
    """The exit status and the lines to print: 1 when an advisory is not accepted."""
    lines: list[str] = []
    status = 0
    for result in results:
        if not result.reached:
            why = result.error or (result.skipped[0] if result.skipped else "nothing installed")
            lines += [
                "!" * 78,
                f"!! pip-audit could not reach its advisory database for the {result.venv} venv.",
                "!! NO ADVISORY CHECK WAS MADE for it: the pins are NOT known to be free of",
                "!! known vulnerabilities. Run `make audit` where PyPI's JSON API or OSV answers.",
                f"!! ({why})",
                "!" * 78,
            ]
            continue
        lines.append(
            f"{result.venv}: {result.checked} packages checked, {len(result.skipped)} not "
            f"checked, {len(result.findings)} advisories reported"
        )
        lines += [f"  not checked: {s}" for s in result.skipped]
        for finding in result.findings:
            reason = next((a.reason for a in accepted if finding.matches(a)), None)
            name = f"{finding.package} {finding.version}: {finding.id}"
            fixed = ", ".join(finding.fixed_in) or "no fix released"
            if reason is None:
                status = 1
                lines.append(f"  NOT ACCEPTED {name} (fixed in {fixed}): upgrade, or add it")
                lines.append("    to advisories.yml with the reason it does not apply or is borne")
            else:
                lines.append(f"  accepted {name} (fixed in {fixed}): {reason}")
        for entry in accepted:
            if entry.venv == result.venv and not any(f.matches(entry) for f in result.findings):
                lines.append(f"  no longer reported: {entry.id} ({entry.package}); remove it")
    return status, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", action="append", default=[], metavar="NAME=PATH")
    args = parser.parse_args(argv)
    pairs = [v.split("=", 1) for v in args.venv]
    venvs = {name: Path(path) for name, path in pairs} if pairs else VENVS
    service = os.environ.get("AUDIT_SERVICE", "pypi")
    accepted = load_accepted()
    results = [run_pip_audit(n, site_packages(p), service) for n, p in venvs.items()]
    status, lines = verdict(results, accepted)
    print("\n".join(lines))
    if os.environ.get("AUDIT_REQUIRED") == "1" and not all(r.reached for r in results):
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
