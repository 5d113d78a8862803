"""A typed password never leaves the page: not in the spool, database, blobs, logs
or export, and its field is painted over in every screenshot."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import zstandard
from PIL import Image

from demoforge.events import MASK_CHAR, DomSnapshot
from fidelity_script import PASSWORD

pytestmark = pytest.mark.browser

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def _every_byte_under(home: Path) -> list[tuple[Path, bytes]]:
    """Each file's raw bytes, plus the decompressed bytes of zstd-compressed files."""
    found = []
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found.append((path, data))
        if data.startswith(ZSTD_MAGIC):
            found.append((path, zstandard.ZstdDecompressor().decompressobj().decompress(data)))
    return found


def test_password_appears_in_no_byte_under_home(form_session):
    recorded, _ = form_session
    files = _every_byte_under(recorded.home)
    names = {p.name for p, _ in files}
    assert {"demoforge.db", "spool.db", "export.jsonl", "record.log"} <= names
    assert any(p.suffix == ".zst" for p, _ in files), "no blobs were scanned"
    needles = [PASSWORD.encode(), PASSWORD.encode("utf-16-le"), PASSWORD[:8].encode()]
    for path, data in files:
        for needle in needles:
            assert needle not in data, f"password found in {path}"


def test_password_keys_are_masked_and_value_never_read(form_session):
    recorded, _ = form_session
    on_password = [e for e in recorded.events if e.get("target", {}).get("id") == "password"]
    keys = [e for e in on_password if e["type"] == "key_down"]
    assert [e["key"] for e in keys] == [MASK_CHAR] * len(PASSWORD)
    assert all(e["masked"] and "code" not in e for e in keys)
    values = [e for e in on_password if e["type"] in ("input", "change")]
    assert values and all(e["masked"] and "value" not in e for e in values)


def test_password_field_is_painted_over_in_screenshots(form_session):
    recorded, _ = form_session
    by_action = {s["action_id"]: s for s in recorded.of_type("dom_snapshot")}
    for shot in recorded.of_type("screenshot"):
        snap = DomSnapshot.model_validate_json(recorded.blob(by_action[shot["action_id"]]["blob"]))
        field = next(e for e in snap.elements if e.id == "password")
        assert field.masked and field.value is None
        image = Image.open(io.BytesIO(recorded.blob(shot["blob"]))).convert("RGB")
        b = field.box
        inner = image.crop((int(b.x) + 3, int(b.y) + 3, int(b.x + b.width) - 3, int(b.y + b.height) - 3))
        colours = inner.getcolors(maxcolors=inner.width * inner.height)
        # Playwright's mask colour is #FF00FF; JPEG blurs it only slightly.
        assert all(abs(r - 255) < 40 and g < 40 and abs(bl - 255) < 40 for _, (r, g, bl) in colours)
