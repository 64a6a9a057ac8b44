"""Logging for every process: one redaction filter on every record, JSON lines in production.

Logs go to places a victim's data must not: terminals, files, log shippers. So every record,
from our loggers and every library's (the twilio library logs its request URLs and query
parameters at INFO, with phone numbers in them; a Twilio error text names the number; an
exception's text may carry anything), passes through `RedactingFilter` before any handler
sees it: it is installed as the log record factory, which every logger uses, and on every
handler `configure` sets up. It keeps the last three digits of a phone number and drops the
values of fields that carry what people wrote (`Body`, `text`, `summary`, ...). The engines
are made with `hide_parameters=True` (models/db.py), so a database error does not log the
values it was given either; PostgreSQL's own DETAIL, which names a violated key's values,
is dropped here.

In production each line is one JSON object (python-json-logger) with the request id of the
web request (`X-Request-ID`) or the conversation a worker is handling, so a force's log
shipper can follow one request or one conversation without any message body in the logs.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import sys
from collections.abc import Iterator
from typing import Any

from pythonjsonlogger.json import JsonFormatter

# The web request or the conversation a line belongs to (set by the web app per request,
# and by the worker per conversation).
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
conversation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "conversation_id", default=None
)

# A phone number: E.164 (also URL-encoded, %2B, and with 00), or a UK number written the
# national way (07700 900123). What is kept is the last three digits, as
# services.messaging.phones.redact shows a number.
_PHONE = re.compile(
    r"(?<![\w%])(?:\+|%2[Bb]|00)\d{6,14}(\d{3})(?!\d)"
    r"|(?<![\w+])0\d{3,4}[ -]?\d{3}[ -]?(\d{3})(?!\d)"
)
# Fields whose value is what a person wrote, or who they are, in the shapes logs show them:
# a form or query string (Body=...), a Python dict (`'Body': '...'`), JSON (`"body": "..."`).
_FIELDS = (
    "Body|body|text|summary|summary_cy|text_en|text_cy|name|date_of_birth|comment|note"
    "|ContentVariables|content_variables|password|code"
)
_FORM_FIELD = re.compile(rf"(?<![\w])((?:{_FIELDS})=)[^&\s]*")
_QUOTED_FIELD = re.compile(
    rf"""(?P<key>(?P<q>['"])(?:{_FIELDS})(?P=q)\s*:\s*)(?P<vq>['"])(?:\\.|(?!(?P=vq)).)*(?P=vq)"""
)
# PostgreSQL names the values of a violated key in its error text ("DETAIL:  Key
# (phone)=(+447700900123) already exists."), whatever the client hides.
_KEY_DETAIL = re.compile(r"(Key \([^)]*\)=\()(.*?)(\) (?:already exists|is not present|is still))")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with phone numbers cut to their last three digits and written fields dropped."""
    text = _KEY_DETAIL.sub(lambda m: f"{m[1]}{REDACTED}{m[3]}", text)
    text = _QUOTED_FIELD.sub(lambda m: f"{m['key']}{m['vq']}{REDACTED}{m['vq']}", text)
    text = _FORM_FIELD.sub(lambda m: f"{m[1]}{REDACTED}", text)
    return _PHONE.sub(lambda m: "…" + (m[1] or m[2]), text)


class RedactingFilter(logging.Filter):
    """Redacts a record in place (its message, exception and stack text); lets it through.

    The message is rendered with its arguments first, so a number passed as an argument is
    caught as surely as one in the format string. The exception is rendered to text here
    and redacted, and exc_info is then cleared, so no formatter renders it again unredacted.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info:
            record.exc_text = self._formatter.formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record.request_id = request_id.get()
        record.conversation_id = conversation_id.get()
        record._redacted = True
        return True


_filter = RedactingFilter()
_base_factory = logging.getLogRecordFactory()


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    _filter.filter(record)
    return record


def install_redaction() -> None:
    """Make every log record of this process pass the redaction filter (idempotent)."""
    if logging.getLogRecordFactory() is not _redacting_factory:
        logging.setLogRecordFactory(_redacting_factory)


# Libraries that are too talkative at INFO for a service's logs (their lines are redacted
# all the same): the twilio library logs every request it makes; Alembic each plugin;
# APScheduler every run of every job, several a second.
QUIET = {
    "twilio.http_client": logging.WARNING,
    "alembic.runtime.plugins": logging.WARNING,
    "apscheduler.executors": logging.WARNING,
}

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = ["asctime", "levelname", "name", "message", "request_id", "conversation_id"]


def formatter(production: bool) -> logging.Formatter:
    """JSON lines in production (with the request and conversation ids), text otherwise."""
    if production:
        return JsonFormatter(
            JSON_FIELDS,
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
    return logging.Formatter(TEXT_FORMAT)


def configure(production: bool, stream: Any = None) -> None:
    """Set up this process's logging: redaction on every record, one handler on the root
    logger (JSON in production), the talkative libraries quietened. Safe to call again."""
    install_redaction()
    root = logging.getLogger()
    ours: list[logging.Handler] = [h for h in root.handlers if getattr(h, "_victim_care", False)]
    if not ours:
        stream_handler = logging.StreamHandler(stream or sys.stderr)
        stream_handler._victim_care = True  # type: ignore[attr-defined]
        root.addHandler(stream_handler)
        ours = [stream_handler]
    for mine in ours:
        mine.setFormatter(formatter(production))
    # Handlers set up by others (gunicorn's, a test's) get the filter too.
    for other in root.handlers:
        if _filter not in other.filters:
            other.addFilter(_filter)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def bound(*, request: str | None = None, conversation: str | None = None) -> Iterator[None]:
    """Lines logged inside carry this request or conversation id."""
    tokens = []
    if request is not None:
        tokens.append((request_id, request_id.set(request)))
    if conversation is not None:
        tokens.append((conversation_id, conversation_id.set(conversation)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
