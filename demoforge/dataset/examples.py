"""One session in, its training examples out: the per-session step of a dataset build.

This is the function both build engines map over sessions (plain Python
locally, Ray Data on a cluster), so it depends on nothing but the store and
its arguments, and returns plain JSON text that any engine can carry.

Splits are decided here, from a hash of the contributor (and, separately, of
the episode), so no global pass is needed and the same contributor always
lands in the same split, whichever worker saw their sessions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from demoforge.dataset.actions import Action, Example, Split
from demoforge.dataset.reduce import Step, reduce_events
from demoforge.dataset.segment import Episode, segment
from demoforge.events import DomSnapshot, DomSnapshotEvent
from demoforge.store import SessionInfo, Store

#: Fractions of train and validation (the rest is test), in percent of the hash space.
SPLIT_PERCENT = (("train", 80), ("validation", 10), ("test", 10))

#: Most recent actions kept as an example's history: long episodes would otherwise make
#: the dataset grow with the square of their length.
MAX_HISTORY = 50


def split_of(key: str, salt: str) -> Split:
    """A stable split for ``key``: 80/10/10 by the first 32 bits of sha256(salt:key)."""
    bucket = int.from_bytes(hashlib.sha256(f"{salt}:{key}".encode()).digest()[:4], "big") % 100
    for name, percent in SPLIT_PERCENT:
        if bucket < percent:
            return name  # type: ignore[return-value]
        bucket -= percent
    return "test"


@dataclass(frozen=True)
class EpisodeSummary:
    """What the dataset card counts about an episode, whether or not it was included."""

    episode_id: str
    task: str | None
    outcome: str
    actions: int
    examples: int
    included: bool
    why_not: str | None = None


def episode_examples(
    episode: Episode, steps: list[Step], snapshots: dict[str, DomSnapshot], contributor: str
) -> list[Example]:
    """The examples of one episode: every action, with the page before it and the actions before it."""
    assert episode.instruction is not None
    examples: list[Example] = []
    history: list[Action] = []
    for step in steps:
        observation = snapshots.get(step.snapshot) if step.snapshot else None
        if observation is not None:
            examples.append(
                Example(
                    example_id=f"{episode.id}/{len(examples)}",
                    episode_id=episode.id,
                    session_id=episode.session_id,
                    step=len(examples),
                    task=episode.task,
                    instruction=episode.instruction,
                    contributor=contributor,
                    outcome=episode.outcome,  # type: ignore[arg-type]
                    observation=observation,
                    screenshot=step.screenshot,
                    history=history[-MAX_HISTORY:],
                    action=step.action,
                    split=split_of(contributor, "contributor"),
                    episode_split=split_of(episode.id, "episode"),
                )
            )
        history.append(step.action)
    return examples


class SessionExamples:
    """Callable that turns a session id into ``{"session_id", "examples", "episodes"}``
    (both JSON text). A class so that a Ray actor opens the store once, not per session."""

    def __init__(self, db_url: str, blobs_dir: str, only_successful: bool = False) -> None:
        self.store = Store.open(db_url, blobs_dir=Path(blobs_dir))
        self.only_successful = only_successful

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        session = self.store.session(row["session_id"])
        if session is None:
            raise KeyError(f"session {row['session_id']} is not in the store")
        examples, summaries = self.examples(session)
        return {
            "session_id": session.id,
            "examples": json.dumps([e.to_row() for e in examples], separators=(",", ":")),
            "episodes": json.dumps([asdict(s) for s in summaries], separators=(",", ":")),
        }

    def examples(self, session: SessionInfo) -> tuple[list[Example], list[EpisodeSummary]]:
        events = list(self.store.events(session.id))
        snapshots = {
            e.blob: DomSnapshot.model_validate_json(
                self.store.get_blob(e.blob, session.contributor_id)
            )
            for e in events
            if isinstance(e, DomSnapshotEvent)
        }
        steps = reduce_events(events, snapshots)
        examples: list[Example] = []
        summaries: list[EpisodeSummary] = []
        for episode in segment(events):
            mine = [
                s
                for s in steps
                if s.action.first_seq is not None and episode.contains(s.action.first_seq)
            ]
            why_not = None
            if episode.instruction is None:
                why_not = "no instruction"
            elif self.only_successful and episode.outcome != "success":
                why_not = "not successful"
            found = (
                []
                if why_not
                else episode_examples(episode, mine, snapshots, session.contributor_id)
            )
            examples += found
            summaries.append(
                EpisodeSummary(
                    episode.id,
                    episode.task,
                    episode.outcome,
                    len(mine),
                    len(found),
                    why_not is None,
                    why_not,
                )
            )
        return examples, summaries
