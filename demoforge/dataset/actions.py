"""High-level actions and the training example that pairs one with what was seen.

Raw events say what the hands did (a key went down, the pointer went up);
an agent is trained on what the person *meant*: click this element, type this
text into that field, press Enter. An ``Action`` is that unit, the same for
imported demonstrations and native recordings, and the same one the agent
emits at run time, so a policy's output can be checked against the data with
``==``.

Coordinates are viewport CSS pixels, like every coordinate in
``demoforge.events``. ``ref`` names an element of the ``DomSnapshot`` the
action was paired with (the observation just before it); ``target`` carries
the descriptor (tag, id, name, box...) so the element can be found again on a
live page where refs differ.
"""

from __future__ import annotations

import json
from typing import Literal, get_args

from pydantic import Field, model_validator

from demoforge.events import DomSnapshot, Model, Target

Op = Literal["click", "dblclick", "type", "press", "scroll", "drag", "select"]
OPS: tuple[str, ...] = get_args(Op)
#: Actions whose ``key`` is the modifiers held through them, not a key pressed.
CLICKS = ("click", "dblclick")
#: Actions that carry a text: what is typed into a field, or the option chosen in a ``<select>``.
TEXTS = ("type", "select")
#: Keys that change what a click does while held, in the order a key combination names them.
MODIFIERS = ("Control", "Alt", "Meta", "Shift")


def only_modifiers(key: str | None) -> bool:
    """Whether ``key`` is what a click may hold: nothing, or modifiers only ("Control+Shift")."""
    return not key or all(part in MODIFIERS for part in key.split("+"))

Split = Literal["train", "validation", "test"]
SPLITS: tuple[str, ...] = get_args(Split)

#: Which fields each operation must carry (beyond ``op``).
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "click": ("x", "y"),
    "dblclick": ("x", "y"),
    "type": ("text",),
    "press": ("key",),
    "scroll": ("dx", "dy"),
    "drag": ("x", "y", "end_x", "end_y"),
    "select": ("text",),
}


class Action(Model):
    """One thing a person did, as an agent would do it.

    - ``click`` / ``dblclick``: ``x``, ``y`` and the element under them;
      ``key`` names the modifier keys held down through it, when any
      (``"Control"``, ``"Shift"``, ``"Control+Shift"``): a Control-click adds an
      option to a list's selection where a plain click replaces it.
    - ``type``: ``text`` is the field's whole text once typing ended (keys
      merged with backspace, delete, shift and selection applied), so
      replaying it is "focus the field, replace its text".
    - ``press``: ``key`` is a key combination in Playwright's spelling
      (``"Enter"``, ``"Control+a"``, ``"Shift+Tab"``) for keys that do not
      edit a field's text.
    - ``scroll``: ``dx``/``dy`` in CSS px (positive = content moves up/left).
    - ``drag``: pointer down at ``x``/``y``, up at ``end_x``/``end_y``.
    - ``select``: ``text`` is the chosen option's text in a ``<select>``.
    """

    op: Op
    ref: int | None = Field(None, description="element ref in the paired observation")
    target: Target | None = None
    x: float | None = None
    y: float | None = None
    text: str | None = None
    key: str | None = None
    dx: float | None = None
    dy: float | None = None
    end_x: float | None = None
    end_y: float | None = None
    masked: bool = Field(
        False,
        description="into a masked field: live recordings hold mask characters as its text",
    )
    ts: int | None = Field(None, description="time of the first event of the action (ms)")
    first_seq: int | None = Field(None, description="seq of the first raw event folded in")
    last_seq: int | None = Field(None, description="seq of the last raw event folded in")

    @model_validator(mode="after")
    def _has_operands(self) -> Action:
        missing = [f for f in REQUIRED_FIELDS[self.op] if getattr(self, f) is None]
        if missing:
            raise ValueError(f"{self.op} action needs {', '.join(missing)}")
        return self

    def describe(self) -> str:
        """A short human-readable form, for logs and the dataset card."""
        where = f" @{self.ref}" if self.ref is not None else ""
        if self.op in TEXTS:
            return f"{self.op}{where} {self.text!r}"
        if self.op == "press":
            return f"press {self.key}"
        if self.op == "scroll":
            return f"scroll dx={self.dx:g} dy={self.dy:g}"
        if self.op == "drag":
            return f"drag ({self.x:g},{self.y:g})->({self.end_x:g},{self.end_y:g})"
        held = f" holding {self.key}" if self.key else ""
        return f"{self.op}{where} ({self.x:g},{self.y:g}){held}"


class Example(Model):
    """One training example: given the instruction, the page and what was done so far,
    the next action.

    In the dataset files every field is a column; ``observation``, ``history``
    and ``action`` are JSON text there (``Example.from_row`` parses them back),
    which keeps the Parquet schema flat and identical across builds whatever
    optional fields the actions use.
    """

    example_id: str = Field(description="<episode_id>/<step>")
    episode_id: str
    session_id: str
    step: int = Field(ge=0, description="index of the action within its episode")
    task: str | None = None
    instruction: str
    contributor: str = Field(description="pseudonymous contributor id")
    outcome: Literal["success", "failure", "unknown"] = "unknown"
    observation: DomSnapshot
    screenshot: str | None = Field(None, description="sha256 of the paired screenshot blob")
    history: list[Action] = Field(default_factory=list)
    action: Action
    split: Split = Field(description="split by contributor: no contributor is in two splits")
    episode_split: Split = Field(description="split by episode, independent of contributor")

    def to_row(self) -> dict[str, object]:
        """The flat row written to Parquet (JSON text for the nested parts)."""
        row = self.model_dump(mode="json", exclude={"observation", "history", "action"})
        row["observation"] = self.observation.model_dump_json(exclude_none=True)
        row["history"] = json.dumps(
            [a.model_dump(mode="json", exclude_none=True) for a in self.history],
            separators=(",", ":"),
        )
        row["action"] = self.action.model_dump_json(exclude_none=True)
        row["op"] = self.action.op
        return row

    @classmethod
    def from_row(cls, row: dict[str, object]) -> Example:
        """Parse a row read back from the dataset (pandas, ``datasets``, pyarrow)."""
        data = {k: v for k, v in row.items() if k in cls.model_fields}
        data["observation"] = DomSnapshot.model_validate_json(str(row["observation"]))
        data["history"] = [Action.model_validate(a) for a in json.loads(str(row["history"]))]
        data["action"] = Action.model_validate_json(str(row["action"]))
        return cls.model_validate(data)
