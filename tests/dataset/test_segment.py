"""Episodes: by task markers where present, otherwise by navigation and idle gaps."""

from __future__ import annotations

from dataset_streams import Stream

from demoforge.dataset.segment import IDLE_GAP_MS, segment


def test_task_markers_make_the_episodes_and_carry_instruction_and_outcome() -> None:
    s = Stream()
    s.add("navigation", url="https://app.example/form")
    s.add("task_start", instruction="Fill the form", task="form")
    s.click(1, 1)
    s.add("task_end", outcome="success", reward=1.0)
    s.add("task_start", instruction="Send it")
    s.click(2, 2)
    episodes = segment(s.events)
    assert [(e.instruction, e.task, e.outcome, e.start_seq, e.end_seq) for e in episodes] == [
        ("Fill the form", "form", "success", 1, 5),
        ("Send it", None, "unknown", 6, 9),
    ]
    assert episodes[1].id == "s1/1"


def test_without_markers_a_new_page_or_an_idle_gap_starts_an_episode() -> None:
    s = Stream()
    s.add("navigation", url="https://app.example/a?x=1")
    s.click(1, 1)
    s.add("navigation", url="https://app.example/a?x=2#top")  # same page: same episode
    s.click(1, 1)
    s.add("navigation", url="https://app.example/b")
    s.click(2, 2)
    # The person comes back after a break.
    s.add("pointer_down", x=3, y=3, buttons=1, ts=s.events[-1].ts + IDLE_GAP_MS + 1)
    s.add("pointer_up", x=3, y=3)
    episodes = segment(s.events)
    assert [(e.start_seq, e.end_seq, e.instruction) for e in episodes] == [
        (0, 7, None),
        (8, 11, None),
        (12, 13, None),
    ]
