"""Benchmark: import all MiniWoB++ demonstrations, then build the dataset locally and on Ray.

Run by hand (never part of the test suite):

    .venv/bin/python bench/dataset_build.py --data ../shared/data/miniwob-demos --home /tmp/bench-home

Prints, in one run and on the same machine:
- parsing alone (the process pool, no store) as the baseline for the import;
- the full import into a fresh store (files/s, events/s) and the files it skipped;
- per-task session counts against MANIFEST.tsv;
- the dataset build in raw events/s with the local engine (the baseline) and with
  Ray Data (local Ray, 2 CPUs), and whether the two datasets are byte-identical.
Pass --reuse to skip the import and build from an existing --home.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import multiprocessing
import os
import shutil
import time
from collections import Counter
from pathlib import Path


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument(
        "--home", type=Path, required=True, help="DEMOFORGE_HOME to use (emptied unless --reuse)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="keep the store in --home, skip parsing and import"
    )
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    if not args.reuse:
        shutil.rmtree(args.home, ignore_errors=True)
    args.home.mkdir(parents=True, exist_ok=True)
    os.environ["DEMOFORGE_HOME"] = str(args.home)
    os.environ.pop("DEMOFORGE_DB", None)

    from demoforge import config
    from demoforge.dataset.build import build_dataset
    from demoforge.dataset.importer import import_demos, parse_or_broken
    from demoforge.dataset.miniwob_demos import find_episode_files
    from demoforge.store import Store

    files = find_episode_files(args.data)
    store = Store.open()
    if not args.reuse:
        start = time.perf_counter()
        parsed_events = 0
        with multiprocessing.get_context("forkserver").Pool(args.workers) as pool:
            for parsed in pool.imap(parse_or_broken, files, chunksize=4):
                parsed_events += 0 if isinstance(parsed, tuple) else len(parsed.events)
        parse_s = time.perf_counter() - start
        print(
            f"parse only (baseline): {len(files)} files, {parsed_events} events in {parse_s:.1f} s "
            f"= {len(files) / parse_s:.1f} files/s, {parsed_events / parse_s:.0f} events/s"
        )

        start = time.perf_counter()
        report = import_demos(store, args.data, workers=args.workers)
        import_s = time.perf_counter() - start
        print(
            f"import: {report.files} files, {report.sessions_new} sessions, {report.events_accepted} events "
            f"in {import_s:.1f} s = {report.files / import_s:.1f} files/s, {report.events_accepted / import_s:.0f} events/s; "
            f"skipped {len(report.broken)}"
        )
        for name, reason in report.broken:
            print(f"  skipped {name}: {reason}")

    with (args.data / "MANIFEST.tsv").open() as f:
        expected = Counter(row["task"] for row in csv.DictReader(f, delimiter="\t"))
    stored = Counter(s.task for s in store.sessions())
    mismatched = {
        t: (stored[t], expected[t]) for t in expected | stored if stored[t] != expected[t]
    }
    print(
        f"per-task sessions vs MANIFEST.tsv: {len(expected)} tasks, {sum(stored.values())} sessions stored, "
        f"{sum(expected.values())} listed; mismatches: {mismatched or 'none'}"
    )

    results = {}
    for engine in ("local", "ray"):
        out = args.home / "datasets" / f"bench-{engine}"
        start = time.perf_counter()
        result = build_dataset(
            store, out, db_url=config.default_db_url(), blobs_dir=config.blobs_dir(), engine=engine
        )
        seconds = time.perf_counter() - start
        results[engine] = digests(out)
        print(
            f"build {engine}: {result.sessions} sessions, {result.raw_events} raw events, {result.examples} examples "
            f"in {seconds:.1f} s = {result.raw_events / seconds:.0f} raw events/s"
        )
    print(f"local and ray datasets byte-identical: {results['local'] == results['ray']}")


if __name__ == "__main__":
    main()
