"""The dev phone (dev and demo only): a fake Twilio and a handset page to text the service."""

from __future__ import annotations

from flask import Blueprint

from webhooks.devphone import api, control, handset

bp = Blueprint(
    "devphone",
    __name__,
    url_prefix="/devphone",
    template_folder="templates",
    static_folder="static",
)
bp.register_blueprint(api.bp)
bp.register_blueprint(control.bp)
bp.register_blueprint(handset.bp)
