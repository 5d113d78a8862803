"""Merge the episode logs of evaluation runs split over processes into one suite report.

    .venv/bin/python bench/merge_reports.py --suite demonstrated --seed 1 --model MODEL \
        --out bench/out/run1/demonstrated bench/out/run1/demo-a bench/out/run1/demo-b

Reads each part's ``episodes.jsonl`` (one line per finished episode) and
writes the combined report.json / report.html / success.png, then prints the
table. Lets a long benchmark use both cores with one process per half.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from demoforge.evaluate import report
from demoforge.evaluate.runner import EpisodeResult, TaskResult


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("parts", nargs="+", type=Path)
    ap.add_argument("--suite", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    by_task: dict[str, TaskResult] = {}
    seen: set[tuple[str, str]] = set()
    for part in args.parts:
        for line in (part / "episodes.jsonl").read_text().splitlines():
            ep = EpisodeResult(**json.loads(line))
            if (ep.task, ep.seed) in seen:  # a task that two parts both started: count it once
                continue
            seen.add((ep.task, ep.seed))
            by_task.setdefault(ep.task, TaskResult(ep.task)).episodes.append(ep)
    results = [by_task[t] for t in sorted(by_task)]
    summary = report.summary(results, args.suite, args.seed, args.model)
    report.write(summary, args.out)
    report.print_table(summary)
    print(json.dumps({k: summary[k] for k in ("suite", "mean_success", "episodes", "step_ms")}))


if __name__ == "__main__":
    main()
