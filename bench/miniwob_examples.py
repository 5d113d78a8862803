"""Interim: MiniWoB++ demonstrations as a Parquet dataset of ``Example`` rows.

Uses the dataset stage's own importer (``parse_episode``) and reducer
(``reduce_events``), segmentation and example pairing without the store, so
the learning benchmark can run without a store import first. Contributor ids
are salted hashes of the worker ids; splits are the dataset stage's own.

    .venv/bin/python bench/miniwob_examples.py /work/shared/data/miniwob-demos OUT_DIR
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from demoforge.dataset.actions import Example
from demoforge.dataset.miniwob_demos import BrokenEpisode, find_episode_files, parse_episode
from demoforge.dataset.examples import episode_examples
from demoforge.dataset.reduce import reduce_events
from demoforge.dataset.segment import segment
from demoforge.events import DomSnapshot


def examples_of(path: Path) -> list[Example]:
    """One demonstration file through the dataset stage's import, reduction and segmentation."""
    ep = parse_episode(path)
    snaps = {k: DomSnapshot.model_validate_json(v) for k, v in ep.blobs.items() if v[:1] == b"{"}
    steps = reduce_events(ep.events, snaps)
    contributor = hashlib.sha256(b"bench:" + ep.source.worker.encode()).hexdigest()[:16]
    out = []
    for episode in segment(ep.events):
        mine = [s for s in steps if s.action.first_seq is not None and episode.contains(s.action.first_seq)]
        if episode.instruction is not None:
            out += episode_examples(episode, mine, snaps, contributor)
    return out


def main(root: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rows, broken = [], 0
    files = find_episode_files(root)
    for n, f in enumerate(files):
        try:
            rows += [e.to_row() for e in examples_of(f)]
        except BrokenEpisode:
            broken += 1
        if n % 500 == 0:
            print(f"{n}/{len(files)} episodes, {len(rows)} examples", flush=True)
    pq.write_table(pa.Table.from_pylist(rows), out / "part-0.parquet")
    print(f"{len(rows)} examples from {len(files) - broken} episodes ({broken} broken) -> {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
