"""Fills in the sample expense claim the way a person would: mouse and keyboard only.

Used by ``make demo`` (``python -m demoforge.demo``) and as an example of an
actor file for ``demoforge record URL --actor FILE``.
"""

from playwright.sync_api import Page


def click(page: Page, selector: str) -> None:
    """Move to the middle of an element and click there, like a person aiming.

    Whole pixels, like a mouse on a screen at scale 1.
    """
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not visible"
    x, y = round(box["x"] + box["width"] / 2), round(box["y"] + box["height"] / 2)
    page.mouse.move(x, y, steps=8)
    page.mouse.down()
    page.mouse.up()


def act(page: Page) -> None:
    click(page, "#name")
    page.keyboard.type("Ada Lovelace", delay=20)
    click(page, "#email")
    page.keyboard.type("ada@example.org", delay=20)
    click(page, "#department")  # opens the native list; the keyboard picks an entry
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowDown")
    click(page, "#category-button")
    click(page, "#cat-lodging")
    click(page, "#amount")
    page.keyboard.type("184.50", delay=20)
    page.keyboard.press("Tab")
    box = page.locator("#policy").bounding_box()
    assert box is not None
    page.mouse.move(round(box["x"] + 100), round(box["y"] + 60), steps=5)
    for _ in range(3):
        page.mouse.wheel(0, 120)
        page.wait_for_timeout(120)
    click(page, "#agree")
    click(page, "#password")
    page.keyboard.type("hunter2-Secret!", delay=20)
    click(page, "#submit")
    page.wait_for_selector("#result:has-text('Claim submitted')")
