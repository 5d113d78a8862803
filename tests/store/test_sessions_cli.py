"""`demoforge sessions list|export` and `demoforge devices add`, through the real CLI."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from demoforge import events as ev
from demoforge.cli import app

runner = CliRunner()


def _ingest(store, make_session, n: int, start_ts: int):
    events, blobs = make_session(n, start_ts=start_ts)
    store.ingest(events, blobs)
    return events


def test_list_as_json_and_table(store, db_url, make_session):
    older = _ingest(store, make_session, 8, 1_000_000)
    newer = _ingest(store, make_session, 5, 2_000_000)
    listed = runner.invoke(app, ["sessions", "list", "--json", "--db", db_url])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [(r["id"], r["event_count"]) for r in rows] == [
        (newer[0].session_id, 5),
        (older[0].session_id, 8),
    ]
    assert rows[0]["instruction"] == "Type a name" and rows[0]["outcome"] == "success"
    table = runner.invoke(app, ["sessions", "list", "--db", db_url], env={"COLUMNS": "200"})
    assert newer[0].session_id in table.output and "2 session(s)" in table.output


def test_export_last_and_by_id_one_event_per_line(store, db_url, make_session):
    older = _ingest(store, make_session, 9, 1_000_000)
    newer = _ingest(store, make_session, 6, 2_000_000)
    last = runner.invoke(app, ["sessions", "export", "--last", "--format", "jsonl", "--db", db_url])
    assert last.exit_code == 0, last.output
    assert [json.loads(line) for line in last.stdout.splitlines()] == [ev.dump_event(e) for e in newer]
    by_id = runner.invoke(app, ["sessions", "export", older[0].session_id, "--db", db_url])
    lines = [json.loads(line) for line in by_id.stdout.splitlines()]
    assert [line["seq"] for line in lines] == list(range(9))
    assert {"type", "x", "y", "target"} <= set(lines[2]) and lines[2]["type"] == "pointer_down"
    assert "key" in lines[3] and "value" in lines[5]


def test_export_refuses_unclear_requests(store, db_url, make_session):
    assert runner.invoke(app, ["sessions", "export", "--last", "--db", db_url]).exit_code == 1  # empty
    _ingest(store, make_session, 4, 1_000)
    assert runner.invoke(app, ["sessions", "export", "--db", db_url]).exit_code == 2
    assert runner.invoke(app, ["sessions", "export", "--last", "--format", "csv", "--db", db_url]).exit_code == 2
    missing = runner.invoke(app, ["sessions", "export", "no-such-session", "--db", db_url])
    assert missing.exit_code == 1 and "no session" in missing.output


def test_devices_add_prints_a_working_token(store, db_url):
    added = runner.invoke(app, ["devices", "add", "--db", db_url])
    assert added.exit_code == 0, added.output
    token = added.stdout.strip().splitlines()[0]
    device = store.device_for_token(token)
    assert device is not None
    again = runner.invoke(app, ["devices", "add", "--contributor", device.contributor_id, "--db", db_url])
    assert store.device_for_token(again.stdout.strip().splitlines()[0]).contributor_id == device.contributor_id
    assert runner.invoke(app, ["devices", "add", "--contributor", "nobody", "--db", db_url]).exit_code == 2
