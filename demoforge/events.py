"""The event schema: one versioned, typed model per event kind.

Every stage (recorder, spool, collector, store, importers, dataset builder,
agent) speaks this schema and nothing else, the way rrweb's stages share one
types package. A stream of these events is a *session*. Field names are the
ones exports use (``type``, ``x``, ``y``, ``key``, ``value``, ``target``...).

Versioning: ``schema_version`` is written on every event. A reader accepts the
versions in ``SUPPORTED_VERSIONS`` and refuses anything else with a clear
error, so an old collector never silently misreads a newer recorder.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal, Union

import uuid6
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

SCHEMA_VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})

#: The character recorded in place of every key typed into a masked field.
MASK_CHAR = "*"


def new_event_id() -> str:
    """A fresh UUIDv7: time-ordered, so ids sort roughly by creation."""
    return str(uuid6.uuid7())


def now_ms() -> int:
    return int(time.time() * 1000)


class Model(BaseModel):
    """Base for all schema models: unknown fields are errors, not silently kept."""

    model_config = ConfigDict(extra="forbid")


class Box(Model):
    """A bounding box in CSS pixels, relative to the top-level viewport."""

    x: float
    y: float
    width: float
    height: float

    def contains(self, x: float, y: float) -> bool:
        return self.x <= x <= self.x + self.width and self.y <= y <= self.y + self.height

    def middle(self) -> tuple[float, float]:
        """Where a click at the box lands, and what says whether it is in sight."""
        return self.x + self.width / 2, self.y + self.height / 2


class Target(Model):
    """What an event happened on, described so that it can be found again."""

    tag: str
    id: str | None = None
    role: str | None = None
    name: str | None = Field(None, description="accessible name or label")
    selector: str | None = Field(None, description="a stable CSS selector")
    box: Box | None = None
    ref: int | None = Field(None, description="element ref in the matching DOM snapshot")
    input_type: str | None = Field(None, description="type attribute of an <input>")
    masked: bool = False


class Modifiers(Model):
    alt: bool = False
    ctrl: bool = False
    meta: bool = False
    shift: bool = False


class EventBase(Model):
    """Fields every event carries."""

    schema_version: int = SCHEMA_VERSION
    id: str = Field(default_factory=new_event_id, description="UUIDv7, the dedup key")
    session_id: str
    seq: int = Field(ge=0, description="per-session sequence number, from 0")
    ts: int = Field(description="wall-clock time, ms since the Unix epoch")
    frame: str | None = Field(None, description="frame path for events inside iframes")

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if v not in SUPPORTED_VERSIONS:
            raise ValueError(
                f"unknown schema_version {v}; this build reads {sorted(SUPPORTED_VERSIONS)}"
            )
        return v

    @field_validator("id")
    @classmethod
    def _uuid7(cls, v: str) -> str:
        try:
            parsed = uuid.UUID(v)
        except ValueError as exc:
            raise ValueError(f"event id {v!r} is not a UUID") from exc
        if parsed.version != 7:
            raise ValueError(f"event id {v!r} is not a UUIDv7")
        return str(parsed)


class PointerEvent(EventBase):
    """A mouse or pointer event at viewport coordinates (CSS px)."""

    x: float
    y: float
    button: int = 0
    buttons: int = 0
    modifiers: Modifiers = Field(default_factory=Modifiers)
    target: Target | None = None


class PointerMove(PointerEvent):
    type: Literal["pointer_move"] = "pointer_move"


class PointerDown(PointerEvent):
    type: Literal["pointer_down"] = "pointer_down"


class PointerUp(PointerEvent):
    type: Literal["pointer_up"] = "pointer_up"


class Click(PointerEvent):
    type: Literal["click"] = "click"


class DblClick(PointerEvent):
    type: Literal["dblclick"] = "dblclick"


class Wheel(PointerEvent):
    type: Literal["wheel"] = "wheel"
    dx: float = 0
    dy: float = 0


class KeyEvent(EventBase):
    """A key event. In a masked field ``key`` is ``MASK_CHAR`` and ``code`` is None."""

    key: str
    code: str | None = None
    modifiers: Modifiers = Field(default_factory=Modifiers)
    masked: bool = False
    target: Target | None = None


class KeyDown(KeyEvent):
    type: Literal["key_down"] = "key_down"


class KeyUp(KeyEvent):
    type: Literal["key_up"] = "key_up"


class ValueEvent(EventBase):
    """A field's value. ``value`` is None for masked fields: it is never read."""

    value: str | None = None
    checked: bool | None = None
    masked: bool = False
    target: Target | None = None


class Input(ValueEvent):
    type: Literal["input"] = "input"


class Change(ValueEvent):
    """The committed value of a field (on blur, enter, or choosing an option)."""

    type: Literal["change"] = "change"


class Focus(EventBase):
    type: Literal["focus"] = "focus"
    target: Target | None = None


class Scroll(EventBase):
    """A scroll position change of the page (target None) or an element."""

    type: Literal["scroll"] = "scroll"
    scroll_x: float
    scroll_y: float
    target: Target | None = None


class Navigation(EventBase):
    type: Literal["navigation"] = "navigation"
    url: str
    title: str | None = None


class BlobRef(EventBase):
    """Points at a content-addressed blob (sha256 of the uncompressed bytes)."""

    blob: str = Field(pattern=r"^[0-9a-f]{64}$")
    reason: str | None = Field(None, description="the action boundary that triggered it")
    action_id: str | None = Field(
        None, description="id of the event whose action boundary triggered it"
    )


class DomSnapshotEvent(BlobRef):
    """A simplified DOM snapshot (a ``DomSnapshot`` as JSON) stored as a blob."""

    type: Literal["dom_snapshot"] = "dom_snapshot"


class Screenshot(BlobRef):
    type: Literal["screenshot"] = "screenshot"
    mime: str = "image/jpeg"
    width: int | None = None
    height: int | None = None


class TaskStart(EventBase):
    type: Literal["task_start"] = "task_start"
    instruction: str
    task: str | None = None


class TaskEnd(EventBase):
    type: Literal["task_end"] = "task_end"
    outcome: Literal["success", "failure", "unknown"] = "unknown"
    reward: float | None = None


Event = Annotated[
    Union[
        PointerMove,
        PointerDown,
        PointerUp,
        Click,
        DblClick,
        Wheel,
        KeyDown,
        KeyUp,
        Input,
        Change,
        Focus,
        Scroll,
        Navigation,
        DomSnapshotEvent,
        Screenshot,
        TaskStart,
        TaskEnd,
    ],
    Field(discriminator="type"),
]

EVENT_TYPES: tuple[str, ...] = tuple(
    m.model_fields["type"].default for m in Event.__args__[0].__args__  # type: ignore[attr-defined]
)

_event_adapter: TypeAdapter[Event] = TypeAdapter(Event)
_events_adapter: TypeAdapter[list[Event]] = TypeAdapter(list[Event])


def parse_event(data: dict[str, Any] | str | bytes) -> Event:
    """Validate one event (a dict or JSON text); raises ``pydantic.ValidationError``."""
    if isinstance(data, (str, bytes)):
        return _event_adapter.validate_json(data)
    return _event_adapter.validate_python(data)


def parse_events(data: list[dict[str, Any]] | str | bytes) -> list[Event]:
    """Validate a list of events (a list or a JSON array)."""
    if isinstance(data, (str, bytes)):
        return _events_adapter.validate_json(data)
    return _events_adapter.validate_python(data)


def dump_event(event: EventBase) -> dict[str, Any]:
    """The event as a JSON-ready dict with the schema's field names, Nones dropped."""
    return event.model_dump(mode="json", exclude_none=True)


# --- DOM snapshot -----------------------------------------------------------


class Element(Model):
    """One element of a simplified DOM snapshot.

    Only visible elements that bear text, are interactive or are leaves (an
    icon, a swatch, an empty cell) are kept. ``text`` is the element's own text
    (its direct text nodes), so a parent does not repeat its children's words.
    ``value`` is None for masked fields; ``filled`` says only whether such a
    field is empty, which a person sees as dots.
    """

    ref: int
    parent: int | None = None
    tag: str
    id: str | None = None
    classes: str | None = None
    role: str | None = None
    name: str | None = None
    input_type: str | None = None
    text: str | None = None
    value: str | None = None
    checked: bool | None = None
    focused: bool = False
    masked: bool = False
    filled: bool | None = Field(
        None, description="masked fields only: whether it holds anything (the dots a person sees), never what"
    )
    box: Box
    selector: str | None = None
    frame: str | None = None
    color: str | None = Field(
        None,
        description="wordless leaves other than form fields (a swatch, a shade, an empty cell): the background "
        "colour a person sees, as CSS rgb(); words say what a labelled element is, a colour is all a swatch has",
    )


class DomSnapshot(Model):
    """What the page looked like at one moment: what the person could see."""

    schema_version: int = SCHEMA_VERSION
    url: str | None = None
    title: str | None = None
    viewport: Box | None = None
    scroll_x: float = 0
    scroll_y: float = 0
    focused: int | None = Field(None, description="ref of the focused element")
    elements: list[Element]

    def by_ref(self) -> dict[int, Element]:
        return {e.ref: e for e in self.elements}

    @staticmethod
    def ancestors(element: Element, by_ref: dict[int, Element]) -> Iterator[Element]:
        """The elements of ``by_ref`` around ``element``, nearest first. A malformed
        snapshot's cycle of parents ends too."""
        seen = {element.ref}
        above = by_ref.get(element.parent) if element.parent is not None else None
        while above is not None and above.ref not in seen:
            seen.add(above.ref)
            yield above
            above = by_ref.get(above.parent) if above.parent is not None else None

    def element_at(self, x: float, y: float) -> Element | None:
        """The innermost (smallest) element whose box contains the point."""
        hits = [e for e in self.elements if e.box.contains(x, y)]
        return min(hits, key=lambda e: e.box.width * e.box.height, default=None)
