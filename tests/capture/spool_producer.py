"""A recorder-like process for the crash tests: spools events while uploading.

Usage: python spool_producer.py SPOOL SERVER TOKEN SESSION N

Appends events 0..N-1 of SESSION to the spool in small batches, as the
recorder does, with an uploader draining in the background, and prints
``spooled <seq>`` after each append has returned (i.e. is durable). With
N = 0 it only drains what an earlier, killed run left, then exits.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conftest import recorded_session  # noqa: E402

from demoforge.capture.spool import Spool  # noqa: E402
from demoforge.capture.uploader import Backoff, HttpTransport, Uploader  # noqa: E402

BATCH = 20


def main(spool_path: str, server: str, token: str, session_id: str, n: int) -> int:
    spool = Spool(Path(spool_path))
    uploader = Uploader(
        spool, HttpTransport(server, token), batch_events=30, backoff=Backoff(base=0.05, cap=0.5)
    )
    uploader.start(interval=0.02)
    if n:
        events, blobs = recorded_session(n, session_id)
        for start in range(0, n, BATCH):
            chunk = events[start : start + BATCH]
            spool.append(chunk, {e.blob: blobs[e.blob] for e in chunk if hasattr(e, "blob")})
            print(f"spooled {chunk[-1].seq}", flush=True)
    return 0 if uploader.stop(flush_timeout=600) else 1


if __name__ == "__main__":
    spool_arg, server_arg, token_arg, session_arg, n_arg = sys.argv[1:]
    sys.exit(main(spool_arg, server_arg, token_arg, session_arg, int(n_arg)))
