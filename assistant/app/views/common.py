"""What every page shares: the app context, loading with progress, asking, and showing an answer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from assistant.app import render
from assistant.app.feedback import FeedbackStore
from assistant.app.service import AssistantHolder
from assistant.app.session import Turn, new_answer_id
from assistant.errors import CepError
from assistant.pipeline import Assistant
from assistant.records import Answer
from assistant.settings import Settings

log = logging.getLogger("cep.app")

UNEXPECTED = "Une erreur inattendue est survenue. Réessayez ; si elle persiste, prévenez l'équipe technique."
SHOWN_QUESTION_CHARS = 600
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class AppContext:
    """What a page needs: settings, the shared assistant, operators, the feedback store."""

    settings: Settings
    holder: AssistantHolder
    operators: dict[str, Any]
    store: FeedbackStore

    @property
    def assistant(self) -> Assistant:
        return self.holder.get()


# Streamlit's own words are English and cannot be set: what cannot be translated is hidden, the rest replaced
# by French text drawn by CSS. Static text, never user text. The main menu and the deploy button are also
# off by client.toolbarMode = "minimal" (.streamlit/config.toml next to streamlit_app.py).
_CHROME_CSS = """<style>
[data-testid="stMainMenu"], [data-testid="stAppDeployButton"], [data-testid="stToolbarActions"], footer,
[data-testid="stElementToolbar"], [data-testid="stDataFrameColumnMenu"], [data-testid="InputInstructions"] {
  display: none !important; }
[data-testid="stSkipToContent"], [data-testid="stFileUploaderDropzoneInstructions"] span,
[data-testid="stFileUploaderDropzone"] > span button [data-testid="stMarkdownContainer"] p,
[data-testid="stFileUploaderDropzone"] > div:not([data-testid]) > span,
[data-testid="stFileChipName"] + div, [data-testid="stTooltipErrorContent"], [data-testid="stTooltipErrorContent"] *,
[role="listbox"][data-empty="true"] [role="option"] > span, [data-key="__select_matches__"] [data-item-hl],
body:has([data-testid="stCode"] [data-testid="stElementToolbarButton"]:hover) [data-testid="stTooltipContent"] p {
  font-size: 0 !important; }
[data-testid="stSkipToContent"]::after { content: "Aller au contenu principal"; font-size: 1rem; }
[data-testid="stFileUploaderDropzone"] > span button [data-testid="stMarkdownContainer"] p::after {
  content: "Parcourir"; font-size: 1rem; }
[data-testid="stFileUploaderDropzoneInstructions"] span::after {
  content: "ou glissez un fichier ici · __MAX__ Mo au plus"; font-size: 0.875rem; }
[data-testid="stFileUploaderDropzone"] > div:not([data-testid]) > span::after {
  content: "Déposez le fichier ici"; font-size: 1rem; }
[data-testid="stFileChip"][aria-invalid="true"] [data-testid="stFileChipName"] + div::after {
  content: "refusé : __MAX__ Mo au plus"; font-size: 0.75rem; }
[data-testid="stTooltipErrorContent"]::after {
  content: "Fichier refusé : un seul fichier, de __MAX__ Mo au plus."; font-size: 0.875rem; }
[role="listbox"][data-empty="true"] [role="option"] > span::after { content: "Aucun résultat"; font-size: 1rem; }
[data-key="__select_matches__"] [data-item-hl]::after { content: "Tout sélectionner"; font-size: 1rem; }
body:has([data-testid="stCode"] [data-testid="stElementToolbarButton"]:hover)
  [data-testid="stTooltipContent"] p::after { content: "Copier le texte"; font-size: 0.875rem; }
.stButton button p, .stButton button [data-testid="stMarkdownContainer"] {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
</style>"""


def chrome_css(max_upload_mb: int) -> str:
    """The page's CSS that hides or translates Streamlit's English (the upload limit in megabytes)."""
    return _CHROME_CSS.replace("__MAX__", str(int(max_upload_mb)))


def french_chrome() -> None:
    """Streamlit's own words in French, or hidden, on every page (kiosk included)."""
    try:
        max_mb = int(st.get_option("server.maxUploadSize"))
    except Exception:
        max_mb = 30
    st.html(chrome_css(max_mb))


def progress_bar(first_text: str) -> Progress:
    """A progress bar and the callback that moves it."""
    bar = st.progress(0.0, text=first_text)

    def progress(step: str, done: int, total: int) -> None:
        bar.progress(min(1.0, done / total) if total else 0.0, text=f"{step} — {done}/{total}")

    return progress


def ready_assistant(holder: AssistantHolder) -> Assistant:
    """The Assistant; on first start, loads it (building the index if needed) with a visible progress,
    gone once loaded (a failure stays in view)."""
    if holder.ready:
        return holder.get()
    box = st.empty()
    with box.status("Préparation de l'assistant…", expanded=True) as status:
        st.write(
            "Premier démarrage : lecture des documents et préparation de l'index de recherche. "
            "Cela peut prendre une à deux minutes ; les démarrages suivants sont plus rapides."
        )
        progress = progress_bar("Démarrage…")
        try:
            assistant = holder.get(progress)
        except CepError as exc:
            status.update(label="L'assistant n'a pas pu démarrer", state="error")
            st.error(str(exc))
            st.stop()
        except Exception:
            log.exception("Échec du chargement de l'assistant")
            status.update(label="L'assistant n'a pas pu démarrer", state="error")
            st.error(UNEXPECTED)
            st.stop()
    box.empty()
    return assistant


def optional_select(label: str, choices: tuple[tuple[Any, str], ...], key: str) -> Any:
    """A select box of (value, label) choices with a first "Non renseigné" (None) option."""
    return st.selectbox(
        label,
        (None, *(v for v, _ in choices)),
        key=key,
        format_func=lambda v: "Non renseigné" if v is None else dict(choices)[v],
    )


def yes_no(label: str, key: str, help: str | None = None) -> bool | None:
    """Oui / Non / Non renseigné."""
    return st.radio(
        label,
        (None, True, False),
        format_func=lambda v: {None: "Non renseigné", True: "Oui", False: "Non"}[v],
        horizontal=True,
        key=key,
        help=help,
    )


def answer_question(holder: AssistantHolder, question: str, qid: str = "", previous: Answer | None = None) -> Answer:
    """The assistant's answer; a defect becomes a French message (logged without the question's text).

    previous: the last answer of the conversation, so that "et en 2020 ?" continues it.
    """
    settings = holder.settings
    qid = qid or new_answer_id()
    try:
        answer = holder.get().ask(question, qid=qid, previous=previous)
    except Exception:
        log.exception("Échec d'une question (texte non journalisé)")
        answer = Answer(str(question), "abstain", UNEXPECTED, message=UNEXPECTED, id=qid)
    if settings.log_questions:
        log.info("Question %r -> %s (%.0f ms)", question[:500], answer.intent, answer.latency_ms)
    else:
        log.info("Question -> %s (%.0f ms)", answer.intent, answer.latency_ms)
    return answer


def ask(holder: AssistantHolder, question: str, history_key: str = "turns") -> None:
    """Answer a question and add the turn to the session's history (a callback or a direct call)."""
    qid = new_answer_id()
    turns = st.session_state.setdefault(history_key, [])
    answer = answer_question(holder, question, qid, previous=turns[-1].answer if turns else None)
    turns.append(Turn(str(question), answer, qid))


def store_feedback(store: FeedbackStore, turn: Turn, key: str) -> None:
    value = st.session_state.get(key)
    if value is None:
        return
    try:
        store.record(turn.id, turn.answer.intent, int(value), turn.question)
    except Exception:
        log.exception("Avis non enregistré")
        st.toast("Votre avis n'a pas pu être enregistré.")


# --- showing an answer (advisor pages) -----------------------------------------------------------


def show_answer(answer: Answer, operators: dict[str, Any]) -> None:
    cards = render.operator_cards(answer.operators, operators)
    if answer.intent in ("abstain", "clarify"):
        st.info(render.answer_markdown(answer.text))
    else:
        st.markdown(render.answer_markdown(answer.text))
    if answer.message and answer.message != answer.text:
        st.caption(render.answer_markdown(answer.message))
    if answer.figure is not None and answer.figure.value is not None:  # candidates are listed in the text
        f = answer.figure
        st.markdown(f"#### {render.inline(render.figure_headline(f))}")
        caption = render.figure_caption(answer)
        if caption:
            st.caption(render.inline(caption))
        if answer.alternatives:
            others = ", ".join(
                render.inline(render.french_figure(a.value, a.display, a.unit)) for a in answer.alternatives
            )
            st.caption(f"Autres valeurs trouvées dans les documents : {others}")
    for card in cards:
        show_card(card, answer)
    if answer.follow_up:
        st.warning(f"**Orientation provisoire.** Question à poser : {render.answer_markdown(answer.follow_up)}")
    show_sources(answer)


def show_card(card: render.OperatorCard, answer: Answer) -> None:
    with st.container(border=True):
        st.markdown(f"#### {card.name}")
        st.caption(card.role)
        if card.why_text not in answer.text:  # else the answer above already says it
            st.markdown(card.why)
        for label, lines in card.details:
            st.markdown(f"**{render.inline(label)}**\n\n" + "\n".join(f"- {line}" for line in lines))
        if card.more:
            with st.expander("Services et plus d'informations"):
                for label, lines in card.more:
                    st.markdown(f"**{render.inline(label)}**\n\n" + "\n".join(f"- {line}" for line in lines))


def show_sources(answer: Answer) -> None:
    if not answer.citations:
        return
    n = len(answer.citations)
    label = f"Passages les plus proches ({n})" if answer.intent == "abstain" else f"Sources ({n})"
    # A quote is the answer to a passage or figure question: open. Routing shows the operators first.
    with st.expander(label, expanded=answer.intent in ("passage", "figure")):
        for i, c in enumerate(answer.citations, start=1):
            st.markdown(f"{i}\\. {render.citation_heading(c)}")
            with st.container(border=True, height=160 if len(c.quote) > 500 else "content"):
                st.markdown(render.quote_markdown(c))


def show_turn(turn: Turn, operators: dict[str, Any], store: FeedbackStore | None) -> None:
    with st.chat_message("user"):
        st.markdown(render.escape(turn.question, SHOWN_QUESTION_CHARS))
    with st.chat_message("assistant"):
        show_answer(turn.answer, operators)
        if store is not None:
            key = f"feedback-{turn.id}"
            st.feedback("thumbs", key=key, on_change=store_feedback, args=(store, turn, key))
