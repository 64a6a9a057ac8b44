"""Typed settings read from the environment (the contract variables) with embedded defaults."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = ROOT / "var"

# The dev phone's credentials: fixed so that every process of a dev install agrees on them.
# They are not secrets; the dev phone only exists where no real Twilio account is configured.
DEV_ACCOUNT_SID = "AC" + "de" * 16
DEV_AUTH_TOKEN = "devphone-auth-token-not-a-secret"
DEV_SMS_FROM = "+447700900000"
DEV_WHATSAPP_FROM = "+447700900001"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _float(name: str, default: float) -> float:
    raw = _env(name)
    return float(raw) if raw is not None else default


def _positive(name: str, default: float) -> float:
    value = _float(name, default)
    if value <= 0:
        raise RuntimeError(f"{name} must be a number above 0, got {value}")
    return value


def _dev_secret(name: str) -> str:
    """A secret generated once per dev install, shared by every process through var/."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "dev-secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if name not in stored:
        stored[name] = secrets.token_urlsafe(32)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored))
        os.chmod(tmp, 0o600)
        tmp.replace(path)
    return stored[name]


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one deployment."""

    production: bool
    database_url: str
    port: int
    public_base_url: str
    rasa_url: str
    action_server_url: str
    twilio_account_sid: str
    twilio_auth_token: str
    twilio_api_base_url: str
    twilio_sms_from: str
    twilio_whatsapp_from: str
    api_token: str
    secret_key: str
    redis_url: str | None
    devphone_enabled: bool
    worker_wake_addr: tuple[str, int]
    # The shared secret Rasa sends the action server with every call (Rasa's endpoint
    # `token`, a query parameter), which the action server requires (bot/action_server.py).
    action_server_token: str
    # A second Auth Token, accepted on signed webhooks while it is set (contract): during a
    # rotation Twilio may sign with either. REST calls that Twilio refuses with the primary
    # (401) go again with it. README.md, "Rotating the Twilio Auth Token".
    twilio_auth_token_secondary: str | None = None
    rasa_timeout: float = 30.0
    # A message Rasa has not answered this long after it arrived is answered with a holding
    # reply and given to an officer (a handoff) at Rasa's next failure, instead of being
    # tried again: retries stop, and the victim is never left waiting without a word.
    rasa_give_up_seconds: float = 90.0
    # Where `make run` binds Rasa and the action server: the loopback unless a deployment
    # spreads them over hosts (then the action server's token guards it).
    rasa_host: str = "127.0.0.1"
    action_server_host: str = "127.0.0.1"
    twilio_timeout: float = 15.0
    retry_base_seconds: float = 2.0
    retry_cap_seconds: float = 300.0
    outbound_max_attempts: int = 8
    worker_threads: int = 8
    lease_seconds: float = 90.0
    heartbeat_stale_seconds: float = 30.0
    # The officer console: an idle session ends after this long; an open handoff nobody has
    # claimed after this long is overdue (the victim is told when to expect contact).
    console_idle_minutes: float = 30.0
    handoff_claim_minutes: float = 15.0
    # The demo officers' password (`make run`): generated once per dev install, never in
    # production, where demo officers are not created.
    demo_officer_password: str | None = None
    # Messages per second per sender handed to Twilio (0: no limit). See DEVELOPERS.md for
    # what Twilio allows each kind of sender.
    send_rate_per_second: float = 10.0
    # Each worker process's own pace while Redis, which shares the pace, cannot be reached:
    # set it to the sender's rate divided by the worker processes of every node, so that
    # together they stay within the rate.
    send_rate_without_redis: float = 2.5
    whatsapp_templates_file: Path = ROOT / "config" / "whatsapp_templates.json"
    # The needs questionnaire: invited this long after registration, reminded once after.
    needs_invite_after_days: float = 2.0
    needs_remind_after_days: float = 3.0
    # A standby scheduler tries to become the active one this often.
    scheduler_standby_seconds: float = 5.0
    # How often the scheduler looks for check-ins and questionnaire invitations to plan.
    planning_interval_seconds: float = 300.0
    # How long a date-of-birth check lasts in a conversation, in minutes: shorter for a
    # victim in safe-contact mode, whose phone someone else may pick up (docs/SAFETY.md).
    verify_minutes: float = 60.0
    verify_minutes_safe_contact: float = 15.0

    @classmethod
    def from_env(cls) -> Settings:
        """Read the contract variables; fall back to the embedded defaults where unset."""
        production = _env("APP_ENV", "development") == "production"
        port = int(_env("PORT", "5000") or 5000)
        public_base_url = (_env("PUBLIC_BASE_URL") or f"http://127.0.0.1:{port}").rstrip("/")
        account_sid = _env("TWILIO_ACCOUNT_SID")
        auth_token = _env("TWILIO_AUTH_TOKEN")
        real_twilio = bool(account_sid and auth_token and account_sid != DEV_ACCOUNT_SID)
        if production and not real_twilio:
            raise RuntimeError("APP_ENV=production needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        dev_api = f"{public_base_url}/devphone"
        default_api_base = "https://api.twilio.com" if real_twilio else dev_api

        def required_in_production(name: str) -> str:
            value = _env(name)
            if value:
                return value
            if production:
                raise RuntimeError(f"{name} must be set when APP_ENV=production")
            return _dev_secret(name)

        db_default = f"sqlite:///{VAR_DIR / 'app.db'}"
        send_rate = _float("SEND_RATE_PER_SECOND", 10.0)
        wake = (_env("WORKER_WAKE_ADDR", "127.0.0.1:5057") or "").rsplit(":", 1)
        return cls(
            production=production,
            database_url=_env("DATABASE_URL", db_default) or db_default,
            port=port,
            public_base_url=public_base_url,
            rasa_url=(_env("RASA_URL", "http://127.0.0.1:5005") or "").rstrip("/"),
            action_server_url=(_env("ACTION_SERVER_URL", "http://127.0.0.1:5055") or "")
            .removesuffix("/webhook")
            .rstrip("/"),
            twilio_account_sid=account_sid if real_twilio and account_sid else DEV_ACCOUNT_SID,
            twilio_auth_token=auth_token if real_twilio and auth_token else DEV_AUTH_TOKEN,
            twilio_api_base_url=(_env("TWILIO_API_BASE_URL", default_api_base) or "").rstrip("/"),
            twilio_sms_from=_env("TWILIO_SMS_FROM", DEV_SMS_FROM) or DEV_SMS_FROM,
            twilio_whatsapp_from=_env("TWILIO_WHATSAPP_FROM", DEV_WHATSAPP_FROM)
            or DEV_WHATSAPP_FROM,
            api_token=required_in_production("API_TOKEN"),
            secret_key=required_in_production("SECRET_KEY"),
            action_server_token=required_in_production("ACTION_SERVER_TOKEN"),
            redis_url=_env("REDIS_URL"),
            twilio_auth_token_secondary=_env("TWILIO_AUTH_TOKEN_SECONDARY"),
            # The dev phone stands in for Twilio only where no real account is configured,
            # and never in production.
            devphone_enabled=not real_twilio and not production,
            worker_wake_addr=(wake[0], int(wake[1])),
            rasa_timeout=_float("RASA_TIMEOUT_SECONDS", 30.0),
            rasa_give_up_seconds=_float("RASA_GIVE_UP_SECONDS", 90.0),
            rasa_host=_env("RASA_HOST", "127.0.0.1") or "127.0.0.1",
            action_server_host=_env("ACTION_SERVER_HOST", "127.0.0.1") or "127.0.0.1",
            twilio_timeout=_float("TWILIO_TIMEOUT_SECONDS", 15.0),
            retry_base_seconds=_float("RETRY_BASE_SECONDS", 2.0),
            retry_cap_seconds=_float("RETRY_CAP_SECONDS", 300.0),
            outbound_max_attempts=int(_float("OUTBOUND_MAX_ATTEMPTS", 8)),
            worker_threads=int(_float("WORKER_THREADS", 8)),
            lease_seconds=_float("LEASE_SECONDS", 90.0),
            console_idle_minutes=_float("CONSOLE_IDLE_MINUTES", 30.0),
            handoff_claim_minutes=_float("HANDOFF_CLAIM_MINUTES", 15.0),
            demo_officer_password=None if production else _dev_secret("DEMO_OFFICER_PASSWORD"),
            send_rate_per_second=send_rate,
            send_rate_without_redis=_positive(
                "SEND_RATE_WITHOUT_REDIS_PER_SECOND", send_rate / 4 if send_rate > 0 else 1.0
            ),
            whatsapp_templates_file=Path(
                _env("WHATSAPP_TEMPLATES_FILE", str(ROOT / "config" / "whatsapp_templates.json"))
                or ""
            ),
            needs_invite_after_days=_float("NEEDS_INVITE_AFTER_DAYS", 2.0),
            needs_remind_after_days=_float("NEEDS_REMIND_AFTER_DAYS", 3.0),
            scheduler_standby_seconds=_float("SCHEDULER_STANDBY_SECONDS", 5.0),
            planning_interval_seconds=_float("PLANNING_INTERVAL_SECONDS", 300.0),
            verify_minutes=_float("VERIFY_MINUTES", 60.0),
            verify_minutes_safe_contact=_float("VERIFY_MINUTES_SAFE_CONTACT", 15.0),
        )
