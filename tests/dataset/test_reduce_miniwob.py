"""Reduction checked against the real demonstrations: what was typed is what was asked for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from demoforge.dataset.miniwob_demos import parse_episode
from demoforge.dataset.reduce import reduce_events
from demoforge.events import DomSnapshot

QUOTED = re.compile(r'"([^"]*)"')


@pytest.mark.parametrize("task", ["login-user", "enter-text", "enter-password"])
def test_typed_text_of_successful_episodes_equals_the_quoted_strings_of_the_instruction(
    demos_root: Path, task: str
) -> None:
    checked = 0
    for path in sorted(demos_root.glob(f"*/{task}/*.json.gz")):
        episode = parse_episode(path)
        if episode.outcome != "success":
            continue
        snapshots = {sha: DomSnapshot.model_validate_json(b) for sha, b in episode.blobs.items()}
        typed = [
            s.action.text for s in reduce_events(episode.events, snapshots) if s.action.op == "type"
        ]
        asked = QUOTED.findall(episode.instruction)
        # login-user: username then password; enter-text: one text; enter-password: the
        # same password into both fields.
        assert typed and set(typed) == set(asked), (path.name, episode.instruction, typed)
        checked += 1
    assert checked >= 50
