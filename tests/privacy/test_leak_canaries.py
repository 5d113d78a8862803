"""Leak test: canaries typed and displayed in a real recorded session appear in 0 bytes anywhere.

A scripted person types a password, a card number, an e-mail address and an
API key into a page that also *displays* an e-mail address, a card number
and an API key. After recording through ``demoforge record`` (real Chromium,
the recorder, the guard, the spool, the encrypted embedded store) and
exporting the session, exporting the person's data and building a dataset,
every byte under ``$DEMOFORGE_HOME`` is scanned: files as they are (store,
spool, blobs, logs, exports, datasets), every blob decrypted and
decompressed, every event decrypted, the export zip's entries and the
dataset's Parquet rows.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from demoforge.cli import app

PAGE = Path(__file__).with_name("pages") / "canary.html"

TYPED = {
    "password": "Pw-Canary-9137!",
    "card": "4111 1111 1111 1111",
    "email": "canary.typed@example.org",
    "api_key": "ghp_C4naryT0kenX9q2LmZ8vR3wYp6sJd1Kf7hN05",
}
DISPLAYED = {
    "email": "canary.displayed@example.com",
    "card": "5555 5555 5555 4444",
    "api_key": "AKIAQWERTYUIOPASDFGH",
}

ACTOR = f"""
def act(page):
    for field, text in [("#name", "Ada Lovelace"), ("#email", {TYPED['email']!r}),
                        ("#card", {TYPED['card']!r}), ("#password", {TYPED['password']!r}),
                        ("#notes", "token " + {TYPED['api_key']!r})]:
        box = page.locator(field).bounding_box()
        page.mouse.click(box["x"] + 5, box["y"] + 5)
        page.keyboard.type(text, delay=5)
    box = page.locator("#save").bounding_box()
    page.mouse.click(box["x"] + 5, box["y"] + 5)
    page.wait_for_timeout(300)
"""


def _needles() -> dict[str, bytes]:
    """Every canary, and the card numbers without their spaces as well."""
    out = {f"typed {k}": v.encode() for k, v in TYPED.items()}
    out |= {f"displayed {k}": v.encode() for k, v in DISPLAYED.items()}
    out["typed card digits"] = TYPED["card"].replace(" ", "").encode()
    out["displayed card digits"] = DISPLAYED["card"].replace(" ", "").encode()
    return out


def _decrypted_content(home: Path) -> list[tuple[str, bytes]]:
    from demoforge.store import Store
    from demoforge.store.models import Blob

    out = []
    with Store.open() as store:
        with store.engine.connect() as conn:
            blobs = conn.execute(Blob.__table__.select()).all()
        for row in blobs:
            out.append((f"blob {row.sha256}", store.get_blob(row.sha256, row.contributor_id)))
        for session in store.sessions():
            out += [(f"event {e.id}", e.model_dump_json().encode()) for e in store.events(session.id)]
    return out


def _unpacked(home: Path) -> list[tuple[str, bytes]]:
    """The export zip's entries and the dataset's Parquet rows, decompressed."""
    import json
    import zipfile

    import pyarrow.parquet as pq

    with zipfile.ZipFile(home / "mine.zip") as zf:
        out = [(f"zip {name}", zf.read(name)) for name in zf.namelist()]
    parquet = sorted((home / "datasets").rglob("*.parquet"))
    assert parquet
    for path in parquet:
        rows = pq.read_table(path).to_pylist()
        out.append((str(path), json.dumps(rows, default=str, ensure_ascii=False).encode()))
    return out


@pytest.mark.browser
def test_canaries_appear_in_zero_bytes(demoforge_home, tmp_path, monkeypatch):
    monkeypatch.setenv("DEMOFORGE_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    runner = CliRunner()
    assert runner.invoke(app, ["consent", "grant", "--yes"]).exit_code == 0
    actor = tmp_path / "actor.py"
    actor.write_text(ACTOR)
    result = runner.invoke(app, ["record", PAGE.as_uri(), "--actor", str(actor), "--headless"])
    assert result.exit_code == 0, result.output
    export = demoforge_home / "export.jsonl"
    result = runner.invoke(app, ["sessions", "export", "--last", "-o", str(export)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["consent", "export", "--out", str(demoforge_home / "mine.zip")]).exit_code == 0
    result = runner.invoke(app, ["dataset", "build", "--out", str(demoforge_home / "datasets" / "d")])
    assert result.exit_code == 0, result.output

    lines = export.read_text().splitlines()
    assert sum('"type":"key_down"' in line for line in lines) >= 60  # the typing was recorded
    assert any('"masked":true' in line for line in lines)

    content = [(str(p.relative_to(demoforge_home)), p.read_bytes()) for p in demoforge_home.rglob("*") if p.is_file()]
    content += _decrypted_content(demoforge_home)
    content += _unpacked(demoforge_home)
    leaks = [(name, where) for name, needle in _needles().items() for where, data in content if needle in data]
    assert not leaks, leaks
    assert any(b"[EMAIL]" in data for _, data in content)  # redacted, not just dropped
