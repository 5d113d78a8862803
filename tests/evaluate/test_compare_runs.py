"""bench/compare_runs.py pairs two runs' episodes by instance and tests the split exactly."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location("compare_runs", Path(__file__).parents[2] / "bench" / "compare_runs.py")
compare_runs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(compare_runs)


def write_part(run: Path, part: str, episodes: list[tuple[str, int, bool]]) -> None:
    folder = run / part
    folder.mkdir(parents=True)
    lines = [json.dumps({"task": t, "seed": f"eval:11:{t}:{i}", "success": s}) for t, i, s in episodes]
    (folder / "episodes.jsonl").write_text("\n".join(lines) + "\n")


def test_pairs_episodes_by_instance_across_parts(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write_part(a, "unseen-final-a", [("t1", 0, True), ("t1", 1, False), ("t2", 0, True)])
    write_part(a, "unseen-final-b", [("t2", 1, True), ("t2", 0, False)])  # a repeat counts once, as first logged
    write_part(b, "unseen-final-a", [("t2", 0, False), ("t2", 1, True), ("t1", 1, True), ("t1", 0, True)])
    write_part(b, "unseen-final-b", [("t3", 0, True)])  # only in b: left out
    rows, total = compare_runs.compare(
        compare_runs.outcomes(a, "unseen", "-final"), compare_runs.outcomes(b, "unseen", "-final")
    )
    assert rows == [("t1", 1, 2, 2, 0, 1), ("t2", 2, 1, 2, 1, 0)]
    assert total[:5] == (3, 3, 4, 1, 1)
    assert total[5] == 1.0


@pytest.mark.parametrize(
    ("a_only", "b_only", "p"),
    [(0, 0, 1.0), (0, 5, 0.0625), (3, 0, 0.25), (4, 4, 1.0), (45, 19, 0.0015627893448280279)],
)
def test_mcnemar_is_the_exact_two_sided_binomial_test(a_only: int, b_only: int, p: float) -> None:
    assert compare_runs.mcnemar_p(a_only, b_only) == pytest.approx(p)
