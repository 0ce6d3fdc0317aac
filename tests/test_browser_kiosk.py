"""The kiosk in headless Chromium on a portrait (1080×1920) and a landscape (1920×1080) screen: after each tap
of every situation path, the pending question or the newest answer's first operator card is in view."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from assistant.app.browser import CHROMIUM, app_env, chromium, serve_app, wait_ready
from assistant.app.kiosk import choose, load_kiosk, paths, question_of, start
from assistant.settings import KNOWLEDGE_DIR

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium absent (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api")

SCREENS = {"portrait": (1080, 1920), "paysage": (1920, 1080)}


def taps() -> list[list[str]]:
    """Every path of every situation button, as the labels a visitor taps (from knowledge/kiosk.toml)."""
    data = load_kiosk(KNOWLEDGE_DIR)
    out = []
    for button in data.buttons:
        for end in paths(data, button.id):
            labels, step = [button.label], start(data, button.id)
            for chosen in end.path[1:]:
                choice = question_of(data, step)
                assert choice is not None
                option = next(i for i, o in enumerate(choice.options) if chosen == f"{choice.question} {o.label}")
                labels.append(choice.options[option].label)
                step = choose(data, step, option)
            out.append(labels)
    return out


def in_view(page: Any, selector: str) -> tuple[bool, str]:
    """Whether the first element of `selector` starts inside the screen and its first line is fully in it."""
    box = page.locator(selector).first.bounding_box()
    height = page.viewport_size["height"]
    if box is None:
        return False, f"{selector} absent"
    top = box["y"]
    return top >= 0 and top + min(box["height"], 120) <= height, f"{selector} à y={top:.0f} (écran {height})"


def focus_in_view(page: Any, pending: bool) -> tuple[bool, str]:
    if pending:  # the clarifying question and its answers
        return in_view(page, '.st-key-kiosk-choice [data-testid="stHeading"]')
    # the newest answer's « Qui peut vous accompagner ? » and its first operator card (the name)
    heading_ok, heading = in_view(page, '.st-key-kiosk-focus h3:has-text("Qui peut vous accompagner")')
    ok, where = in_view(page, ".st-key-kiosk-focus h4")
    return ok and heading_ok, f"{heading} ; {where}"


SIGNATURE = """() => {
  const caption = document.querySelector('.st-key-kiosk-choice [data-testid="stCaptionContainer"]');
  return [caption ? caption.innerText : '', document.querySelectorAll('[data-testid="stChatMessage"]').length,
          document.querySelectorAll('.st-key-kiosk-focus h4').length].join('|');
}"""


def tap(pages: list[Any], label: str, area: str) -> None:
    """Taps the same button on every screen, then waits on each until what a tap changes has changed: the path
    above the pending question, the number of messages, the answer's cards (every tap changes one of them). A
    wait on the script's running state missed runs too quick to be drawn and then waited 15 s for nothing."""
    before = []
    for page in pages:
        before.append(page.evaluate(SIGNATURE))
        page.locator(area).get_by_role("button", name=label, exact=True).click()
    for page, seen in zip(pages, before, strict=True):
        page.wait_for_function(f"(seen) => ({SIGNATURE})() !== seen", arg=seen, timeout=30_000)


def settle(page: Any, pending: bool, timeout_s: float = 8.0) -> tuple[bool, str]:
    """The first card or question in view once the page has settled (the scroll follows the run)."""
    deadline = time.monotonic() + timeout_s
    ok, where = False, ""
    while time.monotonic() < deadline:
        ok, where = focus_in_view(page, pending)
        if ok:
            page.wait_for_timeout(400)  # still there once Streamlit's own scrolling is over
            return focus_in_view(page, pending)
        page.wait_for_timeout(200)
    return ok, where


@pytest.mark.parametrize("screen", list(SCREENS))
def test_each_kiosk_path_shows_its_question_then_its_operator_in_view(tmp_path: Path, screen: str) -> None:
    """One screen a test: the two screens run on the two workers (one app each), the longest browser test halved."""
    sequences = taps()
    assert len(sequences) >= 10
    started = time.monotonic()
    failures: list[str] = []
    with serve_app(app_env(tmp_path)) as url, chromium(tmp_path / "profile") as browser:
        pages = {}
        for name, (width, height) in SCREENS.items():
            if name != screen:
                continue
            page = browser.new_page()
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"{url}/?kiosk=1")
            wait_ready(page)
            pages[name] = page
        screens = list(pages.values())
        for name, page in pages.items():
            # no status box for visitors (« Assistant prêt (… s) » of the first start)
            assert not page.get_by_text("Assistant prêt").is_visible(), name
        for labels in sequences:
            for i, label in enumerate(labels):
                tap(screens, label, ".st-key-kiosk-situations" if i == 0 else ".st-key-kiosk-choice")
                pending = i < len(labels) - 1
                for name, page in pages.items():
                    ok, where = settle(page, pending)
                    if not ok:
                        failures.append(f"{name} {' → '.join(labels[: i + 1])} : {where}")
            for page in screens:
                page.locator(".st-key-kiosk-focus").get_by_role("button", name="Recommencer", exact=True).click()
            for page in screens:
                page.wait_for_function(f"() => ({SIGNATURE})() === '|0|0'")
        for name, page in pages.items():
            box = page.locator(".st-key-kiosk-situations button").first.bounding_box()
            assert box is not None and box["width"] >= 300, name  # big buttons on both screens
    print(f"{len(sequences)} parcours, écran {screen}, en {time.monotonic() - started:.0f} s")
    assert not failures, "\n".join(failures)
