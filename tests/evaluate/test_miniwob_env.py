"""The environment reads MiniWoB++'s reward after real input, and shows the agent only the task."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from demoforge.agent.actuate import perform
from demoforge.capture.browser import launch_browser
from demoforge.dataset.actions import Action
from demoforge.evaluate.miniwob_env import MiniWoBEnv, task_path
from demoforge.events import Element

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_browser() as b:
        yield b


@pytest.fixture
def env(browser: Browser) -> Iterator[MiniWoBEnv]:
    e = MiniWoBEnv(browser, "click-button")
    yield e
    e.close()


def buttons(env: MiniWoBEnv) -> tuple[str, list[Element]]:
    obs = env.observe()
    return obs.instruction, [e for e in obs.snapshot.elements if e.tag == "button"]


def click(env: MiniWoBEnv, element: Element) -> None:
    x, y = element.box.middle()
    perform(env.page, Action(op="click", ref=element.ref, x=x, y=y), env.observe().snapshot)


def test_correct_click_is_a_success_and_wrong_click_a_failure(env: MiniWoBEnv) -> None:
    # The test, not the agent, reads the answer from the instruction to drive the page.
    env.reset("test-1")
    instruction, found = buttons(env)
    assert env.outcome().done is False
    wanted = instruction.split('"')[1]
    click(env, next(b for b in found if b.text == wanted))
    out = env.outcome()
    assert out.done and out.raw_reward == 1.0 and out.success

    for seed in range(2, 20):  # an instance with at least one wrong button
        env.reset(f"test-{seed}")
        instruction, found = buttons(env)
        wanted = instruction.split('"')[1]
        wrong = [b for b in found if b.text != wanted]
        if wrong:
            break
    click(env, wrong[0])
    out = env.outcome()
    assert out.done and out.raw_reward == -1.0 and not out.success


def test_same_seed_same_instance_and_harness_hidden(env: MiniWoBEnv) -> None:
    first = env.reset("same")
    second = env.reset("same")
    assert first.instruction == second.instruction
    assert [e.text for e in first.snapshot.elements] == [e.text for e in second.snapshot.elements]
    ids = {e.id for e in first.snapshot.elements}
    assert not ids & {"query", "reward-display", "sync-task-cover"}
    assert all(e.box.x + e.box.width / 2 <= 160 for e in first.snapshot.elements)
    assert first.instruction.startswith("Click on the")


def test_the_instruction_is_not_on_the_page_even_when_the_query_has_no_words_of_its_own(browser: Browser) -> None:
    """count-shape writes its question into a ``div`` inside ``#query``: ``#query`` has no
    text of its own and is not in the snapshot, but what lies inside it is harness too."""
    env = MiniWoBEnv(browser, "count-shape")
    try:
        obs = env.reset("query")
        assert obs.instruction.startswith("How many")
        assert obs.instruction not in [e.text for e in obs.snapshot.elements]
    finally:
        env.close()


def test_an_icon_the_query_draws_is_written_as_its_classes(browser: Browser) -> None:
    """click-menu-2 draws "the item with the [icon] icon", and its utterance drops the icon;
    click-color draws a swatch too, but its page words it ("Click on the red colored box")."""
    menu, colour = MiniWoBEnv(browser, "click-menu-2"), MiniWoBEnv(browser, "click-color")
    try:
        icon_instructions = [
            i for i in (menu.reset(f"icon-{k}").instruction for k in range(12)) if "labeled" not in i
        ]
        assert icon_instructions, "some instance names its item by an icon"
        for instruction in icon_instructions:
            assert re.search(r"with the ui-icon ui-icon-[\w-]+ icon\.$", instruction)
        for k in range(6):
            obs = colour.reset(f"swatch-{k}")
            assert obs.instruction == colour.page.evaluate("core.getUtterance()")
            assert "color colored" not in obs.instruction
    finally:
        menu.close()
        colour.close()


def test_an_episode_starts_with_nothing_focused(browser: Browser) -> None:
    """click-test-2 keeps its buttons between episodes: the last click's focus must not carry over."""
    env = MiniWoBEnv(browser, "click-test-2")
    try:
        env.reset("focus-1")
        click(env, buttons(env)[1][0])
        assert env.page.evaluate("document.activeElement.tagName") == "BUTTON"
        assert env.reset("focus-2").snapshot.focused is None
    finally:
        env.close()


def test_an_episode_starts_with_the_pointer_outside_the_task(browser: Browser) -> None:
    """A pointer left on a menu item by the last episode would open the new instance's submenu."""
    env = MiniWoBEnv(browser, "click-menu")
    try:
        item = next(e for e in env.reset("pointer-1").snapshot.elements if e.tag == "div" and e.text)
        env.page.mouse.move(*item.box.middle())
        assert env.page.evaluate("document.querySelectorAll('#area :hover').length") > 0
        env.reset("pointer-2")
        assert env.page.evaluate("document.querySelectorAll('#area :hover').length") == 0
    finally:
        env.close()


def test_gymnasium_style_step_reports_reward(env: MiniWoBEnv) -> None:
    obs = env.reset("step")
    wanted = obs.instruction.split('"')[1]
    target = next(b for b in obs.snapshot.elements if b.text == wanted)
    x, y = target.box.middle()
    next_obs, reward, terminated, truncated, info = env.step(Action(op="click", ref=target.ref, x=x, y=y))
    assert terminated and not truncated and next_obs is None
    assert reward > 0 and info["raw_reward"] == 1.0


def test_unknown_task_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown MiniWoB"):
        task_path("no-such-task")
    assert task_path("flight.Alaska-auto").name == "wrapper.html"


def test_natural_language_task_gives_the_utterance_not_the_answer_fields(browser: Browser) -> None:
    env = MiniWoBEnv(browser, "email-inbox-forward-nl")
    try:
        obs = env.reset("nl")
        assert isinstance(obs.instruction, str) and obs.instruction
        fields = env.page.evaluate("core.getUtterance().fields")
        assert fields, "the page does carry an answer key, which the agent is not given"
    finally:
        env.close()


def test_flight_page_is_observed_from_inside_its_frame(browser: Browser) -> None:
    """The flight form lives in a 375 x 667 iframe; the recordings saw that frame's
    document, so the agent does too: its fields, at the frame's coordinates, with
    neither the frame element nor the instruction column beside it."""
    env = MiniWoBEnv(browser, "flight.Alaska-auto")
    try:
        obs = env.reset("flight")
        by_id = {e.id: e for e in obs.snapshot.elements if e.id}
        assert {"geo-from", "geo-to", "departure-date"} <= set(by_id)
        assert "wrap" not in by_id and "query" not in by_id
        assert all(e.box.x + e.box.width / 2 < 375 for e in obs.snapshot.elements)
        assert by_id["geo-from"].parent is None or by_id["geo-from"].parent in {e.ref for e in obs.snapshot.elements}
        click(env, by_id["geo-from"])
        env.page.keyboard.type("Bos")
        env.page.wait_for_timeout(300)
        assert any("Boston" in (e.text or "") for e in env.observe().snapshot.elements), "real input reaches the frame"
    finally:
        env.close()
