"""One way to start Chromium for every stage: recorder, agent, evaluator, tests.

Keeping the launch in one place means the flags that make Chromium quiet and
reproducible on a headless Debian box (no sandbox inside containers, no GPU,
no background network calls, no first-run UI) are decided once, and the
recorder and the agent see pages rendered by the same browser build.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from playwright.sync_api import Browser, Playwright, sync_playwright

#: The Debian package's binary; used when present so no browser download is needed.
SYSTEM_CHROMIUM = Path("/usr/bin/chromium")

CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)


class LaunchedBrowser:
    """A running Chromium and the Playwright driver behind it, closed together.

    Use it as a context manager (``with launch_browser() as browser:``, which
    yields the Playwright ``Browser``), or hold it and call ``close()`` when a
    long-lived user such as an evaluator runs many episodes in one browser.
    """

    def __init__(self, headless: bool = True) -> None:
        self._playwright: Playwright | None = sync_playwright().start()
        executable = str(SYSTEM_CHROMIUM) if SYSTEM_CHROMIUM.exists() else None
        try:
            self.browser: Browser = self._playwright.chromium.launch(
                headless=headless, executable_path=executable, args=list(CHROMIUM_ARGS)
            )
        except BaseException:
            self._playwright.stop()
            self._playwright = None
            raise

    def close(self) -> None:
        """Close the browser and stop the driver; safe to call twice."""
        if self._playwright is None:
            return
        try:
            self.browser.close()
        finally:
            self._playwright.stop()
            self._playwright = None

    def __enter__(self) -> Browser:
        return self.browser

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def launch_browser(headless: bool = True) -> LaunchedBrowser:
    """Start Chromium (the system one when installed) with demoforge's flags."""
    return LaunchedBrowser(headless=headless)
