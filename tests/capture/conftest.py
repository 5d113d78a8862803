"""Fixtures for capture tests: a local web site the recorder is pointed at."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from demoforge.samples import sample_path
from capture_harness import Recorded, record_through_store
from fidelity_script import ScriptedActor

PAGES = Path(__file__).with_name("pages")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        """Keep the test output free of one line per request."""


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a server holding the test pages and the bundled sample form."""
    root = tmp_path_factory.mktemp("site")
    for page in PAGES.iterdir():
        shutil.copy(page, root / page.name)
    shutil.copy(sample_path("expense_form.html"), root / "expense_form.html")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def form_session(site: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Recorded, ScriptedActor]:
    """The fidelity script performed once on the sample form, shared by the tests that
    check it (fidelity, masking), because a recording costs seconds of browser time."""
    actor = ScriptedActor()
    recorded = record_through_store(
        tmp_path_factory.mktemp("form") / "home", f"{site}/expense_form.html", actor.act
    )
    return recorded, actor
