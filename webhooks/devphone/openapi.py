"""Twilio's OpenAPI description of API v2010: the oracle that the dev phone's API obeys."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker

from services.settings import VAR_DIR

# Installed by `make` (scripts/fetch_twilio_oai.sh); never committed, never fetched at run time.
SPEC_PATH = VAR_DIR / "twilio-oai" / "twilio_api_v2010.json"

MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
MESSAGE = "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json"

# OpenAPI 3.0 keywords that JSON Schema lacks or that only document.
_DROP = {
    "nullable",
    "example",
    "examples",
    "description",
    "discriminator",
    "readOnly",
    "writeOnly",
    "deprecated",
    "xml",
    "externalDocs",
    "title",
}

FORMATS = FormatChecker(formats=())


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    # Twilio's spec says "uri" for absolute URLs (StatusCallback) and for the paths in its own
    # answers (first_page_uri) alike, so both pass; rules.py insists on a full callback URL.
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc) or (value.startswith("/") and " " not in value)


@FORMATS.checks("date-time")
def _is_iso_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


@FORMATS.checks("date-time-rfc-2822", raises=(TypeError, ValueError))
def _is_rfc2822(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return email.utils.parsedate_to_datetime(value).tzinfo is not None


@FORMATS.checks("currency")
def _is_currency(value: object) -> bool:
    return not isinstance(value, str) or re.fullmatch(r"[A-Z]{3}", value) is not None


# "phone-number" is left unchecked on purpose: Twilio accepts channel addresses there
# ("whatsapp:+44...") and answers its own error codes (21211, 21606), which rules.py applies.


class SpecMissing(RuntimeError):
    """Twilio's OpenAPI description is not installed."""


_lock = threading.Lock()
_specs: dict[Path, dict[str, Any]] = {}
_operations: dict[tuple[Path, str, str], Operation] = {}


def load_spec(path: Path | None = None) -> dict[str, Any]:
    """The parsed spec; loaded once per process, but a missing file is looked for again."""
    path = path or SPEC_PATH
    with _lock:
        spec = _specs.get(path)
        if spec is None:
            if not path.is_file():
                raise SpecMissing(
                    f"Twilio's OpenAPI description is missing ({path}): run `make` "
                    "(it runs scripts/fetch_twilio_oai.sh) to install it"
                )
            spec = json.loads(path.read_text(encoding="utf-8"))
            _specs[path] = spec
        return spec


def to_json_schema(node: Any, components: Mapping[str, Any], stack: tuple[str, ...] = ()) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema (draft 4): refs inlined, `nullable` spelled out."""
    if isinstance(node, list):
        return [to_json_schema(item, components, stack) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/components/schemas/")
        if name in stack:
            return {}  # A recursive schema: stop here rather than loop.
        return to_json_schema(components[name], components, (*stack, name))
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP or key.startswith("x-"):
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {k: to_json_schema(v, components, stack) for k, v in value.items()}
        else:
            out[key] = to_json_schema(value, components, stack)
    if node.get("x-twilio", {}).get("ignoreFormat"):
        out.pop("format", None)
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


@dataclass(frozen=True)
class Operation:
    """One operation's request and response schemas, ready to validate with."""

    path: str
    method: str
    query: Draft4Validator
    form: Draft4Validator | None
    responses: Mapping[str, Draft4Validator]

    def form_errors(self, form: Mapping[str, Any]) -> list[str]:
        """What the spec finds wrong with a (coerced) form body."""
        return _errors(self.form, form) if self.form else []

    def query_errors(self, query: Mapping[str, Any]) -> list[str]:
        """What the spec finds wrong with (coerced) query parameters."""
        return _errors(self.query, query)

    def response_errors(self, status: int, body: Any) -> list[str]:
        """What the spec finds wrong with a response body, or that it documents no such status."""
        validator = self.responses.get(str(status))
        if validator is None:
            return [f"the spec documents no {status} response for {self.method} {self.path}"]
        return _errors(validator, body)


def _errors(validator: Draft4Validator, instance: Any) -> list[str]:
    found = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(body)'}: {e.message}" for e in found]


def operation(path: str, method: str, spec_path: Path | None = None) -> Operation:
    """The operation at `path` (a template from the spec) and `method`."""
    spec_path = spec_path or SPEC_PATH
    key = (spec_path, path, method.lower())
    cached = _operations.get(key)
    if cached is not None:
        return cached
    spec = load_spec(spec_path)
    components = spec["components"]["schemas"]
    op = spec["paths"][path][method.lower()]
    query_schema: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for param in op.get("parameters", []):
        if param["in"] == "query":
            query_schema["properties"][param["name"]] = to_json_schema(param["schema"], components)
            if param.get("required"):
                query_schema["required"].append(param["name"])
    if not query_schema["required"]:
        del query_schema["required"]  # Draft 4 wants at least one name in `required`.
    form = None
    content = op.get("requestBody", {}).get("content", {})
    if "application/x-www-form-urlencoded" in content:
        schema = to_json_schema(content["application/x-www-form-urlencoded"]["schema"], components)
        form = Draft4Validator(schema, format_checker=FORMATS)
    responses = {
        status: Draft4Validator(
            to_json_schema(body["content"]["application/json"]["schema"], components),
            format_checker=FORMATS,
        )
        for status, body in op["responses"].items()
        if "application/json" in body.get("content", {})
    }
    built = Operation(
        path, method.upper(), Draft4Validator(query_schema, format_checker=FORMATS), form, responses
    )
    _operations[key] = built
    return built


def form_schema(path: str, method: str) -> dict[str, Any]:
    """The JSON Schema of an operation's form body (empty when it takes none)."""
    form = operation(path, method).form
    return dict(form.schema) if form else {}


def query_schema(path: str, method: str) -> dict[str, Any]:
    """The JSON Schema of an operation's query parameters."""
    return dict(operation(path, method).query.schema)


def coerce(schema: Mapping[str, Any], pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Form or query pairs as the typed object the schema describes.

    Strings become integers, numbers and booleans where the schema says so, and a repeated key
    (MediaUrl) becomes a list where the schema says array. A value that does not convert stays
    a string, so that validation rejects it rather than this guessing.
    """
    properties: Mapping[str, Any] = schema.get("properties", {})
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    out: dict[str, Any] = {}
    for key, values in grouped.items():
        prop = properties.get(key, {})
        if _types(prop) & {"array"}:
            item = prop.get("items", {})
            out[key] = [_scalar(item, v) for v in values]
        else:
            # Twilio reads the first of a repeated scalar parameter.
            out[key] = _scalar(prop, values[0])
    return out


def _types(schema: Mapping[str, Any]) -> set[str]:
    kind = schema.get("type")
    if isinstance(kind, list):
        return set(kind)
    return {kind} if isinstance(kind, str) else set()


def _scalar(schema: Mapping[str, Any], value: str) -> Any:
    types = _types(schema)
    if "integer" in types and re.fullmatch(r"[+-]?\d+", value.strip()):
        return int(value)
    if "number" in types:
        try:
            return float(value)
        except ValueError:
            return value
    if "boolean" in types and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value
