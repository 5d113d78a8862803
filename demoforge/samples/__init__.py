"""A bundled sample page and actor: what `make demo` records."""

from importlib.resources import files
from pathlib import Path


def sample_path(name: str) -> Path:
    """Path of a bundled sample file (the form page, its actor)."""
    return Path(str(files(__name__).joinpath(name)))
