"""``demoforge record``: end to end through the CLI, and refusing bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from demoforge.capture.session import load_actor
from demoforge.cli import app

#: Wide enough that Rich does not wrap error messages mid-word.
WIDE = {"COLUMNS": "300"}

ACTOR = """
def act(page):
    page.mouse.click(100, 53)
    page.keyboard.type("hi")
"""


@pytest.mark.browser
def test_record_with_actor_into_embedded_store(site, demoforge_home, tmp_path):
    from demoforge.store import Store

    actor = tmp_path / "actor.py"
    actor.write_text(ACTOR)
    assert CliRunner().invoke(app, ["consent", "grant", "--yes"]).exit_code == 0  # recording needs consent
    result = CliRunner().invoke(
        app, ["record", f"{site}/second.html", "--actor", str(actor), "--headless"]
    )
    assert result.exit_code == 0, result.output
    assert "Delivered to the embedded store" in result.output
    with Store.open() as store:
        (session,) = store.sessions()
        keys = [e.key for e in store.events(session.id) if e.type == "key_down"]
    assert keys == ["h", "i"]
    assert session.id in result.output


def test_missing_actor_file_is_refused_before_anything_starts(demoforge_home, tmp_path):
    result = CliRunner().invoke(
        app, ["record", "http://127.0.0.1:9/", "--actor", str(tmp_path / "nope.py"), "--headless"], env=WIDE
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert not (demoforge_home / "spool.db").exists()


def test_server_without_token_is_refused(demoforge_home, monkeypatch):
    monkeypatch.delenv("DEMOFORGE_TOKEN", raising=False)
    result = CliRunner().invoke(
        app, ["record", "http://127.0.0.1:9/", "--headless", "--server", "http://127.0.0.1:9"], env=WIDE
    )
    assert result.exit_code == 2 and "--token" in result.output
    assert not (demoforge_home / "spool.db").exists()


def test_actor_file_without_act_is_refused(tmp_path: Path):
    path = tmp_path / "actor.py"
    path.write_text("def run(page):\n    pass\n")
    with pytest.raises(ValueError, match=r"act\(page\)"):
        load_actor(path)


@pytest.mark.browser
def test_full_spool_stops_recording_without_gaps(site, tmp_path):
    from demoforge.capture.session import record
    from demoforge.capture.spool import Spool, SpoolFull

    def act(page):
        for _ in range(20):
            page.mouse.click(100, 53)
            page.keyboard.type("hello")

    with Spool(tmp_path / "spool.db", max_bytes=60_000) as spool:
        with pytest.raises(SpoolFull):
            record(f"{site}/second.html", spool, actor=act)
        seqs = [e.seq for e in spool.pending(limit=100_000, max_bytes=1 << 30).events]
    assert seqs and seqs == list(range(len(seqs)))
