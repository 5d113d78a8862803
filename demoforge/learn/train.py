"""Train the policy on a dataset of recorded demonstrations (behaviour cloning).

``train(dataset_dir, out_dir, ...)`` reads the dataset's Parquet files
(``demoforge.dataset.actions.Example`` rows), turns every example into the
policy's features once, and fits the policy with AdamW. The run is:

- seeded: the same dataset, seed and options give the same weights;
- checkpointed and resumable: ``checkpoint.pt`` after every epoch holds the
  weights, the optimiser, the epoch and the random generators' states;
  ``resume=True`` continues from it;
- measured: ``metrics.jsonl`` gets one line per epoch (loss, held-out action
  accuracy), and ``README.md`` is the model card.

With ``dp_epsilon`` the policy is trained with DP-SGD at the *contributor*
level (see ``demoforge.learn.privacy``): a person's whole set of
demonstrations, not a single step, is the unit whose influence is bounded.

With ``members`` above one, that many policies are trained the same way from
seeds ``seed``, ``seed + 1``... (``train_ensemble``) and saved as one
ensemble that decides together (``model.Ensemble``).
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import random
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from itertools import cycle, islice
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from demoforge.dataset.actions import CLICKS, OPS, TEXTS, Action, Example
from demoforge.learn.checkpoint import INFO_FILE, MODEL_FILE, load_policy, save_policy
from demoforge.learn.encoder import TextEncoder, text_encoder
from demoforge.learn.features import StepFeatures, featurize, span_label, texts_of
from demoforge.learn.model import IGNORE, Ensemble, Policy, PolicyConfig, collate

CHECKPOINT_FILE = "checkpoint.pt"
METRICS_FILE = "metrics.jsonl"
#: Where an ensemble's members are trained, one model directory each (``members/0``...).
MEMBERS_DIR = "members"


@dataclass
class Sample:
    """One featurized example with its labels and the privacy unit it belongs to."""

    features: StepFeatures
    label: tuple[int, int, int, int, int]  # target, op, key, start, end
    contributor: str
    split: str
    task: str


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )


def dataset_files(dataset_dir: Path) -> list[Path]:
    files = sorted(Path(dataset_dir).rglob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"no Parquet files under {dataset_dir}: build a dataset first")
    return files


def usable_rows(dataset_dir: Path) -> Iterator[dict]:
    """The dataset's rows one by one, without failed demonstrations (cloning a mistake
    teaches the mistake). Read in small batches: a whole dataset of parsed DOM
    snapshots would not fit in memory."""
    for f in dataset_files(dataset_dir):
        for batch in pq.ParquetFile(f).iter_batches(batch_size=256):
            for row in batch.to_pylist():
                if row["outcome"] != "failure":
                    yield row


#: Key values that name no key (UI Events): a browser cannot press them.
NOT_KEYS = frozenset({"Unidentified", "Dead", "Process"})


def key_choices(dataset_dir: Path) -> list[str]:
    """The policy's key choices: the keys pressed anywhere in the dataset, the modifiers
    held through clicks ("Control"), and "" for a click with none held."""
    keys = {"Enter", ""}
    for f in dataset_files(dataset_dir):
        table = pq.read_table(f, columns=["op", "action"])
        for op, action in zip(table["op"].to_pylist(), table["action"].to_pylist()):
            if op == "press":
                keys.add(Action.model_validate_json(action).key or "Enter")
            elif op in CLICKS:
                keys.add(Action.model_validate_json(action).key or "")
    return sorted(keys - NOT_KEYS)


def target_index(example: Example, features: StepFeatures) -> int | None:
    """Row of the action's element among the policy's elements, or None when it is not there.

    A click on an element the policy does not see (a bare container) goes to
    the smallest visible element under the pointer. Keyboard actions without
    a target point at the focused element (or the first element): what the
    keys go to."""
    refs = features.refs
    action = example.action
    if action.ref is not None and action.ref in refs:
        return refs.index(action.ref)
    if action.op in ("press", "scroll", "type"):
        focused = example.observation.focused
        return refs.index(focused) if focused in refs else (0 if refs else None)
    if action.x is not None and action.y is not None:
        kept = set(refs)
        hits = [e for e in example.observation.elements if e.ref in kept and e.box.contains(action.x, action.y)]
        if hits:
            return refs.index(min(hits, key=lambda e: e.box.width * e.box.height).ref)
    return None


def is_echo(action: Action, before: Action | None) -> bool:
    """A click the browser made itself: clicking a <label> clicks its input at the same
    point and instant. Cloning it would make the agent click twice and undo the first."""
    if action.op != "click" or before is None or before.op != "click":
        return False
    same_place = (before.x, before.y) == (action.x, action.y)
    same_time = before.ts is not None and action.ts is not None and abs(action.ts - before.ts) <= 20
    return same_place and same_time


def without_echoes(history: list[Action]) -> list[Action]:
    """The history as the agent itself would have made it: without echo clicks."""
    return [a for i, a in enumerate(history) if not is_echo(a, history[i - 1] if i else None)]


def sample_of(ex: Example, keys: list[str], encoder: TextEncoder) -> Sample | None:
    """The featurized example with its labels, or None when it cannot be learned from."""
    if is_echo(ex.action, ex.history[-1] if ex.history else None):
        return None
    feats = featurize(ex.instruction, ex.observation, without_echoes(ex.history), encoder)
    target = target_index(ex, feats)
    if target is None:
        return None
    a = ex.action
    key = IGNORE
    if a.op == "press" and a.key in keys:
        key = keys.index(a.key)
    elif a.op in CLICKS and (a.key or "") in keys:
        key = keys.index(a.key or "")
    span = None
    if a.op in TEXTS and a.text and not a.masked:
        span = span_label(ex.instruction, feats.offsets, a.text)
    start, end = span if span else (IGNORE, IGNORE)
    return Sample(feats, (target, OPS.index(a.op), key, start, end), ex.contributor, ex.split, ex.task or "")


def load_samples(
    dataset_dir: Path,
    keys: list[str],
    encoder: TextEncoder,
    all_splits: bool,
    show: bool = True,
    chunk: int = 512,
    max_per_task: int | None = None,
) -> tuple[list[Sample], list[Sample], int]:
    """(training samples, held-out validation samples, examples left out).

    Examples are parsed and featurized a chunk at a time; each chunk's texts are
    embedded in one batched MiniLM pass first. ``max_per_task`` keeps at most
    that many examples of any one task (rows come in episode-id order, so a
    capped task keeps a random set of its episodes): a few tasks with long
    episodes would otherwise take most of the compute and of the loss.
    """
    total = sum(pq.ParquetFile(f).metadata.num_rows for f in dataset_files(dataset_dir))
    train_set: list[Sample] = []
    held: list[Sample] = []
    skipped = 0

    def process(examples: list[Example]) -> None:
        nonlocal skipped
        encoder.prefetch_tokens(sorted({ex.instruction for ex in examples}))
        encoder.embed(sorted({t for ex in examples for t in texts_of(ex.instruction, ex.observation)}))
        for ex in examples:
            if not all_splits and ex.split == "test":
                continue
            sample = sample_of(ex, keys, encoder)
            if sample is None:
                skipped += 1
            elif not all_splits and ex.split == "validation":
                held.append(sample)
            else:
                train_set.append(sample)

    with progress() as bar:
        task = bar.add_task("featurizing", total=total, info="", visible=show)
        pending: list[Example] = []
        per_task: dict[str, int] = {}
        for row in usable_rows(dataset_dir):
            task_name = row.get("task") or ""
            per_task[task_name] = per_task.get(task_name, 0) + 1
            if max_per_task is not None and per_task[task_name] > max_per_task:
                continue
            pending.append(Example.from_row(row))
            if len(pending) == chunk:
                process(pending)
                bar.advance(task, len(pending))
                pending = []
        process(pending)
        bar.update(task, completed=total)
    return train_set, held, skipped


def with_floor(samples: list[Sample], min_per_task: int | None) -> list[Sample]:
    """``samples``, where each task with fewer than ``min_per_task`` of them has its own
    repeated, in turn, until it has that many: what one epoch goes through.

    A task's share of the gradient follows its share of the examples, and the
    recordings are lopsided: flight.Alaska-auto has 4,374 usable examples and
    identify-shape 36. Trained on them all for 20 epochs, a policy chose the
    recorded action on 21 of identify-shape's own 36 (count-shape 18 of 32):
    it had not even learnt what it was shown.
    """
    if not min_per_task:
        return samples
    of_task: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        of_task[s.task].append(s)
    extra = [s for group in of_task.values() for s in islice(cycle(group), max(0, min_per_task - len(group)))]
    return samples + extra


def batches(samples: list[Sample], batch_size: int, rng: random.Random) -> Iterator[list[Sample]]:
    """Shuffled batches of pages of similar size: a 150-element page padded into a
    batch of 10-element pages would make every row cost as much as the largest."""
    order = list(range(len(samples)))
    rng.shuffle(order)
    window = batch_size * 50
    groups = []
    for i in range(0, len(order), window):
        part = sorted(order[i : i + window], key=lambda j: len(samples[j].features.refs))
        groups += [part[k : k + batch_size] for k in range(0, len(part), batch_size)]
    rng.shuffle(groups)
    for group in groups:
        yield [samples[j] for j in group]


def learning_rate_factor(step: int, total: int, warmup: float = 0.05) -> float:
    """A short linear warm-up, then cosine annealing to zero: the last epochs settle
    into a minimum instead of bouncing around it at the full rate. A pure function
    of the step, so a resumed run follows the same curve with nothing to restore."""
    ramp = max(int(warmup * total), 1)
    if step < ramp:
        return (step + 1) / ramp
    return 0.5 * (1 + math.cos(math.pi * min((step - ramp) / max(total - ramp, 1), 1.0)))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@torch.no_grad()
def accuracy(policy: Policy, samples: list[Sample], encoder: TextEncoder, batch_size: int = 64) -> dict[str, float]:
    """Share of decisions whose (element, op) is right, and of recorded typings the
    policy types exactly (a decision that does not type copies nothing)."""
    policy.eval()
    alone = Ensemble([policy])
    right = typed = typed_right = 0
    for i in range(0, len(samples), batch_size):
        chunk = samples[i : i + batch_size]
        decisions = alone.decide(collate([s.features for s in chunk], encoder))
        for s, d in zip(chunk, decisions):
            target, op, _, start, end = s.label
            right += d["target"] == target and OPS[op] == d["op"]
            if start != IGNORE:
                typed += 1
                typed_right += d["span"] == (start, end)
    policy.train()
    return {
        "action_accuracy": right / max(len(samples), 1),
        "copy_accuracy": typed_right / typed if typed else float("nan"),
    }


def train(
    dataset_dir: Path,
    out_dir: Path,
    epochs: int = 8,
    seed: int = 0,
    batch_size: int = 32,
    lr: float = 1e-3,
    dp_epsilon: float | None = None,
    resume: bool = False,
    all_splits: bool = False,
    show: bool = True,
    threads: int = 1,
    max_per_task: int | None = None,
    min_per_task: int | None = None,
    width: int = 128,
    layers: int = 2,
    members: int = 1,
) -> dict:
    """Fit a policy on ``dataset_dir`` and write it to ``out_dir``; returns the final metrics.

    Unless ``all_splits``, the policy trains on the ``train`` split and the
    ``validation`` split is held out and measured after each epoch.
    ``max_per_task`` keeps at most that many examples of a task; ``min_per_task``
    repeats the examples of a task that has fewer (``with_floor``).
    """
    if members != 1:
        return train_ensemble(
            dataset_dir, out_dir, members, epochs=epochs, seed=seed, batch_size=batch_size, lr=lr,
            dp_epsilon=dp_epsilon, resume=resume, all_splits=all_splits, show=show, threads=threads,
            max_per_task=max_per_task, min_per_task=min_per_task, width=width, layers=layers,
        )
    out_dir = Path(out_dir)
    ckpt_path = out_dir / CHECKPOINT_FILE
    if out_dir.exists() and (out_dir / MODEL_FILE).exists() and not resume and not ckpt_path.exists():
        raise FileExistsError(f"{out_dir} already holds a model; choose another --out")
    if resume and (finished := finished_run(out_dir, epochs)) is not None:
        return finished
    seed_everything(seed)
    started = time.time()
    keys = key_choices(dataset_dir)
    encoder = text_encoder()
    # Featurizing is MiniLM over large batches of page texts: it uses every core.
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    train_samples, held_samples, skipped = load_samples(
        dataset_dir, keys, encoder, all_splits, show, max_per_task=max_per_task
    )
    # A small model on a shared CPU: one thread avoids costly hand-offs between threads.
    torch.set_num_threads(threads)
    if not train_samples:
        raise ValueError(f"{dataset_dir} has no usable training examples")
    epoch_samples = with_floor(train_samples, min_per_task)

    cfg = PolicyConfig(d=width, n_layers=layers, keys=keys)
    policy = Policy(cfg)
    optim = torch.optim.AdamW(policy.parameters(), lr=lr, weight_decay=0.01)
    start_epoch = 0
    rng = random.Random(seed)
    if resume and ckpt_path.exists():
        state = torch.load(ckpt_path, weights_only=False)
        policy.load_state_dict(state["model"])
        optim.load_state_dict(state["optim"])
        start_epoch = state["epoch"]
        started -= state.get("elapsed_s", 0.0)  # the time spent before the stop counts too
        rng.setstate(state["rng"])
        torch.set_rng_state(state["torch_rng"])
    out_dir.mkdir(parents=True, exist_ok=True)

    dp = None
    if dp_epsilon is not None:
        from demoforge.learn.privacy import ContributorDPSGD

        dp = ContributorDPSGD(policy, epoch_samples, epsilon=dp_epsilon, epochs=epochs, batch_size=batch_size, seed=seed)
        if resume and ckpt_path.exists():
            dp.load_state_dict(state["dp"])

    metrics: dict = {}
    steps_per_epoch = dp.steps_per_epoch if dp else (len(epoch_samples) + batch_size - 1) // batch_size
    total_steps = epochs * steps_per_epoch
    step = start_epoch * steps_per_epoch

    def next_step() -> None:
        """Set the learning rate of the coming step, then count it."""
        nonlocal step
        for group in optim.param_groups:
            group["lr"] = lr * learning_rate_factor(step, total_steps)
        step += 1
    with progress() as bar:
        task = bar.add_task("training", total=total_steps, info="", visible=show)
        bar.update(task, completed=step)
        for epoch in range(start_epoch, epochs):
            policy.train()
            losses = []
            if dp:
                for loss in dp.epoch(optim, encoder, before_step=next_step):
                    losses.append(loss)
                    bar.update(task, advance=1, info=f"epoch {epoch + 1} loss {np.mean(losses[-50:]):.3f}")
            else:
                for chunk in batches(epoch_samples, batch_size, rng):
                    batch = collate([s.features for s in chunk], encoder, [s.label for s in chunk])
                    loss = policy(batch).mean()
                    optim.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
                    next_step()
                    optim.step()
                    losses.append(loss.item())
                    bar.update(task, advance=1, info=f"epoch {epoch + 1} loss {np.mean(losses[-50:]):.3f}")
            metrics = {"epoch": epoch + 1, "train_loss": float(np.mean(losses)) if losses else float("nan")}
            metrics.update({f"train_{k}": v for k, v in accuracy(policy, train_samples[:: max(1, len(train_samples) // 2000)], encoder).items()})
            if held_samples:
                metrics.update({f"validation_{k}": v for k, v in accuracy(policy, held_samples, encoder).items()})
            if dp:
                metrics.update(dp.spent())
            metrics["elapsed_s"] = round(time.time() - started, 1)
            with (out_dir / METRICS_FILE).open("a") as f:
                f.write(json.dumps(metrics) + "\n")
            state = {
                "model": policy.state_dict(),
                "optim": optim.state_dict(),
                "epoch": epoch + 1,
                "elapsed_s": metrics["elapsed_s"],
                "rng": rng.getstate(),
                "torch_rng": torch.get_rng_state(),
            }
            if dp:
                state["dp"] = dp.state_dict()
            tmp = ckpt_path.with_suffix(".tmp")
            torch.save(state, tmp)
            tmp.replace(ckpt_path)

    info = {
        "dataset": str(Path(dataset_dir).resolve()),
        "examples": len(train_samples),
        "skipped_examples": skipped,
        "held_out_examples": len(held_samples),
        "contributors": len({s.contributor for s in train_samples}),
        "tasks": sorted({s.task for s in train_samples if s.task}),
        "epochs": epochs,
        "max_per_task": max_per_task,
        "min_per_task": min_per_task,
        "policy": {"d": cfg.d, "n_layers": cfg.n_layers},
        "seed": seed,
        "batch_size": batch_size,
        "lr": lr,
        "metrics": metrics,
        "privacy": dp.card() if dp else None,
        "wall_s": round(time.time() - started, 1),
    }
    save_policy([policy], out_dir, info)
    return info


def finished_run(out_dir: Path, epochs: int) -> dict | None:
    """The saved facts of a run in ``out_dir`` that has already trained ``epochs`` epochs.

    Resuming it has nothing left to do. Featurizing the dataset again for nothing
    cost each finished member of an ensemble grown from three members to six
    364 s of the two cores the new members were training on, and the card
    written after no epoch showed no metrics.
    """
    info_path, ckpt_path = out_dir / INFO_FILE, out_dir / CHECKPOINT_FILE
    if not (info_path.exists() and ckpt_path.exists() and (out_dir / MODEL_FILE).exists()):
        return None
    info = json.loads(info_path.read_text())
    done = torch.load(ckpt_path, weights_only=False)["epoch"]
    return info if info.get("epochs") == epochs == done else None


def train_ensemble(dataset_dir: Path, out_dir: Path, members: int, seed: int = 0, resume: bool = False,
                   show: bool = True, dp_epsilon: float | None = None, **options: object) -> dict:
    """Train ``members`` policies alike from seeds ``seed``, ``seed + 1``..., and save them
    as one ensemble in ``out_dir``; returns the ensemble's facts with each member's.

    Each member is an ordinary training run in ``out_dir/members/K`` (its own
    checkpoint, metrics and card, so a stopped ensemble resumes member by
    member). All members train at once, one process each: a member trains on
    one thread, so two cores train two members in the time of one, and three
    share them with none left waiting for a second round. Each process holds
    its own featurized copy of the dataset. Member K is the policy
    ``train(seed=seed + K)`` gives in a fresh process (in one that embedded
    other texts first, the encoder's cached vectors, computed in other
    batches, can differ in their last bits).
    """
    if members < 1:
        raise ValueError(f"an ensemble needs at least one member, not {members}")
    if dp_epsilon is not None:
        # Each member would spend the whole budget on the same contributors again.
        raise ValueError("DP-SGD trains a single policy: an ensemble of N spends N times the privacy budget")
    out_dir = Path(out_dir)
    if (out_dir / MODEL_FILE).exists() and not resume:
        raise FileExistsError(f"{out_dir} already holds a model; choose another --out")
    started = time.time()
    dirs = [out_dir / MEMBERS_DIR / str(k) for k in range(members)]
    # "spawn": a forked child inherits the parent's busy OpenMP pool and can hang in it.
    with ProcessPoolExecutor(members, mp_context=multiprocessing.get_context("spawn")) as pool, progress() as bar:
        task = bar.add_task("training members", total=members, info="", visible=show)
        jobs = {
            pool.submit(train, dataset_dir, d, seed=seed + k, resume=resume and (d / CHECKPOINT_FILE).exists(),
                        show=False, **options): k
            for k, d in enumerate(dirs)
        }
        infos: dict[int, dict] = {}
        for job in as_completed(jobs):
            infos[jobs[job]] = job.result()
            bar.update(task, advance=1, info=f"member {jobs[job]} done")
    policies = [member for d in dirs for member in load_policy(d).members]
    info = {
        **infos[0],
        "seed": seed,
        "members": [{"seed": seed + k, "wall_s": infos[k]["wall_s"], "metrics": infos[k]["metrics"]} for k in range(members)],
        "wall_s": round(time.time() - started, 1),
    }
    save_policy(policies, out_dir, info)
    return info
