"""Typed settings read from the environment (the contract variables) with embedded defaults."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

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


ENVIRONMENTS = ("development", "production")
# Rasa's tracker store beside a SQLite app database, named after it, so that two copies
# whose databases share a folder never share a tracker (scripts/rasa_endpoints.py writes
# Rasa's endpoints file with this rule; tests/unit/test_settings.py holds the two together).
TRACKER_SUFFIX = ".rasa_tracker.db"


def sqlite_tracker_path(app_db: Path) -> Path:
    """Rasa's tracker file for a SQLite app database file: `/srv/vc/app.db` ->
    `/srv/vc/app.rasa_tracker.db`."""
    return app_db.with_name(app_db.stem + TRACKER_SUFFIX)


def on_loopback(url: str) -> bool:
    """Whether `url` names this machine's loopback (127.0.0.0/8, ::1, localhost)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tracker_store_url(database_url: str) -> str:
    """The SQLAlchemy URL of Rasa's tracker store for an app database: a SQLite file beside
    a SQLite app database (`sqlite_tracker_path`), the same PostgreSQL database otherwise
    (Rasa's `events` table)."""
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1].split("?", 1)[0]
        return f"sqlite:///{sqlite_tracker_path(Path(os.path.abspath(path)))}"
    return database_url


def _dev_secret(name: str) -> str:
    """A secret generated once per dev install, shared by every process through var/."""
    VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = VAR_DIR / "dev-secrets.json"
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if name not in stored:
        stored[name] = secrets.token_urlsafe(32)
        tmp = path.with_suffix(".tmp")
        # Created readable by its owner only, never for a moment by anyone else.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(json.dumps(stored))
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
    # A console session ends this long after sign-in, whatever happens meanwhile: a shift.
    console_max_hours: float = 12.0
    # How long each kind of personal data is kept (services/privacy/retention.py).
    retention_file: Path = ROOT / "config" / "retention.yml"
    # The Victims' Code duties and their limits (services/victims_code/duties.py reads the
    # same variable, VICTIMS_CODE_FILE); checked at every process's start.
    victims_code_file: Path = ROOT / "config" / "victims_code.yml"
    # Rasa's tracker store, which retention and erasure reach into: None means where
    # `make run` puts it for this database (tracker_store_url); see tracker_url().
    rasa_tracker_url: str | None = None
    # The largest request body the web app reads, in bytes (413 beyond it). Twilio's
    # webhooks and the API's JSON are a few kilobytes.
    max_content_length: int = 256 * 1024
    # Reverse proxies in front of the web app whose X-Forwarded-For is trusted: sign-in is
    # throttled by client address, which is the proxy's unless this says how many there are.
    proxy_hops: int = 0
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

    def tracker_url(self) -> str:
        """Rasa's tracker store: as set, or beside (or in) this settings' database."""
        return self.rasa_tracker_url or tracker_store_url(self.database_url)

    @classmethod
    def from_env(cls) -> Settings:
        """Read the contract variables; fall back to the embedded defaults where unset.

        Fails closed (RuntimeError, naming the variable): an APP_ENV other than development
        or production; real Twilio credentials without APP_ENV=production (they would start
        a development service, with demo accounts and printed secrets, on a real number);
        one Twilio credential without the other; and in production, a missing Twilio
        account, API_TOKEN, SECRET_KEY or PUBLIC_BASE_URL, or a PUBLIC_BASE_URL that is not
        https.
        """
        environment = _env("APP_ENV", "development") or "development"
        if environment not in ENVIRONMENTS:
            raise RuntimeError(f"APP_ENV must be development or production, not {environment!r}")
        production = environment == "production"
        port = int(_env("PORT", "5000") or 5000)
        public_base_url = (_env("PUBLIC_BASE_URL") or f"http://127.0.0.1:{port}").rstrip("/")
        account_sid = _env("TWILIO_ACCOUNT_SID")
        auth_token = _env("TWILIO_AUTH_TOKEN")
        if bool(account_sid) != bool(auth_token):
            raise RuntimeError("set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or neither")
        real_twilio = bool(account_sid and auth_token and account_sid != DEV_ACCOUNT_SID)
        if production and not real_twilio:
            raise RuntimeError("APP_ENV=production needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        if real_twilio and not production:
            # Refused rather than started as production: the operator must say what this
            # is. A developer's .env with a real account would otherwise make demo accounts
            # with one shared password and print the secrets, on a number victims text.
            raise RuntimeError(
                "TWILIO_ACCOUNT_SID is a real Twilio account: set APP_ENV=production (with "
                "API_TOKEN, SECRET_KEY and PUBLIC_BASE_URL), or unset both Twilio credentials "
                "to use the dev phone"
            )
        if production:
            given = _env("PUBLIC_BASE_URL")
            if not given:
                raise RuntimeError("PUBLIC_BASE_URL must be set when APP_ENV=production")
            if not given.startswith("https://") and not on_loopback(given):
                # A trial of the production layout on one machine (`make run-prod`) is
                # reached on the loopback only, where Twilio cannot call it anyway.
                raise RuntimeError("PUBLIC_BASE_URL must be an https:// URL in production")
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
        database_url = _env("DATABASE_URL", db_default) or db_default
        wake = (_env("WORKER_WAKE_ADDR", "127.0.0.1:5057") or "").rsplit(":", 1)
        return cls(
            production=production,
            database_url=database_url,
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
            console_max_hours=_float("CONSOLE_MAX_HOURS", 12.0),
            retention_file=Path(
                _env("RETENTION_FILE", str(ROOT / "config" / "retention.yml")) or ""
            ),
            victims_code_file=Path(
                _env("VICTIMS_CODE_FILE", str(ROOT / "config" / "victims_code.yml")) or ""
            ),
            max_content_length=int(_float("MAX_CONTENT_LENGTH", 256 * 1024)),
            proxy_hops=int(_float("PROXY_HOPS", 0)),
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
