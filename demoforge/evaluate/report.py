"""The evaluation report: per-task success with 95% Wilson intervals, beside published figures.

Written three ways: ``report.json`` (machine-readable, the same object
``demoforge eval --json`` prints), ``report.html`` (a table and a plot for
people) and ``success.png`` (the plot).
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path

from demoforge.evaluate.runner import TaskResult, step_ms_summary

#: Published mean success on MiniWoB++ (see docs/evaluate.md for the sources).
PUBLISHED: list[tuple[str, float, str]] = [
    ("Human (crowd workers)", 0.935, "Humphreys et al. 2022 (CC-Net paper)"),
    ("CC-Net, behaviour cloning only", 0.31, "2.4M demonstrations, pixel cursor"),
    ("Pix2Act, behaviour cloning only", 0.67, "1.3M demonstrations, pixels"),
    ("WGE", 0.77, "about 10 demonstrations per task plus RL, DOM actions"),
]


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a success rate (sound at 0 and 1, unlike p ± 2σ)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, mid - half), min(1.0, mid + half)


def summary(results: list[TaskResult], suite: str, seed: int, model: str) -> dict:
    tasks = {r.task: r.rate for r in results}
    episodes = sum(len(r.episodes) for r in results)
    return {
        "model": model,
        "suite": suite,
        "seed": seed,
        "mean_success": sum(tasks.values()) / len(tasks) if tasks else 0.0,
        "episodes": episodes,
        "tasks": tasks,
        "intervals": {r.task: wilson(r.successes, len(r.episodes)) for r in results},
        # Success is raw reward > 0; where the page gives partial credit (the flight
        # forms: the share of fields right) the mean says how much was right.
        "raw_reward": {r.task: r.mean_raw_reward for r in results},
        "episodes_per_task": {r.task: len(r.episodes) for r in results},
        "step_ms": step_ms_summary(results),
        "published": [{"method": m, "mean_success": v, "note": n} for m, v, n in PUBLISHED],
    }


#: The per-task table's columns.
COLUMNS = ("task", "success", "95% interval", "mean raw reward")


def table(report: dict) -> list[tuple[str, str, str, str]]:
    """Rows (task, success, 95% interval, mean raw reward), by task name."""
    rows = []
    for task, rate in sorted(report["tasks"].items()):
        lo, hi = report["intervals"][task]
        rows.append((task, f"{rate:.3f}", f"[{lo:.2f}, {hi:.2f}]", f"{report['raw_reward'][task]:.2f}"))
    return rows


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted(report["tasks"])
    rates = [report["tasks"][t] for t in tasks]
    lo = [rates[i] - report["intervals"][t][0] for i, t in enumerate(tasks)]
    hi = [report["intervals"][t][1] - rates[i] for i, t in enumerate(tasks)]
    fig, ax = plt.subplots(figsize=(max(6, 0.28 * len(tasks) + 2), 4.5))
    ax.bar(range(len(tasks)), rates, yerr=[lo, hi], capsize=2, color="#4878a8")
    for name, value, _ in PUBLISHED:
        ax.axhline(value, linestyle="--", linewidth=0.8, color="#888")
        ax.text(len(tasks) - 0.5, value, f" {name} {value:.2f}", fontsize=6, va="bottom", ha="right")
    ax.axhline(report["mean_success"], color="#c44", linewidth=1.2)
    ax.set_xticks(range(len(tasks)))
    ax.set_xticklabels(tasks, rotation=90, fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("success rate (95% Wilson interval)")
    ax.set_title(f"{report['suite']} suite: mean {report['mean_success']:.3f} over {len(tasks)} tasks")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write(report: dict, out_dir: Path) -> dict[str, Path]:
    """Write report.json, success.png and report.html into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "report.json", "png": out_dir / "success.png", "html": out_dir / "report.html"}
    paths["json"].write_text(json.dumps(report, indent=2) + "\n")
    plot(report, paths["png"])
    img = base64.b64encode(paths["png"].read_bytes()).decode()
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in table(report))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    pub = "".join(
        f"<tr><td>{html.escape(m)}</td><td>{v:.3f}</td><td>{html.escape(n)}</td></tr>" for m, v, n in PUBLISHED
    )
    ms = report["step_ms"]
    paths["html"].write_text(
        f"""<!doctype html><html><head><meta charset="utf-8"><title>demoforge eval: {report['suite']}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td,th{{padding:2px 8px;text-align:left}}
table{{border-collapse:collapse}}tr:nth-child(even){{background:#f4f4f4}}</style></head><body>
<h1>MiniWoB++ evaluation: {report['suite']} suite</h1>
<p>Model <code>{html.escape(report['model'])}</code>, seed {report['seed']}, {report['episodes']} episodes,
fresh instances. Success = the page's raw reward &gt; 0.</p>
<h2>Mean success beside published figures</h2>
<table><tr><th>method</th><th>mean success</th><th>note</th></tr>
<tr><td><b>this model</b></td><td><b>{report['mean_success']:.3f}</b></td><td>{len(report['tasks'])} tasks</td></tr>
{pub}</table>
<p>Published means are over each paper's own task set; compare with care.</p>
<p>Agent decision time per step: median {ms.get('median', float('nan')):.1f} ms,
95th percentile {ms.get('p95', float('nan')):.1f} ms over {ms.get('steps', 0)} steps.</p>
<img src="data:image/png;base64,{img}" alt="per-task success" style="max-width:100%">
<h2>Per task</h2><table><tr>{head}</tr>{rows}</table>
</body></html>
"""
    )
    return paths


def print_table(report: dict) -> None:
    """The per-task table and the mean beside published figures, on the terminal."""
    from rich.console import Console
    from rich.table import Table

    tasks = Table(title=f"{report['suite']}: per task ({report['episodes']} episodes)")
    for col in COLUMNS:
        tasks.add_column(col)
    for row in table(report):
        tasks.add_row(*row)
    means = Table(title="mean success on MiniWoB++")
    for col in ("method", "mean success", "note"):
        means.add_column(col)
    means.add_row("[bold]this model[/]", f"[bold]{report['mean_success']:.3f}[/]", f"{len(report['tasks'])} tasks")
    for name, value, note in PUBLISHED:
        means.add_row(name, f"{value:.3f}", note)
    console = Console()
    console.print(tasks)
    console.print(means)
    ms = report["step_ms"]
    console.print(f"decision time per step: median {ms['median']:.1f} ms, p95 {ms['p95']:.1f} ms")
