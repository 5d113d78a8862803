"""The big run of the generated-upload properties: 5,000 payloads each, 10,000 in all.

Usage: .venv/bin/python bench/ingest_fuzz.py [--per-property 5000]

Runs tests/privacy/test_ingest_fuzz.py with that many Hypothesis examples
per property: without consent no upload stores an event, and no upload
(with or without consent) gets a 5xx. Prints pytest's summary and the time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pytest

TEST = Path(__file__).resolve().parents[1] / "tests" / "privacy" / "test_ingest_fuzz.py"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-property", type=int, default=5000)
    args = parser.parse_args()
    os.environ["DEMOFORGE_FUZZ_EXAMPLES"] = str(args.per_property)
    start = time.perf_counter()
    code = pytest.main(["-q", "-p", "no:cacheprovider", "--timeout=3600", str(TEST)])
    print(f"{2 * args.per_property} generated uploads in {time.perf_counter() - start:.0f} s; pytest exit {code}")
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
