"""schemathesis against the running API: no 500, and no answer the description does not allow.

It reads GET /api/openapi.json from the live server and sends what the document allows and
what it does not (its examples, boundary values, random data, and sequences that follow
the document's links), over real HTTP, with the bearer token. A failure prints
schemathesis's report, with a curl command that reproduces each failing request.

The run is bounded (FUZZ_EXAMPLES per operation, FUZZ_SEED fixed by default, so `make test`
is repeatable); set FUZZ_SEED=random and a larger FUZZ_EXAMPLES to search harder.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import API_TOKEN, LiveServer
from tests.support.clock import FakeClock
from tests.support.processes import ROOT, base_env
from webhooks import openapi

# Both databases: a value one database refuses is a 500 on that one only.
pytestmark = pytest.mark.both_databases

ST = ROOT / ".venvs" / "app" / "bin" / "st"

# What the document promises, checked on every answer. (negative_data_rejection and
# positive_data_acceptance judge the API's strictness, not the document's truth; the
# examples test in test_openapi.py covers acceptance.)
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "ignored_auth",
]


# Created from the document's own examples before the run, so that requests naming the
# example case (WA-2026-0001) and scheduled update (1) reach the logic behind the 404.
SEEDED = ("create_case", "add_victim", "add_event", "schedule_update")


def _seed(base_url: str) -> None:
    document = openapi.document()
    parameters = document["components"]["parameters"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or operation.get("operationId") not in SEEDED:
                continue
            url = base_url + path.replace("{case_ref}", parameters["case_ref"]["example"])
            content = operation["requestBody"]["content"]["application/json"]
            body: Any = next(iter(content["examples"].values()))["value"]
            response = requests.request(
                method, url, json=body, headers={"Authorization": f"Bearer {API_TOKEN}"}
            )
            assert response.status_code == 201, (url, response.text)


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_document(
    live_server: LiveServer, clock: FakeClock, tmp_path: Path
) -> None:
    _seed(live_server.url)
    seed = os.environ.get("FUZZ_SEED", "20261202")
    argv = [
        str(ST),
        "run",
        f"{live_server.url}/api/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--header",
        f"Authorization: Bearer {API_TOKEN}",
        "--max-examples",
        os.environ.get("FUZZ_EXAMPLES", "25"),
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
        *([] if seed == "random" else ["--seed", seed]),
    ]
    run = subprocess.run(
        argv,
        env=base_env(NO_COLOR="1", SCHEMATHESIS_HOOKS=""),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    report = run.stdout[-20000:] + run.stderr[-5000:]
    print(report)  # shown with -rP: the warnings say what the run could not reach
    assert run.returncode == 0, report
