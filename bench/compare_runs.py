"""Compare two benchmark runs episode by episode: per task, and per suite with a paired test.

    .venv/bin/python bench/compare_runs.py bench/out/run37 bench/out/run40 [--tag -final]

Reads every ``<run>/<suite><tag>-*/episodes.jsonl`` (the parts ``merge_reports.py``
merges) of both runs. An evaluation seed fixes each episode's instance
(``eval:SEED:TASK:I``), so the two runs met the same instances, and an
episode one run solved and the other did not is a difference of the models on
that very instance. The suite's exact McNemar test counts only those
discordant episodes: its p-value says how likely a split as uneven is when
both models are equally good on these instances. It says nothing of training
noise (two trainings of the same code differ too); compare two training seeds
of one commit for that.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

SUITES = ("demonstrated", "unseen")


def outcomes(run: Path, suite: str, tag: str) -> dict[tuple[str, str], bool]:
    """Each episode's success, by (task, episode seed); an episode two parts both ran counts once."""
    out: dict[tuple[str, str], bool] = {}
    for log in sorted(run.glob(f"{suite}{tag}-*/episodes.jsonl")):
        for line in log.read_text().splitlines():
            episode = json.loads(line)
            out.setdefault((episode["task"], episode["seed"]), bool(episode["success"]))
    return out


def mcnemar_p(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar p-value: the discordant episodes as fair coin flips."""
    n = a_only + b_only
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(a_only, b_only) + 1)) / 2**n
    return min(1.0, 2 * tail)


def compare(a: dict[tuple[str, str], bool], b: dict[tuple[str, str], bool]) -> tuple[list[tuple], tuple]:
    """Per task (task, A's successes, B's, episodes, A only, B only) over the episodes both
    runs have, and the suite's (A, B, episodes, A only, B only, p)."""
    tasks: dict[str, list[int]] = {}
    for key in sorted(a.keys() & b.keys()):
        row = tasks.setdefault(key[0], [0, 0, 0, 0, 0])
        row[0] += a[key]
        row[1] += b[key]
        row[2] += 1
        row[3] += a[key] and not b[key]
        row[4] += b[key] and not a[key]
    rows = [(task, *row) for task, row in sorted(tasks.items())]
    total = [sum(r[i] for r in rows) for i in range(1, 6)]
    return rows, (*total, mcnemar_p(total[3], total[4]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", type=Path, help="the baseline run's folder")
    ap.add_argument("b", type=Path, help="the run compared with it")
    ap.add_argument("--tag", default="-final", help="the parts' tag: <suite><tag>-a, -b, ...")
    ap.add_argument("--all", action="store_true", help="list every task, not only those that differ")
    args = ap.parse_args()
    for suite in SUITES:
        a, b = outcomes(args.a, suite, args.tag), outcomes(args.b, suite, args.tag)
        if not a or not b:
            print(f"{suite}: no episodes in {args.a if not a else args.b}")
            continue
        rows, (sa, sb, n, a_only, b_only, p) = compare(a, b)
        print(f"## {suite}: {args.a.name} {sa}, {args.b.name} {sb} of {n} ({sb - sa:+d}); "
              f"solved by one only: {a_only} / {b_only}, McNemar p = {p:.3f}")
        print(f"{'task':34} {args.a.name:>7} {args.b.name:>7} {'diff':>5} {'of':>4}")
        for task, ta, tb, tn, _, _ in rows:
            if args.all or ta != tb:
                print(f"{task:34} {ta:7} {tb:7} {tb - ta:+5d} {tn:4}")
        unmatched = len(a.keys() ^ b.keys())
        if unmatched:
            print(f"({unmatched} episodes are in one run only and are left out)")


if __name__ == "__main__":
    main()
