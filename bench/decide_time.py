"""The policy's share of a step's time, by the number of members deciding, on recorded steps.

    .venv/bin/python bench/decide_time.py bench/out/run43/model --dataset DIR --members 6 12

Featurizes a sample of the dataset's validation steps once, then times each
ensemble size (the model's first K members) deciding every step, one step at a
time as the agent does, in turns over ``--rounds`` rounds so that a busy
machine slows every size alike. Evaluation step times (``step_times.py``)
hold the whole step and move with the machine; this isolates what more members
cost. Decisions are identical whatever else runs, so only the time is printed.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import pyarrow.parquet as pq
import torch

from demoforge.dataset.actions import Example
from demoforge.learn.checkpoint import load_policy
from demoforge.learn.encoder import text_encoder
from demoforge.learn.features import featurize
from demoforge.learn.model import Ensemble, collate

from step_times import percentile


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("--dataset", type=Path, required=True)
    ap.add_argument("--members", type=int, nargs="+", required=True, help="ensemble sizes to time")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)  # as the agent decides
    policy, encoder = load_policy(args.model), text_encoder()
    if max(args.members) > len(policy.members):
        ap.error(f"{args.model} has {len(policy.members)} members, fewer than {max(args.members)}")
    rows = pq.read_table(args.dataset / "data" / "validation.parquet").to_pylist()
    examples = [Example.from_row(row) for row in random.Random(0).sample(rows, args.steps)]
    batches = [collate([featurize(ex.instruction, ex.observation, ex.history, encoder)], encoder) for ex in examples]
    print(f"{len(batches)} steps, {sum(ex.action.op == 'type' for ex in examples)} of them typing")
    times: dict[int, list[float]] = {k: [] for k in args.members}
    for _ in range(args.rounds):
        for k in args.members:
            ensemble = Ensemble(list(policy.members[:k]))
            for b in batches:
                started = time.perf_counter()
                ensemble.decide(b)
                times[k].append(1000 * (time.perf_counter() - started))
    print("| members | median | p95 |")
    print("|---|---|---|")
    for k, ms in times.items():
        print(f"| {k} | {percentile(ms, 0.5):.1f} ms | {percentile(ms, 0.95):.1f} ms |")


if __name__ == "__main__":
    main()
