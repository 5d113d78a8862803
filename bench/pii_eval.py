"""Per-entity recall and precision of the collector's redactor on the labelled corpus.

Usage: .venv/bin/python bench/pii_eval.py [--per-entity 300] [--show-errors]

Beside the redactor it scores Presidio's stock pattern recognizers (same
no_op engine, same threshold) on the same corpus in the same run, so the
table shows what demoforge's own recognizers add. Prints the analysis time
per text for both.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "privacy"))

import pii_corpus  # noqa: E402
from presidio_analyzer import AnalyzerEngine  # noqa: E402
from presidio_analyzer.nlp_engine import NoOpNlpEngine  # noqa: E402

from demoforge.privacy.redaction import SCORE_THRESHOLD, Redactor  # noqa: E402


def stock_finder() -> pii_corpus.Finder:
    """Presidio's predefined recognizers as shipped, offline (no spaCy model)."""
    engine = AnalyzerEngine(nlp_engine=NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "no_op"}]))

    def find(texts: list[str]) -> list[list[tuple[str, int, int]]]:
        return [
            [(r.entity_type, r.start, r.end) for r in engine.analyze(t, language="en", score_threshold=SCORE_THRESHOLD)]
            for t in texts
        ]

    return find


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-entity", type=int, default=300, help="generated examples per entity and kind")
    parser.add_argument("--show-errors", action="store_true", help="print misses and false positives")
    args = parser.parse_args()

    examples = pii_corpus.corpus(args.per_entity)
    print(f"corpus: {len(examples)} texts, {sum(len(e.spans) for e in examples)} gold spans")
    for name, find in (("presidio stock (baseline)", stock_finder()), ("demoforge redactor", pii_corpus.redactor_finder(Redactor()))):
        start = time.perf_counter()
        found = find([e.text for e in examples])
        elapsed = time.perf_counter() - start
        print(f"\n== {name}: {elapsed / len(examples) * 1000:.2f} ms per text")
        print(pii_corpus.table(pii_corpus.score(examples, found)))
        if args.show_errors:
            for line in pii_corpus.errors(examples, found):
                print(line)


if __name__ == "__main__":
    main()
