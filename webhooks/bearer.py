"""The API's bearer token (API_TOKEN), checked the same way for `/api` and `/metrics`."""

from __future__ import annotations

import hmac

from flask import Response, jsonify, request

from services.runtime import runtime


def refuse_without_token() -> tuple[Response, int] | None:
    """None when the request carries `Authorization: Bearer <API_TOKEN>`, else the 401
    answer, `{"error": ...}`. For a blueprint's `before_request`."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    expected = runtime().settings.api_token
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip(), expected):
        answer = jsonify(error="a valid 'Authorization: Bearer <API_TOKEN>' header is required")
        return answer, 401
    return None
