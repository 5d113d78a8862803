"""The suites: demonstrated follows the data's manifest, unseen has no demonstrations."""

from __future__ import annotations

import pytest

from demoforge.evaluate.miniwob_env import task_path
from demoforge.evaluate.suites import UNSEEN, demonstrated_tasks, demos_root, suite_tasks

pytestmark = pytest.mark.skipif(
    not (demos_root() / "MANIFEST.tsv").is_file(), reason="the MiniWoB++ demonstrations are not mounted"
)


def test_demonstrated_suite_is_the_manifests_tasks() -> None:
    tasks = demonstrated_tasks()
    assert len(tasks) == 60 and "login-user" in tasks and "flight.Alaska-auto" in tasks
    assert all(task_path(t).is_file() for t in tasks)


def test_unseen_suite_has_twenty_form_and_menu_tasks_without_demos() -> None:
    unseen = suite_tasks("unseen")
    assert len(unseen) >= 20
    assert not set(unseen) & set(demonstrated_tasks())
    assert all(task_path(t).is_file() and UNSEEN[t] for t in unseen)
