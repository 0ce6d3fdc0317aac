"""The app served on loopback, driven by headless Debian Chromium: ask, see the answer and a source, kiosk mode."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from assistant.app.browser import CHROMIUM, ask, chromium, serve_app, wait_idle, wait_ready
from assistant.settings import KNOWLEDGE_DIR

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium absent (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api")


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Settings for an app served in a test: a copy of the corpus, the fake encoder, temp folders."""
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


def test_chat_then_kiosk_in_a_real_browser(tmp_path: Path) -> None:
    env = app_env(tmp_path, CEP_ADMIN_PASSWORD="pw", CEP_KIOSK_IDLE_SECONDS="8")
    with serve_app(env) as url, chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.goto(url)
        wait_ready(page)
        assert page.get_by_role("heading", name="Assistant CEP", exact=True).is_visible()

        ask(page, "Combien d'entrées en CEP pour l'APEC en Occitanie en 2021 ?")
        messages = page.locator('[data-testid="stChatMessage"]')
        answer = messages.nth(1)
        assert answer.inner_text().strip()
        assert answer.get_by_text("Sources (").is_visible()
        assert answer.get_by_text("Rapport annuel 2021").first.is_visible()

        typed = "<img src=x onerror=alert(1)> [lien](http://evil.example) www.evil.example"
        ask(page, typed)
        shown = messages.nth(2).inner_text().replace("\u2060", "")
        assert typed in shown  # shown as typed, as text
        assert messages.nth(2).locator("img, a").count() == 0  # no image, no link

        page.goto(f"{url}/?kiosk=1&page=admin")
        page.wait_for_selector("text=Votre avenir professionnel", timeout=60_000)
        wait_idle(page)
        assert (
            page.locator('[data-testid="stSidebar"]').count() == 0
            or not page.locator('[data-testid="stSidebar"]').is_visible()
        )
        assert not page.locator('[data-testid="stMainMenu"]').is_visible()
        assert page.locator('input[type="password"]').count() == 0
        assert page.locator('[data-testid="stFileUploader"]').count() == 0
        page.get_by_role("button", name="Je suis salarié·e").click()
        page.wait_for_selector('[data-testid="stChatMessage"]', timeout=60_000)
        wait_idle(page)
        assert page.get_by_role("button", name="Recommencer").is_visible()
        page.get_by_role("button", name="Recommencer").click()
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stChatMessage\"]')", timeout=30_000)

        # left alone, the kiosk forgets the visitor's questions by itself
        page.get_by_role("button", name="Je cherche un emploi").click()
        page.wait_for_selector('[data-testid="stChatMessage"]', timeout=60_000)
        started = time.monotonic()
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stChatMessage\"]')", timeout=40_000)
        assert time.monotonic() - started >= 5


QUESTIONS = [
    *(
        f"Combien de {what} en CEP pour {op} en Occitanie en 2021 ?"
        for what in ("entrées", "sorties", "bénéficiaires")
        for op in ("l'APEC", "Pôle emploi", "Cap emploi", "les Missions Locales", "le Réseau EVA")
    ),
    "Le CEP est-il gratuit ?",
    "Je suis cadre salarié et je veux changer de métier : qui contacter ?",
    "J'ai 22 ans et je cherche un emploi, qui peut m'aider ?",
    "Est-ce que le CEP est confidentiel ?",
    "Je suis en situation de handicap et salarié, vers qui aller ?",
]


def test_twenty_sessions_at_once_each_get_their_own_answer(tmp_path: Path) -> None:
    env = app_env(tmp_path)
    assert len(set(QUESTIONS)) == 20
    with serve_app(env) as url, chromium(tmp_path / "profile") as browser:
        pages = [browser.new_page() for _ in QUESTIONS]
        for page in pages:
            page.goto(url)
        for page in pages:
            wait_ready(page)
        sent = {}
        for page, question in zip(pages, QUESTIONS, strict=True):  # all sent before any answer is awaited
            box = page.locator('[data-testid="stChatInput"] textarea')
            box.fill(question)
            box.press("Enter")
            sent[question] = time.monotonic()
        latencies = []
        for page, question in zip(pages, QUESTIONS, strict=True):
            page.wait_for_function(
                "() => document.querySelectorAll('[data-testid=\"stChatMessage\"]').length >= 2", timeout=120_000
            )
            wait_idle(page)
            latencies.append(time.monotonic() - sent[question])
            messages = page.locator('[data-testid="stChatMessage"]')
            assert messages.count() == 2  # its own question and answer, nobody else's
            assert messages.nth(0).inner_text().replace("\u2060", "").strip().endswith(question)
            assert messages.nth(1).inner_text().strip()
            assert page.locator('[data-testid="stException"]').count() == 0
        latencies.sort()
        print(f"20 sessions : latence médiane {latencies[10]:.1f} s, max {latencies[-1]:.1f} s")
