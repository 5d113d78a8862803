"""Derived data after an erasure: every dataset built from the erased sessions is rebuilt without them.

``demoforge dataset build`` writes ``build.json`` listing the session ids a
dataset was built from. After an erasure the datasets under the given roots
(by default everything under ``$DEMOFORGE_HOME``) that list an erased
session are marked stale (a ``STALE`` file), rebuilt from the store (which
no longer holds the sessions), and unmarked. A rebuild that fails leaves the
mark, so a stale dataset is never mistaken for a clean one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from demoforge.store import Store

STALE_MARK = "STALE"


def datasets_using(session_ids: set[str], roots: Iterable[Path]) -> list[Path]:
    """Dataset folders under ``roots`` whose ``build.json`` lists any of ``session_ids``."""
    found = []
    for root in roots:
        for manifest in sorted(root.rglob("build.json")):
            sessions = set(json.loads(manifest.read_text()).get("sessions", []))
            if sessions & session_ids:
                found.append(manifest.parent)
    return found


def rebuild_without(store: Store, db_url: str, erased: set[str], roots: Iterable[Path]) -> list[Path]:
    """Mark, rebuild and unmark every dataset built from an erased session; returns them."""
    from demoforge.dataset.build import build_dataset

    rebuilt = []
    for folder in datasets_using(erased, roots):
        only_successful = bool(json.loads((folder / "build.json").read_text()).get("only_successful"))
        (folder / STALE_MARK).write_text(f"built from {len(erased)} erased session(s); rebuilding\n")
        build_dataset(store, folder, db_url=db_url, blobs_dir=store.blob_files.root, only_successful=only_successful)
        (folder / STALE_MARK).unlink(missing_ok=True)  # the rebuild replaced the folder whole
        rebuilt.append(folder)
    return rebuilt
