"""``demoforge consent``, ``admin`` and ``audit verify`` from the command line, and recording without consent."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from demoforge.cli import app

WIDE = {"COLUMNS": "300"}
PAGE = Path(__file__).with_name("pages") / "canary.html"


def run(*args: str, input: str | None = None):  # noqa: A002 - click's name
    return CliRunner().invoke(app, list(args), input=input, env=WIDE)


def test_grant_shows_the_notice_and_needs_an_explicit_yes(demoforge_home):
    refused = run("consent", "grant", input="n\n")
    assert refused.exit_code == 1
    assert "Notice version 1" in refused.output and "No consent given" in refused.output
    assert "Your consent: not given" in run("consent", "show").output

    granted = run("consent", "grant", input="y\n")
    assert granted.exit_code == 0, granted.output
    assert "Your consent: active" in run("consent", "show").output


def test_pause_resume_revoke(demoforge_home):
    assert run("consent", "pause").exit_code == 1  # nothing to pause yet
    assert run("consent", "grant", "--yes").exit_code == 0
    assert run("consent", "pause").exit_code == 0
    assert "Your consent: paused" in run("consent", "show").output
    assert run("consent", "resume").exit_code == 0
    assert run("consent", "revoke").exit_code == 0
    resumed = run("consent", "resume")
    assert resumed.exit_code == 1 and "grant it again" in resumed.output
    assert "Your consent: revoked" in run("consent", "show").output


def test_gate_needs_every_reference(demoforge_home):
    missing = run("admin", "gate", "--purpose", "p", "--dpia", " ", "--works-agreement", "w", "--actor", "a")
    assert missing.exit_code == 1 and "DPIA reference" in missing.output
    assert run("admin", "gate", "--purpose", "p", "--dpia", "D-1", "--works-agreement", "W-1", "--actor", "a").exit_code == 0
    assert run("admin", "allow", "not a url", "--actor", "a").exit_code == 1
    assert "https://crm.example.com" in run("admin", "allow", "https://crm.example.com/x", "--actor", "a").output


def test_audit_verify_reports_tampering(demoforge_home):
    from demoforge.privacy.models import AuditEntry
    from demoforge.store import Store

    run("consent", "grant", "--yes")
    run("consent", "pause")
    ok = run("audit", "verify")
    assert ok.exit_code == 0 and "intact" in ok.output
    with Store.open() as store, store.engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(action="consent_revoked"))
    bad = run("audit", "verify")
    assert bad.exit_code == 1 and "TAMPERED" in bad.output


@pytest.mark.browser
def test_record_without_consent_records_nothing(demoforge_home, tmp_path):
    from demoforge.store import Store

    actor = tmp_path / "actor.py"
    actor.write_text("def act(page):\n    page.keyboard.type('hello')\n")
    result = run("record", PAGE.as_uri(), "--actor", str(actor), "--headless")
    assert result.exit_code == 1 and "consent" in result.output
    with Store.open() as store:
        assert store.sessions() == []
    assert not (demoforge_home / "spool.db").exists() or b"hello" not in (demoforge_home / "spool.db").read_bytes()


def test_export_and_erase_from_the_command_line(demoforge_home, make_session, tmp_path):
    import zipfile

    from demoforge.store import Store

    assert run("consent", "grant", "--yes").exit_code == 0
    events, blobs = make_session(10)
    with Store.open() as store:
        store.ingest(events, blobs)  # recorded on this machine: the local contributor's
    out = tmp_path / "mine.zip"
    assert run("consent", "export", "--out", str(out)).exit_code == 0
    with zipfile.ZipFile(out) as zf:
        assert f"sessions/{events[0].session_id}/events.jsonl" in zf.namelist()
    assert run("consent", "erase", input="n\n").exit_code == 1
    erased = run("consent", "erase", "--yes")
    assert erased.exit_code == 0 and "Erased 1 session(s)" in erased.output
    with Store.open() as store:
        assert store.sessions() == []
    assert "Your consent: not given" in run("consent", "show").output
    assert "intact" in run("audit", "verify").output
