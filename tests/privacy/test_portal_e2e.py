"""The portal end to end in real Chromium: sign in, consent, record, replay, delete, gone.

The collector (with its privacy step and the portal) runs in a thread on a
free port; the session is recorded by ``demoforge record --server`` driving
real Chromium on a ``file://`` page that the admin allowlisted.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from demoforge.cli import app as cli
from demoforge.collect.app import create_app
from demoforge.collect.portal import install_portal
from demoforge.privacy.accounts import Accounts
from demoforge.privacy.audit import AuditLog
from demoforge.privacy.consent import ConsentRegistry
from demoforge.privacy.ingest import install
from demoforge.store import Store

PAGE = Path(__file__).with_name("pages") / "canary.html"
PASSWORD = "correct horse battery"
ACTOR = """
def act(page):
    box = page.locator("#name").bounding_box()
    page.mouse.click(box["x"] + 5, box["y"] + 5)
    page.keyboard.type("Ada", delay=5)
    box = page.locator("#save").bounding_box()
    page.mouse.click(box["x"] + 5, box["y"] + 5)
    page.wait_for_timeout(200)
"""


@pytest.fixture
def collector(demoforge_home, monkeypatch):
    monkeypatch.setenv("DEMOFORGE_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    store = Store.open()
    app = create_app(store)
    install(app, store)
    install_portal(app, store, secret="test-secret", secure_cookies=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield store, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        store.close()


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/portal/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


@pytest.mark.browser
def test_sign_in_consent_record_replay_delete(collector, demoforge_home, tmp_path):
    from demoforge.capture.browser import launch_browser
    from demoforge.dataset.build import build_dataset

    store, base = collector
    person = store.create_contributor()
    accounts = Accounts(store.engine)
    accounts.add("ada", PASSWORD, "person", person)
    accounts.add("admin", PASSWORD, "admin")
    registry = ConsentRegistry(store.engine, AuditLog(store.engine))
    registry.set_gate("tests", "DPIA-1", "WA-1", actor="admin")
    registry.allow_origin(PAGE.as_uri(), actor="admin")
    token = store.add_device(person)
    actor = tmp_path / "actor.py"
    actor.write_text(ACTOR)

    record = ["record", PAGE.as_uri(), "--actor", str(actor), "--headless", "--server", base, "--token", token]

    # Without consent the collector stores nothing from a recording.
    CliRunner().invoke(cli, record)
    assert store.sessions(contributor_id=person) == []

    with launch_browser(headless=True) as browser:  # Playwright's sync API: one at a time
        page = browser.new_context().new_page()
        _sign_in(page, base, "ada")
        assert page.text_content("#consent-state") == "not given"
        page.check("input[name=agree]")
        page.click("#grant")
        assert page.text_content("#consent-state") == "active"

    recorded = CliRunner().invoke(cli, [*record, "--instruction", "Enter a name"])
    assert recorded.exit_code == 0, recorded.output
    [session] = store.sessions(contributor_id=person)
    dataset = demoforge_home / "datasets" / "mine"
    build_dataset(store, dataset, db_url=str(store.engine.url), blobs_dir=store.blob_files.root)
    assert json.loads((dataset / "build.json").read_text())["sessions"] == [session.id]

    with launch_browser(headless=True) as browser:
        page = browser.new_context().new_page()
        _sign_in(page, base, "ada")
        page.click(f"a[href='/portal/sessions/{session.id}']")
        timeline = page.text_content("#timeline")
        assert "task: Enter a name" in timeline and "key 'A'" in timeline
        assert page.locator("img.frame").count() >= 1
        assert page.locator("img.frame").first.evaluate("img => img.complete && img.naturalWidth > 0")

        page.goto(f"{base}/portal/")
        page.click("button.delete")
        assert page.locator("#no-sessions").is_visible()

        admin = browser.new_context().new_page()
        _sign_in(admin, base, "admin")
        assert "Too few contributors" in admin.text_content("#stats")
        assert admin.goto(f"{base}/portal/").url.endswith("/portal/admin")

    assert store.session(session.id) is None and store.count_events(session.id) == 0
    assert not list((store.blob_files.root / person).rglob("*.zst"))
    assert json.loads((dataset / "build.json").read_text())["sessions"] == []
    assert AuditLog(store.engine).verify().ok


def test_forms_need_the_csrf_token_and_pages_need_sign_in(collector):
    store, base = collector
    person = store.create_contributor()
    Accounts(store.engine).add("ada", PASSWORD, "person", person)
    with httpx.Client(base_url=base) as client:
        assert client.get("/portal/", follow_redirects=False).status_code == 303
        login = client.get("/portal/login")
        assert "HttpOnly" in login.headers["set-cookie"] or "httponly" in login.headers["set-cookie"]
        assert "samesite=strict" in login.headers["set-cookie"].lower()
        no_token = client.post("/portal/login", data={"csrf": "forged", "username": "ada", "password": PASSWORD})
        assert no_token.status_code == 403
        csrf = login.text.split('name="csrf" value="')[1].split('"')[0]
        wrong = client.post("/portal/login", data={"csrf": csrf, "username": "ada", "password": "wrong password!"})
        assert wrong.status_code == 401
        ok = client.post("/portal/login", data={"csrf": csrf, "username": "ada", "password": PASSWORD}, follow_redirects=False)
        assert ok.status_code == 303
        home = client.get("/portal/")
        fresh = home.text.split('name="csrf" value="')[1].split('"')[0]
        assert fresh != csrf  # a new session after sign-in
        forged = client.post("/portal/consent/grant", data={"csrf": csrf, "notice_version": "1", "agree": "yes"})
        assert forged.status_code == 403
        assert not ConsentRegistry(store.engine, AuditLog(store.engine)).status(person).active
        assert client.get("/portal/admin").status_code == 403  # a person is no admin
