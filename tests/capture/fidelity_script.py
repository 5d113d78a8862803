"""The known script the fidelity test performs, and what it must produce.

A ``ScriptedActor`` drives the sample expense form through real input
(``page.mouse``, ``page.keyboard``) and writes down, as it goes, every click
it made (where, on what), every key it pressed, every value a field must
commit and which events are action boundaries. The test then compares that
list with what was recorded: nothing missing, nothing extra.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playwright.sync_api import Page

from demoforge.events import MASK_CHAR

PASSWORD = "Tr0ub4dor&3-canary"


@dataclass(frozen=True)
class ScriptedClick:
    x: int
    y: int
    target_id: str


@dataclass(frozen=True)
class ScriptedKey:
    key: str  # as recorded: MASK_CHAR for printable keys in masked fields
    target_id: str
    masked: bool
    starts_run: bool  # the first key of a typing run: an action boundary


@dataclass
class ScriptedActor:
    clicks: list[ScriptedClick] = field(default_factory=list)
    keys: list[ScriptedKey] = field(default_factory=list)
    #: (field id, committed value or None when masked), in commit order
    commits: list[tuple[str, str | None]] = field(default_factory=list)
    wheels: int = 0

    @property
    def actions(self) -> int:
        return len(self.clicks) + len(self.keys) + self.wheels

    def click(self, page: Page, element_id: str) -> None:
        box = page.locator(f"#{element_id}").bounding_box()
        assert box is not None
        x, y = round(box["x"] + box["width"] / 3), round(box["y"] + box["height"] / 2)
        page.mouse.move(x, y, steps=4)
        page.mouse.down()
        page.mouse.up()
        self.clicks.append(ScriptedClick(x, y, element_id))

    def type(self, page: Page, text: str, element_id: str, masked: bool = False) -> None:
        for i, char in enumerate(text):
            page.keyboard.press(char)
            self.keys.append(ScriptedKey(MASK_CHAR if masked else char, element_id, masked, i == 0))

    def press(self, page: Page, key: str, element_id: str, starts_run: bool) -> None:
        page.keyboard.press(key)
        self.keys.append(ScriptedKey(key, element_id, False, starts_run))

    def act(self, page: Page) -> None:
        self.click(page, "name")
        self.type(page, "Grace Hopper", "name")
        self.click(page, "email")  # commits the name
        self.commits.append(("name", "Grace Hopper"))
        self.type(page, "grace@navy.mil", "email")
        # The <select> by keyboard: a click would open the browser's own list, whose keys
        # never reach the page.
        self.press(page, "Tab", "email", starts_run=False)
        self.commits.append(("email", "grace@navy.mil"))
        self.press(page, "ArrowDown", "department", starts_run=True)
        self.commits.append(("department", "eng"))  # a closed <select> commits each step
        self.press(page, "ArrowDown", "department", starts_run=True)
        self.commits.append(("department", "sales"))
        self.click(page, "category-button")  # the custom drop-down menu
        self.click(page, "cat-meals")
        self.click(page, "amount")
        self.type(page, "42.10", "amount")
        self.press(page, "Tab", "amount", starts_run=False)
        self.commits.append(("amount", "42.10"))
        policy = page.locator("#policy").bounding_box()
        assert policy is not None
        page.mouse.move(round(policy["x"] + 50), round(policy["y"] + 50), steps=3)
        for _ in range(3):
            page.mouse.wheel(0, 90)
            self.wheels += 1
            page.wait_for_function("document.getElementById('policy').scrollTop > 0")
        self.click(page, "agree")
        self.commits.append(("agree", "on"))
        self.click(page, "password")
        self.type(page, PASSWORD, "password", masked=True)
        self.click(page, "submit")
        self.commits.append(("password", None))
        page.wait_for_selector("#result:has-text('Claim submitted for 42.10 EUR (Meals)')")
