"""The MiniWoB++ recorder's DOM dump, mapped onto the schema's ``DomSnapshot``.

A policy trained on imported demonstrations acts on live pages observed by
our own recorder's ``snapshot()`` (``demoforge/capture/recorder.js``), so an
imported observation has to look like a live one of the same page. All of
that mapping is in ``snapshot_from_miniwob`` and nowhere else, so that when
the two drift apart there is one place to fix. It follows the recorder's
rules: ``html``/``body`` are not elements; an element is kept when it is
visible (non-empty box) and has its own text, is interactive or is a leaf
(no element children) with a width and a height; tags are
lowercase with the input type apart; roles come from the tag; buttons, links
and options are named by their text; a kept element's parent is its nearest
kept ancestor; boxes are rounded to 1/100 px; a selector is the path from the
nearest id.

The 2017 dump differs from ours in these ways, each handled below:

- tags like ``INPUT_text`` carry the input type after an underscore;
- an element's text is either its ``text`` (leaf elements) or spread over
  pseudo children with tag ``t`` and negative refs (its direct text nodes);
  the pseudo nodes are folded into the parent's own ``text``;
- checkboxes and radios carry a boolean ``value``: it becomes ``checked``;
- options carry no selected state: an option is ``checked`` when it is drawn
  highlighted (a painted ``bgColor``), as a person sees the rows chosen in a
  list box, and the recorder reports ``selected`` on live pages;
- ``recordingTarget`` marks the element the recorded event was dispatched to,
  which is not part of a snapshot: it is returned beside it;
- it has no attributes (href, role, tabindex, label ``for``), so elements made
  interactive by script alone, and labels as accessible names, are not seen;
- a wordless leaf's ``bgColor`` (a swatch, a shade; not a form field) becomes
  its ``color``, as the recorder keeps it; other elements' colours and the
  flight tasks' ``tampered`` flag have no place in the schema.

Password fields are masked in the snapshot as the live recorder masks them
(no value, only whether they are ``filled``), so that a policy never learns to expect what it will not see; the
values the 2017 recorder did capture are handed back beside the snapshot
(``masked_values``) for the importer's ``input`` events, because these are
benchmark strings printed in the instruction, not anybody's secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from demoforge.events import SCHEMA_VERSION, Box, Element, Target

#: Tag of the pseudo nodes that stand for text nodes in the 2017 dump.
TEXT_NODE_TAG = "t"
MAX_TEXT = 500

# The same tables as recorder.js.
INTERACTIVE_TAGS = frozenset(
    "a button input select textarea option label summary details img canvas video audio iframe".split()
)
SVG_SHAPES = frozenset("circle rect ellipse polygon polyline path line text".split())
#: Form fields: what matters is their value, not their (mostly white) background.
FIELD_TAGS = frozenset({"input", "select", "textarea"})
INPUT_ROLES = {
    "button": "button",
    "submit": "button",
    "reset": "button",
    "image": "button",
    "checkbox": "checkbox",
    "radio": "radio",
    "range": "slider",
    "number": "spinbutton",
    "search": "searchbox",
    "email": "textbox",
    "tel": "textbox",
    "text": "textbox",
    "url": "textbox",
    "password": "textbox",
}
TAG_ROLES = {
    "button": "button",
    "select": "combobox",
    "textarea": "textbox",
    "option": "option",
    "img": "img",
    "h1": "heading",
    "h2": "heading",
    "h3": "heading",
    "h4": "heading",
    "h5": "heading",
    "h6": "heading",
    "li": "listitem",
    "ul": "list",
    "ol": "list",
    "table": "table",
    "tr": "row",
    "td": "cell",
    "th": "columnheader",
    "form": "form",
    "nav": "navigation",
    "main": "main",
    "dialog": "dialog",
    "summary": "button",
}
NAMED_BY_TEXT = frozenset({"button", "a", "option", "summary"})
LABELLED_TAGS = frozenset({"input", "select", "textarea", "button"})
#: The input types ``capture.snapshot.DEFAULT_MASK_SELECTORS`` masks in live snapshots.
MASKED_INPUT_TYPES = frozenset({"password", "hidden"})
_SELECTOR_ID = re.compile(r"^[A-Za-z][\w-]*$")


def collapse(text: str) -> str:
    return " ".join(text.split())[:MAX_TEXT]


@dataclass
class MiniwobState:
    """One recorded state: its ``DomSnapshot`` as a JSON-ready dict (validated by the
    caller once per distinct state, far cheaper than models for every state), the ref
    of the element marked ``recordingTarget`` if it was kept, and the values of the
    masked fields, which the snapshot leaves out but the recorded session holds."""

    snapshot: dict[str, Any]
    target: int | None
    masked_values: dict[int, str] = field(default_factory=dict)


def snapshot_from_miniwob(dom: dict[str, Any]) -> MiniwobState:
    """The state of one recorded DOM dump, mapped as described above."""
    elements: list[dict[str, Any]] = []
    found: dict[str, int | None] = {"focused": None, "target": None}
    masked_values: dict[int, str] = {}

    def visit(node: dict[str, Any], parent: int | None, path: str, label: str) -> None:
        raw_tag, _, input_type = node["tag"].partition("_")
        tag = raw_tag.lower()
        children = [c for c in node.get("children") or [] if c["tag"] != TEXT_NODE_TAG]
        ref = parent
        if tag not in ("html", "body"):
            own = collapse(" ".join(_own_text_parts(node)))
            width, height = node.get("width") or 0, node.get("height") or 0
            leaf = not children and width > 0 and height > 0
            if (width > 0 or height > 0) and (own or leaf or tag in INTERACTIVE_TAGS or tag in SVG_SHAPES):
                ref = node["ref"]
                element = _element(node, tag, input_type.lower(), own, parent, path, label)
                color = painted(node)
                if leaf and not own and tag not in FIELD_TAGS and color is not None:
                    element["color"] = color
                elements.append(element)
                if element.get("masked") and isinstance(node.get("value"), str):
                    masked_values[ref] = node["value"]
                if node.get("focused"):
                    found["focused"] = ref
                if node.get("recordingTarget"):
                    found["target"] = ref
        if tag == "label":  # a field inside a <label> is named by the label's text
            label = collapse(_all_text(node))
        for child, part in _selector_parts(children):
            child_path = part if part.startswith("#") else f"{path} > {part}"
            visit(child, ref, child_path, label)

    visit(dom, None, "html > body", "")
    snapshot = {
        "schema_version": SCHEMA_VERSION,
        "viewport": _box(dom),
        "focused": found["focused"],
        "elements": elements,
    }
    return MiniwobState(snapshot, found["target"], masked_values)


def is_transparent(color: str) -> bool:
    """Whether a computed CSS colour shows nothing: ``transparent`` or a zero alpha."""
    c = color.replace(" ", "").lower()
    return c == "transparent" or (c.startswith("rgba(") and c.rstrip(")").rsplit(",", 1)[-1] in ("0", "0.0"))


def painted(node: dict[str, Any]) -> str | None:
    """The background colour the dump draws ``node`` with; None when it shows none."""
    color = node.get("bgColor")
    return color if isinstance(color, str) and not is_transparent(color) else None


def _own_text_parts(node: dict[str, Any]) -> list[str]:
    parts = [node.get("text") or ""]
    parts += [c.get("text") or "" for c in node.get("children") or [] if c["tag"] == TEXT_NODE_TAG]
    return parts


def _all_text(node: dict[str, Any]) -> str:
    parts = _own_text_parts(node)
    for child in node.get("children") or []:
        if child["tag"] != TEXT_NODE_TAG:
            parts.append(_all_text(child))
    return " ".join(p for p in parts if p)


def _selector_parts(children: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    """Each child's selector step: ``#id``, else its tag, with ``:nth-of-type`` when needed."""
    totals: dict[str, int] = {}
    for child in children:
        totals[child["tag"]] = totals.get(child["tag"], 0) + 1
    seen: dict[str, int] = {}
    out = []
    for child in children:
        seen[child["tag"]] = seen.get(child["tag"], 0) + 1
        tag = child["tag"].partition("_")[0].lower()
        if child.get("id") and _SELECTOR_ID.match(child["id"]):
            part = "#" + child["id"]
        elif totals[child["tag"]] > 1:
            part = f"{tag}:nth-of-type({seen[child['tag']]})"
        else:
            part = tag
        out.append((child, part))
    return out


def _box(node: dict[str, Any]) -> dict[str, float]:
    return {
        k: round(float(node.get(src) or 0), 2)
        for k, src in (("x", "left"), ("y", "top"), ("width", "width"), ("height", "height"))
    }


def _element(
    node: dict[str, Any],
    tag: str,
    input_type: str,
    own: str,
    parent: int | None,
    selector: str,
    label: str,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "ref": node["ref"],
        "tag": tag,
        "box": _box(node),
        "focused": bool(node.get("focused")),
    }
    if parent is not None:
        element["parent"] = parent
    if node.get("id"):
        element["id"] = node["id"]
    classes = collapse(node.get("classes") or "")
    if classes:
        element["classes"] = classes
    role = (
        INPUT_ROLES.get(input_type or "text", "textbox") if tag == "input" else TAG_ROLES.get(tag)
    )
    if role:
        element["role"] = role
    value = node.get("value")
    if tag == "input" and input_type in MASKED_INPUT_TYPES:
        # Masked as the live recorder masks them: no value, no text, no name.
        element["masked"] = True
        element["filled"] = bool(value)
        own, value = "", None
    if tag in LABELLED_TAGS and label:
        name = label
    elif tag == "input" and input_type in ("button", "submit", "reset") and isinstance(value, str):
        name = collapse(value)
    else:
        name = collapse(_all_text(node)) if tag in NAMED_BY_TEXT else ""
    if name:
        element["name"] = name
    if tag == "input":
        element["input_type"] = input_type or "text"
    if own:
        element["text"] = own
    if isinstance(value, bool):
        element["checked"] = value
    elif tag == "option":
        element["checked"] = painted(node) is not None
    elif value is not None and tag in ("input", "textarea", "select"):
        element["value"] = str(value)
    element["selector"] = selector
    return element


def target_of(element: Element) -> Target:
    """The event target descriptor for an element of a snapshot."""
    return Target(
        tag=element.tag,
        id=element.id,
        role=element.role,
        name=element.name,
        selector=element.selector,
        box=Box.model_validate(element.box.model_dump()),
        ref=element.ref,
        input_type=element.input_type,
        masked=element.masked,
    )
