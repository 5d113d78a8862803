from __future__ import annotations

from pathlib import Path

import pytest

from tests.learn.tiny_dataset import make_examples, write_dataset


@pytest.fixture
def tiny_dataset(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "dataset", make_examples(120))
