"""Redaction of whole batches of events and their DOM-snapshot blobs.

Text reaches the store in five places, and each is redacted here:

* values of ``input`` / ``change`` events (with the field's label as
  context, so a bare nine-digit number in a field labelled "SSN" counts);
* labels (``target.name``), page URLs and titles, task instructions;
* DOM snapshots (element text, values, labels), which are blobs: a
  redacted snapshot is a new blob, so its name (sha256) changes and the
  events of the batch that point at it are re-pointed;
* **keys typed one by one**: a ``key_down`` carries one character, which
  no recognizer can judge. Keys are reassembled per field into the text
  the person typed (Backspace applied), the text is analysed, and the
  ``key_down`` / ``key_up`` events whose characters fall in a finding are
  masked the way the recorder masks password fields (``key`` becomes
  ``MASK_CHAR``, ``code`` is dropped, ``masked`` is set);
* **values that grow keystroke by keystroke**: ``input`` events of one
  field carry prefixes of the final value ("4111 1", "4111 11"...), which
  on their own are not recognisable. The final value's findings are
  projected onto every earlier value that shares its prefix.

Screenshots are pixels: the recorder paints over masked fields before it
takes them, and here every element whose text or value had something
redacted in the DOM snapshot of an action is painted over in the screenshot
of the same action.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Sequence

from PIL import Image, ImageDraw
from pydantic import ValidationError

from demoforge.events import (
    MASK_CHAR,
    Box,
    Change,
    DomSnapshot,
    DomSnapshotEvent,
    Event,
    Input,
    KeyDown,
    KeyUp,
    Navigation,
    Screenshot,
    TaskStart,
)
from demoforge.privacy.redaction import (
    Finding,
    Redactor,
    apply,
    default_redactor,
    merge_overlaps,
)

#: How many actions' boxes are kept waiting for their screenshot.
_REMEMBERED_ACTIONS = 4096

#: Keys that end a typing run: the person moved on from the text they were typing.
_RUN_ENDERS = {"Enter", "Tab", "Escape"}

FieldKey = tuple[str, str | None, str]


def _field(e: Event) -> FieldKey | None:
    target = getattr(e, "target", None)
    if target is None:
        return None
    where = target.selector or target.id or (str(target.ref) if target.ref is not None else None)
    return (e.session_id, e.frame, where or target.tag)


def _label(e: Event) -> list[str]:
    target = getattr(e, "target", None)
    return [w for w in (target.name, target.id) if w] if target is not None else []


def _masked_key(e: KeyDown | KeyUp) -> KeyDown | KeyUp:
    return e.model_copy(update={"key": MASK_CHAR, "code": None, "masked": True})


class BatchRedactor:
    """Redacts one batch (events and blobs) with a shared ``Redactor``."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        self.redactor = redactor or default_redactor()
        # action id -> boxes to paint over; a snapshot and its screenshot may come in different batches.
        self._boxes: OrderedDict[str, list[Box]] = OrderedDict()
        self._boxes_lock = threading.Lock()

    def redact(self, events: Sequence[Event], blobs: dict[str, bytes]) -> tuple[list[Event], dict[str, bytes]]:
        out = self._typed_keys(list(events))
        out = self._growing_values(out)
        out = self._texts(out)
        actions = {e.blob: e.action_id for e in out if isinstance(e, DomSnapshotEvent) and e.action_id}
        renamed, blobs = self._snapshots(blobs, actions)
        renamed |= self._screenshots(out, blobs)
        out = [
            e.model_copy(update={"blob": renamed[e.blob]}) if isinstance(e, (DomSnapshotEvent, Screenshot)) and e.blob in renamed else e
            for e in out
        ]
        return out, blobs

    # --- keys typed one by one ----------------------------------------------

    def _typed_keys(self, events: list[Event]) -> list[Event]:
        runs: dict[FieldKey, list[tuple[str, int]]] = defaultdict(list)
        to_mask: set[int] = set()

        def close(field: FieldKey, label: list[str]) -> None:
            typed = runs.pop(field, [])
            if typed:
                for f in self.redactor.find("".join(c for c, _ in typed), label):
                    to_mask.update(idx for _, idx in typed[f.start : f.end])

        labels: dict[FieldKey, list[str]] = {}
        pending_down: dict[tuple[FieldKey, str], int] = {}
        down_of_up: dict[int, int] = {}
        for idx, e in enumerate(events):
            field = _field(e)
            if field is None or getattr(e, "masked", False):
                continue
            if isinstance(e, KeyDown):
                pending_down[(field, e.code or e.key)] = idx
                labels[field] = _label(e)
                mods = e.modifiers
                if len(e.key) == 1 and not (mods.ctrl or mods.meta or mods.alt):
                    runs[field].append((e.key, idx))
                elif e.key == "Backspace" and runs[field]:
                    runs[field].pop()
                elif e.key in _RUN_ENDERS:
                    close(field, labels[field])
            elif isinstance(e, KeyUp):
                down = pending_down.pop((field, e.code or e.key), None)
                if down is not None:
                    down_of_up[idx] = down
        for field in list(runs):
            close(field, labels.get(field, []))
        to_mask.update(up for up, down in down_of_up.items() if down in to_mask)
        return [_masked_key(e) if i in to_mask else e for i, e in enumerate(events)]  # type: ignore[arg-type]

    # --- values that grow keystroke by keystroke ------------------------------------

    def _growing_values(self, events: list[Event]) -> list[Event]:
        by_field: dict[FieldKey, list[int]] = defaultdict(list)
        for idx, e in enumerate(events):
            if isinstance(e, (Input, Change)) and e.value and not e.masked and (field := _field(e)):
                by_field[field].append(idx)
        out = list(events)
        for indices in by_field.values():
            final: Input | Change = events[indices[-1]]  # type: ignore[assignment]
            assert final.value is not None
            final_findings = self.redactor.find(final.value, _label(final))
            for idx in indices:
                e: Input | Change = events[idx]  # type: ignore[assignment]
                assert e.value is not None
                shared = len(os.path.commonprefix([e.value, final.value]))
                projected = [
                    Finding(f.entity, f.start, min(f.end, len(e.value)), f.score)
                    for f in final_findings
                    if f.start < shared
                ]
                own = self.redactor.find(e.value, _label(e)) if idx != indices[-1] else final_findings
                findings = merge_overlaps([*projected, *own])
                if findings:
                    out[idx] = e.model_copy(update={"value": apply(e.value, findings)})
        return out

    # --- labels, URLs, titles, instructions ------------------------------------

    def _texts(self, events: list[Event]) -> list[Event]:
        slots: list[tuple[int, str, str]] = []  # (event index, field, text)
        for idx, e in enumerate(events):
            target = getattr(e, "target", None)
            if target is not None and target.name:
                slots.append((idx, "target.name", target.name))
            if isinstance(e, Navigation):
                slots.append((idx, "url", e.url))
                if e.title:
                    slots.append((idx, "title", e.title))
            elif isinstance(e, TaskStart):
                slots.append((idx, "instruction", e.instruction))
        redacted = self.redactor.redact_many([text for _, _, text in slots])
        out = list(events)
        for (idx, field, text), new in zip(slots, redacted, strict=True):
            if new == text:
                continue
            e = out[idx]
            if field == "target.name":
                out[idx] = e.model_copy(update={"target": e.target.model_copy(update={"name": new})})  # type: ignore[union-attr]
            else:
                out[idx] = e.model_copy(update={field: new})
        return out

    # --- DOM snapshots --------------------------------------------------------

    def _snapshots(self, blobs: dict[str, bytes], actions: dict[str, str]) -> tuple[dict[str, str], dict[str, bytes]]:
        """Redact every blob that is a DOM snapshot; returns (old name -> new name, blobs).

        The boxes of elements that had something redacted are remembered by the
        snapshot's action, so that the screenshot of the same action is painted over.
        """
        renamed: dict[str, str] = {}
        out: dict[str, bytes] = {}
        for sha, data in blobs.items():
            if not data.lstrip().startswith(b"{"):
                out[sha] = data  # an image: pixels are masked in the page
                continue
            try:
                snapshot = DomSnapshot.model_validate_json(data)
            except ValidationError as exc:
                raise ValueError(f"blob {sha} is JSON but not a DOM snapshot") from exc
            redacted = self.redact_snapshot(snapshot)
            if redacted == snapshot:
                out[sha] = data
                continue
            if sha in actions:
                self._remember(actions[sha], [new.box for old, new in zip(snapshot.elements, redacted.elements, strict=True) if old != new])
            clean = redacted.model_dump_json(exclude_none=True).encode()
            new = hashlib.sha256(clean).hexdigest()
            renamed[sha], out[new] = new, clean
        return renamed, out

    # --- screenshots ---------------------------------------------------------

    def _remember(self, action_id: str, boxes: list[Box]) -> None:
        with self._boxes_lock:  # the collector redacts concurrent uploads with one instance
            self._boxes[action_id] = boxes
            while len(self._boxes) > _REMEMBERED_ACTIONS:
                self._boxes.popitem(last=False)

    def _screenshots(self, events: list[Event], blobs: dict[str, bytes]) -> dict[str, str]:
        """Paint over, in each screenshot, the elements its action's snapshot had redacted."""
        renamed: dict[str, str] = {}
        for e in events:
            with self._boxes_lock:
                boxes = self._boxes.get(e.action_id) if isinstance(e, Screenshot) and e.action_id else None
            if boxes is None or e.blob not in blobs:  # type: ignore[union-attr]
                continue
            painted = paint_over(blobs[e.blob], boxes, e.width)  # type: ignore[union-attr]
            new = hashlib.sha256(painted).hexdigest()
            del blobs[e.blob]
            blobs[new], renamed[e.blob] = painted, new
        return renamed

    def redact_snapshot(self, snapshot: DomSnapshot) -> DomSnapshot:
        """The snapshot with element texts, values and labels (and its URL and title) redacted."""
        fields = ("text", "value", "name")
        slots = [(i, f, getattr(el, f)) for i, el in enumerate(snapshot.elements) for f in fields if getattr(el, f)]
        page = [(f, getattr(snapshot, f)) for f in ("url", "title") if getattr(snapshot, f)]
        redacted = self.redactor.redact_many([t for *_, t in slots] + [t for _, t in page])
        elements = list(snapshot.elements)
        for (i, f, text), new in zip(slots, redacted, strict=False):
            if new != text:
                elements[i] = elements[i].model_copy(update={f: new})
        page_updates = {f: new for (f, _), new in zip(page, redacted[len(slots) :], strict=True)}
        return snapshot.model_copy(update={"elements": elements, **page_updates})


def paint_over(jpeg: bytes, boxes: list[Box], viewport_width: int | None) -> bytes:
    """The screenshot with each box (CSS px of the viewport) filled black."""
    try:
        image = Image.open(io.BytesIO(jpeg)).convert("RGB")
    except (OSError, Image.DecompressionBombError) as exc:
        raise ValueError("a screenshot blob is not an image") from exc
    scale = image.width / viewport_width if viewport_width else 1.0
    draw = ImageDraw.Draw(image)
    for b in boxes:
        draw.rectangle([b.x * scale, b.y * scale, (b.x + b.width) * scale, (b.y + b.height) * scale], fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=60)
    return out.getvalue()
