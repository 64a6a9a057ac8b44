"""WhatsApp approved templates: what carries an unsolicited message outside the 24-hour window.

WhatsApp refuses free text to someone who has not written to us in the last 24 hours; only
a template that WhatsApp approved in advance may start a conversation. Each template is the
text of one of our messages (services/language/texts.py) with its fields as numbered variables, in
one language, so the ContentVariables of a message are simply its fields in order.

The ContentSids live in a JSON file, `{"<text key>": {"en": "HX...", "cy": "HX..."}}`, named
by WHATSAPP_TEMPLATES_FILE (default config/whatsapp_templates.json, whose SIDs are the dev
phone's). A force replaces them with the SIDs Twilio gives its approved templates. A message
with no template for its key and language goes by SMS when the window is shut.
"""

from __future__ import annotations

import functools
import json
import re
import string
from dataclasses import dataclass
from pathlib import Path

from models import Language
from services.language.texts import TEXTS

SID = re.compile(r"^HX[0-9a-fA-F]{32}$")

# WhatsApp's rules for what fills a template (Meta's template guidelines; Twilio reports a
# breach as error 63013, "channel policy violation", after it has taken the message): a
# variable may hold no newline or tab, no more than four spaces in a row, and must not be
# empty; the body, once filled in, is at most 1,024 characters.
MAX_TEMPLATE_BODY = 1024


def clean_variable(value: str) -> str:
    """A field's value as WhatsApp takes it in a template: every run of white space
    (newlines, tabs, several spaces) becomes one space, and none at either end."""
    return " ".join(value.split())


@dataclass(frozen=True)
class Unfit:
    """Why a message cannot go in its template, even with its fields cleaned."""

    reason: str


@dataclass(frozen=True)
class Template:
    content_sid: str
    # The text's own fields, in the order they appear: variable "1" is the first.
    fields: tuple[str, ...]
    # The approved text, with {{1}}, {{2}} ... where the fields go.
    text: str

    def variables(self, values: dict[str, str]) -> str:
        """ContentVariables for a message with these field values, cleaned to WhatsApp's
        rules (`clean_variable`), as Twilio wants them: JSON, variables by number."""
        return json.dumps(
            {str(i): clean_variable(values[name]) for i, name in enumerate(self.fields, 1)},
            ensure_ascii=False,
        )

    def fill(self, values: dict[str, str]) -> str | Unfit:
        """The ContentVariables for these values, or why WhatsApp would refuse them: a field
        that is empty once cleaned, or a body longer than MAX_TEMPLATE_BODY characters."""
        variables = self.variables(values)
        for name, value in zip(self.fields, json.loads(variables).values(), strict=True):
            if not value:
                return Unfit(f"the template's field {name!r} would be empty")
        length = len(self.render(variables))
        if length > MAX_TEMPLATE_BODY:
            return Unfit(
                f"the template would be {length:,} characters filled in; "
                f"WhatsApp takes at most {MAX_TEMPLATE_BODY:,}"
            )
        return variables

    def render(self, variables: str | None) -> str:
        """The text WhatsApp shows for these ContentVariables (the dev phone shows this)."""
        values: dict[str, str] = json.loads(variables) if variables else {}
        return re.sub(r"\{\{(\d+)\}\}", lambda m: values.get(m.group(1), ""), self.text)


def _numbered(text: str) -> tuple[tuple[str, ...], str]:
    fields: list[str] = []
    out: list[str] = []
    for literal, name, _spec, _conv in string.Formatter().parse(text):
        out.append(literal)
        if name is not None:
            if name not in fields:
                fields.append(name)
            out.append(f"{{{{{fields.index(name) + 1}}}}}")
    return tuple(fields), "".join(out)


class Templates:
    """The configured templates, by text key and language."""

    def __init__(self, sids: dict[str, dict[str, str]]) -> None:
        self._by_key: dict[tuple[str, Language], Template] = {}
        for key, by_language in sids.items():
            if key not in TEXTS:
                raise ValueError(f"whatsapp templates: {key!r} is not a message of ours")
            for code, sid in by_language.items():
                language = Language(code)
                if not SID.match(sid):
                    raise ValueError(f"whatsapp templates: {key}/{code}: {sid!r} is no ContentSid")
                fields, text = _numbered(TEXTS[key][language])
                self._by_key[key, language] = Template(sid, fields, text)
        self._by_sid = {t.content_sid: t for t in self._by_key.values()}

    def get(self, key: str, language: Language) -> Template | None:
        return self._by_key.get((key, language))

    def by_sid(self, content_sid: str) -> Template | None:
        return self._by_sid.get(content_sid)


@functools.cache
def load(path: Path) -> Templates:
    """The templates in `path` (read once per process)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"whatsapp templates file {path} is missing") from None
    return Templates(raw)
