"""Decision time per agent step over evaluation runs: all steps, first steps, later steps.

    .venv/bin/python bench/step_times.py bench/out/run10/demonstrated-final-a bench/out/run10/demonstrated-final-b

Reads each folder's ``episodes.jsonl`` (the per-process folders of
``train_eval.py --part``; a merged report keeps no episode log). The first step of an episode is split
out because it is where a page's words are new to the encoder's cache, and so
where the slow steps are; the issue's budget is 100 ms per step.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

BUDGET_MS = 100.0


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile (no interpolation: a value that was measured)."""
    ordered = sorted(values)
    return ordered[int(p * (len(ordered) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path, help="folders holding an episodes.jsonl")
    args = ap.parse_args()
    first: list[float] = []
    later: list[float] = []
    for run in args.runs:
        for line in (run / "episodes.jsonl").read_text().splitlines():
            steps = json.loads(line)["step_ms"]
            first += steps[:1]
            later += steps[1:]
    print("| steps | count | median | mean | p95 | share within 100 ms |")
    print("|---|---|---|---|---|---|")
    for name, ms in (("all", first + later), ("first of an episode", first), ("later", later)):
        within = sum(m <= BUDGET_MS for m in ms) / len(ms)
        print(
            f"| {name} | {len(ms)} | {statistics.median(ms):.1f} ms | {statistics.mean(ms):.1f} ms "
            f"| {percentile(ms, 0.95):.1f} ms | {within:.1%} |"
        )


if __name__ == "__main__":
    main()
