"""The app served on loopback, driven by headless Debian Chromium: ask, see the answer and a source, kiosk mode,
staff login and uploads, user data surviving a fresh checkout of the code."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.app.browser import CHROMIUM, app_env, ask, chromium, rerun_after, serve_app, wait_idle, wait_ready
from assistant.settings import PROJECT_ROOT

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium absent (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect  # noqa: E402


def press_until(page: Any, button: str, shown: str, tries: int = 3) -> None:
    """Presses a kiosk button until `shown` appears: with the short idle period of these tests (8 s), a
    slow machine may see the kiosk's own idle reset land right after the press and clear it."""
    for attempt in range(tries):
        rerun_after(page, page.get_by_role("button", name=button, exact=True).click)
        try:
            page.get_by_text(shown).wait_for(timeout=15_000)
            return
        except Exception:  # playwright's TimeoutError
            if attempt == tries - 1:
                raise
            wait_idle(page)


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
        press_until(page, "Je suis salarié·e", "Êtes-vous cadre ?")
        rerun_after(page, page.get_by_role("button", name="Non", exact=True).click)
        page.wait_for_selector('[data-testid="stChatMessage"]', timeout=60_000)
        expect(page.get_by_text("Opérateur à contacter").first).to_be_visible(timeout=15_000)
        expect(page.get_by_role("button", name="Recommencer")).to_be_visible(timeout=15_000)
        rerun_after(page, page.get_by_role("button", name="Recommencer").click)
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stChatMessage\"]')", timeout=30_000)

        # left alone, the kiosk forgets the visitor's answers and the text left unsent
        press_until(page, "Je cherche un emploi", "Avez-vous moins de 26 ans ?")
        rerun_after(page, page.get_by_role("button", name="Oui", exact=True).click)
        page.wait_for_selector('[data-testid="stChatMessage"]', timeout=60_000)
        draft = page.locator('[data-testid="stChatInput"] textarea')
        draft.fill("Mon nom est Jeanne Martin et je")
        started = time.monotonic()
        page.wait_for_function("() => !document.querySelector('[data-testid=\"stChatMessage\"]')", timeout=40_000)
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"stChatInput\"] textarea').value === ''", timeout=10_000
        )
        assert time.monotonic() - started >= 5
        assert page.locator('[data-testid="stChatInput"] textarea').input_value() == ""


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


# --- staff pages: login throttled per session, refused uploads in view ----------------------------------


def open_page(browser: Any, url: str, label: str) -> Any:
    page = browser.new_page()
    page.goto(url)
    wait_ready(page)
    rerun_after(page, page.locator('[data-testid="stSidebar"]').get_by_text(label).first.click)
    return page


def login(page: Any, password: str) -> None:
    page.get_by_label("Mot de passe de l'équipe").fill(password)
    rerun_after(page, page.get_by_role("button", name="Se connecter").click)


@pytest.fixture(scope="module")
def staff_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One app with a staff password for the tests of this section (each opens its own browser)."""
    tmp = tmp_path_factory.mktemp("staff")
    with serve_app(app_env(tmp, CEP_ADMIN_PASSWORD="bon-mot-de-passe")) as url:
        yield url


def test_five_wrong_passwords_in_one_session_do_not_block_the_right_one_in_another(
    staff_app: str, tmp_path: Path
) -> None:
    with chromium(tmp_path / "profile") as browser:
        _wrong_then_right(staff_app, browser)


def _wrong_then_right(url: str, browser: Any) -> None:
    attacker = open_page(browser, url, "Documents (admin)")
    for _ in range(5):
        login(attacker, "mauvais")
        assert attacker.get_by_text("Mot de passe incorrect.").is_visible()
    login(attacker, "bon-mot-de-passe")
    attacker.get_by_text("réessayez dans").wait_for(timeout=10_000)  # that session waits
    assert attacker.locator('[data-testid="stFileUploader"]').count() == 0

    admin = open_page(browser, url, "Documents (admin)")
    login(admin, "bon-mot-de-passe")
    admin.locator('[data-testid="stFileUploader"]').wait_for(timeout=30_000)
    rerun_after(admin, admin.locator('[data-testid="stSidebar"]').get_by_text("Avis des utilisateurs").first.click)
    assert admin.locator('input[type="password"]').count() == 0  # one login for both staff pages
    attacker.close()
    admin.close()


def test_a_refused_upload_shows_its_reason_without_a_click(staff_app: str, tmp_path: Path) -> None:
    with chromium(tmp_path / "profile") as browser:
        _refused_upload(staff_app, browser)


def _refused_upload(url: str, browser: Any) -> None:
    page = open_page(browser, url, "Documents (admin)")
    login(page, "bon-mot-de-passe")
    uploader = page.locator('[data-testid="stFileUploader"]')
    uploader.locator('input[type="file"]').set_input_files(
        files=[{"name": "virus.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x00"}]
    )
    reason = page.get_by_text("non pris en charge (PDF, TXT ou MD uniquement)")
    reason.wait_for(timeout=30_000)
    assert reason.is_visible()  # in view, nothing to open
    assert uploader.get_by_text("virus.exe").is_visible()  # the picker keeps the file
    # the button is drawn by the same rerun as the reason, possibly a moment later: wait for its state
    expect(page.get_by_role("button", name="Ajouter et indexer")).to_be_disabled(timeout=15_000)
    uploader.locator('input[type="file"]').set_input_files(
        files=[{"name": "....pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"}]
    )
    page.get_by_text("n'a pas de nom avant l'extension").wait_for(timeout=30_000)
    page.close()


# --- user data survives an update of the code ---------------------------------------------------------


def _git(*args: str, cwd: Path = PROJECT_ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def test_an_upload_survives_a_fresh_checkout_over_the_same_data_directory(tmp_path: Path) -> None:
    """Staff add a document with one checkout of the code; a new checkout over the same data directory has it.

    Both checkouts are clones of the repository (its last commit), so the test does not depend on files
    being edited in the working tree; each must stay clean (``git status``) after the app was used.
    """
    if shutil.which("git") is None or not (PROJECT_ROOT / ".git").exists():
        pytest.skip("pas de dépôt git")
    data = tmp_path / "data"

    def checkout(name: str) -> Path:
        folder = tmp_path / name
        _git("clone", "--quiet", "--depth", "1", f"file://{PROJECT_ROOT}", str(folder), cwd=tmp_path)
        return folder

    def env(root: Path) -> dict[str, str]:
        return {
            "CEP_MODEL": "hash-fake",
            "CEP_CORPUS_DIR": str(root / "knowledge" / "documents"),
            "CEP_DATA_DIR": str(data),
            "CEP_INDEX_DIR": str(data / "index"),
            "CEP_ADMIN_PASSWORD": "pw",
            "CEP_KIOSK": "0",
        }

    bees = "Les abeilles\n\nLes abeilles butinent les fleurs de lavande et produisent un miel parfumé.\n"
    first = checkout("checkout-1")
    with serve_app(env(first), root=first) as url, chromium(tmp_path / "profile") as browser:
        page = open_page(browser, url, "Documents (admin)")
        login(page, "pw")
        added = data / "documents" / "abeilles.txt"
        for _ in range(3):  # a click landing while Streamlit reruns is dropped (nothing saved, the app idle): again
            page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
                files=[{"name": "abeilles.txt", "mimeType": "text/plain", "buffer": bees.encode()}]
            )
            page.get_by_label("Titre affiché dans les sources (facultatif)").fill("Note sur les abeilles")
            page.get_by_role("button", name="Ajouter et indexer").click()
            deadline = time.monotonic() + 30  # the file is saved before the re-indexing starts
            while not added.exists() and time.monotonic() < deadline:
                time.sleep(0.5)
            if added.exists():
                break
        # indexing the built-in corpus again: 52 s alone, over 120 s beside a busy process. The list of documents
        # says it, in every run after the change; the one-off « interrogeable dès maintenant » may be drawn by a
        # run that another one replaces at once (a wait on it timed out once in 300 s beside the other tests).
        # A ceiling, not a wait: in a CI run beside two other heavy processes 300 s were not enough once.
        page.get_by_text("3 document(s)", exact=True).wait_for(timeout=600_000)
    assert (data / "documents" / "abeilles.txt").read_text(encoding="utf-8") == bees
    assert _git("status", "--porcelain", "--untracked-files=all", cwd=first) == ""  # nothing written in the code

    second = checkout("checkout-2")
    shutil.rmtree(first)  # the old code is gone, as after an update
    with serve_app(env(second), root=second) as url, chromium(tmp_path / "profile-2") as browser:
        page = open_page(browser, url, "Documents (admin)")
        login(page, "pw")
        page.get_by_text("3 document(s)", exact=True).wait_for(timeout=30_000)
        rerun_after(page, page.locator('[data-testid="stSidebar"]').get_by_text("Poser une question").first.click)
        ask(page, "Que produisent les abeilles ?")
        answer = page.locator('[data-testid="stChatMessage"]').nth(1)
        assert answer.get_by_text("Note sur les abeilles").first.is_visible()
    assert _git("status", "--porcelain", "--untracked-files=all", cwd=second) == ""
