"""``demoforge dataset build``: stored sessions → Parquet files, a dataset card, a manifest.

The per-session work (``examples.SessionExamples``) is mapped over the
store's sessions by one of two engines with the same function:

- ``local``: a plain loop in this process (the default: no start-up cost);
- ``ray``: Ray Data, on a local Ray started with ``num_cpus=2`` or on the
  cluster at ``--address``; workers open the store themselves, so on a
  cluster it must be reachable from them (PostgreSQL, shared blobs).

Whatever the engine, the driver sorts the examples and writes the files
itself with fixed Parquet settings, so the same store gives byte-identical
files: no timestamps, no random file names, no engine-dependent row order.
``build.json`` lists the session ids the dataset was built from, so erasing a
person's sessions can mark every dataset that used them as stale.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.parquet as pq

from demoforge.dataset.actions import SPLITS
from demoforge.dataset.card import write_card
from demoforge.dataset.examples import EpisodeSummary, SessionExamples
from demoforge.store import Store

Engine = Literal["local", "ray"]

#: The one schema of every Parquet file (see docs/dataset.md).
SCHEMA = pa.schema(
    [
        ("example_id", pa.string()),
        ("episode_id", pa.string()),
        ("session_id", pa.string()),
        ("step", pa.int32()),
        ("task", pa.string()),
        ("instruction", pa.string()),
        ("contributor", pa.string()),
        ("outcome", pa.string()),
        ("observation", pa.string()),
        ("screenshot", pa.string()),
        ("history", pa.string()),
        ("action", pa.string()),
        ("op", pa.string()),
        ("split", pa.string()),
        ("episode_split", pa.string()),
    ]
)

#: Fixed writer settings: part of what makes two builds byte-identical.
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "row_group_size": 4096,
    "use_dictionary": True,
    "write_statistics": True,
    "data_page_version": "1.0",
}


@dataclass
class BuildResult:
    out: Path
    engine: str
    sessions: int
    raw_events: int
    examples: int
    episodes: list[EpisodeSummary] = field(default_factory=list)


def _run_local(
    worker: SessionExamples, session_ids: list[str], on_session: Callable[[], None]
) -> list[dict[str, Any]]:
    records = []
    for sid in session_ids:
        records.append(worker({"session_id": sid}))
        on_session()
    return records


def _run_ray(
    kwargs: dict[str, Any],
    session_ids: list[str],
    address: str | None,
    on_session: Callable[[], None],
) -> list[dict[str, Any]]:
    import ray

    started = not ray.is_initialized()
    if started:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        dataset = ray.data.from_items([{"session_id": sid} for sid in session_ids])
        mapped = dataset.map(SessionExamples, fn_constructor_kwargs=kwargs, concurrency=2)
        records = []
        for record in mapped.iter_rows():
            records.append(dict(record))
            on_session()
        return records
    finally:
        if started:
            ray.shutdown()


def build_dataset(
    store: Store,
    out: Path,
    *,
    db_url: str,
    blobs_dir: Path,
    engine: Engine = "local",
    address: str | None = None,
    only_successful: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_session: Callable[[], None] | None = None,
) -> BuildResult:
    """Build the dataset of every session in ``store`` into ``out`` (replaced whole)."""
    sessions = sorted(store.sessions(), key=lambda s: s.id)
    session_ids = [s.id for s in sessions]
    if on_start is not None:
        on_start(len(session_ids))
    tick = on_session or (lambda: None)
    kwargs = {"db_url": db_url, "blobs_dir": str(blobs_dir), "only_successful": only_successful}
    if engine == "local":
        records = _run_local(SessionExamples(**kwargs), session_ids, tick)
    elif engine == "ray":
        records = _run_ray(kwargs, session_ids, address, tick)
    else:
        raise ValueError(f"unknown engine {engine!r}; use local or ray")
    rows = [row for r in records for row in json.loads(r["examples"])]
    rows.sort(key=lambda r: (r["episode_id"], r["step"]))
    episodes = sorted(
        (EpisodeSummary(**s) for r in records for s in json.loads(r["episodes"])),
        key=lambda s: s.episode_id,
    )
    staging = out.with_name(out.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    _write_parquet(staging, rows)
    manifest = {
        "only_successful": only_successful,
        "sessions": session_ids,
        "raw_events": sum(s.event_count for s in sessions),
        "examples": len(rows),
        "episodes": len(episodes),
    }
    (staging / "build.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    write_card(staging, rows, episodes, manifest)
    # Swap in the finished folder: a failed build never leaves half a dataset at `out`.
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return BuildResult(out, engine, len(session_ids), manifest["raw_events"], len(rows), episodes)


def _write_parquet(root: Path, rows: list[dict[str, Any]]) -> None:
    """One file per contributor split; the episode split is a column of the same rows
    (one copy of every example, so a reader globbing ``*.parquet`` sees each once)."""
    target = root / "data"
    target.mkdir(parents=True)
    for split in SPLITS:
        chosen = [r for r in rows if r["split"] == split]
        table = pa.Table.from_pylist(chosen, schema=SCHEMA)
        pq.write_table(table, target / f"{split}.parquet", **PARQUET_OPTIONS)
