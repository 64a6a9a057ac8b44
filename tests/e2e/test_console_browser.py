"""The officer console in a real headless Chromium (Debian's, driven by Playwright), with the
victim on the dev phone and the real Rasa, action server, worker and web app behind them."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pyotp
import pytest
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from models import Conversation, OfficerRole, Victim, utcnow
from services.privacy import tracker
from services.runtime import Runtime
from services.settings import Settings
from tests.conftest import LiveServer
from tests.support.bot import response
from tests.support.console import PASSWORD, make_officer, totp_code
from tests.support.factories import new_case, new_victim, quiet_hours_covering_now
from tests.support.handset import Handset
from workers.worker import Worker

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Playwright's own browser download cannot work here; Debian's chromium is used instead.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MEGAN = "+447700900501"
ELIN = "+447700900502"
LIVE = 20_000  # ms: the page polls every 2 s; the bot and worker take a few seconds more


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        raise RuntimeError(f"no Chromium at {CHROMIUM}: run `make browsers` (make test does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def _register(client: FlaskClient, auth: dict[str, str], case_ref: str, **victim: str) -> None:
    new_case(client, auth, case_ref)
    new_victim(client, auth, case_ref, quiet_hours=quiet_hours_covering_now(), **victim)


def _sign_in(page: Page, base_url: str, rt: Runtime, username: str) -> None:
    """Username, password, and the code the officer's authenticator app shows now."""
    page.goto(f"{base_url}/console/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Code from your authenticator app").fill(totp_code(rt, username))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/console/queue")


def test_officer_takes_over_replies_and_hands_back(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    live_server: LiveServer,
    worker: Worker,
    page: Page,
) -> None:
    _register(client, auth, "CR-BROWSER-1", name="Megan Price", phone=MEGAN, language="en")
    make_officer(rt, "alys", OfficerRole.OFFICER, name="PC Alys Pritchard")
    phone = Handset(live_server.url, MEGAN)

    # The victim asks for a person; the assistant opens a handoff and says so.
    phone.send("can i talk to a person please")
    assert "asked an officer to contact you" in phone.wait_for(1)[0]["body"]

    # The officer signs in and sees the handoff in the queue.
    _sign_in(page, live_server.url, rt, "alys")
    item = page.locator("#queue li.handoff").filter(has_text="Megan Price")
    expect(item).to_be_visible(timeout=LIVE)
    expect(item).to_contain_text("asked for an officer")

    # Claims it, and replies.
    item.get_by_role("button", name="Claim").click()
    expect(page.get_by_role("heading", name="Conversation with Megan Price")).to_be_visible()
    expect(page.locator("#transcript")).to_contain_text("can i talk to a person please")
    reply = "Hello Megan, this is PC Alys Pritchard. How can I help?"
    page.get_by_label("Reply to the victim").fill(reply)
    page.get_by_role("button", name="Send reply").click()

    # The dev phone shows the reply.
    received = phone.wait_for(2)
    assert received[-1]["body"] == reply

    # The victim answers, and the officer sees it without reloading the page.
    page.evaluate("window.__notReloaded = true")
    phone.send("thank you, I am fine now")
    expect(page.locator("#transcript")).to_contain_text("thank you, I am fine now", timeout=LIVE)
    assert page.evaluate("window.__notReloaded") is True
    expect(page.locator("#transcript")).to_contain_text("PC Alys Pritchard")
    assert len(phone.settle(quiet=2)) == 2  # the bot kept quiet while the officer had it

    # The officer hands back; the bot answers the victim's next message.
    page.get_by_role("button", name="Hand back to the assistant").click()
    expect(page).to_have_url(f"{live_server.url}/console/queue")
    phone.send("hello")
    received = phone.wait_for(3)
    assert response("utter_greet", "en") in received[2]["body"]


def test_danger_message_appears_at_the_top_marked_urgent(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    live_server: LiveServer,
    worker: Worker,
    page: Page,
) -> None:
    _register(client, auth, "CR-BROWSER-2", name="Megan Price", phone=MEGAN, language="en")
    _register(client, auth, "CR-BROWSER-3", name="Elin Morgan", phone=ELIN, language="en")
    make_officer(rt, "alys", OfficerRole.OFFICER)
    Handset(live_server.url, MEGAN).send("can i speak to my officer")
    _sign_in(page, live_server.url, rt, "alys")
    expect(page.locator("#queue li.handoff").filter(has_text="Megan Price")).to_be_visible(
        timeout=LIVE
    )
    expect(page.locator("#urgent-alert")).to_be_hidden()

    # With the queue open, a message with words of danger arrives from another victim.
    Handset(live_server.url, ELIN).send("he is outside my house, please help")
    first = page.locator("#queue li.handoff").first
    expect(first).to_contain_text("Elin Morgan", timeout=LIVE)
    expect(first).to_have_class("handoff urgent")
    expect(first).to_contain_text("URGENT")
    expect(page.locator("#urgent-alert")).to_be_visible()
    expect(page.locator("#queue li.handoff").nth(1)).to_contain_text("Megan Price")


def test_a_new_officer_enrols_and_a_copied_cookie_dies_at_sign_out(
    rt: Runtime, live_server: LiveServer, browser: Browser, page: Page
) -> None:
    make_officer(rt, "ifan", OfficerRole.OFFICER, name="PC Ifan Rees", enrolled=False)
    first = page.goto(f"{live_server.url}/console/login")
    assert first is not None
    assert "frame-ancestors 'none'" in first.headers["content-security-policy"]
    assert first.headers["cache-control"] == "no-store"
    page.get_by_label("Username").fill("ifan")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # First sign-in: set up the authenticator app (the key is on the page, and its QR code).
    expect(page.get_by_role("heading", name="Set up your second factor")).to_be_visible()
    expect(page.locator("figure.qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code shown by the app").fill(pyotp.TOTP(secret).at(utcnow()))
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("link", name="I have kept them").click()
    expect(page).to_have_url(f"{live_server.url}/console/queue")

    # Someone copies the session cookie into another browser: it works, until sign-out.
    other = browser.new_context()
    try:
        other.add_cookies(page.context.cookies())  # type: ignore[arg-type]
        stolen = other.new_page()
        stolen.goto(f"{live_server.url}/console/queue")
        expect(stolen).to_have_url(f"{live_server.url}/console/queue")
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(f"{live_server.url}/console/login")
        stolen.goto(f"{live_server.url}/console/queue")
        expect(stolen).to_have_url(re.compile(r"/console/login"))
    finally:
        other.close()


def test_a_supervisor_reads_everything_held_then_erases_the_victim(
    client: FlaskClient,
    auth: dict[str, str],
    rt: Runtime,
    settings: Settings,
    live_server: LiveServer,
    worker: Worker,
    page: Page,
) -> None:
    """The real Rasa writes the tracker; the supervisor's pages export and erase it all."""
    _register(client, auth, "CR-BROWSER-9", name="Megan Price", phone=MEGAN, language="en")
    make_officer(rt, "huw", OfficerRole.SUPERVISOR, name="Sgt Huw Bevan")
    phone = Handset(live_server.url, MEGAN)
    phone.send("hello, I moved to Heol y Felin")
    phone.wait_for(1)
    with rt.db.session() as session:
        talk = session.scalar(select(Conversation).where(Conversation.address == MEGAN))
        assert talk is not None and talk.victim_id is not None
        victim_id, sender = talk.victim_id, talk.public_id
    held = tracker.events_of(settings.tracker_url(), [sender])[sender]
    assert any(e.get("text") == "hello, I moved to Heol y Felin" for e in held)

    _sign_in(page, live_server.url, rt, "huw")
    page.goto(f"{live_server.url}/console/victims/{victim_id}")
    page.get_by_role("link", name="Everything held (readable)").click()
    expect(
        page.get_by_role("heading", name=f"Everything held about victim {victim_id}")
    ).to_be_visible()
    expect(page.locator("main")).to_contain_text("hello, I moved to Heol y Felin")
    expect(page.locator("main")).to_contain_text("The assistant's record")

    page.goto(f"{live_server.url}/console/victims/{victim_id}")
    page.get_by_role("link", name="Erase this victim").click()
    expect(page.get_by_role("alert")).to_contain_text("CR-BROWSER-9")
    page.get_by_label("I understand that everything held").check()
    page.get_by_label("Erase even though a case of theirs is open").check()
    page.get_by_role("button", name=f"Erase victim {victim_id}").click()
    expect(page.locator(".flash")).to_contain_text(f"Victim {victim_id} erased")

    assert tracker.events_of(settings.tracker_url(), [sender])[sender] == []
    with rt.db.session() as session:
        assert session.scalar(select(Conversation).where(Conversation.address == MEGAN)) is None
        assert session.get_one(Victim, victim_id).erased_at is not None
