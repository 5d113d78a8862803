"""Hand-written raw event streams: a tiny builder that numbers events like a recorder."""

from __future__ import annotations

from typing import Any

from demoforge.events import Box, DomSnapshot, Element, Modifiers, Target, parse_event

FIELD = Target(tag="input", id="name", ref=2, input_type="text", role="textbox")
BUTTON = Target(tag="button", id="go", ref=3, role="button", name="Go")
SELECT = Target(tag="select", id="color", ref=4, role="combobox")
TEXTAREA = Target(tag="textarea", id="notes", ref=5, role="textbox")


def page(value: str = "") -> DomSnapshot:
    """The page the streams happen on: a text field, a button, a select, a textarea."""
    box = Box(x=0, y=0, width=100, height=20)
    return DomSnapshot(
        elements=[
            Element(ref=2, tag="input", id="name", input_type="text", value=value, box=box),
            Element(ref=3, tag="button", id="go", text="Go", box=box),
            Element(ref=4, tag="select", id="color", value="red", box=box),
            Element(ref=5, tag="textarea", id="notes", value="", box=box),
        ]
    )


class Stream:
    """Appends events with increasing ``seq`` and, unless given, ``ts`` 10 ms after the last."""

    def __init__(self, session_id: str = "s1") -> None:
        self.session_id = session_id
        self.events: list[Any] = []

    def add(self, kind: str, **fields: Any) -> Any:
        seq = len(self.events)
        fields.setdefault("ts", (self.events[-1].ts + 10) if self.events else 1000)
        event = parse_event({"type": kind, "session_id": self.session_id, "seq": seq, **fields})
        self.events.append(event)
        return event

    def snapshot(self, sha: str, action_id: str | None = None) -> Any:
        return self.add("dom_snapshot", blob=sha, action_id=action_id)

    def click(self, x: float, y: float, target: Target = BUTTON, ctrl: bool = False) -> None:
        t, mods = target.model_dump(), Modifiers(ctrl=ctrl).model_dump()
        self.add("pointer_down", x=x, y=y, buttons=1, target=t, modifiers=mods)
        self.add("pointer_up", x=x, y=y, target=t, modifiers=mods)
        self.add("click", x=x, y=y, target=t, modifiers=mods)

    def keys(
        self, *keys: str, target: Target = FIELD, shift: bool = False, ctrl: bool = False
    ) -> None:
        """key_down/key_up for each key, with the given modifiers held."""
        mods = Modifiers(shift=shift, ctrl=ctrl).model_dump()
        for key in keys:
            self.add("key_down", key=key, modifiers=mods, target=target.model_dump())
            self.add("key_up", key=key, modifiers=mods, target=target.model_dump())

    def type_text(self, text: str, target: Target = FIELD) -> None:
        """Keys as a person types them: Shift held (pressed and released) for capitals."""
        for char in text:
            if char.isupper():
                self.add(
                    "key_down",
                    key="Shift",
                    modifiers=Modifiers(shift=True).model_dump(),
                    target=target.model_dump(),
                )
                self.keys(char, target=target, shift=True)
                self.add("key_up", key="Shift", target=target.model_dump())
            else:
                self.keys(char, target=target)
