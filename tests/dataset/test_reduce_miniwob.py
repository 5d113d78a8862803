"""Reduction checked against the real demonstrations: what was typed is what was asked for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from demoforge.dataset.miniwob_demos import parse_episode, read_episode
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


def test_a_date_is_typed_in_the_form_the_instruction_writes_it(demos_root: Path) -> None:
    """The date field's value is 2019-09-24; what was keyed, and asked for, is 09/24/2019."""
    asked_and_typed = checked = 0
    for path in sorted(demos_root.glob("*/enter-date/*.json.gz")):
        episode = parse_episode(path)
        if episode.outcome != "success":
            continue
        snapshots = {sha: DomSnapshot.model_validate_json(b) for sha, b in episode.blobs.items()}
        typed = [s.action.text for s in reduce_events(episode.events, snapshots) if s.action.op == "type"]
        asked = re.search(r"\d\d/\d\d/\d{4}", episode.instruction)
        assert asked is not None and typed
        asked_and_typed += typed[-1] == asked.group()
        checked += 1
    # The rest typed a year and then stepped it with the field's arrows (4 of 62).
    assert checked >= 50 and asked_and_typed >= 0.9 * checked


def test_a_scrolled_inbox_is_one_scroll_aimed_at_what_the_person_saw(demos_root: Path) -> None:
    """The 2017 dumps log that something scrolled, not what or how far: the inbox list is
    found by what moved, its offset in the states after, the target in the page as seen."""
    logged = scrolled = 0
    for path in sorted(demos_root.glob("*/email-inbox/*.json.gz")):
        _, doc = read_episode(path)
        logged += any((s.get("action") or {}).get("type") == "scroll" for s in doc["states"])
        episode = parse_episode(path)
        snapshots = {sha: DomSnapshot.model_validate_json(b) for sha, b in episode.blobs.items()}
        steps = [s for s in reduce_events(episode.events, snapshots) if s.action.op == "scroll"]
        for step in steps:
            assert step.snapshot is not None and step.action.ref in snapshots[step.snapshot].by_ref()
            assert abs(step.action.dy or 0) >= 1, path.name
        if steps:
            assert sum(s.action.dy or 0 for s in steps) > 0, path.name  # down the list, on the whole
            scrolled += 1
    # A few logged scrolls moved nothing (the list was already at its end).
    assert logged >= 40 and scrolled >= 0.85 * logged


def test_a_seat_is_chosen_by_its_words_and_the_page_s_own_clicks_are_no_actions(demos_root: Path) -> None:
    """The flight form hides its seat radios off the page and styles their labels; the 2017
    recorder gave some label clicks the hidden radio as target, and logged a click at (0, 0)
    with no target after each, which found by point was the site's logo link in the corner."""
    seats = 0
    for path in sorted(demos_root.glob("*/flight.Alaska-auto/*.json.gz"))[:40]:
        episode = parse_episode(path)
        snapshots = {sha: DomSnapshot.model_validate_json(b) for sha, b in episode.blobs.items()}
        for step in reduce_events(episode.events, snapshots):
            action = step.action
            if action.op != "click" or action.target is None or action.target.box is None:
                continue  # (arrow keys move a focused radio: the hidden one is their target)
            assert action.target.selector != "html > body > a", path.name  # the logo link
            box = action.target.box
            assert box.x + box.width > 0 and box.y + box.height > 0, (path.name, action.target)
            element = snapshots[step.snapshot].by_ref()[action.ref] if step.snapshot else None
            seats += element is not None and element.text in ("First", "Coach")
    assert seats >= 10
