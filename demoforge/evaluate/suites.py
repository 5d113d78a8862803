"""Which MiniWoB++ tasks an evaluation runs.

- ``demonstrated``: every task with human demonstrations in the data set
  (read from its ``MANIFEST.tsv``, so the suite follows the data).
- ``unseen``: form and menu tasks of the same benchmark that have *no*
  demonstrations, to measure how far behaviour learned on other pages
  carries over. Each is listed with why it counts as a form or menu task.
"""

from __future__ import annotations

import csv
from pathlib import Path

from demoforge import config
from demoforge.evaluate.miniwob_env import task_path


UNSEEN: dict[str, str] = {
    "book-flight": "flight search form (from/to/date fields), then a result list",
    "buy-ticket": "pick a ticket from a list by its fields and press its Buy button",
    "choose-date": "date picker form, the delayed variant of choose-date-*",
    "click-collapsible-2": "expand collapsible menu sections to find a link",
    "click-menu-2": "open a nested menu and choose an item",
    "click-tab-2-easy": "tab menu: switch tabs to find a link",
    "click-tab-2-medium": "tab menu: switch tabs to find a link",
    "email-inbox-delete": "inbox menu: open nothing, delete the named message",
    "email-inbox-forward": "inbox: open a message, fill the forward form",
    "email-inbox-important": "inbox menu: mark the named message important",
    "email-inbox-noscroll": "inbox: reply/forward/star forms without scrolling",
    "email-inbox-reply": "inbox: open a message, fill the reply form",
    "email-inbox-star-reply": "inbox: star a message and fill the reply form",
    "enter-text-2": "one-field text form, text transformed (case)",
    "find-word": "one-field text form: type a word found in a paragraph",
    "form-sequence": "form: slider, checkbox and submit in sequence",
    "form-sequence-2": "form: radio button, text field and submit",
    "form-sequence-3": "form: dropdown, radio button and submit",
    "number-checkboxes": "form of checkboxes drawn as a number, then submit",
    "order-food": "menu: order the named dish and submit",
    "phone-book": "paged contact list: find a contact and click its field",
    "read-table": "form: copy a value read from a table into a field",
    "read-table-2": "form: copy two values read from a table into fields",
    "sign-agreement": "form: scroll an agreement, tick, sign and submit",
    "text-transform": "one-field text form: type the distorted word shown",
}

SUITES = ("demonstrated", "unseen")


def demos_root() -> Path:
    return config.demos_dir()


def demonstrated_tasks(root: Path | None = None) -> list[str]:
    """Tasks that have at least one demonstration, from the data set's manifest."""
    manifest = (root or demos_root()) / "MANIFEST.tsv"
    if not manifest.is_file():
        raise FileNotFoundError(f"no demonstrations manifest at {manifest} (set DEMOFORGE_MINIWOB_DEMOS)")
    with manifest.open(newline="") as f:
        return sorted({row["task"] for row in csv.DictReader(f, delimiter="\t")})


def suite_tasks(suite: str) -> list[str]:
    if suite == "demonstrated":
        return demonstrated_tasks()
    if suite == "unseen":
        seen = set(demonstrated_tasks())
        overlap = seen & set(UNSEEN)
        if overlap:
            raise ValueError(f"tasks in the unseen suite have demonstrations: {sorted(overlap)}")
        return sorted(UNSEEN)
    raise ValueError(f"unknown suite {suite!r}; choose one of {', '.join(SUITES)}")


def check_tasks(tasks: list[str]) -> list[str]:
    """The tasks, each confirmed to have a page in the installed package."""
    for t in tasks:
        task_path(t)
    return tasks
