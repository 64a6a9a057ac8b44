"""Settings: the embedded defaults, and what production refuses to run without."""

from __future__ import annotations

import pytest

from scripts import rasa_endpoints
from services.settings import DEV_ACCOUNT_SID, Settings, tracker_store_url
from webhooks import create_app

CONTRACT = [
    "DATABASE_URL",
    "PORT",
    "PUBLIC_BASE_URL",
    "RASA_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_API_BASE_URL",
    "TWILIO_SMS_FROM",
    "TWILIO_WHATSAPP_FROM",
    "API_TOKEN",
    "SECRET_KEY",
    "REDIS_URL",
    "TWILIO_AUTH_TOKEN_SECONDARY",
    "APP_ENV",
]


# Ours, not the contract's, but read the same way.
OPERATIONAL = ["ACTION_SERVER_TOKEN", "RASA_HOST", "ACTION_SERVER_HOST", "RASA_GIVE_UP_SECONDS"]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in CONTRACT + OPERATIONAL:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_point_at_the_dev_phone(clean_env: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env()
    assert settings.port == 5000
    assert settings.public_base_url == "http://127.0.0.1:5000"
    assert settings.twilio_api_base_url == "http://127.0.0.1:5000/devphone"
    assert settings.twilio_account_sid == DEV_ACCOUNT_SID
    assert settings.rasa_url == "http://127.0.0.1:5005"
    assert settings.database_url.startswith("sqlite:///") and settings.devphone_enabled
    assert settings.api_token and settings.api_token == Settings.from_env().api_token


def test_port_moves_the_public_url(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("PORT", "6123")
    assert Settings.from_env().public_base_url == "http://127.0.0.1:6123"


def test_real_credentials_without_production_refuse_to_start(
    clean_env: pytest.MonkeyPatch,
) -> None:
    """Refused, not started as production: a developer's .env with a real account would
    otherwise start demo accounts and print secrets on a number victims text."""
    clean_env.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    clean_env.setenv("TWILIO_AUTH_TOKEN", "secret")
    with pytest.raises(RuntimeError, match="APP_ENV=production"):
        Settings.from_env()
    clean_env.setenv("APP_ENV", "development")
    with pytest.raises(RuntimeError, match="APP_ENV=production"):
        Settings.from_env()


@pytest.mark.parametrize("present", ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"])
def test_one_twilio_credential_without_the_other_is_refused(
    clean_env: pytest.MonkeyPatch, present: str
) -> None:
    clean_env.setenv(present, "AC" + "1" * 32)
    with pytest.raises(RuntimeError, match="both"):
        Settings.from_env()


@pytest.mark.parametrize("value", ["prod", "Production", "staging", "live"])
def test_an_unknown_app_env_is_refused(clean_env: pytest.MonkeyPatch, value: str) -> None:
    clean_env.setenv("APP_ENV", value)
    with pytest.raises(RuntimeError, match="APP_ENV must be"):
        Settings.from_env()


def test_production_refuses_missing_secrets(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("APP_ENV", "production")
    with pytest.raises(RuntimeError, match="TWILIO_ACCOUNT_SID"):
        Settings.from_env()
    clean_env.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    clean_env.setenv("TWILIO_AUTH_TOKEN", "secret")
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        Settings.from_env()
    clean_env.setenv("PUBLIC_BASE_URL", "http://victims.example.police.uk")
    with pytest.raises(RuntimeError, match="https"):
        Settings.from_env()
    clean_env.setenv("PUBLIC_BASE_URL", "https://victims.example.police.uk")
    with pytest.raises(RuntimeError, match="API_TOKEN"):
        Settings.from_env()
    clean_env.setenv("API_TOKEN", "t")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        Settings.from_env()
    clean_env.setenv("SECRET_KEY", "k")
    # The action server may not run open in production: it holds the victims' database.
    with pytest.raises(RuntimeError, match="ACTION_SERVER_TOKEN"):
        Settings.from_env()
    clean_env.setenv("ACTION_SERVER_TOKEN", "a")
    settings = Settings.from_env()
    assert settings.production and not settings.devphone_enabled
    assert settings.action_server_token == "a"
    assert settings.twilio_api_base_url == "https://api.twilio.com"
    assert settings.demo_officer_password is None
    app = create_app(settings)
    assert app.test_client().get("/devphone").status_code == 404


def test_internal_services_default_to_the_loopback_and_a_dev_token(
    clean_env: pytest.MonkeyPatch,
) -> None:
    settings = Settings.from_env()
    assert settings.rasa_host == settings.action_server_host == "127.0.0.1"
    # Generated once per dev install, like the other dev secrets, and shared by every process.
    assert len(settings.action_server_token) >= 32
    assert settings.action_server_token == Settings.from_env().action_server_token
    assert settings.rasa_give_up_seconds == 90.0
    clean_env.setenv("ACTION_SERVER_HOST", "0.0.0.0")
    clean_env.setenv("RASA_GIVE_UP_SECONDS", "30")
    settings = Settings.from_env()
    assert settings.action_server_host == "0.0.0.0" and settings.rasa_give_up_seconds == 30.0


def test_the_secondary_auth_token_is_read_and_unset_by_default(
    clean_env: pytest.MonkeyPatch,
) -> None:
    assert Settings.from_env().twilio_auth_token_secondary is None
    clean_env.setenv("TWILIO_AUTH_TOKEN_SECONDARY", "new-token-mid-rotation")
    assert Settings.from_env().twilio_auth_token_secondary == "new-token-mid-rotation"
    clean_env.setenv("TWILIO_AUTH_TOKEN_SECONDARY", "")  # emptied after the rotation: unset
    assert Settings.from_env().twilio_auth_token_secondary is None


def test_the_pace_without_redis_defaults_to_a_quarter_and_must_be_above_zero(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("SEND_RATE_PER_SECOND", "10")
    clean_env.delenv("SEND_RATE_WITHOUT_REDIS_PER_SECOND", raising=False)
    assert Settings.from_env().send_rate_without_redis == 2.5
    clean_env.setenv("SEND_RATE_WITHOUT_REDIS_PER_SECOND", "0")
    with pytest.raises(RuntimeError, match="SEND_RATE_WITHOUT_REDIS_PER_SECOND must be"):
        Settings.from_env()


def test_the_tracker_store_is_where_rasa_endpoints_puts_it() -> None:
    """Retention and erasure reach Rasa's tracker where `make run` told Rasa to keep it."""
    for url in (
        "sqlite:////srv/victims/var/app.db",
        "sqlite:///var/app.db",
        "postgresql+psycopg://svc:pw@db.example:5432/victims",
    ):
        written = rasa_endpoints.tracker_store(url)
        ours = tracker_store_url(url)
        if written["dialect"] == "sqlite":
            assert ours == f"sqlite:///{written['db']}"
            # Named after the app's database: two copies in one folder keep their own.
            assert str(written["db"]).endswith("app.rasa_tracker.db")
        else:
            assert ours == url and written["db"] == "victims"
