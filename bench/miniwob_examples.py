"""Interim: MiniWoB++ demonstrations as a Parquet dataset of ``Example`` rows.

Uses the dataset stage's own importer (``parse_episode``) and reducer
(``reduce_events``) without the store, so the learning benchmark can run
before (or without) ``demoforge dataset build``. Contributor ids are salted
hashes of the worker ids; one contributor in ten is held out as validation.

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
from demoforge.dataset.reduce import reduce_events
from demoforge.events import DomSnapshot


def episode_examples(path: Path) -> list[Example]:
    ep = parse_episode(path)
    snaps = {k: DomSnapshot.model_validate_json(v) for k, v in ep.blobs.items() if v[:1] == b"{"}
    steps = reduce_events(ep.events, snaps)
    contributor = hashlib.sha256(b"bench:" + ep.source.worker.encode()).hexdigest()[:16]
    split = "validation" if int(contributor, 16) % 10 == 0 else "train"
    out, history = [], []
    for i, step in enumerate(steps):
        if step.snapshot is None or step.snapshot not in snaps:
            history.append(step.action)
            continue
        out.append(
            Example(
                example_id=f"{ep.session_id}/{i}", episode_id=ep.session_id, session_id=ep.session_id, step=i,
                task=ep.task, instruction=ep.instruction, contributor=contributor, outcome=ep.outcome,
                observation=snaps[step.snapshot], history=list(history), action=step.action,
                split=split, episode_split=split,
            )
        )
        history.append(step.action)
    return out


def main(root: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rows, broken = [], 0
    files = find_episode_files(root)
    for n, f in enumerate(files):
        try:
            rows += [e.to_row() for e in episode_examples(f)]
        except BrokenEpisode:
            broken += 1
        if n % 500 == 0:
            print(f"{n}/{len(files)} episodes, {len(rows)} examples", flush=True)
    pq.write_table(pa.Table.from_pylist(rows), out / "part-0.parquet")
    print(f"{len(rows)} examples from {len(files) - broken} episodes ({broken} broken) -> {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
