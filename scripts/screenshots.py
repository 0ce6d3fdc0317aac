"""Screenshots of the chat, the routing form and its summary, the figures page and kiosk mode (docs/screenshots/).

Serves the app on loopback and drives headless Debian Chromium (/usr/bin/chromium):

    python scripts/screenshots.py              # real model, a temporary index (built on the way)
    python scripts/screenshots.py --fake       # the fake encoder: fast, answers a little different
    python scripts/screenshots.py --checkout /tmp/clone   # serve another checkout of the code
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.app.browser import CHROMIUM, ask, chromium, serve_app, wait_idle, wait_ready
from assistant.settings import KNOWLEDGE_DIR, PROJECT_ROOT

OUT = PROJECT_ROOT / "docs" / "screenshots"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fake", action="store_true", help="use the fake encoder (fast)")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--checkout", type=Path, default=PROJECT_ROOT, help="checkout of the code to serve")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print("Chromium absent : apt-get install chromium", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus = root / "documents"
        shutil.copytree(args.checkout / KNOWLEDGE_DIR.relative_to(PROJECT_ROOT) / "documents", corpus)
        env = {
            "CEP_CORPUS_DIR": str(corpus),
            "CEP_INDEX_DIR": str(root / "index"),
            "CEP_DATA_DIR": str(root / "data"),
            "CEP_KIOSK": "0",
        }
        if args.fake:
            env["CEP_MODEL"] = "hash-fake"
        started = time.monotonic()
        with serve_app(env, timeout=600, root=args.checkout) as url, chromium(root / "profile") as browser:
            page = browser.new_page()
            page.set_viewport_size({"width": 1280, "height": 1400})
            page.goto(url)
            wait_ready(page, timeout_ms=600_000)
            print(f"prêt en {time.monotonic() - started:.1f} s (index construit)")
            page.screenshot(path=args.out / "chat-empty.png")
            ask(page, "Je suis cadre salarié et je veux changer de métier : qui contacter ?")
            ask(page, "Combien d'entrées en CEP pour l'APEC en Occitanie en 2021 ?")
            page.locator('[data-testid="stChatMessage"]').nth(0).evaluate("e => e.scrollIntoView({block: 'start'})")
            page.screenshot(path=args.out / "chat.png")

            page.get_by_text("Orienter un appelant").first.click()
            page.wait_for_selector("text=Trouver l'opérateur")
            wait_idle(page)
            page.locator('[data-testid="stSelectbox"]').filter(has_text="Statut").click()
            page.get_by_role("option", name="Salarié·e du secteur privé").click()
            page.locator('[data-testid="stNumberInput"] input').fill("45")
            page.locator('[data-testid="stRadio"]').filter(has_text="Cadre").first.get_by_text("Oui").click()
            page.get_by_role("button", name="Trouver l'opérateur").click()
            page.wait_for_selector("text=Résumé pour le dossier", timeout=60_000)
            wait_idle(page)
            page.set_viewport_size({"width": 1280, "height": 2000})
            page.get_by_text("Orientation", exact=True).first.scroll_into_view_if_needed()
            page.screenshot(path=args.out / "routing.png")
            page.set_viewport_size({"width": 1280, "height": 1100})
            page.wait_for_timeout(500)
            page.get_by_text("Résumé pour le dossier").first.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(500)
            page.screenshot(path=args.out / "routing-summary.png")

            page.set_viewport_size({"width": 1400, "height": 1500})
            page.get_by_text("Chiffres").first.click()
            page.wait_for_selector("text=Comparer les opérateurs", timeout=60_000)
            wait_idle(page)
            page.wait_for_timeout(4000)  # charts and filters draw after the run
            page.screenshot(path=args.out / "figures.png")

            page = browser.new_page()
            page.set_viewport_size({"width": 1080, "height": 1600})
            page.goto(f"{url}/?kiosk=1")
            page.wait_for_selector("text=Votre avenir professionnel", timeout=60_000)
            wait_idle(page)
            page.get_by_role("button", name="Je suis en situation de handicap").click()
            page.get_by_text("Votre handicap a-t-il des conséquences sur votre travail ?").wait_for(timeout=60_000)
            wait_idle(page)
            page.screenshot(path=args.out / "kiosk-choice.png")
            page.get_by_role("button", name="Recommencer").click()
            wait_idle(page)
            page.get_by_role("button", name="Je suis salarié·e").click()
            page.get_by_text("Êtes-vous cadre ?").wait_for(timeout=60_000)
            wait_idle(page)
            page.get_by_role("button", name="Non", exact=True).click()
            page.wait_for_selector('[data-testid="stChatMessage"]', timeout=60_000)
            wait_idle(page)
            page.get_by_text("D'où viennent ces informations ?").first.click()
            wait_idle(page)
            page.locator('[data-testid="stChatMessage"]').first.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(500)
            page.screenshot(path=args.out / "kiosk.png")
    print(f"captures dans {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
