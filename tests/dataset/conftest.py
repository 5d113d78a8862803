"""A small copy of the real MiniWoB++ demonstrations, plus deliberately broken files.

The sample keeps the data set's ``<batch>/<task>/<file>`` layout and takes
a few files (in MANIFEST order, one failure among them) of tasks that together exercise
everything the importer handles: typing and pasting (login-user,
enter-password), scrolling (click-scroll-list), the flight tasks' extra
``cx``/``cy`` fields and long episodes (flight.Alaska-auto).
"""

from __future__ import annotations

import csv
import gzip
import shutil
from pathlib import Path

import pytest

from demoforge import config
from dataset_sample import BROKEN, SAMPLE_TASKS

DEMOS = config.demos_dir()


def manifest() -> list[dict[str, str]]:
    with (DEMOS / "MANIFEST.tsv").open() as f:
        return list(csv.DictReader(f, delimiter="\t"))


@pytest.fixture(scope="session")
def demos_root() -> Path:
    if not (DEMOS / "MANIFEST.tsv").exists():
        pytest.skip(
            f"the MiniWoB++ demonstrations are not at {DEMOS} (set DEMOFORGE_MINIWOB_DEMOS)"
        )
    return DEMOS


@pytest.fixture(scope="session")
def sample_rows(demos_root: Path) -> list[dict[str, str]]:
    """Per task, its first failed episode (where it has one) and its first successful ones."""
    rows: list[dict[str, str]] = []
    for task, n in SAMPLE_TASKS.items():
        of_task = [r for r in manifest() if r["task"] == task]
        failed = [r for r in of_task if float(r["raw_reward"]) < 0][:1]
        rows += failed + [r for r in of_task if float(r["raw_reward"]) > 0][: n - len(failed)]
    return rows


@pytest.fixture(scope="session")
def sample_dir(
    tmp_path_factory: pytest.TempPathFactory, demos_root: Path, sample_rows: list[dict[str, str]]
) -> Path:
    """The sampled good files only."""
    root = tmp_path_factory.mktemp("demos")
    for row in sample_rows:
        target = root / row["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(demos_root / row["path"], target)
    return root


@pytest.fixture(scope="session")
def sample_with_broken(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> Path:
    """The sample plus three broken files: a truncated gzip, gzipped non-JSON, no states."""
    root = tmp_path_factory.mktemp("demos-broken")
    shutil.copytree(sample_dir, root, dirs_exist_ok=True)
    good = next(sample_dir.rglob("login-user_*.json.gz")).read_bytes()
    for name, rel in BROKEN.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if name == "truncated":
            path.write_bytes(good[: len(good) // 2])
        elif name == "not-json":
            path.write_bytes(gzip.compress(b"{ this is not json"))
        else:
            path.write_bytes(gzip.compress(b'{"utterance": "Click", "rawReward": 1}'))
    return root
