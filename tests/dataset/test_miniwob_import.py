"""Importing real MiniWoB++ demonstrations into the store: counts, broken files, idempotence."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest
from dataset_sample import BROKEN
from typer.testing import CliRunner

from demoforge.cli import app
from demoforge.dataset.importer import import_demos
from demoforge.dataset.miniwob_demos import parse_episode
from demoforge.events import DomSnapshot, DomSnapshotEvent, KeyDown, PointerDown, TaskEnd, TaskStart
from demoforge.store import Store


@pytest.fixture
def store(demoforge_home: Path):
    with Store.open() as s:
        yield s


def test_import_counts_per_task_match_the_manifest_and_broken_files_are_skipped_whole(
    store: Store, sample_with_broken: Path, sample_dir: Path, sample_rows: list[dict[str, str]]
) -> None:
    report = import_demos(store, sample_with_broken, workers=2)

    assert report.per_task == Counter(r["task"] for r in sample_rows)
    assert Counter(s.task for s in store.sessions()) == Counter(r["task"] for r in sample_rows)
    reasons = dict(report.broken)
    assert set(reasons) == set(BROKEN.values())
    assert "gzip" in reasons[BROKEN["truncated"]]
    assert "not JSON" in reasons[BROKEN["not-json"]]
    assert "states" in reasons[BROKEN["no-states"]]
    assert report.sessions_new == len(sample_rows)

    # One pseudonymous contributor per worker/HIT id, and the id itself is stored nowhere.
    by_hit: dict[str, set[str]] = {}
    for path in sample_dir.rglob("*.json.gz"):
        episode = parse_episode(path)
        session = store.session(episode.session_id)
        assert session is not None
        by_hit.setdefault(episode.source.worker, set()).add(session.contributor_id)
        assert episode.source.worker not in json.dumps(session.model_dump())
    assert all(len(ids) == 1 for ids in by_hit.values())
    contributors = [next(iter(ids)) for ids in by_hit.values()]
    assert len(set(contributors)) == len(contributors)


def test_reimport_is_a_no_op(store: Store, sample_dir: Path) -> None:
    first = import_demos(store, sample_dir, workers=2)
    events_before = store.count_events()
    second = import_demos(store, sample_dir, workers=2)

    assert first.events_accepted == events_before > 0
    assert (second.sessions_new, second.events_accepted) == (0, 0)
    assert second.events_duplicate == events_before
    assert store.count_events() == events_before
    assert len(store.sessions()) == first.sessions_new


def test_an_episode_becomes_the_schema_s_events(sample_dir: Path) -> None:
    path = next(sample_dir.rglob("login-user_*.json.gz"))
    doc = json.loads(gzip.decompress(path.read_bytes()))
    episode = parse_episode(path)
    events = episode.events

    assert isinstance(events[0], TaskStart) and events[0].instruction == doc["utterance"].strip()
    assert isinstance(events[-1], TaskEnd) and events[-1].reward == doc["rawReward"]
    assert events[-1].outcome == ("success" if doc["rawReward"] > 0 else "failure")
    assert [e.seq for e in events] == list(range(len(events)))
    # Capture and bubble copies are folded: one pointer_down per browser mousedown.
    actions = [s["action"] for s in doc["states"] if s["action"]]
    captured = sum(1 for a in actions if a["type"] == "mousedown" and a["timing"] == 1)
    downs = [e for e in events if isinstance(e, PointerDown)]
    assert len(downs) == captured
    assert all(d.target is not None for d in downs)
    assert {(d.x, d.y) for d in downs} == {
        (a["x"], a["y"]) for a in actions if a["type"] == "mousedown"
    }
    # Keys have modern names, not key codes.
    keys = [e.key for e in events if isinstance(e, KeyDown)]
    assert keys and all(not k.isdigit() or len(k) == 1 for k in keys)


def test_snapshots_look_like_the_live_recorder_s(sample_dir: Path) -> None:
    episode = parse_episode(next(sample_dir.rglob("login-user_*.json.gz")))
    shas = [e.blob for e in episode.events if isinstance(e, DomSnapshotEvent)]
    snapshot = DomSnapshot.model_validate_json(episode.blobs[shas[0]])
    tags = {e.tag for e in snapshot.elements}
    assert tags <= {t.lower() for t in tags} and "t" not in tags and "body" not in tags
    field = next(e for e in snapshot.elements if e.id == "username")
    assert (field.tag, field.input_type, field.role, field.selector) == (
        "input",
        "text",
        "textbox",
        "#username",
    )
    assert all(a != b for a, b in pairwise(shas)), "an unchanged state was emitted twice in a row"


def test_importing_the_same_file_twice_gives_the_same_ids(sample_dir: Path) -> None:
    path = next(sample_dir.rglob("enter-password_*.json.gz"))
    assert [e.id for e in parse_episode(path).events] == [e.id for e in parse_episode(path).events]


def test_cli_lists_every_skipped_file_with_its_reason_and_exits_nonzero(
    demoforge_home: Path, sample_with_broken: Path, sample_rows: list[dict[str, str]]
) -> None:
    result = CliRunner().invoke(
        app, ["import", "miniwob-demos", str(sample_with_broken), "--workers", "2"]
    )
    assert result.exit_code == 1, result.output
    assert f"{len(sample_rows)} sessions imported" in result.output
    for rel in BROKEN.values():
        assert Path(rel).name in result.output
