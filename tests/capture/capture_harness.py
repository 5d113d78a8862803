"""Recording through the whole data path for tests: spool, uploader, embedded store,
and reading the session back from the store's JSON Lines export."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page


@contextmanager
def _home(home: Path) -> Iterator[None]:
    """``$DEMOFORGE_HOME`` set to ``home`` (the store finds its keys there too)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEMOFORGE_HOME", str(home))
        mp.delenv("DEMOFORGE_DB", raising=False)
        yield


@dataclass
class Recorded:
    """A session recorded through the whole data path and read back from the store."""

    home: Path
    session_id: str
    events: list[dict[str, Any]]  # the JSON Lines export, one dict per line
    delivered: bool

    def of_type(self, *types: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["type"] in types]

    def blob(self, sha: str) -> bytes:
        from demoforge.store import Store

        with _home(self.home), Store.open() as store:
            return store.get_blob(sha)


def record_through_store(home: Path, url: str, act: Callable[[Page], None]) -> Recorded:
    """Record ``url`` under ``act`` into the spool, upload to the embedded store under
    ``home``, and read the session back from the store's JSON Lines export; Python logs
    of the run go to ``home/logs`` so that tests can scan them too."""
    from demoforge.capture.session import record_and_upload
    from demoforge.store import Store

    with _home(home):
        (home / "logs").mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(home / "logs" / "record.log")
        root = logging.getLogger()
        old_level = root.level
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            recording, delivered = record_and_upload(url, actor=act)
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
            handler.close()
        out = io.StringIO()
        with Store.open() as store:
            store.export_jsonl(recording.session_id, out)
        (home / "export.jsonl").write_text(out.getvalue())
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    return Recorded(home, recording.session_id, events, delivered)
