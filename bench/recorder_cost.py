"""In-page cost of the demoforge recorder beside rrweb, and bytes stored per hour.

Usage: .venv/bin/python bench/recorder_cost.py [--reps 3] [--rows 3000] [--compare REV]
Needs rrweb from npm once: npm install --prefix bench   (see bench/package.json)

``--compare REV`` (a git revision such as HEAD, or a file) adds an earlier
recorder.js as a fourth variant, "demoforge@REV", measured in the same rotation,
so that a change to the recorder is judged against its predecessor under the
same load.

The same actor (the bundled expense-form actor, real mouse and keyboard input)
runs on the same page in the same browser, once with no recorder (baseline),
once with demoforge's recorder and once with rrweb's, repeated ``--reps``
times in rotation. Cost is main-thread script time from Chrome's own
``Performance.getMetrics`` (ScriptDuration), taken after the page loaded and
again when the actor is done: the recorder's extra script time over the
baseline, divided by the events it recorded. The page load (demoforge's first
snapshot, rrweb's full DOM serialisation) is reported apart, and so is the part
of demoforge's time spent in its own listeners (the rest is the masking script
Playwright runs in the page for each screenshot).

Two pages: the sample form as shipped, and the same form with a table of
``--rows`` rows appended, because both recorders' cost grows with the DOM.

rrweb runs with its defaults (mouse moves sampled every 50 ms, scroll every
100 ms) and its events are shipped to Python every 500 ms through a binding,
as a deployment would upload them; demoforge ships each event as it happens.

Bytes per hour: the demoforge session is uploaded into an embedded store in a
temporary ``$DEMOFORGE_HOME`` and the store's bytes on disk (SQLite with its
WAL, zstd blobs) are divided by the session's duration. rrweb's is its JSON
event stream, raw and zstd-compressed. The scripted actor is faster than a
person, so per-hour figures are upper bounds for this page.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import zstandard
from playwright.sync_api import Browser, BrowserContext, CDPSession, Page
from rich.console import Console
from rich.table import Table

from demoforge.capture.browser import launch_browser
from demoforge.capture.session import Recording, load_actor
from demoforge.capture.snapshot import DEFAULT_MASK_SELECTORS, recorder_source
from demoforge.capture.spool import Spool
from demoforge.capture.uploader import connect
from demoforge.samples import sample_path

RRWEB = Path(__file__).parent / "node_modules" / "rrweb" / "dist" / "record" / "rrweb-record.min.js"
RRWEB_START = """
window.__rrwebEvents = 0;
(function () {
  var buffer = [];
  rrwebRecord({ emit: function (e) { buffer.push(e); window.__rrwebEvents++; } });
  setInterval(function () {
    if (buffer.length) { window.__rrwebShip(JSON.stringify(buffer)); buffer = []; }
  }, 500);
})();
"""


def script_seconds(cdp: CDPSession) -> float:
    metrics = cdp.send("Performance.getMetrics")["metrics"]
    return next(m["value"] for m in metrics if m["name"] == "ScriptDuration")


def listener_seconds(page: Page) -> float:
    """Time spent inside demoforge's own listeners (recorder.js keeps the tally); the rest
    of its extra script time is Playwright's masking script run for each screenshot."""
    return page.evaluate("window.__demoforge.stats.ms") / 1000


class Run:
    """One recorder variant on one page, over the repetitions."""

    def __init__(self) -> None:
        self.load_s: list[float] = []
        self.actor_s: list[float] = []
        self.listener_s: list[float] = []
        self.events: list[int] = []
        self.bytes_per_hour: list[float] = []
        self.zstd_bytes_per_hour: list[float] = []


class Rrweb:
    """rrweb's recorder in every page of a context, its batches shipped to Python."""

    def __init__(self, context: BrowserContext) -> None:
        self.shipped: list[list[object]] = []
        context.expose_binding("__rrwebShip", lambda _source, batch: self.shipped.append(json.loads(batch)))
        # One script: Playwright runs each init script in its own function scope.
        context.add_init_script(script=RRWEB.read_text() + "\n" + RRWEB_START)

    def count(self, page: Page) -> int:
        return page.evaluate("window.__rrwebEvents")

    def stream(self) -> bytes:
        return json.dumps([e for batch in self.shipped for e in batch]).encode()


def earlier_recorder(rev: str) -> str:
    """recorder.js as of git revision ``rev`` (or the file ``rev``), masks filled in."""
    path = Path(rev)
    if path.is_file():
        source = path.read_text()
    else:
        source = subprocess.run(
            ["git", "show", f"{rev}:demoforge/capture/recorder.js"],
            cwd=Path(__file__).parent, check=True, capture_output=True, text=True,
        ).stdout
    return recorder_source(DEFAULT_MASK_SELECTORS, source)


def measure(
    browser: Browser, url: str, variant: str, run: Run, home: Path, scripts: dict[str, str]
) -> None:
    """One run of the actor; ``scripts`` maps the demoforge variants to their recorder."""
    act = load_actor(sample_path("expense_actor.py"))
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    recording: Recording | None = None
    rrweb: Rrweb | None = None
    spool: Spool | None = None
    if variant in scripts:
        spool = Spool(home / "spool.db")
        recording = Recording(spool, script=scripts[variant])
        recording.attach(context)
    elif variant == "rrweb":
        rrweb = Rrweb(context)

    def recorded(page: Page) -> int:
        if recording is not None:
            return sum(recording.counts.values())
        return rrweb.count(page) if rrweb is not None else 0

    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto(url)
    page.wait_for_timeout(300)
    if recording is not None:
        recording.settle(page)
    loaded = script_seconds(cdp)
    before = recorded(page)
    own_before = listener_seconds(page) if recording is not None else 0.0
    started = time.time()
    act(page)
    page.wait_for_timeout(600)  # let rrweb's last 500 ms batch and the samplers flush
    if recording is not None:
        recording.settle(page)
    run.actor_s.append(script_seconds(cdp) - loaded)
    if recording is not None:
        run.listener_s.append(listener_seconds(page) - own_before)
    run.load_s.append(loaded)
    run.events.append(recorded(page) - before)
    duration_h = (time.time() - started) / 3600
    context.close()
    if spool is not None:
        connect(spool, db=f"sqlite:///{home / 'demoforge.db'}").drain()
        spool.close()
        stored = sum(f.stat().st_size for f in home.rglob("*") if f.is_file() and "spool" not in f.name)
        run.bytes_per_hour.append(stored / duration_h)
    if rrweb is not None:
        raw = rrweb.stream()
        run.bytes_per_hour.append(len(raw) / duration_h)
        run.zstd_bytes_per_hour.append(len(zstandard.ZstdCompressor(level=3).compress(raw)) / duration_h)


def large_form(rows: int, folder: Path) -> Path:
    """The sample form with a table of ``rows`` rows of text after it."""
    html = sample_path("expense_form.html").read_text()
    table = "".join(
        f"<tr><td>2026-01-{i % 28 + 1:02d}</td><td>Receipt {i}</td><td>{i * 7 % 500}.00</td></tr>"
        for i in range(rows)
    )
    path = folder / f"expense_form_{rows}_rows.html"
    path.write_text(html.replace("</main>", f"<table id='history'>{table}</table></main>"))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--compare", metavar="REV", help="also run recorder.js of this git revision or file")
    args = parser.parse_args()
    if not RRWEB.exists():
        raise SystemExit(f"{RRWEB} is missing: run `npm install --prefix bench` first")
    console = Console(width=140)  # wide enough for the tables not to wrap
    scripts = {"demoforge": recorder_source()}
    if args.compare:
        scripts[f"demoforge@{args.compare}"] = earlier_recorder(args.compare)
    variants = ("baseline", *scripts, "rrweb")
    with tempfile.TemporaryDirectory() as tmp:
        pages = {
            "sample form": sample_path("expense_form.html"),
            f"form + {args.rows} rows": large_form(args.rows, Path(tmp)),
        }
        results: dict[tuple[str, str], Run] = {}
        with launch_browser() as browser:
            for rep in range(args.reps):
                for page_no, (page_name, path) in enumerate(pages.items()):
                    for variant in variants:
                        run = results.setdefault((page_name, variant), Run())
                        home = Path(tmp) / f"home-{rep}-{page_no}-{variant}"
                        home.mkdir()
                        os.environ["DEMOFORGE_HOME"] = str(home)
                        measure(browser, path.as_uri(), variant, run, home, scripts)
                        console.print(f"rep {rep + 1}/{args.reps} {page_name} {variant} done")
    console.print(cost_table(results, pages, variants, args.reps))
    console.print(bytes_table(results, pages, scripts))


def cost_table(results: dict[tuple[str, str], Run], pages: dict, variants: tuple, reps: int) -> Table:
    table = Table(title=f"Main-thread script time (median of {reps} runs)")
    for col in ("page", "recorder", "load ms", "actor ms", "extra over baseline ms",
                "in own listeners ms", "events recorded", "µs per event"):
        table.add_column(col, justify="right" if col not in ("page", "recorder") else "left")
    for page_name in pages:
        base = statistics.median(results[(page_name, "baseline")].actor_s)
        for variant in variants:
            run = results[(page_name, variant)]
            actor = statistics.median(run.actor_s)
            events = statistics.median(run.events)
            extra = actor - base
            per_event = f"{extra / events * 1e6:.0f}" if events else "-"
            own = f"{statistics.median(run.listener_s) * 1e3:.1f}" if run.listener_s else "-"
            table.add_row(page_name, variant, f"{statistics.median(run.load_s) * 1e3:.1f}",
                          f"{actor * 1e3:.1f}", f"{extra * 1e3:.1f}" if variant != "baseline" else "-",
                          own, f"{events:.0f}", per_event)
    return table


def bytes_table(results: dict[tuple[str, str], Run], pages: dict, scripts: dict[str, str]) -> Table:
    table = Table(title="Bytes stored per hour of this actor's activity (median)")
    table.add_column("page")
    table.add_column("recorder")
    table.add_column("what", justify="left")
    table.add_column("MB per hour", justify="right")
    for page_name in pages:
        for variant in scripts:
            ours = results[(page_name, variant)]
            table.add_row(page_name, variant, "store: SQLite+WAL, zstd blobs (screenshots, snapshots)",
                          f"{statistics.median(ours.bytes_per_hour) / 1e6:.1f}")
        rr = results[(page_name, "rrweb")]
        table.add_row(page_name, "rrweb", "JSON events", f"{statistics.median(rr.bytes_per_hour) / 1e6:.1f}")
        table.add_row(page_name, "rrweb", "JSON events, zstd",
                      f"{statistics.median(rr.zstd_bytes_per_hour) / 1e6:.1f}")
    return table


if __name__ == "__main__":
    main()
