"""The API description (GET /api/openapi.json, contract) is valid OpenAPI 3.1 and true.

True means: every route under /api is described and every described path is served; every
example validates against its schema; and every request example, sent to the app in the
order the document lists them, is answered as the document's response example says.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate as validate_spec

from models import Conversation, Victim, utcnow
from services.assistant import referrals as assistant_referrals
from services.assistant import support
from services.messaging import inbound
from services.runtime import Runtime
from tests.support.clock import FakeClock
from webhooks import openapi

METHODS = ("get", "post", "put", "patch", "delete")


def _served_routes(app: Flask) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        # Flask's <int:update_id> is OpenAPI's {update_id}.
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            if method.lower() in METHODS:
                routes.add((method, path))
    return routes


def _described_routes(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    """The document as the app serves it, without a token."""
    response = client.get("/api/openapi.json")
    assert response.status_code == 200, response.data
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    return body


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate_spec(document)  # raises, saying where, when it is not


def test_every_route_under_api_is_described_and_every_described_path_is_served(
    app: Flask, document: dict[str, Any]
) -> None:
    served, described = _served_routes(app), _described_routes(document)
    undocumented = sorted(served - described)
    assert not undocumented, (
        f"served under /api but not in webhooks/openapi.yml: {undocumented}; describe each "
        "there (DEVELOPERS.md, 'API description')"
    )
    unserved = sorted(described - served)
    assert not unserved, f"in webhooks/openapi.yml but served by nothing: {unserved}"


def test_the_enums_come_from_the_models(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name, members in openapi.ENUMS.items():
        assert schemas[name]["enum"] == [m.value for m in members]


def test_every_request_needs_the_token_but_the_description(client: FlaskClient, app: Flask) -> None:
    for method, path in sorted(_served_routes(app)):
        url = re.sub(r"\{[^}]+\}", "1", path)
        status = client.open(url, method=method, json={}).status_code
        if path == "/api/openapi.json":
            assert status == 200
        else:
            assert status == 401, (method, url)


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _check(document: dict[str, Any], pointer: str, value: Any, where: str) -> None:
    """Validate `value` against the schema at `pointer` (JSON Schema 2020-12, as OpenAPI
    3.1 has it); its "#/components/..." references resolve against the whole document."""
    root = {**document, "$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": pointer}
    validator = jsonschema.Draft202012Validator(
        root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(value), key=lambda e: e.path)
    assert not errors, f"{where}: {errors[0].message} at {list(errors[0].absolute_path)}"


def _resolved(document: dict[str, Any], pointer: str) -> tuple[dict[str, Any], str]:
    """The object at `pointer`, following "$ref"s, and where it really is."""
    while True:
        node: Any = document
        for part in pointer.removeprefix("#/").split("/"):
            key = part.replace("~1", "/").replace("~0", "~")
            node = node[int(key)] if isinstance(node, list) else node[key]
        if "$ref" not in node:
            return node, pointer
        pointer = node["$ref"]


Operation = tuple[str, str, str, list[str]]  # path, method, its pointer, its parameters' pointers


def _operations(document: dict[str, Any]) -> list[Operation]:
    found = []
    for path, item in document["paths"].items():
        shared = [
            _pointer("paths", path, "parameters", str(i))
            for i in range(len(item.get("parameters", [])))
        ]
        for method in METHODS:
            if method in item:
                own = item[method].get("parameters", [])
                where = _pointer("paths", path, method)
                found.append(
                    (
                        path,
                        method,
                        where,
                        shared + [f"{where}/parameters/{i}" for i in range(len(own))],
                    )
                )
    return found


def _request_examples(document: dict[str, Any], where: str) -> dict[str, Any]:
    operation, _ = _resolved(document, where)
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    return {name: example["value"] for name, example in body.get("examples", {}).items()}


def test_every_example_validates_against_its_schema(document: dict[str, Any]) -> None:
    seen = 0
    for path, method, where, parameters in _operations(document):
        for name, value in _request_examples(document, where).items():
            schema = f"{where}/requestBody/content/application~1json/schema"
            _check(document, schema, value, f"{method} {path} request {name}")
            seen += 1
        operation, _ = _resolved(document, where)
        for status in operation["responses"]:
            response, at = _resolved(document, f"{where}/responses/{status}")
            content = response.get("content", {}).get("application/json", {})
            examples = {n: e["value"] for n, e in content.get("examples", {}).items()}
            if "example" in content:
                examples["example"] = content["example"]
            for name, value in examples.items():
                schema = f"{at}/content/application~1json/schema"
                _check(document, schema, value, f"{method} {path} {status} {name}")
                seen += 1
        for pointer in parameters:
            parameter, at = _resolved(document, pointer)
            _check(document, f"{at}/schema", parameter["example"], f"{path} {parameter['name']}")
            seen += 1
    assert seen > 20


def _url(document: dict[str, Any], path: str, parameters: list[str]) -> str:
    query = []
    for pointer in parameters:
        parameter, _ = _resolved(document, pointer)
        value = str(parameter["example"])
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", value)
        elif parameter["in"] == "query":
            query.append(f"{parameter['name']}={value}")
    return path + ("?" + "&".join(query) if query else "")


def _seed_referral(rt: Runtime) -> None:
    """A referral victim 1 agreed to in conversation, now: only the assistant makes one, so
    the referral examples need it made as the assistant makes it."""
    with rt.db.session() as session:
        victim = session.get_one(Victim, 1)
        talk = session.get_one(Conversation, inbound.conversation_id_for(session, victim.address))
        assistant_referrals.refer(session, talk, victim, support.referral_service(), utcnow())


def test_the_examples_are_what_the_api_answers(
    client: FlaskClient,
    auth: dict[str, str],
    clock: FakeClock,
    document: dict[str, Any],
    rt: Runtime,
) -> None:
    """Each request example, in the document's order, on a fresh database, at the clock's
    time (2026-12-02 10:00 UTC): answered with a documented success, whose body validates
    and equals the response example of the same name where there is one."""
    sent = 0
    for path, method, where, parameters in _operations(document):
        if path == "/api/cases/{case_ref}/referrals":
            _seed_referral(rt)
        url = _url(document, path, parameters)
        for name, value in (_request_examples(document, where) or {"": None}).items():
            response = client.open(url, method=method.upper(), json=value, headers=auth)
            said = f"{method.upper()} {url} (example {name!r})"
            status = str(response.status_code)
            assert status.startswith("2"), f"{said}: {status} {response.get_json()}"
            operation, _ = _resolved(document, where)
            assert status in operation["responses"], f"{said}: {status} is not documented"
            answer, at = _resolved(document, f"{where}/responses/{status}")
            _check(document, f"{at}/content/application~1json/schema", response.get_json(), said)
            expected = answer["content"]["application/json"].get("examples", {}).get(name)
            if expected is not None:
                assert response.get_json() == expected["value"], said
            sent += 1
    assert sent >= len(_operations(document))
