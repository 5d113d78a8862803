"""A tiny dataset of made-up demonstrations on two synthetic pages, written as Parquet.

The pages are generated from a seeded random generator: a "click the named
button" page and a "type the quoted word into the field, then submit" form,
each instance with different words, as in MiniWoB++. Enough for the loop to
learn something in a few epochs on a CPU, small enough to run in seconds.
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from demoforge.dataset.actions import Action, Example
from demoforge.events import Box, DomSnapshot, Element

WORDS = "alpha bravo delta echo golf hotel india kilo lima mike oscar papa romeo sierra tango victor".split()


def _button(ref: int, text: str, y: float) -> Element:
    return Element(ref=ref, tag="button", text=text, box=Box(x=10, y=y, width=60, height=20))


def click_episode(rng: random.Random, contributor: str) -> list[tuple[str, DomSnapshot, list[Action], Action]]:
    names = rng.sample(WORDS, 4)
    goal = rng.choice(names)
    elements = [_button(i + 1, n, 50 + 25 * i) for i, n in enumerate(names)]
    snap = DomSnapshot(elements=elements)
    target = elements[names.index(goal)]
    action = Action(op="click", ref=target.ref, x=40, y=target.box.y + 10)
    return [(f'Click on the "{goal}" button.', snap, [], action)]


def form_episode(rng: random.Random, contributor: str) -> list[tuple[str, DomSnapshot, list[Action], Action]]:
    word = rng.choice(WORDS) + str(rng.randint(10, 99))
    instruction = f'Enter "{word}" into the text field and press Submit.'
    label = Element(ref=1, tag="label", text="Text", box=Box(x=5, y=60, width=40, height=12))
    empty = Element(ref=2, tag="input", input_type="text", value="", box=Box(x=5, y=75, width=120, height=20))
    submit = _button(3, "Submit", 110)
    steps = []
    s0 = DomSnapshot(elements=[label, empty, submit])
    a0 = Action(op="click", ref=2, x=65, y=85)
    steps.append((instruction, s0, [], a0))
    focused = empty.model_copy(update={"focused": True})
    s1 = DomSnapshot(elements=[label, focused, submit], focused=2)
    a1 = Action(op="type", ref=2, text=word)
    steps.append((instruction, s1, [a0], a1))
    filled = focused.model_copy(update={"value": word})
    s2 = DomSnapshot(elements=[label, filled, submit], focused=2)
    a2 = Action(op="click", ref=3, x=40, y=120)
    steps.append((instruction, s2, [a0, a1], a2))
    return steps


def make_examples(n_episodes: int, seed: int = 0) -> list[Example]:
    rng = random.Random(seed)
    out = []
    for i in range(n_episodes):
        contributor = f"worker{i % 7}"
        kind, make = ("click-named", click_episode) if i % 2 else ("form", form_episode)
        episode = str(uuid.UUID(int=rng.getrandbits(128)))
        split = "validation" if contributor == "worker6" else "train"
        for step, (instruction, snap, history, action) in enumerate(make(rng, contributor)):
            out.append(
                Example(
                    example_id=f"{episode}/{step}", episode_id=episode, session_id=episode, step=step,
                    task=kind, instruction=instruction, contributor=contributor, outcome="success",
                    observation=snap, history=history, action=action, split=split, episode_split=split,
                )
            )
    return out


def write_dataset(path: Path, examples: list[Example]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist([e.to_row() for e in examples]), path / "part-0.parquet")
    return path
