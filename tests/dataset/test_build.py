"""Building datasets: determinism, local equals Ray, loading with pandas and datasets, splits."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from demoforge import config
from demoforge.cli import app
from demoforge.dataset.actions import SPLITS, Action, Example
from demoforge.dataset.build import build_dataset
from demoforge.dataset.card import PLOTS
from demoforge.dataset.importer import PSEUDONYM_KEY_FILE, import_demos
from demoforge.store import Store


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> Iterator[Path]:
    """A store holding the imported sample, shared by this module's tests."""
    home = tmp_path_factory.mktemp("build-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEMOFORGE_HOME", str(home))
        mp.delenv("DEMOFORGE_DB", raising=False)
        with Store.open() as store:
            import_demos(store, sample_dir, workers=2)
        yield home


def build(out: Path, **kw: object) -> Path:
    with Store.open() as store:
        build_dataset(
            store, out, db_url=config.default_db_url(), blobs_dir=config.blobs_dir(), **kw
        )  # type: ignore[arg-type]
    return out


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def frame(root: Path) -> pd.DataFrame:
    parts = [pd.read_parquet(root / "data" / f"{s}.parquet") for s in SPLITS]
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def built(home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("ds") / "local")


def test_two_builds_are_byte_identical_and_the_ray_engine_builds_the_same(
    built: Path, tmp_path: Path
) -> None:
    again = build(tmp_path / "again")
    assert digests(again) == digests(built)
    on_ray = build(tmp_path / "ray", engine="ray")
    assert digests(on_ray) == digests(built)
    assert len(digests(built)) == len(SPLITS) + 2 + len(PLOTS)


def test_the_dataset_loads_with_pandas_and_with_datasets(built: Path, tmp_path: Path) -> None:
    import datasets

    df = frame(built)
    assert len(df) > 0 and set(df["op"]) <= {
        "click",
        "dblclick",
        "type",
        "press",
        "scroll",
        "drag",
        "select",
    }
    files = {s: str(built / "data" / f"{s}.parquet") for s in SPLITS if (df["split"] == s).any()}
    explicit = datasets.load_dataset("parquet", data_files=files, cache_dir=str(tmp_path / "hf"))
    by_card = datasets.load_dataset(str(built), cache_dir=str(tmp_path / "hf2"))
    for ds in (explicit, by_card):
        assert sum(d.num_rows for d in ds.values()) == len(df)
    row = explicit["train"][0]
    example = Example.from_row(row)
    assert example.action == Action.model_validate_json(row["action"])
    assert example.observation.elements
    assert (
        example.history == []
        if example.step == 0
        else len(example.history) == min(example.step, 50)
    )


def test_no_contributor_is_in_two_splits_and_each_episode_in_one(built: Path) -> None:
    df = frame(built)
    assert (df.groupby("contributor")["split"].nunique() == 1).all()
    assert (df.groupby("episode_id")["episode_split"].nunique() == 1).all()
    assert set(df["episode_split"]) <= set(SPLITS)


def test_build_json_names_the_sessions_and_the_card_counts_them(built: Path) -> None:
    manifest = json.loads((built / "build.json").read_text())
    with Store.open() as store:
        assert manifest["sessions"] == sorted(s.id for s in store.sessions())
        assert manifest["raw_events"] == store.count_events()
    df = frame(built)
    card = (built / "README.md").read_text()
    assert f"| examples | {len(df)} |" in card
    for task in df["task"].unique():
        assert f"| {task} |" in card
    for op, n in df["op"].value_counts().items():
        assert f"| {op} | {n} |" in card


def test_only_successful_leaves_out_the_failed_episodes(built: Path, tmp_path: Path) -> None:
    everything = frame(built)
    assert (everything["outcome"] == "failure").any(), "the sample should hold a failed episode"
    only = frame(build(tmp_path / "ok", only_successful=True))
    assert set(only["outcome"]) == {"success"}
    assert len(only) == (everything["outcome"] == "success").sum()


def test_cli_build_then_export_both_formats(home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli-ds"
    result = runner.invoke(app, ["dataset", "build", "--out", str(out)])
    assert result.exit_code == 0, result.output
    n = len(frame(out))
    for fmt in ("elements", "pyautogui"):
        target = tmp_path / f"{fmt}.jsonl"
        result = runner.invoke(
            app, ["dataset", "export", "--format", fmt, "--dataset", str(out), "--out", str(target)]
        )
        assert result.exit_code == 0, result.output
        lines = [json.loads(line) for line in target.read_text().splitlines()]
        assert len(lines) == n
        key = "operation" if fmt == "elements" else "code"
        assert all(key in line for line in lines)
    bad = runner.invoke(
        app,
        [
            "dataset",
            "export",
            "--format",
            "html",
            "--dataset",
            str(out),
            "--out",
            str(tmp_path / "x"),
        ],
    )
    assert bad.exit_code != 0 and "unknown format" in bad.output
    assert not (tmp_path / "x").exists()


def test_another_store_of_the_same_files_gives_the_same_dataset_on_sqlite_and_postgresql(
    built: Path, home: Path, db_url: str, demoforge_home: Path, sample_dir: Path, tmp_path: Path
) -> None:
    """Ids come from the files' contents and contributors from the installation's key:
    the same files imported into a fresh store (either database) build the same bytes."""
    demoforge_home.mkdir(parents=True, exist_ok=True)
    (demoforge_home / PSEUDONYM_KEY_FILE).write_bytes((home / PSEUDONYM_KEY_FILE).read_bytes())
    with Store.open(db_url) as store:
        import_demos(store, sample_dir, workers=2)
        out = tmp_path / "other"
        build_dataset(store, out, db_url=db_url, blobs_dir=config.blobs_dir())
    assert digests(out) == digests(built)
