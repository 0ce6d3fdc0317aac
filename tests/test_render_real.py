"""Every dev and dev2 question through the real pipeline: no Markdown marker shown raw in the chat.

What the chat shows is render.py's output (answer text, message, figure headline, reasons, follow-up,
quotes): escaped Markdown, where a document's ``**`` would appear literally as ``\\*\\*``. Marked `real`;
skipped without ../shared/eval.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.app import render
from assistant.evaluation import read_jsonl
from assistant.pipeline import Assistant
from assistant.records import Answer
from assistant.settings import PROJECT_ROOT

pytestmark = pytest.mark.real

EVAL = PROJECT_ROOT.parent / "shared" / "eval"  # as tests/conftest.py locates dev.jsonl
FILES = [EVAL / "dev.jsonl", EVAL / "dev2.jsonl"]


def shown_texts(answer: Answer) -> list[tuple[str, str]]:
    """(where, markdown) of everything the chat shows of an answer, as render.py writes it."""
    out = [("réponse", render.answer_markdown(answer.text))]
    if answer.message:
        out.append(("message", render.answer_markdown(answer.message)))
    if answer.follow_up:
        out.append(("question à poser", render.answer_markdown(answer.follow_up)))
    figure = answer.figure
    if figure is not None and figure.value is not None:
        out.append(("chiffre", render.inline(render.figure_headline(figure))))
    for card in render.operator_cards(answer.operators, {}):
        out.append(("opérateur", card.why))
    for i, citation in enumerate(answer.citations, start=1):
        out.append((f"citation {i}", render.quote_markdown(citation)))
        out.append((f"citation {i} (texte)", render.plain(citation.quote)))
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_raw_markdown_in_any_rendered_answer(real_assistant: Assistant, path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} absent")
    rows = read_jsonl(path)
    assert rows
    raw = []
    for row in rows:
        answer = real_assistant.ask(row["question"])
        for where, text in shown_texts(answer):
            # escaped stars are drawn as stars; the highlight's own **…** is Streamlit's bold, not shown
            shown = text.replace(":orange-background[**", "").replace("**]", "")
            if "\\*\\*" in shown or (where.endswith("(texte)") and "**" in shown):
                raw.append(f"{row.get('id', '?')} {where}: {text[:160]!r}")
    assert not raw, "\n".join(raw[:20])
