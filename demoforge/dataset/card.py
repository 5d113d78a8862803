"""The dataset card: README.md with what is in a built dataset, and its plots.

The card doubles as the Hugging Face ``datasets`` entry point: its YAML
header declares the two configurations (split by contributor, the default,
and split by episode), so ``datasets.load_dataset(DIR)`` finds the files.
Everything on it is computed from the rows and nothing else (no dates, no
host names), so two builds of the same store write the same card.
"""

from __future__ import annotations

import statistics
from collections import Counter
from pathlib import Path
from typing import Any

from demoforge.dataset.actions import OPS, SPLITS
from demoforge.dataset.examples import EpisodeSummary

PLOTS = ("actions_by_op.png", "episode_length.png", "success_by_task.png")


def _yaml_header(splits: dict[str, Counter[str]]) -> str:
    """The config for ``datasets``; a split without examples is left out of it
    (``datasets`` cannot read a Parquet file without row groups)."""
    lines = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split in SPLITS:
        if splits["split"][split]:
            lines += [f"  - split: {split}", f"    path: data/{split}.parquet"]
    lines.append("---")
    return "\n".join(lines)


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def _rate(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "n/a"


def write_card(
    root: Path, rows: list[dict[str, Any]], episodes: list[EpisodeSummary], manifest: dict[str, Any]
) -> None:
    """Write ``README.md`` and ``plots/*.png`` into ``root``."""
    included = [e for e in episodes if e.included]
    lengths = [e.actions for e in included]
    ops = Counter(r["op"] for r in rows)
    per_task: dict[str, Counter[str]] = {}
    for e in episodes:
        c = per_task.setdefault(e.task or "(none)", Counter())
        c["episodes"] += 1
        c["success"] += e.outcome == "success"
        c["included"] += e.included
        c["examples"] += e.examples
    splits = {col: Counter(r[col] for r in rows) for col in ("split", "episode_split")}
    contributors = {s: len({r["contributor"] for r in rows if r["split"] == s}) for s in SPLITS}
    success = sum(e.outcome == "success" for e in episodes)
    _plots(root / "plots", ops, lengths, per_task)
    length_line = (
        f"min {min(lengths)}, median {statistics.median(lengths):g}, mean {statistics.fmean(lengths):.1f}, max {max(lengths)}"
        if lengths
        else "no episodes"
    )
    skipped = Counter(e.why_not for e in episodes if not e.included)
    sections = [
        _yaml_header(splits),
        "# demoforge dataset",
        "Examples of (instruction, observation, history of previous actions, next action) "
        "reduced from recorded sessions. Format and loading: docs/dataset.md in the demoforge repository.",
        "```python\nimport datasets\nds = datasets.load_dataset(DIR)  # splits by contributor\n"
        'train = ds["train"].filter(lambda r: r["episode_split"] == "train")  # or by episode\n```',
        "## Summary",
        _table(
            ("", "count"),
            [
                ("sessions", len(manifest["sessions"])),
                ("raw events", manifest["raw_events"]),
                ("episodes", len(episodes)),
                ("episodes included", len(included)),
                ("examples", len(rows)),
                ("success rate (all episodes)", _rate(success, len(episodes))),
                ("only successful episodes", manifest["only_successful"]),
            ],
        ),
        "Episodes left out: "
        + (", ".join(f"{n} ({why})" for why, n in sorted(skipped.items())) or "none")
        + ".",
        "## Splits",
        "By contributor (no contributor is in two splits) and, separately, by episode.",
        _table(
            ("split", "examples by contributor", "contributors", "examples by episode"),
            [(s, splits["split"][s], contributors[s], splits["episode_split"][s]) for s in SPLITS],
        ),
        "## Actions by type",
        _table(("op", "examples"), [(op, ops[op]) for op in OPS]),
        "![actions by op](plots/actions_by_op.png)",
        "## Episode length (actions per included episode)",
        length_line + ".",
        "![episode length](plots/episode_length.png)",
        "## Per task",
        _table(
            ("task", "episodes", "success rate", "included", "examples"),
            [
                (
                    task,
                    c["episodes"],
                    _rate(c["success"], c["episodes"]),
                    c["included"],
                    c["examples"],
                )
                for task, c in sorted(per_task.items())
            ],
        ),
        "![success by task](plots/success_by_task.png)",
    ]
    (root / "README.md").write_text("\n\n".join(sections) + "\n")


def _plots(
    folder: Path, ops: Counter[str], lengths: list[int], per_task: dict[str, Counter[str]]
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    # No "Software" entry: the PNG must not change when matplotlib is upgraded.
    png = {"metadata": {"Software": None}, "dpi": 100}

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(list(OPS), [ops[o] for o in OPS], color="#4c72b0")
    ax.set_ylabel("examples")
    ax.set_title("Actions by type")
    fig.tight_layout()
    fig.savefig(folder / "actions_by_op.png", **png)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(lengths or [0], bins=min(40, max(1, len(set(lengths)))), color="#55a868")
    ax.set_xlabel("actions per episode")
    ax.set_ylabel("episodes")
    ax.set_title("Episode length")
    fig.tight_layout()
    fig.savefig(folder / "episode_length.png", **png)
    plt.close(fig)

    tasks = sorted(per_task)
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.22 * len(tasks) + 1)))
    rates = [per_task[t]["success"] / per_task[t]["episodes"] for t in tasks]
    ax.barh(tasks, rates, color="#c44e52")
    ax.set_xlim(0, 1)
    ax.set_xlabel("success rate")
    ax.set_title("Success rate by task")
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(folder / "success_by_task.png", **png)
    plt.close(fig)
