"""Errors the service layer raises; the API turns each into its HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of the errors below."""


class InvalidField(ServiceError):
    """A field that is missing or wrong (HTTP 400)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class NotFound(ServiceError):
    """Something named by the caller does not exist (HTTP 404)."""


class Conflict(ServiceError):
    """It exists already (HTTP 409)."""
