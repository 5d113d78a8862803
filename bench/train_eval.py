"""Learning benchmark: full training on all demonstrations, then live evaluation on both suites.

    .venv/bin/python bench/train_eval.py --dataset DIR --out bench/out/run1 [--episodes 50] [--epochs 8]
        [--members 6] [--train-seed 0] [--suite demonstrated --suite unseen] [--skip-train]
        [--tasks T ... --part=-a]

Prints the training wall time, then for each suite the per-task success
rates with 95% Wilson intervals, the mean beside the published figures, and
the agent's decision time per step. Everything is also written under --out
(model/, <suite>/report.json, report.html, success.png, episodes.jsonl).
Run it by hand (it takes hours at 50 episodes per task), never from tests.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from demoforge.evaluate.evaluation import run_evaluation
from demoforge.evaluate.report import print_table
from demoforge.learn.train import train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--episodes", type=int, default=50)
    ap.add_argument("--max-per-task", type=int, default=None, help="cap on training examples per task")
    ap.add_argument("--min-per-task", type=int, default=150, help="floor: a task's examples repeated up to this many (docs/train.md)")
    ap.add_argument("--seed", type=int, default=1, help="evaluation seed (the episodes' instances)")
    ap.add_argument("--train-seed", type=int, default=0, help="training seed; the members take it and the next ones")
    ap.add_argument("--width", type=int, default=128, help="policy width")
    ap.add_argument("--layers", type=int, default=2, help="policy self-attention layers")
    ap.add_argument("--members", type=int, default=6, help="policies trained from successive seeds, deciding together (see docs/train.md)")
    ap.add_argument("--suite", action="append", choices=["demonstrated", "unseen"])
    ap.add_argument("--tasks", nargs="*", help="only these tasks (with a single --suite)")
    ap.add_argument("--part", default="", help="suffix of the report folder, to split a suite over processes")
    ap.add_argument("--skip-train", action="store_true", help="evaluate the model already in --out/model")
    args = ap.parse_args()
    model = args.out / "model"
    print(f"cpu cores visible: {os.cpu_count()}, affinity: {len(os.sched_getaffinity(0))}")
    if not args.skip_train:
        t0 = time.time()
        info = train(args.dataset, model, epochs=args.epochs, seed=args.train_seed, all_splits=True,
                     resume=(model / "checkpoint.pt").exists() or (model / "members").exists(),
                     max_per_task=args.max_per_task, min_per_task=args.min_per_task, width=args.width, layers=args.layers, members=args.members)
        print(f"training: {info['examples']} examples, {info['epochs']} epochs, wall {time.time() - t0:.0f} s")
        print(json.dumps(info["metrics"]))
    for suite in args.suite or ["demonstrated", "unseen"]:
        t0 = time.time()
        report, paths = run_evaluation(model, suite, args.episodes, args.seed, tasks=args.tasks,
                                       out_dir=args.out / (suite + args.part))
        print(f"{suite}: {report['episodes']} episodes in {time.time() - t0:.0f} s")
        print_table(report)
        print(json.dumps({k: report[k] for k in ("suite", "mean_success", "episodes", "step_ms")}))


if __name__ == "__main__":
    main()
