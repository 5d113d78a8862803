"""Import a folder of MiniWoB++ demonstrations into the store, in parallel.

Parsing (gunzip, JSON, DOM mapping, validation) is CPU-bound and independent
per file, so it runs in a process pool; writing is done by this process alone,
one transaction per episode, so a file either lands whole or not at all and
SQLite never sees two writers. Re-running is a no-op: ids are derived from the
files' contents (see ``miniwob_demos``) and the store deduplicates by event id.

Contributors are pseudonymous: the id stored for a worker is a keyed hash
(HMAC-SHA256) of the worker id in the file name, under a secret kept in
``$DEMOFORGE_HOME/pseudonym.key``. The same worker always maps to the same
contributor on one installation, and without the key the ids cannot be
linked back to the crowd-worker ids published with the data.
"""

from __future__ import annotations

import hashlib
import hmac
import multiprocessing
import os
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from demoforge import config
from demoforge.dataset.miniwob_demos import (
    SOURCE,
    BrokenEpisode,
    ImportedEpisode,
    find_episode_files,
    parse_episode,
)
from demoforge.store import Store
from demoforge.store.engine import writing
from demoforge.store.models import Contributor, utcnow

PSEUDONYM_KEY_FILE = "pseudonym.key"


@dataclass
class ImportReport:
    """What an import did: per-task counts of sessions, and every file it skipped, with why."""

    files: int = 0
    sessions_new: int = 0
    sessions_present: int = 0
    events_accepted: int = 0
    events_duplicate: int = 0
    per_task: Counter[str] = field(default_factory=Counter)
    broken: list[tuple[str, str]] = field(default_factory=list)


def pseudonym_key(home: Path | None = None) -> bytes:
    """This installation's secret for contributor pseudonyms, created on first use (mode 0600)."""
    path = (home or config.home()) / PSEUDONYM_KEY_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
    return path.read_bytes()


def contributor_id_for(worker: str, key: bytes) -> str:
    return hmac.new(key, f"{SOURCE}:{worker}".encode(), hashlib.sha256).hexdigest()[:32]


def ensure_contributor(store: Store, contributor_id: str) -> None:
    """Create the contributor row unless it exists (label says where it came from, never who)."""
    table = Contributor.__table__
    with writing(store.engine) as conn:
        if conn.scalar(select(Contributor.id).where(Contributor.id == contributor_id)) is None:
            conn.execute(
                table.insert().values(id=contributor_id, created_at=utcnow(), label=SOURCE)
            )


def parse_or_broken(path: Path) -> ImportedEpisode | tuple[Path, str]:
    """Pool worker: a parsed episode, or the path and why it cannot be imported."""
    try:
        return parse_episode(path)
    except BrokenEpisode as exc:
        return path, str(exc)


def import_demos(
    store: Store,
    root: Path,
    *,
    workers: int | None = None,
    on_file: Callable[[str], None] | None = None,
) -> ImportReport:
    """Import every episode file under ``root``; ``on_file`` is called after each one
    (the CLI advances its progress bar with it)."""
    paths = find_episode_files(root)
    report = ImportReport(files=len(paths))
    key = pseudonym_key()
    known_contributors: set[str] = set()
    workers = workers or os.cpu_count() or 1
    context = multiprocessing.get_context("forkserver")
    with context.Pool(workers) as pool:
        for parsed in pool.imap(parse_or_broken, paths, chunksize=4):
            if isinstance(parsed, tuple):
                path, reason = parsed
                report.broken.append(
                    (str(path.relative_to(root) if path != root else path.name), reason)
                )
            else:
                _store_episode(store, parsed, key, known_contributors, report)
            if on_file is not None:
                on_file(parsed[0].name if isinstance(parsed, tuple) else parsed.source.key)
    return report


def _store_episode(
    store: Store, episode: ImportedEpisode, key: bytes, known: set[str], report: ImportReport
) -> None:
    contributor = contributor_id_for(episode.source.worker, key)
    if contributor not in known:
        ensure_contributor(store, contributor)
        known.add(contributor)
    result = store.ingest(episode.events, episode.blobs, contributor, episode.session_meta())
    report.events_accepted += result.accepted
    report.events_duplicate += result.duplicates
    if result.accepted:
        report.sessions_new += 1
    else:
        report.sessions_present += 1
    report.per_task[episode.task] += 1
