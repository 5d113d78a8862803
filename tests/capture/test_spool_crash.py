"""Crash safety: kill -9 a recording process after it spooled events; the next
start drains its spool, and the store ends with a complete, duplicate-free stream."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from pathlib import Path

from demoforge.store import Store

PRODUCER = Path(__file__).with_name("spool_producer.py")
N = 3000


def test_recorder_killed_after_spooling_loses_nothing(
    db_url, demoforge_home, tmp_path, collector, consenting_device
):
    sid = str(uuid.uuid4())
    spool = tmp_path / "spool.db"
    with Store.open(db_url, blobs_dir=demoforge_home / "blobs") as store:
        token = consenting_device(store)
        collector.start()
        args = [sys.executable, str(PRODUCER), str(spool), collector.url, token, sid]

        producer = subprocess.Popen([*args, str(N)], stdout=subprocess.PIPE, text=True)
        last_spooled = -1
        for line in producer.stdout:
            last_spooled = int(line.split()[1])
            if last_spooled >= N // 3:
                producer.send_signal(signal.SIGKILL)
                break
        producer.wait()
        producer.stdout.close()
        assert N // 3 <= last_spooled < N - 1, "the producer must die mid-recording"

        drained = subprocess.run([*args, "0"], timeout=900)
        assert drained.returncode == 0

        seqs = [e.seq for e in store.events(sid)]
        assert seqs == list(range(len(seqs)))  # a gap-free, duplicate-free prefix
        assert len(seqs) > last_spooled  # everything the producer had spooled
        assert store.session(sid).event_count == len(seqs)
