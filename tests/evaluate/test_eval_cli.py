"""`demoforge eval` end to end on a real MiniWoB++ task, and the report's arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from demoforge.cli import app
from demoforge.evaluate.report import wilson
from demoforge.learn.train import train
from tests.learn.tiny_dataset import make_examples, write_dataset


def test_wilson_interval_known_values() -> None:
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=1e-4)
    lo, hi = wilson(45, 50)
    assert lo == pytest.approx(0.7864, abs=1e-3) and hi == pytest.approx(0.9565, abs=1e-3)


@pytest.mark.browser
def test_eval_json_and_report_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMOFORGE_HOME", str(tmp_path / "home"))
    model = tmp_path / "model"
    train(write_dataset(tmp_path / "ds", make_examples(60)), model, epochs=3, seed=0, show=False)
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app,
        ["eval", "--model", str(model), "--tasks", "click-button,focus-text", "--episodes", "3", "--seed", "5",
         "--json", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert report["episodes"] == 6 and set(report["tasks"]) == {"click-button", "focus-text"}
    assert 0.0 <= report["mean_success"] <= 1.0
    episodes = [json.loads(line) for line in (out / "episodes.jsonl").read_text().splitlines()]
    assert [e["seed"] for e in episodes] == [
        f"eval:5:{task}:{i}" for task in ("click-button", "focus-text") for i in range(3)
    ]
    saved = json.loads((out / "report.json").read_text())
    for task in ("click-button", "focus-text"):
        assert sum(e["success"] for e in episodes if e["task"] == task) / 3 == report["tasks"][task]
        raw = [e["raw_reward"] for e in episodes if e["task"] == task]
        assert saved["raw_reward"][task] == pytest.approx(sum(raw) / 3)
    assert report["mean_success"] == pytest.approx(sum(report["tasks"].values()) / 2)
    assert (out / "success.png").read_bytes()[:4] == b"\x89PNG"
    html = (out / "report.html").read_text()
    assert "CC-Net" in html and "click-button" in html


def test_eval_refuses_unknown_suite_and_task(tmp_path: Path) -> None:
    runner = CliRunner()
    bad_suite = runner.invoke(app, ["eval", "--model", str(tmp_path), "--suite", "everything"])
    assert bad_suite.exit_code != 0 and "demonstrated or unseen" in bad_suite.output
    bad_task = runner.invoke(app, ["eval", "--model", str(tmp_path), "--tasks", "no-such-task"])
    assert bad_task.exit_code != 0 and "unknown MiniWoB" in bad_task.output
    assert not (tmp_path / "report.json").exists()
