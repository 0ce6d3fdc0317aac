"""Serve the app on loopback and drive it with headless Chromium (the browser test and the screenshots script)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from assistant.settings import KNOWLEDGE_DIR, PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Settings for an app served in a test: a copy of the corpus, the fake encoder, temp folders, no kiosk."""
    corpus = tmp_path / "documents"
    shutil.copytree(KNOWLEDGE_DIR / "documents", corpus)
    return {
        "CEP_MODEL": "hash-fake",
        "CEP_CORPUS_DIR": str(corpus),
        "CEP_INDEX_DIR": str(tmp_path / "index"),
        "CEP_DATA_DIR": str(tmp_path / "data"),
        "CEP_KIOSK": "0",
        **extra,
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve_app(
    env: Mapping[str, str], port: int | None = None, timeout: float = 120.0, root: Path = PROJECT_ROOT
) -> Iterator[str]:
    """Run ``streamlit run streamlit_app.py`` of the checkout `root` on 127.0.0.1; yields its URL, stops it on exit."""
    port = port or free_port()
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(root / "streamlit_app.py"),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, cwd=root, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"streamlit s'est arrêté :\n{log.read().decode(errors='replace')[-3000:]}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"streamlit ne répond pas sur {url} après {timeout:.0f} s")
                time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def chromium(user_data_dir: Path) -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright, with a fresh profile; yields the browser context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
            locale="fr-FR",
        )
        try:
            yield context
        finally:
            context.close()


def wait_ready(page: Any, timeout_ms: int = 180_000) -> None:
    """Waits until the app has loaded the assistant and finished its run."""
    page.wait_for_selector('[data-testid="stChatInput"] textarea', timeout=timeout_ms)
    wait_idle(page, timeout_ms)


def wait_idle(page: Any, timeout_ms: int = 60_000) -> None:
    """Waits until the script run is over (the "running" indicator gone)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.match(/Running|Exécution/)",
        timeout=timeout_ms,
    )


WATCH_RUNS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  window.__cepRuns = 0;
  if (app && !window.__cepObserver) {
    window.__cepObserver = new MutationObserver(() => {
      if (app.getAttribute('data-test-script-state') !== 'notRunning') window.__cepRuns += 1;
    });
    window.__cepObserver.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  }
}"""
RAN = """() => window.__cepRuns > 0
  && document.querySelector('[data-testid="stApp"]').getAttribute('data-test-script-state') === 'notRunning'"""


def rerun_after(page: Any, action: Callable[[], Any], timeout_ms: int = 15_000) -> None:
    """Does `action` (a click, a key, a file) and waits until the app has run its script for it.

    A fixed wait is wrong on a loaded machine (a run may start late), so the script state is watched
    for a change. When the browser was too busy to render the "running" state (two updates drawn as
    one), the wait ends after `timeout_ms` once the app is idle: the run is over by then.
    """
    page.evaluate(WATCH_RUNS)
    action()
    try:
        page.wait_for_function(RAN, timeout=timeout_ms)
    except Exception:  # playwright's TimeoutError: no state change seen
        wait_idle(page)


def ask(page: Any, question: str, timeout_ms: int = 60_000) -> None:
    """Types a question in the chat input and waits for its answer."""
    before = page.locator('[data-testid="stChatMessage"]').count()
    box = page.locator('[data-testid="stChatInput"] textarea')
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        f"() => document.querySelectorAll('[data-testid=\"stChatMessage\"]').length >= {before + 2}",
        timeout=timeout_ms,
    )
    wait_idle(page, timeout_ms)
