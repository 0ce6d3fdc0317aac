"""Every page in headless Chromium, as a French user meets it: no English word of Streamlit's in view.

One app (fake encoder, staff password) is walked page by page: the chat and a figure answer, the routing
form, the figures explorer (a chart, tables, their toolbars and column menus, filters without results),
the staff pages after logging in (the document table, the uploader with a file, a refused file, a file
dragged over it), the reviews, and the kiosk preview. At each step the text in view is read from the
page (text nodes the browser draws at a readable size, tooltips, placeholders of empty fields) and
checked against the English Streamlit writes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from assistant.app.browser import CHROMIUM, app_env, ask, chromium, rerun_after, serve_app, wait_idle, wait_ready

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium absent (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api")

# Streamlit's English, as it would be in view (case-sensitive, whole words).
ENGLISH = [
    "Download",
    "Fullscreen",
    "Drag and drop",
    "Browse files",
    "Upload",
    "per file",
    "Press Enter",
    "No results",
    "Made with Streamlit",
    "Skip to main content",
    "Running",
    "Deploy",
    "Rerun",
    "Settings",
    "Clear cache",
    "Print",
    "Record a screencast",
    "Record screen",
    "System",
    "Light",
    "Dark",
    "Show data",
    "Search",
    "Copy to clipboard",
    "Choose an option",
    "Sort ascending",
    "Sort descending",
    "Hide column",
    "Pin column",
    "Autosize",
    "Statistics",
    "Select all",
    "matches",
    "Clear all",
    "File must be",
    "Error",
    "Stop",
    "Close",
    "Show/hide columns",
    "Add files",
    "Remove",
    "About",
    "Get help",
    "Report a bug",
    "Connecting",
    "Please wait",
]
PATTERNS = [re.compile(rf"(?<![\w/]){re.escape(w)}(?![\w/])") for w in ENGLISH]
PATTERNS.append(re.compile(r"\b\d+(?:\.\d+)?\s?(?:B|KB|MB|GB)\b"))  # "47.0B", "30MB per file"

# Text the browser draws where a person can read it: text nodes of rendered, visible, opaque elements
# whose own rectangles are larger than a pixel and not clipped to a pixel (screen-reader-only text), plus
# the placeholders of empty fields in view.
VISIBLE_TEXT = """() => {
  const clipped = (el) => {  // inside a box of a pixel that hides what overflows (screen-reader text)
    for (let a = el; a && a !== document.body; a = a.parentElement) {
      const cs = getComputedStyle(a);
      const r = a.getBoundingClientRect();
      const hides = cs.overflow !== 'visible' || cs.clip !== 'auto' || cs.clipPath !== 'none';
      if (hides && (r.width <= 2 || r.height <= 2)) return true;
    }
    return false;
  };
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(el.tagName)) continue;
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true,
                             opacityProperty: true, visibilityProperty: true})) continue;
    if (parseFloat(getComputedStyle(el).fontSize) < 2) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const seen = Array.from(range.getClientRects()).some(r => r.width > 2 && r.height > 2);
    if (seen && !clipped(el)) out.push(text);
  }
  for (const input of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
    if (!input.value && input.checkVisibility() && input.getBoundingClientRect().width > 2) {
      out.push(input.getAttribute('placeholder'));
    }
  }
  return out;
}"""


def english_in_view(page: Any) -> list[str]:
    """The English strings in view, each with the text it was found in."""
    found = []
    for text in page.evaluate(VISIBLE_TEXT):
        for pattern in PATTERNS:
            m = pattern.search(text)
            if m:
                found.append(f"{m.group()!r} in {text[:120]!r}")
    return found


def assert_french(page: Any, where: str) -> None:
    found = english_in_view(page)
    assert not found, f"{where}: English in view: {found}"
    assert not page.locator('[data-testid="stMainMenu"]').is_visible(), f"{where}: Streamlit's main menu"




def drawn_after(locator: Any) -> str:
    """The French text CSS draws after an element (``::after``) in place of Streamlit's English."""
    return str(locator.evaluate("e => getComputedStyle(e, '::after').content")).strip('"')


def go_to(page: Any, label: str) -> None:
    rerun_after(page, page.locator('[data-testid="stSidebar"]').get_by_text(label).first.click)
    wait_idle(page)


def hover_middle(page: Any, locator: Any, dx: float = 0.5, dy: float = 0.5) -> None:
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    page.mouse.move(box["x"] + box["width"] * dx, box["y"] + box["height"] * dy)
    page.wait_for_timeout(600)


def type_in_combobox(page: Any, widget: Any, text: str) -> None:
    widget.locator("input").first.click()
    page.keyboard.type(text)
    page.wait_for_timeout(600)


def test_every_page_speaks_french(tmp_path: Path) -> None:
    env = app_env(tmp_path, CEP_ADMIN_PASSWORD="pw", CEP_KIOSK_IDLE_SECONDS="600")
    with serve_app(env) as url, chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.goto(url)
        wait_ready(page)
        assert_french(page, "chat")
        page.keyboard.press("Tab")  # the first Tab shows the skip link
        page.wait_for_timeout(300)
        assert_french(page, "chat, skip link focused")
        skip = page.locator('[data-testid="stSkipToContent"]')
        if skip.count():
            assert drawn_after(skip) == "Aller au contenu principal"

        # example questions in full, wrapped, never cut with « … »
        for button in page.locator(".stButton button").all():
            label = button.locator("p").first
            assert label.evaluate(
                "e => e.scrollWidth <= e.clientWidth + 1 && getComputedStyle(e).textOverflow !== 'ellipsis'"
            )

        ask(page, "Combien d'entrées en CEP pour l'APEC en Occitanie en 2021 ?")
        ask(page, "Quel est le taux de femmes parmi les bénéficiaires du CEP ?")
        messages = page.locator('[data-testid="stChatMessage"]')
        for i in (1, 3):
            assert "**" not in messages.nth(i).inner_text()
        assert_french(page, "chat, answers")

        go_to(page, "Orienter un appelant")
        page.get_by_label("Âge").fill("30")  # a typed field shows Streamlit's "Press Enter…" hint
        page.wait_for_timeout(400)
        assert_french(page, "routing form, a field typed")
        rerun_after(page, page.get_by_role("button", name="Trouver l'opérateur").click)
        wait_idle(page)
        code = page.locator('[data-testid="stCode"]').first
        hover_middle(page, code)
        hover_middle(page, code.locator("button").first)
        assert_french(page, "routing summary, copy button hovered")

        go_to(page, "Chiffres")
        page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=30_000)
        assert_french(page, "figures")
        hover_middle(page, page.locator('[data-testid="stVegaLiteChart"]').first)
        assert_french(page, "figures, chart hovered")
        table = page.locator('[data-testid="stDataFrame"]').first
        hover_middle(page, table)
        assert_french(page, "figures, table hovered")
        box = table.bounding_box()
        page.mouse.move(box["x"] + 60, box["y"] + 17)  # a column header shows its menu button at its right
        page.wait_for_timeout(400)
        page.mouse.click(box["x"] + 97, box["y"] + 17)
        page.wait_for_timeout(600)
        assert_french(page, "figures, column menu")
        page.keyboard.press("Escape")
        operators = page.locator('[data-testid="stMultiSelect"]').first
        type_in_combobox(page, operators, "e")
        assert_french(page, "figures, a filter typed")
        type_in_combobox(page, operators, "zzzz")
        assert (
            drawn_after(page.locator('[role="listbox"][data-empty="true"] [role="option"] > span')) == "Aucun résultat"
        )
        assert_french(page, "figures, a filter without results")
        page.keyboard.press("Escape")
        type_in_combobox(page, page.locator('[data-testid="stSelectbox"]').last, "zzzz")
        assert_french(page, "figures, a table choice without results")
        page.keyboard.press("Escape")
        page.get_by_label("Rechercher dans les libellés").fill("entr")
        page.wait_for_timeout(400)
        assert_french(page, "figures, search typed")
        rerun_after(page, lambda: page.keyboard.press("Enter"))

        go_to(page, "Documents (admin)")
        page.get_by_label("Mot de passe de l'équipe").fill("pw")
        page.wait_for_timeout(400)
        assert_french(page, "login form typed")
        rerun_after(page, page.get_by_role("button", name="Se connecter").click)
        uploader = page.locator('[data-testid="stFileUploader"]')
        uploader.wait_for(timeout=30_000)
        assert drawn_after(uploader.locator("button p").first) == "Parcourir"
        assert_french(page, "documents")

        # the document table: every column in view, nothing to scroll sideways
        listing = page.locator('[data-testid="stTable"]').first
        listing.scroll_into_view_if_needed()
        right = listing.bounding_box()["x"] + listing.bounding_box()["width"]
        for header in ("Année", "Taille", "Passages"):
            cell = listing.locator("th", has_text=header).first
            assert cell.is_visible()
            cell_box = cell.bounding_box()
            assert cell_box["x"] + cell_box["width"] <= right + 1, header
        assert listing.evaluate(
            "e => Array.from(e.querySelectorAll('*')).every(c => c.scrollWidth <= c.clientWidth + 1"
            " || getComputedStyle(c).overflowX === 'visible')"
        )

        dropzone = uploader.locator('[data-testid="stFileUploaderDropzone"]')
        data = page.evaluate_handle(
            "() => { const d = new DataTransfer(); d.items.add(new File(['x'], 'a.txt')); return d; }"
        )
        dropzone.dispatch_event("dragenter", {"dataTransfer": data})
        page.wait_for_timeout(400)
        assert_french(page, "uploader, a file dragged over it")
        dropzone.dispatch_event("dragleave", {"dataTransfer": data})
        picker = uploader.locator('input[type="file"]')
        rerun_after(
            page,
            lambda: picker.set_input_files(
                files=[{"name": "note.txt", "mimeType": "text/plain", "buffer": b"Une note.\n"}]
            ),
        )
        assert_french(page, "uploader with a file")
        picker.set_input_files(
            files=[{"name": "gros.txt", "mimeType": "text/plain", "buffer": b"a" * (31 * 1024 * 1024)}]
        )
        refused = uploader.locator('[data-testid="stFileChip"][aria-invalid="true"]').first
        refused.wait_for(timeout=30_000)
        hover_middle(page, refused)
        assert_french(page, "uploader, a file too large")

        go_to(page, "Avis des utilisateurs")
        assert_french(page, "reviews")

        page.goto(f"{url}/?kiosk=1")
        page.wait_for_selector("text=Votre avenir professionnel", timeout=60_000)
        wait_idle(page)
        assert_french(page, "kiosk")
        page.keyboard.press("Tab")
        page.wait_for_timeout(300)
        assert_french(page, "kiosk, skip link focused")
