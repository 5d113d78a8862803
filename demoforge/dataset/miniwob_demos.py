"""Read one MiniWoB++ human demonstration file into a session of our own events.

The 2017 recordings (``../shared/data/miniwob-demos``, format in its README)
are a list of *states*: a DOM dump taken at every mouse button and key event.
This module turns one file into the same event stream a native recording
produces, so the dataset builder has one code path for both:

- each browser event appears twice (capture phase, ``timing`` 1, and bubble
  phase, 3); the pair is folded into one event;
- ``keyCode``/``charCode`` become ``key``/``code`` (``keycodes.py``), with
  Shift tracked from the recorded Shift presses and the character a keypress
  produced written back onto its keydown;
- the event's target is the element marked ``recordingTarget``, or else the
  innermost element under the pointer; a pointer event whose target is a
  control moved off the page (a styled radio or checkbox, set through its
  ``<label>``) is given the label's words, the thing the person pointed at;
- a click at (0, 0) with no target is left out: no pointer made it (a
  script's ``element.click()`` carries no coordinates), and resolved by point
  it would land on whatever sits in the page's corner;
- a ``dom_snapshot`` event (its JSON as a blob) precedes the first event of
  every distinct state; a state equal to the last one emitted is not repeated;
- field values that changed between two states become ``input`` events (text)
  and ``change`` events (checkboxes, radios), the way the live recorder reports
  committed values; that is what makes pasted or auto-completed text visible;
- ``task_start`` carries the utterance, ``task_end`` the outcome: ``rawReward``
  above 0 is a success (partial credit included), below 0 a failure, 0 or
  absent unknown.

Ids are derived, not random: the session id and every event id are UUIDv7s
whose random bits come from the file's content hash and the event's index, so
importing the same file twice yields the same ids and the store's dedup by
event id makes the second import a no-op.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from demoforge.dataset.keycodes import (
    MODIFIER_KEYCODES,
    key_and_code,
    key_from_char_code,
)
from demoforge.dataset.miniwob_dom import snapshot_from_miniwob, target_of
from demoforge.events import DomSnapshot, Element, Event

SOURCE = "miniwob-demos"

#: ``<task>_<worker-or-hit-id>[_d<N>].json.gz``; task names never contain ``_``.
FILE_NAME = re.compile(r"^(?P<task>[^_]+)_(?P<worker>[^_]+)(?:_d(?P<n>\d+))?\.json\.gz$")
BATCH_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")

POINTER_TYPES = {
    "mousedown": "pointer_down",
    "mouseup": "pointer_up",
    "click": "click",
    "dblclick": "dblclick",
}
KEY_TYPES = {"keydown": "key_down", "keyup": "key_up"}
#: Less than this is layout rounding between two dumps, not a scroll (CSS px).
MIN_SCROLL_PX = 1.0
KNOWN_ACTIONS = set(POINTER_TYPES) | set(KEY_TYPES) | {"keypress", "scroll"}

_events_adapter: TypeAdapter[list[Event]] = TypeAdapter(list[Event])


class BrokenEpisode(Exception):
    """A file that cannot be imported; the message says why."""


@dataclass(frozen=True)
class EpisodeFile:
    """Where an episode came from: ``<batch>/<task>/<file>`` and the worker in its name."""

    path: Path
    batch: str
    task: str
    worker: str

    @classmethod
    def from_path(cls, path: Path) -> EpisodeFile:
        match = FILE_NAME.match(path.name)
        if match is None:
            raise BrokenEpisode(f"file name {path.name!r} is not <task>_<worker>[_d<N>].json.gz")
        return cls(
            path=path, batch=path.parent.parent.name, task=path.parent.name, worker=match["worker"]
        )

    @property
    def key(self) -> str:
        """The path relative to the data set's root: the same wherever it is mounted."""
        return f"{self.batch}/{self.task}/{self.path.name}"

    def base_ts(self) -> int:
        """Recordings carry times relative to the episode start only; anchor them at
        midnight UTC of the batch's date (from its folder name), 0 when it has none."""
        match = BATCH_DATE.match(self.batch)
        if match is None:
            return 0
        return int(datetime.fromisoformat(match[1]).replace(tzinfo=UTC).timestamp() * 1000)


@dataclass
class ImportedEpisode:
    """One episode as a session: its events (validated), blobs and session facts."""

    source: EpisodeFile
    session_id: str
    task: str
    instruction: str
    outcome: str
    reward: float | None
    events: list[Event]
    blobs: dict[str, bytes] = field(default_factory=dict)
    page: str | None = None  # the file's taskName: the MiniWoB++ page it was recorded on

    def session_meta(self) -> dict[str, Any]:
        """What the store keeps about the session beside its events. The worker id
        is not in it: it identifies a person and belongs in the identity map only."""
        return {
            "source": SOURCE,
            "task": self.task,
            "instruction": self.instruction,
            "outcome": self.outcome,
            "reward": self.reward,
            "batch": self.source.batch,
            "page": self.page,
        }


def derived_uuid7(ts_ms: int, seed: bytes) -> str:
    """A valid UUIDv7 with timestamp ``ts_ms`` and its 74 random bits taken from
    ``sha256(seed)``: deterministic ids that still sort by time."""
    rand = int.from_bytes(hashlib.sha256(seed).digest()[:10], "big")
    rand_a = (rand >> 62) & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = ((ts_ms & ((1 << 48) - 1)) << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


def read_episode(path: Path) -> tuple[bytes, dict[str, Any]]:
    """The file's decompressed bytes and parsed document; BrokenEpisode if unreadable."""
    try:
        raw = gzip.decompress(path.read_bytes())
        doc = json.loads(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise BrokenEpisode(f"not a readable gzip file: {exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BrokenEpisode(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise BrokenEpisode("the document is not a JSON object")
    if not isinstance(doc.get("utterance"), str) or not doc["utterance"].strip():
        raise BrokenEpisode("no utterance (instruction)")
    states = doc.get("states")
    if not isinstance(states, list):
        raise BrokenEpisode("no list of states")
    for index, state in enumerate(states):
        if not isinstance(state, dict) or not isinstance(state.get("dom"), dict):
            raise BrokenEpisode(f"state {index} has no DOM")
        action = state.get("action")
        if action is not None and (
            not isinstance(action, dict) or action.get("type") not in KNOWN_ACTIONS
        ):
            raise BrokenEpisode(f"state {index} has an unknown action {action!r}")
        if not isinstance(state.get("time"), (int, float)):
            raise BrokenEpisode(f"state {index} has no time")
    return raw, doc


def fold_phases(states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep one state per browser event: a state whose action repeats the previous
    one at a later phase (capture 1 → target 2 → bubble 3) is the same event."""
    folded: list[dict[str, Any]] = []
    last_action: dict[str, Any] | None = None
    for state in states:
        action = state.get("action")
        if action is not None and last_action is not None:
            same = {k: v for k, v in action.items() if k != "timing"} == {
                k: v for k, v in last_action.items() if k != "timing"
            }
            if same and action.get("timing", 0) > last_action.get("timing", 0):
                last_action = action
                continue
        folded.append(state)
        last_action = action
    return folded


def outcome_of(raw_reward: Any) -> str:
    if not isinstance(raw_reward, (int, float)) or raw_reward == 0:
        return "unknown"
    return "success" if raw_reward > 0 else "failure"


class _SessionWriter:
    """Accumulates one session's events as dicts with derived ids and seqs."""

    def __init__(self, session_id: str, content_hash: bytes) -> None:
        self.session_id = session_id
        self.content_hash = content_hash
        self.events: list[dict[str, Any]] = []
        self.blobs: dict[str, bytes] = {}

    def add(self, kind: str, ts: int, **fields: Any) -> dict[str, Any]:
        seq = len(self.events)
        event = {
            "type": kind,
            "id": derived_uuid7(ts, self.content_hash + seq.to_bytes(4, "big")),
            "session_id": self.session_id,
            "seq": seq,
            "ts": ts,
            **fields,
        }
        self.events.append(event)
        return event


class _EpisodeReader:
    """Walks the folded states once, emitting events as the live recorder would."""

    def __init__(self, writer: _SessionWriter, base_ts: int) -> None:
        self.out = writer
        self.base_ts = base_ts
        self.modifiers = {"alt": False, "ctrl": False, "meta": False, "shift": False}
        self.last_snapshot_json: str | None = None
        self.masked_values: dict[int, str] = {}
        self.elements: dict[int, Element] = {}
        self.values: dict[int, tuple[str | None, bool | None]] = {}
        self.scroll_origin: dict[int, float] = {}
        self.last_dom: dict[str, Any] | None = None
        self.scrolling = False
        self.scroll_aim: tuple[int, dict[str, Any] | None] | None = None  # container, target
        self.open_keydown: dict[str, dict[str, Any]] = {}

    def state(self, state: dict[str, Any]) -> None:
        ts = self.base_ts + int(state["time"])
        mapped = snapshot_from_miniwob(state["dom"])
        action = state.get("action")
        scroll = action is not None and action["type"] == "scroll"
        if (scroll or self.scrolling) and self.last_dom is not None:
            # Before this state's snapshot: what the person saw was the page before it moved.
            self._scroll(ts, self.last_dom, state["dom"])
        if not scroll:
            self.scroll_aim = None  # the gesture is over
        self.scrolling, self.last_dom = scroll, state["dom"]
        snapshot_json = json.dumps(mapped.snapshot, separators=(",", ":"))
        snapshot_event = None
        if snapshot_json != self.last_snapshot_json:
            model = DomSnapshot.model_validate(mapped.snapshot)
            self.elements = model.by_ref()
            self._values_changed(ts, mapped.masked_values)
            if not scroll:
                # A page caught mid-scroll is no state anyone acted on: leaving it out keeps
                # a gesture's scroll events together, one action seen from before it began.
                snapshot_event = self._snapshot(ts, model, action)
                self.last_snapshot_json = snapshot_json
        elif mapped.masked_values != self.masked_values:
            self._values_changed(ts, mapped.masked_values)
        self.masked_values = mapped.masked_values
        if action is not None:
            event = self._action(ts, action, mapped.target)
            if snapshot_event is not None and event is not None:
                # Pairs the observation with the event exactly, as the live recorder does.
                snapshot_event["action_id"] = event["id"]

    def _snapshot(
        self, ts: int, model: DomSnapshot, action: dict[str, Any] | None
    ) -> dict[str, Any]:
        blob = model.model_dump_json(exclude_none=True).encode()
        sha = hashlib.sha256(blob).hexdigest()
        self.out.blobs[sha] = blob
        reason = action["type"] if action else "initial"
        return self.out.add("dom_snapshot", ts, blob=sha, reason=reason)

    def _values_changed(self, ts: int, masked_values: dict[int, str]) -> None:
        """``input``/``change`` events for the fields whose value differs from the last state."""
        for element in self.elements.values():
            value = masked_values.get(element.ref) if element.masked else element.value
            if value is None and element.checked is None:
                continue
            now = (value, element.checked)
            before = self.values.get(element.ref)
            self.values[element.ref] = now
            if before is None or before == now:
                continue
            target = _descriptor(element)
            if element.checked is not None and before[1] != element.checked:
                self.out.add("change", ts, checked=element.checked, target=target)
            else:
                self.out.add("input", ts, value=value, target=target)

    def _pointed_at(self, ref: int | None, x: float, y: float) -> Element | None:
        """The target of a pointer event: what the person pointed at.

        A radio or checkbox styled by its label sits off the page (``left: -9999px``),
        and the 2017 recorder marks it as the target of clicks on the label; cut to
        what was in sight, as the policy's view is, those clicks would have no
        target, so they are given the words of the label the pointer was on."""
        element = self.elements.get(ref) if ref is not None else None
        if element is None:
            hits = [e for e in self.elements.values() if e.box.contains(x, y)]
            element = min(hits, key=lambda e: e.box.width * e.box.height, default=None)
        elif _off_page(element):
            element = _label_words(element, self.elements) or element
        return element

    def _action(
        self, ts: int, action: dict[str, Any], target_ref: int | None
    ) -> dict[str, Any] | None:
        """The event for one recorded action (None for a keypress, folded into its keydown)."""
        kind = action["type"]
        if kind in POINTER_TYPES:
            x, y = float(action.get("x", 0)), float(action.get("y", 0))
            if kind == "click" and target_ref is None and x == y == 0:
                # No pointer made it: the flight form fires one after every label click,
                # and by point it would be a click on the site's logo link in the corner.
                return None
            down = kind == "mousedown"
            return self.out.add(
                POINTER_TYPES[kind],
                ts,
                x=x,
                y=y,
                button=0,
                buttons=1 if down else 0,
                modifiers=dict(self.modifiers),
                target=_descriptor(self._pointed_at(target_ref, x, y)),
            )
        if kind in KEY_TYPES:
            return self._key(ts, kind, int(action.get("keyCode") or 0), target_ref)
        if kind == "scroll":
            return None  # emitted from the states around it (``_scroll``)
        char = key_from_char_code(int(action.get("charCode") or 0))
        pressed = list(self.open_keydown.values())
        if char is not None and pressed:
            # The keydown before it only knew the key; the keypress knows the character.
            pressed[-1]["key"] = char
        return None

    def _key(self, ts: int, kind: str, key_code: int, target_ref: int | None) -> dict[str, Any]:
        modifier = MODIFIER_KEYCODES.get(key_code)
        if modifier is not None:
            self.modifiers[modifier] = kind == "keydown"
        key, code = key_and_code(key_code, shift=self.modifiers["shift"])
        slot = code or f"keyCode{key_code}"
        if kind == "keyup" and slot in self.open_keydown:
            key = self.open_keydown.pop(slot)["key"]
        event = self.out.add(
            KEY_TYPES[kind],
            ts,
            key=key,
            code=code,
            modifiers=dict(self.modifiers),
            target=_descriptor(self.elements.get(target_ref) if target_ref is not None else None),
        )
        if kind == "keydown":
            self.open_keydown[slot] = event
        return event

    def _scroll(self, ts: int, before: dict[str, Any], now: dict[str, Any]) -> None:
        """A ``scroll`` event for the container that scrolled between two states.

        The 2017 recorder logged that something scrolled, not what or by how
        much, and dumped the page as the scroll began: the offset shows in the
        states after it. The container is the element whose first child moved
        furthest relative to it; it is followed from the logged scroll to the
        next other action. Its offset is counted from where its first child
        sat when it was first seen. The scroll is aimed as the person saw the
        page before the gesture began (the last snapshot emitted), and all of
        one gesture's events at one target, so that they make one action.
        """
        moved = _child_offsets(now)
        shifts = {
            ref: (offset, node)
            for ref, (offset, node) in _child_offsets(before).items()
            if ref in moved and abs(moved[ref][0] - offset) >= MIN_SCROLL_PX
        }
        if not shifts:
            return
        ref = max(shifts, key=lambda r: abs(shifts[r][0] - moved[r][0]))
        origin = self.scroll_origin.setdefault(ref, shifts[ref][0])
        if self.scroll_aim is None or self.scroll_aim[0] != ref:
            aim = _scroll_target(shifts[ref][1], self.elements)
            self.scroll_aim = (ref, _descriptor(aim))
        self.out.add(
            "scroll", ts, scroll_x=0.0, scroll_y=origin - moved[ref][0], target=self.scroll_aim[1]
        )


def _child_offsets(dom: dict[str, Any]) -> dict[int, tuple[float, dict[str, Any]]]:
    """Each dumped node with children: how far below its top its first child sits, and the node."""
    out: dict[int, tuple[float, dict[str, Any]]] = {}
    stack = [dom]
    while stack:
        node = stack.pop()
        children = node.get("children") or []
        if children and "ref" in node:
            out[node["ref"]] = (float(children[0].get("top") or 0) - float(node.get("top") or 0), node)
        stack.extend(children)
    return out


def _descriptor(element: Element | None) -> dict[str, Any] | None:
    """An event's ``target`` field for an element of the snapshot (None for none)."""
    return target_of(element).model_dump(exclude_none=True) if element else None


def _off_page(element: Element) -> bool:
    """Moved out of the page to hide it (left or above it), the way styled controls are."""
    return element.box.x + element.box.width <= 0 or element.box.y + element.box.height <= 0


def _label_words(control: Element, elements: dict[int, Element]) -> Element | None:
    """The ``<label>`` around a control, or the first element with words inside it
    (a label that wraps its text in a ``<span>`` has none of its own); None without one."""
    label = next((a for a in DomSnapshot.ancestors(control, elements) if a.tag.lower() == "label"), None)
    if label is None or label.text:
        return label
    inside = (e for e in elements.values() if e.text and any(a.ref == label.ref for a in DomSnapshot.ancestors(e, elements)))
    return next(inside, label)


def _scroll_target(container: dict[str, Any], elements: dict[int, Element]) -> Element | None:
    """What a scroll of ``container`` is aimed at: the container if the policy sees
    it, else the first element inside it that shows within its box, which is
    where a wheel turned over the container lands."""
    top = float(container.get("top") or 0)
    bottom = top + float(container.get("height") or 0)
    stack = [container]  # depth first, in document order
    while stack:
        node = stack.pop()
        element = elements.get(node.get("ref", -1))
        if element is not None and top <= element.box.y < bottom:
            return element
        stack.extend(reversed(node.get("children") or []))
    return None


def parse_episode(path: Path) -> ImportedEpisode:
    """One demonstration file as a session; BrokenEpisode (nothing half-made) if it can't be."""
    source = EpisodeFile.from_path(path)
    raw, doc = read_episode(path)
    content_hash = hashlib.sha256(source.key.encode() + b"\0" + raw).digest()
    base_ts = source.base_ts()
    session_id = derived_uuid7(base_ts, content_hash + b"session")
    # The folder names the task (as MANIFEST.tsv does); ``taskName`` inside the file
    # names the page, which the "-turk" variants share with their originals.
    task = source.task
    page = doc.get("taskName") or source.task
    instruction = doc["utterance"].strip()
    raw_reward = doc.get("rawReward")
    writer = _SessionWriter(session_id, content_hash)
    writer.add("task_start", base_ts, instruction=instruction, task=task)
    reader = _EpisodeReader(writer, base_ts)
    try:
        for state in fold_phases(doc["states"]):
            reader.state(state)
        end_ts = base_ts + int(doc["states"][-1]["time"]) if doc["states"] else base_ts
        reward = float(raw_reward) if isinstance(raw_reward, (int, float)) else None
        writer.add("task_end", end_ts, outcome=outcome_of(raw_reward), reward=reward)
        events = _events_adapter.validate_python(writer.events)
    except (ValidationError, KeyError, TypeError, ValueError) as exc:
        raise BrokenEpisode(f"does not fit the event schema: {exc}".splitlines()[0]) from exc
    return ImportedEpisode(
        source=source,
        session_id=session_id,
        task=task,
        instruction=instruction,
        outcome=outcome_of(raw_reward),
        reward=reward,
        events=events,
        blobs=writer.blobs,
        page=page,
    )


def find_episode_files(root: Path) -> list[Path]:
    """Every ``*.json.gz`` under ``root`` (or ``root`` itself), in a stable order."""
    if root.is_file():
        return [root]
    return sorted(root.rglob("*.json.gz"))
