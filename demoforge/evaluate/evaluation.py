"""One evaluation run end to end: tasks, episodes with a progress bar, report files."""

from __future__ import annotations

import time
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from demoforge import config
from demoforge.evaluate import report
from demoforge.evaluate.runner import MAX_STEPS, EpisodeResult, evaluate
from demoforge.evaluate.suites import check_tasks, suite_tasks


def run_evaluation(
    model_dir: Path,
    suite: str,
    episodes: int,
    seed: int,
    tasks: list[str] | None = None,
    out_dir: Path | None = None,
    show: bool = True,
    max_steps: int = MAX_STEPS,
) -> tuple[dict, dict[str, Path]]:
    """Evaluate ``model_dir`` on a suite (or the given tasks); returns the report and its files."""
    if episodes < 1:
        raise ValueError("--episodes must be at least 1")
    chosen = check_tasks(tasks) if tasks else suite_tasks(suite)
    out_dir = out_dir or config.home() / "evals" / f"{suite}-{time.strftime('%Y%m%d-%H%M%S')}"
    out_dir.mkdir(parents=True, exist_ok=True)
    log = out_dir / "episodes.jsonl"
    log.unlink(missing_ok=True)
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"), TimeElapsedColumn(), disable=not show,
    ) as bar:
        job = bar.add_task(f"eval {suite}", total=episodes * len(chosen), info="")
        wins: dict[str, list[bool]] = {}

        def tick(ep: EpisodeResult) -> None:
            wins.setdefault(ep.task, []).append(ep.success)
            done = wins[ep.task]
            bar.update(job, advance=1, info=f"{ep.task} {sum(done)}/{len(done)}")

        results = evaluate(model_dir, chosen, episodes, seed, log_path=log, on_episode=tick, max_steps=max_steps)
    summary = report.summary(results, suite if not tasks else f"{suite} (selected tasks)", seed, str(model_dir))
    return summary, report.write(summary, out_dir)
